//! Handles and buffers: what crosses the boundary, and the registry that
//! lets the library tell a live handle of the right kind from a null, a
//! freed, a foreign or a mistyped pointer without reading it.
//!
//! A handle is `Box<Arc<Mutex<T>>>` turned into a raw pointer. Every live
//! one is in [`LIVE`] with its kind; a function first looks its pointer up
//! there (under the registry's lock, so a concurrent free cannot release
//! it in between), clones the `Arc`, releases the registry, and then takes
//! the handle's own lock with `try_lock`: a handle in use by another
//! thread answers `SEALWIRE_ERROR_BUSY` rather than waiting or corrupting
//! anything. Freeing removes the pointer from the registry first, so a
//! second free, or a use after free, finds nothing and answers
//! `SEALWIRE_ERROR_INVALID_HANDLE` (unless the allocator has handed the
//! same address to a new handle of the same kind since: that the library
//! cannot tell).
//!
//! Byte buffers the library returns are registered the same way.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use zeroize::Zeroize;

use crate::error::{
    SEALWIRE_ERROR_BUSY, SEALWIRE_ERROR_INVALID_HANDLE, SEALWIRE_ERROR_NULL_POINTER,
};

/// What a registered pointer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    TrustStore,
    Device,
    Publication,
    Sent,
    GroupSent,
    Received,
    Session,
    Bytes,
}

/// Hashes an address: one multiplication (the keys are addresses the
/// library made, not input an attacker chooses).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Each live pointer's kind and, for bytes, its length.
type Registry = HashMap<usize, (Kind, usize), BuildHasherDefault<AddressHasher>>;

/// Every live handle and buffer, by address.
static LIVE: Mutex<Option<Registry>> = Mutex::new(None);

fn live() -> MutexGuard<'static, Option<Registry>> {
    // The map is only ever inserted into and removed from: a panic while
    // it was held cannot have left it half-changed.
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A handle's value: shared so that a free racing a use cannot release it
/// under the user, locked so that two threads cannot use it at once.
pub(crate) type Shared<T> = Arc<Mutex<T>>;

/// Removes `address` from the registry, and the registry's own table once
/// it is empty: a program that freed everything holds no memory of the
/// library's (valgrind finds nothing, not even the table).
fn forget(registry: &mut Option<Registry>, address: usize) {
    if let Some(map) = registry.as_mut() {
        map.remove(&address);
        if map.is_empty() {
            *registry = None;
        }
    }
}

/// Registers `value` as a new handle of `kind` and returns its pointer.
pub(crate) fn new_handle<T, C>(kind: Kind, value: T) -> *mut C {
    let ptr = Box::into_raw(Box::new(Arc::new(Mutex::new(value))));
    live().get_or_insert_with(Registry::default).insert(ptr as usize, (kind, 0));
    ptr.cast()
}

/// The value behind a handle, if `ptr` is a live handle of `kind`.
pub(crate) fn get<T, C>(ptr: *const C, kind: Kind) -> Result<Shared<T>, i32> {
    if ptr.is_null() {
        return Err(SEALWIRE_ERROR_NULL_POINTER);
    }
    let registry = live();
    if registry.as_ref().and_then(|r| r.get(&(ptr as usize))).map(|e| e.0) != Some(kind) {
        return Err(SEALWIRE_ERROR_INVALID_HANDLE);
    }
    let ptr: *const Shared<T> = ptr.cast();
    // SAFETY: the registry holds `ptr` with this kind, so it came from
    // `new_handle::<T, _>` and has not been freed: `free_handle` removes it
    // from the registry, under the lock held here, before it releases it.
    let shared = unsafe { (*ptr).clone() };
    drop(registry);
    Ok(shared)
}

/// Runs `f` on the value behind a handle, or answers BUSY if another
/// thread is using it.
pub(crate) fn with<T, C, R>(
    ptr: *const C,
    kind: Kind,
    f: impl FnOnce(&mut T) -> Result<R, i32>,
) -> Result<R, i32> {
    let shared = get::<T, C>(ptr, kind)?;
    let mut guard = match shared.try_lock() {
        Ok(guard) => guard,
        Err(TryLockError::WouldBlock) => return Err(SEALWIRE_ERROR_BUSY),
        // A panic inside an earlier call (caught at the boundary): every
        // operation of sealwire commits or changes nothing, so the value
        // is still consistent.
        Err(TryLockError::Poisoned(p)) => p.into_inner(),
    };
    f(&mut guard)
}

/// Frees a handle of `kind`. NULL is a no-op; anything else that is not a
/// live handle of that kind is `SEALWIRE_ERROR_INVALID_HANDLE`.
pub(crate) fn free_handle<T, C>(ptr: *mut C, kind: Kind) -> i32 {
    if ptr.is_null() {
        return 0;
    }
    let mut registry = live();
    if registry.as_ref().and_then(|r| r.get(&(ptr as usize))).map(|e| e.0) != Some(kind) {
        return SEALWIRE_ERROR_INVALID_HANDLE;
    }
    forget(&mut registry, ptr as usize);
    drop(registry);
    // SAFETY: the pointer was registered with this kind, hence made by
    // `new_handle::<T, _>` from a `Box<Shared<T>>`, and it is no longer in
    // the registry, so no other call will read or free it again.
    drop(unsafe { Box::from_raw(ptr.cast::<Shared<T>>()) });
    0
}

/// Bytes the library allocated for the caller, freed with
/// `sealwire_bytes_free`. An empty buffer has `ptr` NULL and `len` 0.
#[repr(C)]
#[derive(Debug)]
pub struct sealwire_bytes {
    /// The first byte, or NULL when `len` is 0.
    pub ptr: *mut u8,
    /// The number of bytes.
    pub len: usize,
}

