#![no_main]
use libfuzzer_sys::fuzz_target;
use sealwire::{MultiRecipientEnvelope, SealedEnvelope};

fuzz_target!(|data: &[u8]| {
    sealwire_fuzz::canonical(data, |b| MultiRecipientEnvelope::parse(b).map(|e| e.to_bytes()));
    // What the relay does with it: every split envelope parses.
    if let Ok(multi) = MultiRecipientEnvelope::parse(data) {
        for (recipient, envelope) in multi.split() {
            let parsed = SealedEnvelope::parse(&envelope).expect("a split envelope parses");
            assert_eq!(parsed.recipient(), &recipient);
            assert_eq!(multi.envelope_for(&recipient), Some(envelope));
        }
    }
});
