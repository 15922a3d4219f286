#![no_main]
//! The session layer's stored records and addresses (docs/sessions.md §2,
//! §3): every one decodes without panicking, and what decodes re-encodes
//! to itself (a session record holding a version 2 session state, to its
//! upgrade).
use libfuzzer_sys::fuzz_target;
use sealwire::*;

fuzz_target!(|data: &[u8]| {
    use sealwire_fuzz::canonical;
    canonical(data, |b| Address::from_bytes(b).map(|x| x.to_bytes()));
    canonical(data, |b| RemoteIdentity::from_bytes(b).map(|x| x.to_bytes()));
    canonical(data, |b| DeviceList::from_bytes(b).map(|x| x.to_bytes()));
    // Session records hold session states, which may be of version 2.
    sealwire_fuzz::canonical_or_upgraded(data, |b| {
        SessionRecord::from_bytes(b).map(|x| x.to_bytes().to_vec())
    });
    canonical(data, |b| Account::from_bytes(b).map(|x| x.to_bytes().to_vec()));
});
