//! The files in test-vectors/ are exactly what the generator produces, and
//! the generator only produces values on which sealwire and an independent
//! implementation agree byte for byte.
// The vectors include the post-quantum agreement.
#![cfg(feature = "pq")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod vectors;

use std::path::Path;

#[test]
fn vector_files_match_the_generator() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    for (name, value) in vectors::all() {
        let expected = vectors::render(&value);
        let found = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| {
            panic!("test-vectors/{name}: {e}; run `cargo run --example gen-vectors`")
        });
        assert!(
            found == expected,
            "test-vectors/{name} differs from what the code produces; \
             if the change is intended, run `cargo run --example gen-vectors` and review the diff"
        );
    }
}
