//! The C ABI from Rust: every function with NULLs, zero lengths, garbage
//! and handles of the wrong type, freed or foreign; double frees; and a
//! conversation, a group and a restart from the SQLite store through it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::undocumented_unsafe_blocks,
    missing_docs
)]

use std::ptr::{null, null_mut};

use sealwire_ffi::*;

const NOW: u64 = 1_796_029_200;

fn bytes(b: &sealwire_bytes) -> Vec<u8> {
    if b.ptr.is_null() {
        Vec::new()
    } else {
        unsafe { std::slice::from_raw_parts(b.ptr, b.len) }.to_vec()
    }
}

fn take(mut b: sealwire_bytes) -> Vec<u8> {
    let v = bytes(&b);
    assert_eq!(unsafe { sealwire_bytes_free(&mut b) }, SEALWIRE_OK);
    v
}

fn empty() -> sealwire_bytes {
    sealwire_bytes { ptr: null_mut(), len: 0 }
}

fn user(app: &'static str, user: &'static str) -> sealwire_user {
    sealwire_user {
        app: app.as_ptr(),
        app_len: app.len(),
        user: user.as_ptr(),
        user_len: user.len(),
    }
}

/// An app's keys and issuer certificate.
struct App {
    id: &'static str,
    issuer_secret: Vec<u8>,
    issuer_certificate: Vec<u8>,
}

fn app(id: &'static str, trust: *mut sealwire_trust_store) -> App {
    unsafe {
        let (mut rs, mut rp, mut is, mut ip) = (empty(), empty(), empty(), empty());
        assert_eq!(sealwire_certificate_key_generate(&mut rs, &mut rp), SEALWIRE_OK);
        assert_eq!(sealwire_certificate_key_generate(&mut is, &mut ip), SEALWIRE_OK);
        let (rs, rp, is, ip) = (take(rs), take(rp), take(is), take(ip));
        let mut cert = empty();
        let code = sealwire_issuer_certificate_issue(
            rs.as_ptr(),
            rs.len(),
            id.as_ptr(),
            id.len(),
            1,
            ip.as_ptr(),
            ip.len(),
            0,
            u64::MAX,
            &mut cert,
        );
        assert_eq!(code, SEALWIRE_OK);
        let mut root = empty();
        assert_eq!(
            sealwire_trust_root_new(id.as_ptr(), id.len(), rp.as_ptr(), rp.len(), &mut root),
            SEALWIRE_OK
        );
        let root = take(root);
        assert_eq!(sealwire_trust_store_add_root(trust, root.as_ptr(), root.len()), SEALWIRE_OK);
        App { id, issuer_secret: is, issuer_certificate: take(cert) }
    }
}

fn device(
    a: &App,
    name: &'static str,
    trust: *mut sealwire_trust_store,
    path: Option<&str>,
    key: &[u8; 32],
) -> (*mut sealwire_device, Vec<u8>) {
    unsafe {
        let address = sealwire_address { user: user(a.id, name), device: 1 };
        let mut dev = null_mut();
        let (p, pl) = path.map_or((null(), 0), |p| (p.as_ptr(), p.len()));
        let kl = if path.is_some() { 32 } else { 0 };
        assert_eq!(
            sealwire_device_create(&address, trust, NOW, p, pl, key.as_ptr(), kl, &mut dev),
            SEALWIRE_OK
        );
        let mut identity = empty();
        assert_eq!(sealwire_device_identity(dev, &mut identity), SEALWIRE_OK);
        let identity = take(identity);
        let mut cert = empty();
        let code = sealwire_sender_certificate_issue(
            a.issuer_secret.as_ptr(),
            a.issuer_secret.len(),
            a.issuer_certificate.as_ptr(),
            a.issuer_certificate.len(),
            name.as_ptr(),
            name.len(),
            1,
            identity.as_ptr(),
            identity.len(),
            u64::MAX,
            &mut cert,
        );
        assert_eq!(code, SEALWIRE_OK);
        let cert = take(cert);
        assert_eq!(sealwire_device_set_certificate(dev, cert.as_ptr(), cert.len()), SEALWIRE_OK);
        (dev, identity)
    }
}

