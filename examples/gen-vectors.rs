//! Writes test-vectors/*.json from fixed seeds.
//!
//! Run with `cargo run --example gen-vectors`. Every value is computed by
//! sealwire and by the independent implementation in
//! `tests/vectors/reference.rs`; the generator stops at the first
//! difference. `tests/test_vectors.rs` checks that the committed files are
//! what this writes.
#![allow(clippy::print_stdout, reason = "reports what it wrote")]

#[path = "../tests/vectors/mod.rs"]
mod vectors;

use std::error::Error;
use std::path::Path;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    std::fs::create_dir_all(&dir)?;
    for (name, value) in vectors::all() {
        let text = vectors::render(&value);
        std::fs::write(dir.join(name), &text)?;
        println!("wrote test-vectors/{name} ({} bytes)", text.len());
    }
    Ok(())
}
