//! The devices of one user, as the server lists them.

use alloc::vec::Vec;

use crate::certificate::DeviceId;
use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::DecodeError;
use crate::labels::{ESCAPE, X_DEVICE_LIST};
use crate::limits::MAX_DEVICES_PER_USER;

/// The devices of one user: up to [`MAX_DEVICES_PER_USER`] distinct ids,
/// kept in ascending order.
///
/// Encoding (`docs/sessions.md` §3): `0xFF 0x51`, the number of devices
/// (`u8`), and their ids (`u32` each) in strictly ascending order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DeviceList {
    devices: Vec<DeviceId>,
}

impl DeviceList {
    /// The longest encoding.
    pub const MAX_ENCODED_LEN: usize = 2 + 1 + 4 * MAX_DEVICES_PER_USER;

    /// The list of `devices`, in any order, repeats removed.
    ///
    /// # Errors
    /// [`DecodeError::TooLong`] for more than [`MAX_DEVICES_PER_USER`]
    /// distinct devices.
    pub fn new(devices: &[DeviceId]) -> Result<Self, DecodeError> {
        let mut devices = devices.to_vec();
        devices.sort_unstable();
        devices.dedup();
        if devices.len() > MAX_DEVICES_PER_USER {
            return Err(DecodeError::TooLong);
        }
        Ok(Self { devices })
    }

    /// The devices, in ascending order.
    pub fn devices(&self) -> &[DeviceId] {
        &self.devices
    }

    /// Whether `device` is listed.
    pub fn contains(&self, device: DeviceId) -> bool {
        self.devices.binary_search(&device).is_ok()
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }

    /// Decodes a stored device list.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input, ids out of order or repeated
    /// included.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, Self::MAX_ENCODED_LEN, Self::read)
    }
}

impl Codec for DeviceList {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(ESCAPE);
        w.u8(X_DEVICE_LIST);
        // At most MAX_DEVICES_PER_USER, which fits a byte.
        w.u8(u8::try_from(self.devices.len()).unwrap_or(u8::MAX));
        for d in &self.devices {
            w.u32(d.0);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(ESCAPE)?;
        r.version(X_DEVICE_LIST)?;
        let raw = r.u8()?;
        let n = r.count(u32::from(raw), MAX_DEVICES_PER_USER, 4)?;
        let mut devices = Vec::with_capacity(n);
        for _ in 0..n {
            devices.push(DeviceId(r.u32()?));
        }
        if !devices.windows(2).all(|w| matches!(w, [a, b] if a < b)) {
            return Err(DecodeError::InvalidValue);
        }
        Ok(Self { devices })
    }
}

const _: () = assert!(MAX_DEVICES_PER_USER <= u8::MAX as usize);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_bounded_and_strict() {
        let list = DeviceList::new(&[DeviceId(3), DeviceId(1), DeviceId(3)]).unwrap();
        assert_eq!(list.devices(), [DeviceId(1), DeviceId(3)]);
        let bytes = list.to_bytes();
        assert_eq!(DeviceList::from_bytes(&bytes), Ok(list));
        let mut unsorted = bytes;
        unsorted.swap(6, 10);
        assert_eq!(DeviceList::from_bytes(&unsorted), Err(DecodeError::InvalidValue));

        let most: Vec<DeviceId> = (0..MAX_DEVICES_PER_USER as u32).map(DeviceId).collect();
        assert!(DeviceList::new(&most).is_ok());
        let too_many: Vec<DeviceId> = (0..=MAX_DEVICES_PER_USER as u32).map(DeviceId).collect();
        assert_eq!(DeviceList::new(&too_many), Err(DecodeError::TooLong));
    }
}
