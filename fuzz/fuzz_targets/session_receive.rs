#![no_main]
//! A live session (the responder of test-vectors/session-state.json, with
//! two skipped keys) receives arbitrary bytes. Whatever it refuses leaves it
//! exactly as it was.
use libfuzzer_sys::fuzz_target;
use sealwire::Session;
use sealwire_fuzz::{STATE_VECTORS, vector_hex};
use std::sync::OnceLock;

fn state() -> &'static [u8] {
    static STATE: OnceLock<Vec<u8>> = OnceLock::new();
    STATE.get_or_init(|| vector_hex(STATE_VECTORS, "state", 0))
}

fuzz_target!(|data: &[u8]| {
    let mut session = Session::from_bytes(state()).expect("the vector's state decodes");
    match session.decrypt(data) {
        Ok(_) => {
            // Only a genuine message decrypts; then a replay must not.
            let after = session.to_bytes().to_vec();
            assert!(session.decrypt(data).is_err(), "a message decrypted twice");
            assert_eq!(session.to_bytes().to_vec(), after);
        }
        Err(_) => assert_eq!(
            session.to_bytes().as_slice(),
            state(),
            "a refused message changed the session"
        ),
    }
});
