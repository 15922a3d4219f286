//! Trust in peers' identity keys: what is stored per device, and the
//! policy that decides what happens to a key seen for the first time or a
//! key that changed.
//!
//! A remote identity key different from the one stored for an address is
//! never accepted silently: depending on the [`TrustPolicy`], it is refused
//! until the user approves it, or accepted and reported
//! (`docs/sessions.md` §5).

use alloc::vec::Vec;
use core::fmt;

use crate::certificate::Timestamp;
use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::DecodeError;
use crate::identity::IdentityKey;
use crate::labels::{ESCAPE, X_REMOTE_IDENTITY};
use crate::limits::MAX_REPLACED_IDENTITIES;

/// How far the identity key stored for a peer's device is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trust {
    /// Accepted: trusted on first use, accepted after a change, or
    /// approved by the user, but not verified.
    Accepted,
    /// The user compared safety numbers with the peer
    /// ([`crate::Device::mark_verified`]). A change of a verified key always
    /// waits for the user's approval, whatever the policy.
    Verified,
}

/// The identity key stored for one device of a peer, how far it is
/// trusted, and the keys it replaced.
///
/// The replaced keys (at most [`MAX_REPLACED_IDENTITIES`], newest first)
/// are remembered so that an envelope sealed under one of them, which the
/// relay can replay or have held back, is refused rather than taken for a
/// new change of key (`docs/sessions.md` §5.3).
///
/// Encoding (`docs/sessions.md` §3.2): `0xFF 0x31`, the stored form of the
/// key (`Encode(IK)` and its X25519 form), the trust (`0x01` accepted,
/// `0x02` verified), the time it was first accepted (`u64`), the number of
/// replaced keys (`u8`) and each one's stored form and the time it was
/// replaced (`u64`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteIdentity {
    key: IdentityKey,
    trust: Trust,
    since: Timestamp,
    replaced: Vec<(IdentityKey, Timestamp)>,
}

impl RemoteIdentity {
    /// The longest encoding.
    pub const MAX_ENCODED_LEN: usize = 2
        + IdentityKey::STORED_LEN
        + 1
        + 8
        + 1
        + MAX_REPLACED_IDENTITIES * (IdentityKey::STORED_LEN + 8);

    /// `key`, trusted as `trust` since `since`, having replaced no key.
    pub const fn new(key: IdentityKey, trust: Trust, since: Timestamp) -> Self {
        Self { key, trust, since, replaced: Vec::new() }
    }

    /// The identity key.
    pub const fn key(&self) -> &IdentityKey {
        &self.key
    }

    /// How far it is trusted.
    pub const fn trust(&self) -> Trust {
        self.trust
    }

    /// When this key was first accepted for the address.
    pub const fn since(&self) -> Timestamp {
        self.since
    }

    /// The keys this one replaced, newest first, each with the time it was
    /// replaced.
    pub fn replaced(&self) -> &[(IdentityKey, Timestamp)] {
        &self.replaced
    }

    /// Whether `key` is one this identity replaced.
    pub fn has_replaced(&self, key: &IdentityKey) -> bool {
        self.replaced.iter().any(|(k, _)| k == key)
    }

    /// `key` takes this identity's place at `now`, trusted as `trust`: the
    /// current key joins the replaced ones (the oldest dropped past
    /// [`MAX_REPLACED_IDENTITIES`]), and `key` leaves them if it was
    /// among them. The same key again only changes the trust.
    pub(crate) fn replace(&self, key: IdentityKey, trust: Trust, now: Timestamp) -> Self {
        if key == self.key {
            return Self { trust, ..self.clone() };
        }
        let mut replaced = Vec::with_capacity(MAX_REPLACED_IDENTITIES);
        replaced.push((self.key, now));
        replaced.extend(self.replaced.iter().filter(|(k, _)| *k != key).copied());
        replaced.truncate(MAX_REPLACED_IDENTITIES);
        Self { key, trust, since: now, replaced }
    }

    /// The encoding.
    pub fn to_bytes(&self) -> alloc::vec::Vec<u8> {
        self.to_vec()
    }

    /// Decodes a stored remote identity.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input; `InconsistentState` if a key
    /// appears twice.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, Self::MAX_ENCODED_LEN, Self::read)
    }
}

