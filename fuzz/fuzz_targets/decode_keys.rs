#![no_main]
//! Every key and prekey format, public and stored.
use libfuzzer_sys::fuzz_target;
use sealwire::*;

fuzz_target!(|data: &[u8]| {
    use sealwire_fuzz::canonical;
    canonical(data, |b| IdentityKey::from_bytes(b).map(|k| k.to_bytes().to_vec()));
    canonical(data, |b| IdentityKeyPair::from_bytes(b).map(|k| k.to_bytes().to_vec()));
    canonical(data, |b| X25519PublicKey::from_bytes(b).map(|k| k.to_bytes().to_vec()));
    canonical(data, |b| SignedPreKey::from_bytes(b).map(|k| k.to_bytes()));
    canonical(data, |b| SignedPreKeyPair::from_bytes(b).map(|k| k.to_bytes().to_vec()));
    canonical(data, |b| OneTimePreKey::from_bytes(b).map(|k| k.to_bytes()));
    canonical(data, |b| OneTimePreKeyPair::from_bytes(b).map(|k| k.to_bytes().to_vec()));
    canonical(data, |b| CertificateKey::from_bytes(b).map(|k| k.to_bytes().to_vec()));
    canonical(data, |b| CertificateKeyPair::from_bytes(b).map(|k| k.to_bytes().to_vec()));
});
