#![no_main]
use libfuzzer_sys::fuzz_target;
use sealwire::SealedEnvelope;

fuzz_target!(|data: &[u8]| {
    sealwire_fuzz::canonical(data, |b| SealedEnvelope::parse(b).map(|e| e.to_bytes()));
});
