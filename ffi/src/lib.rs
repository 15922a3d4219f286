//! The C ABI of sealwire (`include/sealwire.h`, `docs/c-api.md`).
//!
//! Conventions, for every function (the header's preamble repeats them):
//!
//! - It returns an `int32_t` result code: `SEALWIRE_OK` (0) or an error
//!   code (`sealwire_error_text`, `sealwire_error_action`). Outputs are
//!   written only on success.
//! - Inputs are `(const uint8_t *ptr, size_t len)`; `ptr` may be NULL only
//!   when `len` is 0. Text (ids, paths) is UTF-8 bytes, not NUL-terminated.
//! - Byte outputs are `sealwire_bytes` the library allocates; free each with
//!   `sealwire_bytes_free` (which wipes it: some hold plaintext).
//! - Objects are opaque handles made by `*_new`, `*_create`, `*_open` and
//!   the like, freed by their own `*_free`. Freeing NULL does nothing; a
//!   freed, foreign or wrong-type handle gives
//!   `SEALWIRE_ERROR_INVALID_HANDLE` rather than undefined behaviour
//!   (unless its memory was reused for a new handle of the same type).
//! - Every handle may be used from any thread, but not from two at once: a
//!   call on a handle another thread is using returns `SEALWIRE_ERROR_BUSY`
//!   and does nothing.
//! - No panic crosses the boundary (`SEALWIRE_ERROR_PANIC`).
//! - Randomness comes from the operating system; time (`now`, seconds
//!   since the Unix epoch) from the caller's own clock.

#![allow(non_camel_case_types, reason = "C type names")]

mod api;
mod error;
mod handle;
mod store;

use std::panic::{AssertUnwindSafe, catch_unwind};

pub use api::*;
pub use error::*;
pub use handle::sealwire_bytes;

/// Runs `f` behind the panic boundary and turns its result into a code.
/// The detailed text of the last error (`sealwire_last_error_message`)
/// is cleared at the start of every call, set by the error that ends it,
/// or else to the code's text.
pub(crate) fn boundary(f: impl FnOnce() -> Result<(), i32>) -> i32 {
    error::remember(String::new());
    let code = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return SEALWIRE_OK,
        Ok(Err(code)) => code,
        Err(_) => SEALWIRE_ERROR_PANIC,
    };
    if error::last().is_empty() {
        // SAFETY: `sealwire_error_text` returns a static NUL-terminated
        // string, never NULL.
        let text = unsafe { std::ffi::CStr::from_ptr(sealwire_error_text(code)) };
        error::remember(text.to_string_lossy().into_owned());
    }
    code
}

/// Frees bytes the library returned, wiping them first, and sets
/// `bytes->ptr` to NULL and `bytes->len` to 0. NULL, or bytes already
/// emptied, do nothing; a pointer the library did not return (or freed
/// already from another copy of the struct) gives
/// `SEALWIRE_ERROR_INVALID_HANDLE`.
///
/// # Safety
/// `bytes` is NULL or points to a readable and writable `sealwire_bytes`
/// whose fields the caller has not changed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_bytes_free(bytes: *mut sealwire_bytes) -> i32 {
    boundary(|| match handle::free_bytes(bytes) {
        0 => Ok(()),
        code => Err(code),
    })
}
