#![no_main]
use libfuzzer_sys::fuzz_target;
use sealwire::PreKeyBundle;

fuzz_target!(|data: &[u8]| {
    sealwire_fuzz::canonical(data, |b| PreKeyBundle::from_bytes(b).map(|x| x.to_bytes()));
});