/// `from` starts a session with `to` (device 1 of `to_user`) from a
/// bundle of `to`'s publication, after learning the device lists.
fn connect(from: *mut sealwire_device, to: *mut sealwire_device, to_user: sealwire_user) {
    unsafe {
        let ids = [1u32];
        assert_eq!(sealwire_device_set_devices(from, &to_user, ids.as_ptr(), 1), SEALWIRE_OK);
        let mut publication = null_mut();
        assert_eq!(sealwire_device_publication(to, NOW, -1, &mut publication), SEALWIRE_OK);
        assert_eq!(sealwire_device_mark_published(to, publication), SEALWIRE_OK);
        let mut bundle = empty();
        assert_eq!(sealwire_publication_bundle(publication, 0, &mut bundle), SEALWIRE_OK);
        let bundle = take(bundle);
        let address = sealwire_address { user: to_user, device: 1 };
        let mut event = -1;
        assert_eq!(
            sealwire_device_start_session(
                from,
                &address,
                bundle.as_ptr(),
                bundle.len(),
                NOW,
                &mut event
            ),
            SEALWIRE_OK
        );
        assert_eq!(event, 1);
        assert_eq!(sealwire_publication_free(publication), SEALWIRE_OK);
    }
}

/// The envelopes of an upload, for the recipient `identity`.
fn part_for(upload: &[u8], identity: &[u8]) -> Vec<u8> {
    unsafe {
        let mut n = 0;
        assert_eq!(sealwire_upload_count(upload.as_ptr(), upload.len(), &mut n), SEALWIRE_OK);
        for i in 0..n {
            let (mut to, mut envelope) = (empty(), empty());
            assert_eq!(
                sealwire_upload_part(upload.as_ptr(), upload.len(), i, &mut to, &mut envelope),
                SEALWIRE_OK
            );
            let (to, envelope) = (take(to), take(envelope));
            if to == identity {
                return envelope;
            }
        }
        panic!("no part for this device")
    }
}

fn receive(dev: *mut sealwire_device, envelope: &[u8]) -> Result<(i32, Vec<u8>), i32> {
    unsafe {
        let mut got = null_mut();
        let code = sealwire_device_receive(dev, envelope.as_ptr(), envelope.len(), NOW, &mut got);
        if code != SEALWIRE_OK {
            assert!(got.is_null(), "an output written on failure");
            return Err(code);
        }
        let (mut text, mut group) = (empty(), empty());
        let mut kind = -1;
        assert_eq!(sealwire_received_plaintext(got, &mut text), SEALWIRE_OK);
        assert_eq!(sealwire_received_kind(got, &mut kind, &mut group), SEALWIRE_OK);
        take(group);
        assert_eq!(sealwire_received_free(got), SEALWIRE_OK);
        assert_eq!(sealwire_received_free(got), SEALWIRE_ERROR_INVALID_HANDLE, "a double free");
        Ok((kind, take(text)))
    }
}

