//! Addresses: which user of which app, and which of the user's devices.
//!
//! An [`Address`] names one device: `(app id, user id, device id)`. It is
//! what a sender certificate certifies, what sessions and trusted
//! identities are stored under, and what a safety number binds. A
//! [`UserAddress`] names a user, whose devices a message fans out to.

use alloc::vec::Vec;
use core::fmt;

use crate::certificate::{AppId, DeviceId, SenderCertificate, UserId};
use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::DecodeError;
use crate::labels::{ESCAPE, X_ADDRESS};
use crate::limits::{MAX_APP_ID_LEN, MAX_USER_ID_LEN};

/// A user of an app: the app's id and the user's id within it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct UserAddress {
    app: AppId,
    user: UserId,
}

impl UserAddress {
    /// The user `user` of app `app`.
    pub const fn new(app: AppId, user: UserId) -> Self {
        Self { app, user }
    }

    /// The app.
    pub const fn app(&self) -> &AppId {
        &self.app
    }

    /// The user's id within the app.
    pub const fn user(&self) -> &UserId {
        &self.user
    }

    /// Device `device` of this user.
    pub fn device(&self, device: DeviceId) -> Address {
        Address { user: self.clone(), device }
    }

    /// The longest encoding inside a record: the app id and the user id,
    /// each a `u32` length and the bytes.
    pub(crate) const MAX_ENCODED_LEN: usize = 4 + MAX_APP_ID_LEN + 4 + MAX_USER_ID_LEN;

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        self.app.encode(w);
        self.user.encode(w);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let app = AppId::read(r)?;
        let user = UserId::read(r)?;
        Ok(Self { app, user })
    }
}

impl fmt::Display for UserAddress {
    /// `user@app`, with the user id's bytes outside printable ASCII, and
    /// `@`, `#` and `%`, written as `%XX`, so that the text names exactly
    /// one address.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.user.as_bytes() {
            if b.is_ascii_graphic() && !matches!(b, b'@' | b'#' | b'%') {
                write!(f, "{}", char::from(b))?;
            } else {
                write!(f, "%{b:02X}")?;
            }
        }
        write!(f, "@{}", self.app)
    }
}

/// One device of one user of one app.
///
/// Encoding (`docs/sessions.md` §2): the escape `0xFF`, `0x11`, the app id
/// and the user id (each a `u32` length and the bytes), and the device id
/// (`u32`). Displayed as `user@app#device`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Address {
    user: UserAddress,
    device: DeviceId,
}

impl Address {
    /// The longest encoding.
    pub const MAX_ENCODED_LEN: usize = 2 + 4 + MAX_APP_ID_LEN + 4 + MAX_USER_ID_LEN + 4;

    /// Device `device` of user `user` of app `app`.
    pub const fn new(app: AppId, user: UserId, device: DeviceId) -> Self {
        Self { user: UserAddress { app, user }, device }
    }

    /// The address a sender certificate certifies.
    pub fn of_certificate(certificate: &SenderCertificate) -> Self {
        Self::new(
            certificate.app_id().clone(),
            certificate.user_id().clone(),
            certificate.device_id(),
        )
    }

    /// The app.
    pub const fn app(&self) -> &AppId {
        &self.user.app
    }

    /// The user's id within the app.
    pub const fn user_id(&self) -> &UserId {
        &self.user.user
    }

    /// The user this device belongs to.
    pub const fn user(&self) -> &UserAddress {
        &self.user
    }

    /// The device.
    pub const fn device(&self) -> DeviceId {
        self.device
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }

    /// Decodes an address.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input, an app id outside its
    /// alphabet or an empty user id included.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, Self::MAX_ENCODED_LEN, Self::read)
    }
}

impl Codec for Address {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(ESCAPE);
        w.u8(X_ADDRESS);
        self.user.app.encode(w);
        self.user.user.encode(w);
        w.u32(self.device.0);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(ESCAPE)?;
        r.version(X_ADDRESS)?;
        let app = AppId::read(r)?;
        let user = UserId::read(r)?;
        let device = DeviceId(r.u32()?);
        Ok(Self::new(app, user, device))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.user, self.device.0)
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    fn address(user: &[u8], device: u32) -> Address {
        Address::new(AppId::new("chat.a").unwrap(), UserId::new(user).unwrap(), DeviceId(device))
    }

    #[test]
    fn display_names_one_address() {
        assert_eq!(address(b"alice", 3).to_string(), "alice@chat.a#3");
        assert_eq!(address(b"a@b#1", 2).to_string(), "a%40b%231@chat.a#2");
        assert_eq!(address(b"%\x00 \xff", 0).to_string(), "%25%00%20%FF@chat.a#0");
    }

    #[test]
    fn encoding_round_trips_and_is_strict() {
        let a = address(b"alice", 7);
        let bytes = a.to_bytes();
        assert_eq!(&bytes[..2], &[0xff, 0x11]);
        assert_eq!(Address::from_bytes(&bytes), Ok(a));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Address::from_bytes(&longer), Err(DecodeError::TrailingBytes));
        for cut in 0..bytes.len() {
            assert!(Address::from_bytes(&bytes[..cut]).is_err());
        }
        let mut upper = bytes;
        upper[6] = b'C';
        assert_eq!(Address::from_bytes(&upper), Err(DecodeError::InvalidValue));
    }
}
