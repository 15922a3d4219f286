#![no_main]
//! The group formats (docs/protocol.md §21): group messages, sender key
//! distribution messages, and the stored sender key and group records.
//! Every one decodes without panicking, and what decodes re-encodes to
//! itself.
use libfuzzer_sys::fuzz_target;
use sealwire::*;

fuzz_target!(|data: &[u8]| {
    use sealwire_fuzz::canonical;
    canonical(data, |b| GroupMessage::parse(b).map(|m| m.as_bytes().to_vec()));
    canonical(data, |b| SenderKeyDistribution::from_bytes(b).map(|x| x.to_bytes().to_vec()));
    canonical(data, |b| SenderKeyRecord::from_bytes(b).map(|x| x.to_bytes().to_vec()));
    canonical(data, |b| GroupRecord::from_bytes(b).map(|x| x.to_bytes().to_vec()));
});