#[test]
fn a_conversation_a_group_and_a_restart_through_the_abi() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alice.db");
    let path = path.to_str().unwrap();
    let key = [7u8; 32];
    unsafe {
        let mut trust = null_mut();
        assert_eq!(sealwire_trust_store_new(&mut trust), SEALWIRE_OK);
        let (a, b) = (app("chat.a", trust), app("chat.b", trust));
        let (alice, alice_id) = device(&a, "alice", trust, Some(path), &key);
        let (bob, bob_id) = device(&b, "bob", trust, None, &key);
        let (alice_user, bob_user) = (user("chat.a", "alice"), user("chat.b", "bob"));
        connect(bob, alice, alice_user);
        let mut sent = null_mut();
        let text = b"hello across apps";
        assert_eq!(
            sealwire_device_send(bob, &alice_user, text.as_ptr(), text.len(), NOW, &mut sent),
            SEALWIRE_OK
        );
        let mut upload = empty();
        assert_eq!(sealwire_sent_upload(sent, &mut upload), SEALWIRE_OK);
        let upload = take(upload);
        assert_eq!(sealwire_sent_free(sent), SEALWIRE_OK);
        let envelope = part_for(&upload, &alice_id);
        assert_eq!(receive(alice, &envelope), Ok((0, text.to_vec())));
        // A replay: a duplicate, to drop.
        let code = receive(alice, &envelope).unwrap_err();
        assert_eq!(code, 306);
        assert_eq!(sealwire_error_action(code), SEALWIRE_ACTION_DROP);

        // A group of two.
        let group = b"pair";
        let members = [alice_user, bob_user];
        for dev in [alice, bob] {
            assert_eq!(
                sealwire_device_create_group(dev, group.as_ptr(), 4, members.as_ptr(), 2),
                SEALWIRE_OK
            );
        }
        let ids = [1u32];
        assert_eq!(sealwire_device_set_devices(alice, &bob_user, ids.as_ptr(), 1), SEALWIRE_OK);
        let mut gs = null_mut();
        let hi = b"hi group";
        assert_eq!(
            sealwire_device_send_to_group(
                bob,
                group.as_ptr(),
                4,
                hi.as_ptr(),
                hi.len(),
                NOW,
                &mut gs
            ),
            SEALWIRE_OK
        );
        let mut n = 0;
        assert_eq!(sealwire_group_sent_count(gs, &mut n), SEALWIRE_OK);
        assert_eq!(n, 2);
        let mut kinds = Vec::new();
        for i in 0..n {
            let mut up = empty();
            assert_eq!(sealwire_group_sent_upload(gs, i, &mut up), SEALWIRE_OK);
            let up = take(up);
            kinds.push(receive(alice, &part_for(&up, &alice_id)).unwrap());
        }
        let mut up = empty();
        assert_eq!(sealwire_group_sent_upload(gs, 2, &mut up), SEALWIRE_ERROR_INVALID_ARGUMENT);
        assert_eq!(sealwire_group_sent_free(gs), SEALWIRE_OK);
        assert_eq!(kinds, [(2, Vec::new()), (1, hi.to_vec())]);

        // Alice's app restarts: the device reopens from its store.
        assert_eq!(sealwire_device_free(alice), SEALWIRE_OK);
        let mut alice = null_mut();
        let wrong = [8u8; 32];
        assert_eq!(
            sealwire_device_open(path.as_ptr(), path.len(), wrong.as_ptr(), 32, trust, &mut alice),
            SEALWIRE_ERROR_STORE_WRONG_KEY
        );
        assert_eq!(sealwire_error_action(SEALWIRE_ERROR_STORE_WRONG_KEY), SEALWIRE_ACTION_ALARM);
        assert!(alice.is_null());
        assert_eq!(
            sealwire_device_open(path.as_ptr(), path.len(), key.as_ptr(), 32, trust, &mut alice),
            SEALWIRE_OK
        );
        let mut sent = null_mut();
        let back = b"after the restart";
        assert_eq!(
            sealwire_device_send(alice, &bob_user, back.as_ptr(), back.len(), NOW, &mut sent),
            SEALWIRE_OK
        );
        let mut upload = empty();
        assert_eq!(sealwire_sent_upload(sent, &mut upload), SEALWIRE_OK);
        let upload = take(upload);
        sealwire_sent_free(sent);
        assert_eq!(receive(bob, &part_for(&upload, &bob_id)), Ok((0, back.to_vec())));

        // Safety numbers agree.
        let (mut on_alice, mut on_bob) = (empty(), empty());
        let (to_bob, to_alice) = (
            sealwire_address { user: bob_user, device: 1 },
            sealwire_address { user: alice_user, device: 1 },
        );
        assert_eq!(sealwire_device_safety_number(alice, &to_bob, &mut on_alice), SEALWIRE_OK);
        assert_eq!(sealwire_device_safety_number(bob, &to_alice, &mut on_bob), SEALWIRE_OK);
        let number = take(on_alice);
        assert_eq!(number, take(on_bob));
        let mut other = number.clone();
        other[0] ^= 1;
        assert_eq!(
            sealwire_device_mark_verified(alice, &to_bob, other.as_ptr(), other.len(), NOW),
            815
        );
        assert_eq!(
            sealwire_device_mark_verified(alice, &to_bob, number.as_ptr(), number.len(), NOW),
            SEALWIRE_OK
        );
        assert_eq!(sealwire_device_set_trust_policy(alice, 1, 2), SEALWIRE_ERROR_INVALID_ARGUMENT);
        assert_eq!(sealwire_device_set_trust_policy(alice, 1, 1), SEALWIRE_OK);

        for dev in [alice, bob] {
            assert_eq!(sealwire_device_free(dev), SEALWIRE_OK);
            assert_eq!(sealwire_device_free(dev), SEALWIRE_ERROR_INVALID_HANDLE);
        }
        assert_eq!(sealwire_trust_store_free(trust), SEALWIRE_OK);
    }
}

