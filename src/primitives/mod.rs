//! Thin wrappers over the primitives: HKDF and HMAC with SHA-256,
//! ChaCha20-Poly1305, Ed25519 with strict verification, and X25519 with the
//! contributory check. Everything
//! above this layer reaches the primitives through here, so each
//! construction is written once.

pub(crate) mod aead;
pub(crate) mod buffer;
pub(crate) mod ed25519;
pub(crate) mod kdf;
#[cfg(feature = "pq")]
pub(crate) mod ml_kem;
pub(crate) mod x25519;
