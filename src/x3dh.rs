//! The X3DH key agreement, as Signal's specification defines it.
//!
//! With `IK_A`, `EK_A` the initiator's identity and ephemeral keys and
//! `IK_B`, `SPK_B`, `OPK_B` the responder's identity, signed and one-time
//! prekeys:
//!
//! ```text
//! DH1 = DH(IK_A, SPK_B)   DH2 = DH(EK_A, IK_B)   DH3 = DH(EK_A, SPK_B)
//! DH4 = DH(EK_A, OPK_B)   (only with a one-time prekey)
//! SK  = HKDF-SHA256(salt = 32 zero bytes,
//!                   ikm  = 32 × 0xFF || DH1 || DH2 || DH3 [|| DH4],
//!                   info = "sealwire/x3dh/v1", 32 bytes)
//! AD  = Encode(IK_A) || Encode(IK_B)
//! ```
//!
//! The post-quantum agreement (PQXDH, `docs/protocol.md` §20) appends the
//! ML-KEM-768 shared secret `SS` of an encapsulation to the responder's
//! KEM prekey after the DH outputs, and names the KEM in the info:
//!
//! ```text
//! SK  = HKDF-SHA256(salt = 32 zero bytes,
//!                   ikm  = 32 × 0xFF || DH1 || DH2 || DH3 [|| DH4] || SS,
//!                   info = "sealwire/pqxdh/v1/x25519-sha256-mlkem768", 32 bytes)
//! ```
//!
//! Every DH output is checked to be non-zero. The initiator cannot reach
//! this module's computation without a [`VerifiedBundle`], which only a
//! successful signature check produces.

use zeroize::Zeroizing;

use crate::bundle::PreKeyBundle;
use crate::error::AgreementError;
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::labels::{PQXDH_INFO, X3DH_INFO, X3DH_PREFIX};
use crate::prekey::{OneTimePreKeyPair, SignedPreKeyPair};
use crate::primitives::kdf::hkdf_sha256;
use crate::primitives::x25519::{DhOutput, X25519KeyPair, X25519PublicKey};

/// Length of the associated data `Encode(IK_A) || Encode(IK_B)`.
pub(crate) const AD_LEN: usize = 2 * IdentityKey::ENCODED_LEN;

/// The shared secret `SK` that X3DH outputs, which becomes the ratchet's
/// first root key.
pub(crate) type SharedKey = Zeroizing<[u8; 32]>;

/// A bundle whose signed prekey signature has been checked.
pub(crate) struct VerifiedBundle<'a>(&'a PreKeyBundle);

impl<'a> VerifiedBundle<'a> {
    /// Checks the signed prekey's signature, and the KEM prekey's if the
    /// bundle has one, against the bundle's identity.
    pub(crate) fn verify(bundle: &'a PreKeyBundle) -> Result<Self, AgreementError> {
        bundle.signed_prekey().verify(bundle.identity())?;
        #[cfg(feature = "pq")]
        if let Some(kem) = bundle.kem_prekey() {
            kem.verify(bundle.identity())?;
        }
        Ok(Self(bundle))
    }

    /// The bundle.
    pub(crate) const fn bundle(&self) -> &'a PreKeyBundle {
        self.0
    }
}

/// `AD = Encode(IK_A) || Encode(IK_B)`, initiator first.
pub(crate) fn associated_data(initiator: &IdentityKey, responder: &IdentityKey) -> [u8; AD_LEN] {
    let mut ad = [0u8; AD_LEN];
    let (a, b) = ad.split_at_mut(IdentityKey::ENCODED_LEN);
    a.copy_from_slice(&initiator.to_bytes());
    b.copy_from_slice(&responder.to_bytes());
    ad
}

/// The initiator's side: `identity` is `IK_A`, `ephemeral` is `EK_A`,
/// `kem` the KEM shared secret of the post-quantum agreement. Writes `SK`
/// into `sk`.
pub(crate) fn initiator_secret(
    identity: &IdentityKeyPair,
    ephemeral: &X25519KeyPair,
    bundle: &VerifiedBundle<'_>,
    kem: Option<&[u8; 32]>,
    sk: &mut SharedKey,
) -> Result<(), AgreementError> {
    let bundle = bundle.bundle();
    let spk = bundle.signed_prekey().key();
    let dh1 = identity.dh(spk);
    let dh2 = ephemeral.dh(bundle.identity().x25519());
    let dh3 = ephemeral.dh(spk);
    let dh4 = bundle.one_time_prekey().map(|opk| ephemeral.dh(opk.key()));
    derive(dh1, dh2, dh3, dh4, kem, sk)
}

/// The responder's side, from the keys the initial message names. Writes
/// `SK` into `sk`.
pub(crate) fn responder_secret(
    identity: &IdentityKeyPair,
    signed_prekey: &SignedPreKeyPair,
    one_time_prekey: Option<&OneTimePreKeyPair>,
    initiator: &IdentityKey,
    base_key: &X25519PublicKey,
    kem: Option<&[u8; 32]>,
    sk: &mut SharedKey,
) -> Result<(), AgreementError> {
    let dh1 = signed_prekey.dh(initiator.x25519());
    let dh2 = identity.dh(base_key);
    let dh3 = signed_prekey.dh(base_key);
    let dh4 = one_time_prekey.map(|opk| opk.dh(base_key));
    derive(dh1, dh2, dh3, dh4, kem, sk)
}

