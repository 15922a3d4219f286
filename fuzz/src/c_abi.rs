//! Arbitrary call sequences on the C ABI's handles: made, used, used as
//! the wrong type, freed, freed twice, used after free, with NULLs and
//! garbage for inputs. Invariants: no call panics (`SEALWIRE_ERROR_PANIC`)
//! or crashes (the sanitizer watches every access); every code returned
//! has a text; a pointer freed, and not given out again since, is refused
//! as `SEALWIRE_ERROR_INVALID_HANDLE`.
use std::ptr::{null, null_mut};

use arbitrary::Arbitrary;
use sealwire_ffi::*;

/// At most this many operations per input.
const MAX_OPS: usize = 64;
/// At most this many devices per input (each makes 100 prekeys).
const MAX_DEVICES: usize = 2;

#[derive(Arbitrary, Debug, Clone)]
pub enum AbiOp {
    NewTrust,
    NewDevice { trust: u8 },
    Identity { slot: u8 },
    Receive { slot: u8, bytes: Vec<u8> },
    AddRoot { slot: u8, bytes: Vec<u8> },
    Publication { slot: u8 },
    Bundle { slot: u8, index: i8 },
    CreateGroup { slot: u8, id: Vec<u8> },
    SendToGroup { slot: u8, id: Vec<u8> },
    SessionFromBytes { bytes: Vec<u8> },
    Encrypt { slot: u8 },
    Free { slot: u8, as_kind: u8 },
    FreeBytes { which: u8, copy: bool },
}

/// A handle made during the run, as the C caller holds it.
#[derive(Clone, Copy)]
struct Slot {
    ptr: usize,
    live: bool,
}

fn ok(code: i32) {
    assert_ne!(code, SEALWIRE_ERROR_PANIC, "a call panicked");
    let text = unsafe { std::ffi::CStr::from_ptr(sealwire_error_text(code)) };
    assert!(!text.to_bytes().is_empty());
}

