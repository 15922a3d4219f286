#![no_main]
use libfuzzer_sys::fuzz_target;
use sealwire::{IdentityKey, MultiRecipientEnvelope, SealedEnvelope};

fuzz_target!(|data: &[u8]| {
    sealwire_fuzz::canonical(data, |b| MultiRecipientEnvelope::parse(b).map(|e| e.to_bytes()));
    // What the relay does with it: each recipient's prefix and the shared
    // payload make that recipient's sealed envelope, which parses whenever
    // the recipient field is a valid identity key (the relay does not
    // decode it).
    if let Ok(multi) = MultiRecipientEnvelope::parse(data) {
        for share in multi.recipients() {
            let mut envelope = share.envelope_prefix().to_vec();
            envelope.extend_from_slice(multi.payload());
            assert_eq!(envelope.len(), multi.envelope_len());
            assert_eq!(envelope, share.to_envelope());
            if let Ok(recipient) = IdentityKey::from_bytes(share.recipient()) {
                let parsed = SealedEnvelope::parse(&envelope).expect("a split envelope parses");
                assert_eq!(parsed.recipient(), &recipient);
                assert_eq!(parsed.to_bytes(), envelope);
                assert_eq!(multi.envelope_for(&recipient), Some(envelope));
            }
        }
    }
});
