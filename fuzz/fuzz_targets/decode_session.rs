#![no_main]
use libfuzzer_sys::fuzz_target;
use sealwire::Session;

fuzz_target!(|data: &[u8]| {
    // Version 2 states are read and written again as version 3.
    sealwire_fuzz::canonical_or_upgraded(data, |b| {
        Session::from_bytes(b).map(|s| s.to_bytes().to_vec())
    });
});
