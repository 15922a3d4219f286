#![no_main]
//! Unsealing arbitrary bytes at the recipient of test-vectors/sealed.json,
//! who trusts apps A and B, at the vectors' time: the seeds from those
//! vectors reach every check.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sealwire::{IdentityKeyPair, Timestamp, TrustRoot, TrustStore, unseal};
use sealwire_fuzz::{SEALED_VECTORS, vector_hex};

struct Recipient {
    identity: IdentityKeyPair,
    trust: TrustStore,
}

fn recipient() -> &'static Recipient {
    static RECIPIENT: OnceLock<Recipient> = OnceLock::new();
    RECIPIENT.get_or_init(|| {
        let mut seed = vec![0x52];
        seed.extend(vector_hex(SEALED_VECTORS, "recipient_identity_seed", 0));
        let identity = IdentityKeyPair::from_bytes(&seed).expect("seed");
        let mut trust = TrustStore::new();
        for i in 0..2 {
            let root =
                TrustRoot::from_bytes(&vector_hex(SEALED_VECTORS, "encoded", i)).expect("root");
            trust.add_root(&root);
        }
        Recipient { identity, trust }
    })
}

fuzz_target!(|data: &[u8]| {
    let r = recipient();
    if let Ok(opened) = unseal(&r.identity, &r.trust, Timestamp(1_800_000_000), data) {
        // Whatever opens names a sender the trust store accepts and carries
        // a well-formed message.
        assert!(r.trust.validate(opened.certificate(), Timestamp(1_800_000_000)).is_ok());
        assert!(sealwire::Message::parse(opened.message_unchecked()).is_ok());
    }
});