#[test]
fn every_function_refuses_nulls_and_zero_lengths() {
    unsafe {
        let mut b = empty();
        let mut n = 0usize;
        let mut i = 0i32;
        let mut u = 0u32;
        let null_user: *const sealwire_user = null();
        let null_address: *const sealwire_address = null();
        let codes = [
            sealwire_trust_store_new(null_mut()),
            sealwire_trust_store_add_root(null_mut(), null(), 0),
            sealwire_certificate_key_generate(null_mut(), &mut b),
            sealwire_certificate_key_generate(&mut b, null_mut()),
            sealwire_trust_root_new(null(), 0, null(), 0, &mut b),
            sealwire_trust_root_new(null(), 5, null(), 0, &mut b),
            sealwire_issuer_certificate_issue(null(), 0, null(), 0, 1, null(), 0, 0, 0, &mut b),
            sealwire_sender_certificate_issue(
                null(),
                0,
                null(),
                0,
                null(),
                0,
                1,
                null(),
                0,
                0,
                &mut b,
            ),
            sealwire_identity_generate(null_mut(), &mut b),
            sealwire_signed_prekey_generate(null(), 0, 1, &mut b),
            sealwire_one_time_prekey_generate(1, null_mut()),
            sealwire_bundle_new(null(), 0, null(), 0, null(), 0, &mut b),
            sealwire_session_initiate(null(), 0, null(), 0, null_mut()),
            sealwire_session_accept(null(), 0, null(), 0, null(), 0, null(), 0, null_mut(), &mut b),
            sealwire_session_encrypt(null_mut(), null(), 0, &mut b),
            sealwire_session_decrypt(null_mut(), null(), 0, &mut b),
            sealwire_session_to_bytes(null_mut(), &mut b),
            sealwire_session_from_bytes(null(), 0, null_mut()),
            sealwire_device_create(null_address, null(), NOW, null(), 0, null(), 0, null_mut()),
            sealwire_device_open(null(), 0, null(), 0, null(), null_mut()),
            sealwire_device_identity(null_mut(), &mut b),
            sealwire_device_set_certificate(null_mut(), null(), 0),
            sealwire_device_publication(null_mut(), NOW, -1, null_mut()),
            sealwire_device_mark_published(null_mut(), null()),
            sealwire_publication_one_time_count(null(), &mut n),
            sealwire_publication_bundle(null(), -1, &mut b),
            sealwire_device_set_devices(null_mut(), null_user, null(), 0),
            sealwire_device_missing_sessions(null_mut(), null_user, NOW, &mut b),
            sealwire_device_start_session(null_mut(), null_address, null(), 0, NOW, &mut i),
            sealwire_device_send(null_mut(), null_user, null(), 0, NOW, null_mut()),
            sealwire_sent_upload(null(), &mut b),
            sealwire_sent_missing_count(null(), &mut n),
            sealwire_message_id(null(), 0, null_mut()),
            sealwire_device_acknowledge_sent(null_mut(), null(), 0),
            sealwire_device_acknowledge_received(null_mut(), null(), 0),
            sealwire_device_receive(null_mut(), null(), 0, NOW, null_mut()),
            sealwire_received_plaintext(null(), &mut b),
            sealwire_received_from(null(), &mut b, &mut b, &mut u),
            sealwire_received_kind(null(), &mut i, &mut b),
            sealwire_received_identity_event(null(), &mut i),
            sealwire_received_id(null(), &mut b),
            sealwire_device_safety_number(null_mut(), null_address, &mut b),
            sealwire_device_approve_identity(null_mut(), null_address, null(), 0, NOW),
            sealwire_device_after_restore(null_mut()),
            sealwire_device_set_trust_policy(null_mut(), 0, 0),
            sealwire_device_mark_verified(null_mut(), null_address, null(), 0, NOW),
            sealwire_device_create_group(null_mut(), null(), 0, null(), 0),
            sealwire_device_add_group_members(null_mut(), null(), 0, null(), 0),
            sealwire_device_remove_group_members(null_mut(), null(), 0, null(), 0),
            sealwire_device_delete_group(null_mut(), null(), 0),
            sealwire_device_send_to_group(null_mut(), null(), 0, null(), 0, NOW, null_mut()),
            sealwire_group_sent_count(null(), &mut n),
            sealwire_group_sent_upload(null(), 0, &mut b),
            sealwire_upload_count(null(), 0, &mut n),
            sealwire_upload_part(null(), 0, 0, &mut b, &mut b),
            sealwire_last_error_message(null_mut()),
        ];
        for (at, code) in codes.iter().enumerate() {
            assert_ne!(*code, SEALWIRE_OK, "call {at} accepted NULLs");
            assert_ne!(*code, SEALWIRE_ERROR_PANIC, "call {at} panicked");
        }
        assert!(b.ptr.is_null(), "an output was written by a failing call");
        // Freeing NULL does nothing, whatever the type.
        for code in [
            sealwire_trust_store_free(null_mut()),
            sealwire_device_free(null_mut()),
            sealwire_publication_free(null_mut()),
            sealwire_sent_free(null_mut()),
            sealwire_group_sent_free(null_mut()),
            sealwire_received_free(null_mut()),
            sealwire_session_free(null_mut()),
            sealwire_bytes_free(null_mut()),
            sealwire_bytes_free(&mut b),
        ] {
            assert_eq!(code, SEALWIRE_OK);
        }
    }
}