/// The KDF over the DH outputs (and the KEM secret), into `sk`; refuses if
/// any DH output was all zero (`None`).
fn derive(
    dh1: Option<DhOutput>,
    dh2: Option<DhOutput>,
    dh3: Option<DhOutput>,
    dh4: Option<Option<DhOutput>>,
    kem: Option<&[u8; 32]>,
    sk: &mut SharedKey,
) -> Result<(), AgreementError> {
    let (Some(dh1), Some(dh2), Some(dh3)) = (dh1, dh2, dh3) else {
        return Err(AgreementError::NonContributory);
    };
    let dh4 = match dh4 {
        None => None,
        Some(Some(dh)) => Some(dh),
        Some(None) => return Err(AgreementError::NonContributory),
    };
    let salt = [0u8; 32];
    let mut ikm: [&[u8]; 6] =
        [&X3DH_PREFIX, dh1.as_bytes(), dh2.as_bytes(), dh3.as_bytes(), &[], &[]];
    let mut n = 4;
    if let (Some(dh4), Some(slot)) = (&dh4, ikm.get_mut(n)) {
        *slot = dh4.as_bytes();
        n += 1;
    }
    if let (Some(ss), Some(slot)) = (kem, ikm.get_mut(n)) {
        *slot = ss;
        n += 1;
    }
    let info = if kem.is_some() { PQXDH_INFO } else { X3DH_INFO };
    hkdf_sha256(&salt, ikm.get(..n).unwrap_or(&ikm), &[info], sk);
    Ok(())
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::prekey::PreKeyId;

    struct Responder {
        identity: IdentityKeyPair,
        spk: SignedPreKeyPair,
        opk: OneTimePreKeyPair,
    }

    fn responder(rng: &mut ChaCha20Rng) -> Responder {
        let identity = IdentityKeyPair::generate(rng);
        let spk = SignedPreKeyPair::generate(rng, &identity, PreKeyId(1));
        let opk = OneTimePreKeyPair::generate(rng, PreKeyId(2));
        Responder { identity, spk, opk }
    }

    #[test]
    fn both_sides_agree_with_and_without_one_time_prekey() {
        let mut rng = ChaCha20Rng::seed_from_u64(10);
        let bob = responder(&mut rng);
        let alice = IdentityKeyPair::generate(&mut rng);
        let ek = X25519KeyPair::generate(&mut rng);

        let with =
            PreKeyBundle::new(*bob.identity.public(), bob.spk.public(), Some(bob.opk.public()));
        let without = PreKeyBundle::new(*bob.identity.public(), bob.spk.public(), None);

        let sk = || SharedKey::new([0; 32]);
        let (mut a4, mut b4, mut a3, mut b3, mut b_wrong) = (sk(), sk(), sk(), sk(), sk());
        initiator_secret(&alice, &ek, &VerifiedBundle::verify(&with).unwrap(), None, &mut a4)
            .unwrap();
        responder_secret(
            &bob.identity,
            &bob.spk,
            Some(&bob.opk),
            alice.public(),
            ek.public(),
            None,
            &mut b4,
        )
        .unwrap();
        assert_eq!(*a4, *b4);

        initiator_secret(&alice, &ek, &VerifiedBundle::verify(&without).unwrap(), None, &mut a3)
            .unwrap();
        responder_secret(&bob.identity, &bob.spk, None, alice.public(), ek.public(), None, &mut b3)
            .unwrap();
        assert_eq!(*a3, *b3);
        assert_ne!(*a3, *a4, "DH4 must change the secret");

        // Any substituted key gives a different secret.
        let other = IdentityKeyPair::generate(&mut rng);
        responder_secret(
            &bob.identity,
            &bob.spk,
            None,
            other.public(),
            ek.public(),
            None,
            &mut b_wrong,
        )
        .unwrap();
        assert_ne!(*a3, *b_wrong);
    }

    #[test]
    fn forged_bundle_is_refused_before_use() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let bob = responder(&mut rng);
        let mallory = IdentityKeyPair::generate(&mut rng);
        // Mallory's identity with Bob's signed prekey: signature does not verify.
        let forged = PreKeyBundle::new(*mallory.public(), bob.spk.public(), None);
        assert!(matches!(VerifiedBundle::verify(&forged), Err(AgreementError::InvalidSignature)));
    }

    #[test]
    fn associated_data_puts_initiator_first() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let a = IdentityKeyPair::generate(&mut rng);
        let b = IdentityKeyPair::generate(&mut rng);
        let ad = associated_data(a.public(), b.public());
        assert_eq!(&ad[..33], &a.public().to_bytes());
        assert_eq!(&ad[33..], &b.public().to_bytes());
    }
}