impl sealwire_bytes {
    pub(crate) const EMPTY: Self = Self { ptr: std::ptr::null_mut(), len: 0 };
}

/// Hands `bytes` to the caller through `out`.
pub(crate) fn give_bytes(out: *mut sealwire_bytes, bytes: Vec<u8>) -> Result<(), i32> {
    if out.is_null() {
        return Err(SEALWIRE_ERROR_NULL_POINTER);
    }
    let value = if bytes.is_empty() {
        sealwire_bytes::EMPTY
    } else {
        let boxed = bytes.into_boxed_slice();
        let len = boxed.len();
        let ptr = Box::into_raw(boxed).cast::<u8>();
        live().get_or_insert_with(Registry::default).insert(ptr as usize, (Kind::Bytes, len));
        sealwire_bytes { ptr, len }
    };
    // SAFETY: `out` is not null, and the caller promises it points to a
    // writable `sealwire_bytes` (the documented contract of every output);
    // it need not be aligned.
    unsafe { out.write_unaligned(value) };
    Ok(())
}

/// Frees bytes given by [`give_bytes`], wiping them first, and empties
/// `*bytes`.
pub(crate) fn free_bytes(bytes: *mut sealwire_bytes) -> i32 {
    if bytes.is_null() {
        return 0;
    }
    // SAFETY: not null; the caller promises a readable, writable
    // `sealwire_bytes`.
    let value = unsafe { bytes.read_unaligned() };
    if value.ptr.is_null() {
        // SAFETY: as above.
        unsafe { bytes.write_unaligned(sealwire_bytes::EMPTY) };
        return 0;
    }
    let mut registry = live();
    // The registry knows the length: a changed `len` is refused rather
    // than trusted (a longer one would wipe past the buffer).
    let entry = registry.as_ref().and_then(|r| r.get(&(value.ptr as usize))).copied();
    if entry != Some((Kind::Bytes, value.len)) {
        return SEALWIRE_ERROR_INVALID_HANDLE;
    }
    forget(&mut registry, value.ptr as usize);
    drop(registry);
    // SAFETY: registered as bytes of this length, so made by `give_bytes`
    // from a boxed slice of exactly `len` bytes, and now out of the
    // registry.
    let mut boxed =
        unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(value.ptr, value.len)) };
    boxed.zeroize();
    drop(boxed);
    // SAFETY: as above.
    unsafe { bytes.write_unaligned(sealwire_bytes::EMPTY) };
    0
}

/// The input `(ptr, len)`: NULL is an error unless `len` is 0; a length
/// no object can have (above `isize::MAX`) is out of range.
pub(crate) fn input<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], i32> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(SEALWIRE_ERROR_NULL_POINTER);
    }
    if isize::try_from(len).is_err() {
        return Err(crate::error::SEALWIRE_ERROR_INVALID_ARGUMENT);
    }
    // SAFETY: not null, and the caller promises `len` readable bytes that
    // stay unchanged during the call (the documented contract of every
    // input).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Writes `value` through the output pointer `out`.
pub(crate) fn put<T>(out: *mut T, value: T) -> Result<(), i32> {
    if out.is_null() {
        return Err(SEALWIRE_ERROR_NULL_POINTER);
    }
    // SAFETY: not null; the caller promises a writable `T` (not
    // necessarily aligned).
    unsafe { out.write_unaligned(value) };
    Ok(())
}

/// Registers `value` as a new handle and writes it through `out`, checked
/// first so that no handle is made for a NULL output.
pub(crate) fn put_handle<T, C>(out: *mut *mut C, kind: Kind, value: T) -> Result<(), i32> {
    check_out(out)?;
    put(out, new_handle(kind, value))
}

/// How many handles and buffers are live (made and not freed yet).
pub(crate) fn live_count() -> usize {
    live().as_ref().map_or(0, HashMap::len)
}

/// Checks that an output pointer is not NULL, before any work is done.
pub(crate) fn check_out<T>(out: *mut T) -> Result<(), i32> {
    if out.is_null() { Err(SEALWIRE_ERROR_NULL_POINTER) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// While one call holds a handle, another (here nested, as a second
    /// thread would meet it) is told BUSY, and nothing waits.
    #[test]
    fn a_handle_in_use_is_busy_and_a_freed_one_invalid() {
        let handle: *mut u8 = new_handle(Kind::Session, 5u32);
        let nested = with(handle, Kind::Session, |value: &mut u32| {
            *value += 1;
            Ok(with(handle, Kind::Session, |_: &mut u32| Ok(())))
        });
        assert_eq!(nested, Ok(Err(SEALWIRE_ERROR_BUSY)));
        assert_eq!(with(handle, Kind::Session, |value: &mut u32| Ok(*value)), Ok(6));
        assert_eq!(
            with(handle, Kind::Device, |_: &mut u32| Ok(())),
            Err(SEALWIRE_ERROR_INVALID_HANDLE)
        );
        assert_eq!(free_handle::<u32, u8>(handle, Kind::Device), SEALWIRE_ERROR_INVALID_HANDLE);
        assert_eq!(free_handle::<u32, u8>(handle, Kind::Session), 0);
        assert_eq!(free_handle::<u32, u8>(handle, Kind::Session), SEALWIRE_ERROR_INVALID_HANDLE);
        assert_eq!(
            with(handle, Kind::Session, |_: &mut u32| Ok(())),
            Err(SEALWIRE_ERROR_INVALID_HANDLE)
        );
    }
}
