#![no_main]
use libfuzzer_sys::fuzz_target;
use sealwire::RatchetMessage;

fuzz_target!(|data: &[u8]| {
    sealwire_fuzz::canonical(data, |b| RatchetMessage::parse(b).map(|m| m.to_bytes()));
});
