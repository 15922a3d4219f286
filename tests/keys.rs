//! Public keys as applications use them: one encoding per identity,
//! usable as map keys, printable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::{BTreeSet, HashSet};

use common::rng;
use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::CompressedEdwardsY;
use sealwire::{
    CertificateKeyPair, DecodeError, IdentityKey, IdentityKeyPair, PreKeyBundle, PreKeyId,
    SignedPreKeyPair,
};

/// `Encode(IK)` of an identity key with the torsion point `t` added.
fn with_torsion(key: &IdentityKey, t: usize) -> [u8; 33] {
    let point = CompressedEdwardsY(*key.ed25519_bytes()).decompress().unwrap();
    let mut out = [0u8; 33];
    out[0] = 0x01;
    out[1..].copy_from_slice(&(point + EIGHT_TORSION[t]).compress().to_bytes());
    out
}

#[test]
fn an_identity_key_with_a_torsion_component_is_refused() {
    let mut rng = rng(1);
    let identity = IdentityKeyPair::generate(&mut rng);
    // A + T gives the same Diffie-Hellman results as A (X25519 clamps away
    // the torsion), so accepting it would give one secret eight identities.
    assert!(IdentityKey::from_bytes(&identity.public().to_bytes()).is_ok());
    for t in 1..8 {
        let mixed = with_torsion(identity.public(), t);
        assert_eq!(IdentityKey::from_bytes(&mixed), Err(DecodeError::InvalidKey), "torsion {t}");
    }
    // Wherever an identity key is read: a bundle, say.
    let signed = SignedPreKeyPair::generate(&mut rng, &identity, PreKeyId(1));
    let mut bundle = PreKeyBundle::new(*identity.public(), signed.public(), None).to_bytes();
    bundle[1..34].copy_from_slice(&with_torsion(identity.public(), 4));
    assert_eq!(PreKeyBundle::from_bytes(&bundle).unwrap_err(), DecodeError::InvalidKey);
}

#[test]
fn public_keys_key_maps_and_print_short() {
    let mut rng = rng(2);
    let keys: Vec<IdentityKey> =
        (0..20).map(|_| *IdentityKeyPair::generate(&mut rng).public()).collect();
    let hashed: HashSet<IdentityKey> = keys.iter().copied().collect();
    let ordered: BTreeSet<IdentityKey> = keys.iter().copied().collect();
    assert_eq!((hashed.len(), ordered.len()), (20, 20));
    // Ordered by their encoding.
    let mut bytes: Vec<[u8; 33]> = keys.iter().map(IdentityKey::to_bytes).collect();
    bytes.sort();
    assert_eq!(ordered.iter().map(IdentityKey::to_bytes).collect::<Vec<_>>(), bytes);

    // Display: the first 8 bytes in hex; `{:#}` all 32.
    let key = keys[0];
    let full: String = key.ed25519_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(format!("{key}"), full[..16]);
    assert_eq!(format!("{key:#}"), full);

    let x = *sealwire::X25519PublicKey::from_bytes(&[&[2u8][..], &[7u8; 32]].concat())
        .as_ref()
        .unwrap();
    assert_eq!(format!("{x}"), "0707070707070707");
    let set: BTreeSet<_> = [x, x].into_iter().collect();
    assert_eq!(set.len(), 1);

    let certificate_key = CertificateKeyPair::generate(&mut rng).public();
    assert_eq!(format!("{certificate_key}").len(), 16);
    assert_eq!(format!("{certificate_key:#}").len(), 64);
}

#[test]
fn the_rng_traits_are_the_crates_own() {
    // An application names the RNG traits through sealwire, so its
    // rand_core cannot drift from sealwire's.
    fn takes<R: sealwire::rand_core::CryptoRng>(rng: &mut R) -> IdentityKeyPair {
        IdentityKeyPair::generate(rng)
    }
    let mut os = sealwire::rand_core::UnwrapErr(getrandom::SysRng);
    let _ = takes(&mut os);
}
