//! The one reader and writer that every wire and stored format goes through.
//!
//! The rules live here, once:
//! - integers are big-endian and fixed-width (`u8`, `u32`, `u64`);
//! - a variable-length field is a `u32` length followed by that many bytes,
//!   and the length is checked against the field's maximum *before* the
//!   bytes are taken or anything is allocated;
//! - a count of repeated items is checked against its maximum, and against
//!   the bytes that remain, before any collection is sized from it;
//! - a decoder that finishes with bytes left over fails
//!   ([`DecodeError::TrailingBytes`]).
//!
//! [`Reader`] never panics and never allocates: it hands out sub-slices of
//! its input. Callers copy what they keep.

use alloc::vec::Vec;

use crate::error::DecodeError;

/// A cursor over untrusted bytes.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over all of `bytes`.
    pub(crate) const fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// How many bytes have not been read yet.
    pub(crate) const fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self.rest.split_at_checked(n).ok_or(DecodeError::Truncated)?;
        self.rest = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let (head, tail) = self.rest.split_first_chunk::<N>().ok_or(DecodeError::Truncated)?;
        self.rest = tail;
        Ok(*head)
    }

    /// One byte.
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        let (&b, tail) = self.rest.split_first().ok_or(DecodeError::Truncated)?;
        self.rest = tail;
        Ok(b)
    }

    /// A big-endian `u32`.
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        self.array().map(u32::from_be_bytes)
    }

    /// A big-endian `u64`.
    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        self.array().map(u64::from_be_bytes)
    }

    /// A presence flag: `0x00` absent, `0x01` present, anything else refused.
    pub(crate) fn flag(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::InvalidValue),
        }
    }

    /// The version tag, which must be `expected`.
    pub(crate) fn version(&mut self, expected: u8) -> Result<(), DecodeError> {
        match self.u8()? {
            v if v == expected => Ok(()),
            v => Err(DecodeError::UnknownVersion(v)),
        }
    }

    /// A `u32` length then that many bytes; the length may not exceed `max`.
    pub(crate) fn bytes_u32(&mut self, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = usize::try_from(self.u32()?).map_err(|_| DecodeError::TooLong)?;
        if len > max {
            return Err(DecodeError::TooLong);
        }
        self.take(len)
    }

    /// A count of items, each at least `min_item_len` bytes long. The count
    /// may not exceed `max`, and the items must fit in what remains, so a
    /// caller can size a collection from it without trusting the input.
    pub(crate) fn count(
        &mut self,
        raw: u32,
        max: usize,
        min_item_len: usize,
    ) -> Result<usize, DecodeError> {
        let n = usize::try_from(raw).map_err(|_| DecodeError::TooLong)?;
        if n > max {
            return Err(DecodeError::TooLong);
        }
        if n.saturating_mul(min_item_len) > self.remaining() {
            return Err(DecodeError::Truncated);
        }
        Ok(n)
    }

    /// Succeeds only if every byte was read.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() { Ok(()) } else { Err(DecodeError::TrailingBytes) }
    }
}

/// Appends encodings to a byte vector.
pub(crate) struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    /// A writer that appends to `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        Self { out }
    }

    /// One byte.
    pub(crate) fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    /// A big-endian `u32`.
    pub(crate) fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    /// A big-endian `u64`.
    pub(crate) fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    /// A presence flag.
    pub(crate) fn flag(&mut self, present: bool) {
        self.out.push(u8::from(present));
    }

    /// Raw bytes, no length.
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    /// `n` zero bytes.
    pub(crate) fn zeros(&mut self, n: usize) {
        self.out.resize(self.out.len().saturating_add(n), 0);
    }

    /// A `u32` length then the bytes. Callers bound `b` by the field's
    /// maximum, which is far below `u32::MAX`; a longer slice would be a
    /// bug in sealwire, and writes a saturated length that no reader accepts.
    pub(crate) fn bytes_u32(&mut self, b: &[u8]) {
        self.u32(u32::try_from(b.len()).unwrap_or(u32::MAX));
        self.bytes(b);
    }
}