#[test]
fn garbage_inputs_and_wrong_handles_get_errors_never_a_crash() {
    unsafe {
        let mut trust = null_mut();
        assert_eq!(sealwire_trust_store_new(&mut trust), SEALWIRE_OK);
        let a = app("chat.a", trust);
        let (dev, _) = device(&a, "alice", trust, None, &[0; 32]);
        let mut b = empty();
        let mut i = 0;
        let mut n = 0usize;
        // Garbage of every length up to 300 into every decoder.
        let mut seed = 0x1234_5678u32;
        for len in 0..300usize {
            let garbage: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8
                })
                .collect();
            let (g, l) = (garbage.as_ptr(), garbage.len());
            let mut got = null_mut();
            let mut session = null_mut();
            for code in [
                sealwire_trust_store_add_root(trust, g, l),
                sealwire_device_set_certificate(dev, g, l),
                sealwire_device_receive(dev, g, l, NOW, &mut got),
                sealwire_upload_count(g, l, &mut n),
                sealwire_upload_part(g, l, 0, &mut b, &mut b),
                sealwire_session_from_bytes(g, l, &mut session),
                sealwire_bundle_new(g, l, g, l, g, l, &mut b),
            ] {
                assert_ne!(code, SEALWIRE_OK, "garbage of {len} bytes accepted");
                assert_ne!(code, SEALWIRE_ERROR_PANIC);
            }
            // An id is 16 bytes; any 16 bytes are one (unknown ones change
            // nothing).
            let code = sealwire_device_acknowledge_received(dev, g, l);
            assert_eq!(code == SEALWIRE_OK, l == 16, "{len}: {code}");
            let address = sealwire_address { user: user("chat.b", "bob"), device: 1 };
            let code = sealwire_device_start_session(dev, &address, g, l, NOW, &mut i);
            assert_ne!(code, SEALWIRE_OK);
            assert_ne!(code, SEALWIRE_ERROR_PANIC);
        }
        assert!(b.ptr.is_null());
        // Text that is not UTF-8, a group id too long, an app id in upper case.
        let bad = sealwire_user {
            app: [0xffu8, 0xfe].as_ptr(),
            app_len: 2,
            user: b"u".as_ptr(),
            user_len: 1,
        };
        assert_eq!(
            sealwire_device_set_devices(dev, &bad, null(), 0),
            SEALWIRE_ERROR_INVALID_ARGUMENT
        );
        let upper = user("Chat.A", "u");
        assert_eq!(sealwire_device_set_devices(dev, &upper, null(), 0), 107);
        let long = [b'g'; 65];
        assert_eq!(sealwire_device_create_group(dev, long.as_ptr(), 65, null(), 0), 106);
        // A handle of another type, a pointer the library never made.
        let wrong = trust.cast::<sealwire_device>();
        assert_eq!(sealwire_device_identity(wrong, &mut b), SEALWIRE_ERROR_INVALID_HANDLE);
        let mut local = 0u64;
        let foreign = (&raw mut local).cast::<sealwire_device>();
        assert_eq!(sealwire_device_identity(foreign, &mut b), SEALWIRE_ERROR_INVALID_HANDLE);
        assert_eq!(sealwire_device_free(foreign), SEALWIRE_ERROR_INVALID_HANDLE);
        // Bytes: a copy of a freed struct, and a forged one.
        let mut out = empty();
        assert_eq!(sealwire_device_identity(dev, &mut out), SEALWIRE_OK);
        let mut copy = sealwire_bytes { ptr: out.ptr, len: out.len };
        assert_eq!(sealwire_bytes_free(&mut out), SEALWIRE_OK);
        assert!(out.ptr.is_null());
        assert_eq!(sealwire_bytes_free(&mut copy), SEALWIRE_ERROR_INVALID_HANDLE);
        let mut forged = sealwire_bytes { ptr: (&raw mut local).cast(), len: 8 };
        assert_eq!(sealwire_bytes_free(&mut forged), SEALWIRE_ERROR_INVALID_HANDLE);
        // Every code has a text and an action; unknown ones too.
        for code in [0, 1, 2, 3, 4, 5, 6, 101, 306, 605, 806, 902, 910, 1001, -1, 99_999] {
            let text = std::ffi::CStr::from_ptr(sealwire_error_text(code));
            assert!(!text.to_bytes().is_empty());
            assert!((0..=6).contains(&sealwire_error_action(code)));
        }
        assert_eq!(sealwire_device_free(dev), SEALWIRE_OK);
        assert_eq!(sealwire_trust_store_free(trust), SEALWIRE_OK);
        assert_eq!(sealwire_trust_store_free(trust), SEALWIRE_ERROR_INVALID_HANDLE);
    }
}