impl Codec for RemoteIdentity {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(ESCAPE);
        w.u8(X_REMOTE_IDENTITY);
        self.key.encode_stored(w);
        w.u8(match self.trust {
            Trust::Accepted => 1,
            Trust::Verified => 2,
        });
        w.u64(self.since.0);
        // At most MAX_REPLACED_IDENTITIES, which fits a byte.
        w.u8(u8::try_from(self.replaced.len()).unwrap_or(u8::MAX));
        for (key, when) in &self.replaced {
            key.encode_stored(w);
            w.u64(when.0);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(ESCAPE)?;
        r.version(X_REMOTE_IDENTITY)?;
        let key = IdentityKey::read_stored(r)?;
        let trust = match r.u8()? {
            1 => Trust::Accepted,
            2 => Trust::Verified,
            _ => return Err(DecodeError::InvalidValue),
        };
        let since = Timestamp(r.u64()?);
        let raw = r.u8()?;
        let n = r.count(u32::from(raw), MAX_REPLACED_IDENTITIES, IdentityKey::STORED_LEN + 8)?;
        let mut replaced: Vec<(IdentityKey, Timestamp)> = Vec::with_capacity(n);
        for _ in 0..n {
            let old = IdentityKey::read_stored(r)?;
            let when = Timestamp(r.u64()?);
            if old == key || replaced.iter().any(|(k, _)| *k == old) {
                return Err(DecodeError::InconsistentState);
            }
            replaced.push((old, when));
        }
        Ok(Self { key, trust, since, replaced })
    }
}

/// What to do with an identity key that is not yet trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Accept it, and report it to the application
    /// ([`crate::Received::identity`]).
    Accept,
    /// Refuse it with [`crate::DeviceError::UntrustedIdentity`] or
    /// [`crate::DeviceError::IdentityChanged`] until the user approves it
    /// with [`crate::Device::approve_identity`].
    AskUser,
}

/// When a prekey bundle must carry a certificate from its device's own
/// app, checked with [`crate::PreKeyBundle::check_certificate`], before a
/// session is started from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BundleCertificates {
    /// Whenever the bundle's identity key is not the one already trusted
    /// for that device: on first contact and on a change, in every app.
    /// The default. (A bundle with the trusted key needs no more proof;
    /// one that carries a certificate has it checked all the same.)
    Required,
    /// As [`BundleCertificates::Required`], but only for devices of other
    /// apps than this device's own.
    RequiredAcrossApps,
    /// Never required (a certificate that is present is still checked).
    /// Whoever hands out bundles then decides, unchecked, which key a
    /// first contact talks to.
    Optional,
}

/// The application's trust policy. The default trusts a new device's key
/// on first use (its certificate from its own app vouching for it),
/// accepts and reports a changed key unless the user verified the old one,
/// and requires bundles to carry their device's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TrustPolicy {
    /// A device never seen before.
    pub first_contact: Decision,
    /// A device whose identity key changed (a reinstall, a new phone). A
    /// change of a [`Trust::Verified`] key is always [`Decision::AskUser`].
    pub on_change: Decision,
    /// When bundles must carry a certificate.
    pub bundle_certificates: BundleCertificates,
    /// Whether sessions must begin with the post-quantum agreement
    /// (`docs/protocol.md` §20.4).
    #[cfg(feature = "pq")]
    pub post_quantum: PostQuantum,
}

/// Whether the device layer accepts the classic agreement.
#[cfg(feature = "pq")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PostQuantum {
    /// Every session begins with PQXDH: a bundle without a KEM prekey and
    /// a classic initial message are refused
    /// ([`crate::AgreementError::PostQuantumRequired`]). The default.
    Required,
    /// PQXDH whenever the peer's bundle has a KEM prekey (always used when
    /// it is there), the classic agreement with peers that cannot do
    /// better.
    Preferred,
}

impl Default for TrustPolicy {
    fn default() -> Self {
        Self {
            first_contact: Decision::Accept,
            on_change: Decision::Accept,
            bundle_certificates: BundleCertificates::Required,
            #[cfg(feature = "pq")]
            post_quantum: PostQuantum::Required,
        }
    }
}

/// How an identity key compares with what is stored for its address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    /// The stored key: nothing to decide.
    Known,
    /// No key is stored for the address.
    New,
    /// Another key is stored: the stored identity.
    Changed(RemoteIdentity),
    /// A key the stored one replaced: an old envelope or bundle.
    Replaced,
}

