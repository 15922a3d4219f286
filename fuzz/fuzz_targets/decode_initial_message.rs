#![no_main]
use libfuzzer_sys::fuzz_target;
use sealwire::{InitialMessage, Message};

fuzz_target!(|data: &[u8]| {
    sealwire_fuzz::canonical(data, |b| InitialMessage::parse(b).map(|m| m.to_bytes()));
    sealwire_fuzz::canonical(data, |b| Message::parse(b).map(|m| m.to_bytes()));
});
