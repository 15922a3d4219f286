#![no_main]
use libfuzzer_sys::fuzz_target;
use sealwire::Session;

fuzz_target!(|data: &[u8]| {
    sealwire_fuzz::canonical(data, |b| Session::from_bytes(b).map(|s| s.to_bytes().to_vec()));
});
