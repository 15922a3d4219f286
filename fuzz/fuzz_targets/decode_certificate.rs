#![no_main]
use libfuzzer_sys::fuzz_target;
use sealwire::{IssuerCertificate, SenderCertificate, TrustRoot};

fuzz_target!(|data: &[u8]| {
    sealwire_fuzz::canonical(data, |b| SenderCertificate::from_bytes(b).map(|c| c.to_bytes()));
    sealwire_fuzz::canonical(data, |b| IssuerCertificate::from_bytes(b).map(|c| c.to_bytes()));
    sealwire_fuzz::canonical(data, |b| TrustRoot::from_bytes(b).map(|c| c.to_bytes()));
});