#[test]
fn a_handle_in_use_by_another_thread_is_busy() {
    unsafe {
        let mut trust = null_mut();
        assert_eq!(sealwire_trust_store_new(&mut trust), SEALWIRE_OK);
        let a = app("chat.a", trust);
        let (dev, _) = device(&a, "alice", trust, None, &[0; 32]);
        let dev_addr = dev as usize;
        // Many threads at once on one device: each call either works or
        // answers BUSY; nothing else, and the device stays usable.
        let busy: usize = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(move || {
                        let mut busy = 0;
                        for _ in 0..200 {
                            let mut out = sealwire_bytes { ptr: null_mut(), len: 0 };
                            match sealwire_device_identity(
                                dev_addr as *mut sealwire_device,
                                &mut out,
                            ) {
                                SEALWIRE_OK => {
                                    assert_eq!(sealwire_bytes_free(&mut out), SEALWIRE_OK)
                                }
                                SEALWIRE_ERROR_BUSY => busy += 1,
                                other => panic!("{other}"),
                            }
                        }
                        busy
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).sum()
        });
        let _ = busy;
        let mut out = empty();
        assert_eq!(sealwire_device_identity(dev, &mut out), SEALWIRE_OK);
        take(out);
        assert_eq!(sealwire_device_free(dev), SEALWIRE_OK);
        assert_eq!(sealwire_trust_store_free(trust), SEALWIRE_OK);
    }
}