/// Reads all of `bytes` with `read`. The input may be at most `max_len`
/// bytes (checked before anything else) and must be used up exactly.
/// Every decoder goes through here.
pub(crate) fn decode_all<'a, T>(
    bytes: &'a [u8],
    max_len: usize,
    read: impl FnOnce(&mut Reader<'a>) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    if bytes.len() > max_len {
        return Err(DecodeError::TooLong);
    }
    let mut r = Reader::new(bytes);
    let value = read(&mut r)?;
    r.finish()?;
    Ok(value)
}

/// A type with one canonical encoding.
pub(crate) trait Codec: Sized {
    /// Appends the encoding.
    fn encode(&self, w: &mut Writer<'_>);

    /// Reads one value, leaving the reader after it.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// The whole encoding as a new vector.
    fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut Writer::new(&mut out));
        out
    }

    /// Decodes all of `bytes` as one value: no more, no less, and at most
    /// `max_len` bytes in all.
    fn decode_exact(bytes: &[u8], max_len: usize) -> Result<Self, DecodeError> {
        decode_all(bytes, max_len, Self::read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_refuses_short_input_without_panicking() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32(), Err(DecodeError::Truncated));
        // A failed read consumes nothing.
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.take(2), Ok(&[1u8, 2][..]));
        assert_eq!(r.take(2), Err(DecodeError::Truncated));
        assert_eq!(r.u8(), Ok(3));
        assert_eq!(r.u8(), Err(DecodeError::Truncated));
        assert!(r.finish().is_ok());
    }

    #[test]
    fn length_is_checked_before_the_bytes() {
        // Declares 5 bytes, holds 5, but the field allows only 4.
        let bytes = [0, 0, 0, 5, 1, 2, 3, 4, 5];
        assert_eq!(Reader::new(&bytes).bytes_u32(4), Err(DecodeError::TooLong));
        assert_eq!(Reader::new(&bytes).bytes_u32(5), Ok(&bytes[4..]));
        // Declares u32::MAX with nothing behind it.
        let huge = [0xff, 0xff, 0xff, 0xff];
        assert_eq!(Reader::new(&huge).bytes_u32(usize::MAX), Err(DecodeError::Truncated));
    }

    #[test]
    fn count_must_fit_in_what_remains() {
        let mut r = Reader::new(&[0; 10]);
        assert_eq!(r.count(3, 5, 4), Err(DecodeError::Truncated));
        assert_eq!(r.count(6, 5, 1), Err(DecodeError::TooLong));
        assert_eq!(r.count(2, 5, 5), Ok(2));
        assert_eq!(r.count(u32::MAX, usize::MAX, usize::MAX), Err(DecodeError::Truncated));
    }

    #[test]
    fn flags_and_versions_are_strict() {
        assert_eq!(Reader::new(&[0]).flag(), Ok(false));
        assert_eq!(Reader::new(&[1]).flag(), Ok(true));
        assert_eq!(Reader::new(&[2]).flag(), Err(DecodeError::InvalidValue));
        assert_eq!(Reader::new(&[0x31]).version(0x31), Ok(()));
        assert_eq!(Reader::new(&[0x32]).version(0x31), Err(DecodeError::UnknownVersion(0x32)));
        assert_eq!(Reader::new(&[9]).finish(), Err(DecodeError::TrailingBytes));
    }

    #[test]
    fn writer_round_trips_through_reader() {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        w.u8(7);
        w.u32(0xdead_beef);
        w.u64(0x0123_4567_89ab_cdef);
        w.flag(true);
        w.bytes_u32(b"abc");
        let mut r = Reader::new(&out);
        assert_eq!(r.u8(), Ok(7));
        assert_eq!(r.u32(), Ok(0xdead_beef));
        assert_eq!(r.u64(), Ok(0x0123_4567_89ab_cdef));
        assert_eq!(r.flag(), Ok(true));
        assert_eq!(r.bytes_u32(3), Ok(&b"abc"[..]));
        assert!(r.finish().is_ok());
    }
}
