//! Lower-case hex for `Debug` output of public values.

use core::fmt;

/// Writes `bytes` as lower-case hex.
pub(crate) fn write(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

/// Decodes hex (whitespace ignored), for known-answer tests.
#[cfg(test)]
pub(crate) fn decode(s: &str) -> alloc::vec::Vec<u8> {
    let digits: alloc::vec::Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| {
            let text = core::str::from_utf8(pair).unwrap();
            u8::from_str_radix(text, 16).unwrap()
        })
        .collect()
}

/// Decodes 64 hex digits into 32 bytes, for known-answer tests.
#[cfg(test)]
pub(crate) fn decode32(s: &str) -> [u8; 32] {
    decode(s).try_into().unwrap()
}