impl Seen {
    /// Compares `key` with what is stored.
    pub(crate) fn of(stored: Option<&RemoteIdentity>, key: &IdentityKey) -> Self {
        match stored {
            None => Self::New,
            Some(stored) if stored.key == *key => Self::Known,
            Some(stored) if stored.has_replaced(key) => Self::Replaced,
            Some(stored) => Self::Changed(stored.clone()),
        }
    }

    /// What the policy decides; `None` for a replaced key, which is
    /// refused whatever the policy.
    pub(crate) fn decision(&self, policy: &TrustPolicy) -> Option<Decision> {
        match self {
            Self::Known => Some(Decision::Accept),
            Self::New => Some(policy.first_contact),
            Self::Changed(previous) if previous.trust == Trust::Verified => Some(Decision::AskUser),
            Self::Changed(_) => Some(policy.on_change),
            Self::Replaced => None,
        }
    }
}

/// A change of a peer's identity key that was accepted: the application
/// tells the user (the safety number changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityEvent {
    /// The first key seen for this device, trusted on first use.
    New,
    /// The device's key changed from `previous` (reinstalled, or a new
    /// phone under the same device id). Sessions with the previous key
    /// were dropped.
    Changed {
        /// The key trusted before.
        previous: IdentityKey,
    },
}

impl fmt::Display for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Accepted => "accepted",
            Self::Verified => "verified",
        })
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::identity::IdentityKeyPair;

    #[test]
    fn a_verified_key_never_changes_without_the_user() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let old = *IdentityKeyPair::generate(&mut rng).public();
        let new = *IdentityKeyPair::generate(&mut rng).public();
        let lenient = TrustPolicy::default();
        let accepted = RemoteIdentity::new(old, Trust::Accepted, Timestamp(1));
        let verified = RemoteIdentity::new(old, Trust::Verified, Timestamp(1));
        let decide =
            |stored: Option<&RemoteIdentity>, key, policy| Seen::of(stored, key).decision(policy);
        assert_eq!(decide(Some(&accepted), &old, &lenient), Some(Decision::Accept));
        assert_eq!(decide(Some(&accepted), &new, &lenient), Some(Decision::Accept));
        assert_eq!(decide(Some(&verified), &new, &lenient), Some(Decision::AskUser));
        let strict = TrustPolicy { on_change: Decision::AskUser, ..lenient };
        assert_eq!(decide(Some(&accepted), &new, &strict), Some(Decision::AskUser));
        let ask_first = TrustPolicy { first_contact: Decision::AskUser, ..lenient };
        assert_eq!(decide(None, &new, &ask_first), Some(Decision::AskUser));
        assert_eq!(decide(None, &new, &lenient), Some(Decision::Accept));
        // Once replaced, the old key is refused whatever the policy.
        let changed = accepted.replace(new, Trust::Accepted, Timestamp(2));
        assert_eq!(decide(Some(&changed), &old, &lenient), None);
        assert_eq!(changed.replaced(), [(old, Timestamp(2))]);
    }

    #[test]
    fn stored_identity_round_trips_and_keeps_a_bounded_history() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let keys: Vec<IdentityKey> =
            (0..7).map(|_| *IdentityKeyPair::generate(&mut rng).public()).collect();
        let mut stored = RemoteIdentity::new(keys[0], Trust::Verified, Timestamp(7));
        let bytes = stored.to_bytes();
        assert_eq!(RemoteIdentity::from_bytes(&bytes), Ok(stored.clone()));
        let mut bad = bytes;
        bad[2 + IdentityKey::STORED_LEN] = 3;
        assert_eq!(RemoteIdentity::from_bytes(&bad), Err(DecodeError::InvalidValue));
        for (i, key) in keys.iter().enumerate().skip(1) {
            stored = stored.replace(*key, Trust::Accepted, Timestamp(10 + i as u64));
        }
        assert_eq!(stored.replaced().len(), MAX_REPLACED_IDENTITIES);
        assert!(stored.has_replaced(&keys[5]) && !stored.has_replaced(&keys[1]));
        let bytes = stored.to_bytes();
        assert_eq!(bytes.len(), RemoteIdentity::MAX_ENCODED_LEN);
        assert_eq!(RemoteIdentity::from_bytes(&bytes), Ok(stored.clone()));
        // A replaced key taken back leaves the list.
        let back = stored.replace(keys[4], Trust::Accepted, Timestamp(99));
        assert!(!back.has_replaced(&keys[4]) && back.has_replaced(&keys[6]));
    }
}
