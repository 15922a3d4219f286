//! Helpers shared by the fuzz targets, and the conversation model.

pub mod c_abi;
pub mod conversation;
pub mod devices;
pub mod group;

/// Checks the canonical-encoding property: if `decode` accepts `input`,
/// re-encoding the value gives back exactly `input`.
pub fn canonical<E>(input: &[u8], decode: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>) {
    if let Ok(again) = decode(input) {
        assert_eq!(again, input, "an accepted input did not re-encode to itself");
    }
}

/// The canonical-encoding property for formats that hold session states,
/// which read the older version 2 (`0x42`) and write version 3
/// (docs/protocol.md §8.2): an accepted input re-encodes to itself, or is
/// upgraded: its re-encoding is longer by at most one byte (the KEM flag)
/// per `0x42` byte in it, and re-encodes to itself.
pub fn canonical_or_upgraded<E>(input: &[u8], decode: impl Fn(&[u8]) -> Result<Vec<u8>, E>) {
    let Ok(again) = decode(input) else { return };
    if again == input {
        return;
    }
    let v2_tags = input.iter().filter(|b| **b == 0x42).count();
    assert!(
        again.len() > input.len() && again.len() - input.len() <= v2_tags,
        "an accepted input re-encoded to something other than itself or its upgrade"
    );
    let twice = decode(&again).unwrap_or_else(|_| panic!("an upgraded encoding does not decode"));
    assert_eq!(twice, again, "an upgraded encoding did not re-encode to itself");
}

/// The `nth` hex string stored under `key` in one of the test-vector files
/// (a minimal reader, so the targets need no JSON crate).
pub fn vector_hex(json: &str, key: &str, nth: usize) -> Vec<u8> {
    let pattern = format!("\"{key}\": \"");
    let start = json
        .match_indices(&pattern)
        .nth(nth)
        .map(|(i, _)| i + pattern.len())
        .unwrap_or_else(|| panic!("no {key} #{nth} in the vectors"));
    let end = start + json[start..].find('"').expect("unterminated string");
    let hex = &json[start..end];
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

pub const SEALED_VECTORS: &str = include_str!("../../test-vectors/sealed.json");
pub const STATE_VECTORS: &str = include_str!("../../test-vectors/session-state.json");