/// Runs one sequence; panics when an invariant fails.
pub fn run(ops: Vec<AbiOp>) {
    let mut slots: Vec<Slot> = Vec::new();
    let mut buffers: Vec<sealwire_bytes> = Vec::new();
    let mut devices = 0;
    // Whether a handle was made since the last free: then a freed address
    // may have been given out again, and a stale pointer may be live.
    let mut reused = false;
    let pick = |slots: &Vec<Slot>, i: u8| slots.get(usize::from(i) % slots.len().max(1)).copied();
    for op in ops.into_iter().take(MAX_OPS) {
        unsafe {
            match op {
                AbiOp::NewTrust => {
                    let mut t = null_mut();
                    ok(sealwire_trust_store_new(&mut t));
                    slots.push(Slot { ptr: t as usize, live: true });
                    reused = true;
                }
                AbiOp::NewDevice { trust } if devices < MAX_DEVICES => {
                    let t = pick(&slots, trust).map_or(0, |s| s.ptr);
                    let app = b"chat.a";
                    let user = b"alice";
                    let address = sealwire_address {
                        user: sealwire_user {
                            app: app.as_ptr(),
                            app_len: app.len(),
                            user: user.as_ptr(),
                            user_len: user.len(),
                        },
                        device: 1,
                    };
                    let mut d = null_mut();
                    let code = sealwire_device_create(
                        &address,
                        t as *const sealwire_trust_store,
                        1_800_000_000,
                        null(),
                        0,
                        null(),
                        0,
                        &mut d,
                    );
                    ok(code);
                    if code == SEALWIRE_OK {
                        devices += 1;
                        slots.push(Slot { ptr: d as usize, live: true });
                        reused = true;
                    }
                }
                AbiOp::Identity { slot } => {
                    if let Some(s) = pick(&slots, slot) {
                        let mut b = sealwire_bytes { ptr: null_mut(), len: 0 };
                        let code = sealwire_device_identity(s.ptr as *mut sealwire_device, &mut b);
                        ok(code);
                        if !s.live && !reused {
                            assert_eq!(code, SEALWIRE_ERROR_INVALID_HANDLE);
                        }
                        buffers.push(b);
                    }
                }
                AbiOp::Receive { slot, bytes } => {
                    if let Some(s) = pick(&slots, slot) {
                        let mut r = null_mut();
                        let code = sealwire_device_receive(
                            s.ptr as *mut sealwire_device,
                            bytes.as_ptr(),
                            bytes.len(),
                            1_800_000_000,
                            &mut r,
                        );
                        ok(code);
                        ok(sealwire_received_free(r));
                    }
                }
                AbiOp::AddRoot { slot, bytes } => {
                    if let Some(s) = pick(&slots, slot) {
                        let code = sealwire_trust_store_add_root(
                            s.ptr as *mut sealwire_trust_store,
                            bytes.as_ptr(),
                            bytes.len(),
                        );
                        ok(code);
                    }
                }
                AbiOp::Publication { slot } => {
                    if let Some(s) = pick(&slots, slot) {
                        let mut p = null_mut();
                        let code = sealwire_device_publication(
                            s.ptr as *mut sealwire_device,
                            1_800_000_000,
                            -1,
                            &mut p,
                        );
                        ok(code);
                        if code == SEALWIRE_OK {
                            slots.push(Slot { ptr: p as usize, live: true });
                            reused = true;
                        }
                    }
                }
                AbiOp::Bundle { slot, index } => {
                    if let Some(s) = pick(&slots, slot) {
                        let mut b = sealwire_bytes { ptr: null_mut(), len: 0 };
                        ok(sealwire_publication_bundle(
                            s.ptr as *const sealwire_publication,
                            i64::from(index),
                            &mut b,
                        ));
                        buffers.push(b);
                    }
                }
                AbiOp::CreateGroup { slot, id } => {
                    if let Some(s) = pick(&slots, slot) {
                        ok(sealwire_device_create_group(
                            s.ptr as *mut sealwire_device,
                            id.as_ptr(),
                            id.len(),
                            null(),
                            0,
                        ));
                    }
                }
                AbiOp::SendToGroup { slot, id } => {
                    if let Some(s) = pick(&slots, slot) {
                        let mut g = null_mut();
                        let code = sealwire_device_send_to_group(
                            s.ptr as *mut sealwire_device,
                            id.as_ptr(),
                            id.len(),
                            b"x".as_ptr(),
                            1,
                            1_800_000_000,
                            &mut g,
                        );
                        ok(code);
                        ok(sealwire_group_sent_free(g));
                    }
                }
                AbiOp::SessionFromBytes { bytes } => {
                    let mut s = null_mut();
                    let code = sealwire_session_from_bytes(bytes.as_ptr(), bytes.len(), &mut s);
                    ok(code);
                    if code == SEALWIRE_OK {
                        slots.push(Slot { ptr: s as usize, live: true });
                        reused = true;
                    }
                }
                AbiOp::Encrypt { slot } => {
                    if let Some(s) = pick(&slots, slot) {
                        let mut b = sealwire_bytes { ptr: null_mut(), len: 0 };
                        ok(sealwire_session_encrypt(
                            s.ptr as *mut sealwire_session,
                            b"hi".as_ptr(),
                            2,
                            &mut b,
                        ));
                        buffers.push(b);
                    }
                }
                AbiOp::Free { slot, as_kind } => {
                    let i = usize::from(slot) % slots.len().max(1);
                    if let Some(s) = slots.get_mut(i) {
                        let code = match as_kind % 4 {
                            0 => sealwire_trust_store_free(s.ptr as *mut sealwire_trust_store),
                            1 => sealwire_device_free(s.ptr as *mut sealwire_device),
                            2 => sealwire_publication_free(s.ptr as *mut sealwire_publication),
                            _ => sealwire_session_free(s.ptr as *mut sealwire_session),
                        };
                        ok(code);
                        if !s.live && !reused {
                            assert_eq!(code, SEALWIRE_ERROR_INVALID_HANDLE, "a double free");
                        }
                        if code == SEALWIRE_OK {
                            s.live = false;
                            reused = false;
                        }
                    }
                }
                AbiOp::FreeBytes { which, copy } => {
                    let i = usize::from(which) % buffers.len().max(1);
                    if let Some(b) = buffers.get_mut(i) {
                        let mut copied = sealwire_bytes { ptr: b.ptr, len: b.len };
                        ok(sealwire_bytes_free(b));
                        if copy && !copied.ptr.is_null() {
                            // The struct's copy: freed already.
                            let code = sealwire_bytes_free(&mut copied);
                            assert_eq!(code, SEALWIRE_ERROR_INVALID_HANDLE);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    // Everything left is freed, as a well-behaved caller would.
    unsafe {
        for b in &mut buffers {
            sealwire_bytes_free(b);
        }
        for s in slots.iter().filter(|s| s.live) {
            // One of these matches its kind; the others are refused.
            sealwire_received_free(s.ptr as *mut sealwire_received);
            sealwire_publication_free(s.ptr as *mut sealwire_publication);
            sealwire_session_free(s.ptr as *mut sealwire_session);
            sealwire_device_free(s.ptr as *mut sealwire_device);
            sealwire_trust_store_free(s.ptr as *mut sealwire_trust_store);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{AbiOp, run};

    #[test]
    fn frees_twice_wrong_types_and_garbage() {
        run(vec![
            AbiOp::NewTrust,
            AbiOp::NewDevice { trust: 0 },
            AbiOp::Identity { slot: 0 },
            AbiOp::Identity { slot: 1 },
            AbiOp::FreeBytes { which: 1, copy: true },
            AbiOp::Receive { slot: 1, bytes: vec![0xc3, 1, 2] },
            AbiOp::CreateGroup { slot: 1, id: b"g".to_vec() },
            AbiOp::SendToGroup { slot: 1, id: b"g".to_vec() },
            AbiOp::Publication { slot: 1 },
            AbiOp::Bundle { slot: 2, index: 3 },
            AbiOp::Free { slot: 1, as_kind: 0 },
            AbiOp::Free { slot: 1, as_kind: 1 },
            AbiOp::Free { slot: 1, as_kind: 1 },
            AbiOp::Identity { slot: 1 },
            AbiOp::SessionFromBytes { bytes: vec![0x43; 40] },
            AbiOp::Encrypt { slot: 0 },
        ]);
    }
}
