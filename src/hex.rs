//! Lower-case hex for `Debug` and `Display` output of public values.

use core::fmt;

/// Writes `bytes` as lower-case hex.
pub(crate) fn write(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

/// Bytes that print as hex in `Debug` output.
pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write(f, self.0)
    }
}

/// The `Display` form of a public key: its first 8 bytes in hex, enough to
/// tell keys apart at a glance; with `{:#}`, all of them.
pub(crate) fn write_short(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    if f.alternate() { write(f, bytes) } else { write(f, bytes.get(..8).unwrap_or(bytes)) }
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