#[test]
fn the_review_findings_hold_fixed() {
    unsafe {
        // A length no object can have: refused, not a crash.
        let mut b = empty();
        let x = [0u8; 4];
        assert_eq!(
            sealwire_message_id(x.as_ptr(), usize::MAX, &mut b),
            SEALWIRE_ERROR_INVALID_ARGUMENT
        );
        assert_eq!(sealwire_message_id(x.as_ptr(), 0, &mut b), SEALWIRE_ERROR_INVALID_ARGUMENT);
        let mut n = 0;
        assert_eq!(
            sealwire_upload_count(x.as_ptr(), (isize::MAX as usize) + 1, &mut n),
            SEALWIRE_ERROR_INVALID_ARGUMENT
        );
        // A NULL output makes no handle (the C example checks the live
        // count, which other tests running at once would move here).
        assert_eq!(sealwire_trust_store_new(null_mut()), SEALWIRE_ERROR_NULL_POINTER);
        // A changed length is refused, and the buffer is still freed right.
        let (mut s, mut p) = (empty(), empty());
        assert_eq!(sealwire_identity_generate(&mut s, &mut p), SEALWIRE_OK);
        let len = s.len;
        for wrong in [len + 1000, 1, 0] {
            s.len = wrong;
            assert_eq!(sealwire_bytes_free(&mut s), SEALWIRE_ERROR_INVALID_HANDLE, "len {wrong}");
        }
        s.len = len;
        assert_eq!(sealwire_bytes_free(&mut s), SEALWIRE_OK);
        take(p);
        let mut odd = sealwire_bytes { ptr: null_mut(), len: 5 };
        assert_eq!(sealwire_bytes_free(&mut odd), SEALWIRE_OK);
        assert_eq!(odd.len, 0);
        // Unaligned arrays of ids and users are read as they are.
        let mut trust = null_mut();
        assert_eq!(sealwire_trust_store_new(&mut trust), SEALWIRE_OK);
        let a = app("chat.a", trust);
        // A key without a path: refused (it would be an in-memory store).
        let address = sealwire_address { user: user("chat.a", "alice"), device: 1 };
        let mut dev = null_mut();
        let key = [1u8; 32];
        assert_eq!(
            sealwire_device_create(&address, trust, NOW, null(), 0, key.as_ptr(), 32, &mut dev),
            SEALWIRE_ERROR_INVALID_ARGUMENT
        );
        let (dev, _) = device(&a, "alice", trust, None, &[0; 32]);
        let mut raw = [0u8; 4 * 3 + 1];
        for (i, id) in [1u32, 2, 3].iter().enumerate() {
            raw[1 + 4 * i..5 + 4 * i].copy_from_slice(&id.to_ne_bytes());
        }
        let bob = user("chat.b", "bob");
        assert_eq!(
            sealwire_device_set_devices(dev, &bob, raw.as_ptr().add(1).cast(), 3),
            SEALWIRE_OK
        );
        let mut users = vec![0u8; std::mem::size_of::<sealwire_user>() * 2 + 1];
        let list = [user("chat.a", "alice"), bob];
        std::ptr::copy_nonoverlapping(
            list.as_ptr().cast::<u8>(),
            users.as_mut_ptr().add(1),
            std::mem::size_of_val(&list),
        );
        assert_eq!(
            sealwire_device_create_group(dev, b"g".as_ptr(), 1, users.as_ptr().add(1).cast(), 2),
            SEALWIRE_OK
        );
        // The last error's text is this call's, and cleared by a success.
        let mut text = empty();
        assert_eq!(sealwire_trust_store_new(null_mut()), SEALWIRE_ERROR_NULL_POINTER);
        assert_eq!(sealwire_last_error_message(&mut text), SEALWIRE_OK);
        assert_eq!(take(text), b"a pointer argument is NULL");
        // Pending messages and the reset are reachable.
        let (mut r, mut s) = (9usize, 9usize);
        assert_eq!(sealwire_device_pending_counts(dev, &mut r, &mut s), SEALWIRE_OK);
        assert_eq!((r, s), (0, 0));
        let mut got = null_mut();
        assert_eq!(
            sealwire_device_pending_received(dev, 0, &mut got),
            SEALWIRE_ERROR_INVALID_ARGUMENT
        );
        let to_bob = sealwire_address { user: bob, device: 1 };
        assert_eq!(sealwire_device_reset_session(dev, &to_bob), SEALWIRE_OK);
        assert_eq!(sealwire_device_free(dev), SEALWIRE_OK);
        assert_eq!(sealwire_trust_store_free(trust), SEALWIRE_OK);
    }
}
