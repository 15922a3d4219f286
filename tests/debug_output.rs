//! `Debug` of every type that holds a secret, pinned as a snapshot: a
//! change that starts printing key material fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{App, Device, pair_with, rng};
use sealwire::store::AccountStore;
use sealwire::*;

fn snapshots() -> Vec<(&'static str, String)> {
    let mut rng = rng(2026);
    let identity = IdentityKeyPair::from_bytes(&[&[0x52u8][..], &[7u8; 32]].concat()).unwrap();
    let signed = SignedPreKeyPair::from_bytes(
        &[&[0x71u8][..], &1u32.to_be_bytes(), &[8u8; 32], &[9u8; 64]].concat(),
    )
    .unwrap();
    let one_time =
        OneTimePreKeyPair::from_bytes(&[&[0x91u8][..], &2u32.to_be_bytes(), &[10u8; 32]].concat())
            .unwrap();
    let certificate_key =
        CertificateKeyPair::from_bytes(&[&[0xf1u8][..], &[11u8; 32]].concat()).unwrap();
    let address =
        Address::new(AppId::new("app-a").unwrap(), UserId::new(b"alice").unwrap(), DeviceId(1));
    let sealwire_device = sealwire::Device::create(
        &mut common::rng(7),
        MemoryStore::new(),
        address,
        TrustStore::new(),
        Timestamp(5),
    )
    .unwrap();
    let store = sealwire_device.store().clone();
    let account = store.load_account().unwrap().unwrap();
    let mut record_bytes = vec![0xff, 0x21];
    record_bytes.extend_from_slice(&3u64.to_be_bytes());
    record_bytes.extend_from_slice(&[0, 0, 0]);
    let record = SessionRecord::from_bytes(&record_bytes).unwrap();
    let mut device = Device::new(&mut rng, 1);
    let (bob, _) = pair_with(&mut rng, &identity, &mut device);
    let app = App::new(&mut rng, "app-a");
    let sealer = Sealer::new(app.certify("alice", 1, identity.public()));
    let group = GroupId::new(b"family").unwrap();
    let sender_key = SenderKey::generate(&mut common::rng(8));
    let distribution = sender_key.distribution(&group);
    let mut sender_keys = SenderKeyRecord::new();
    sender_keys.process(identity.public(), &distribution);
    let mut group_device = sealwire::Device::create(
        &mut common::rng(9),
        MemoryStore::new(),
        Address::new(AppId::new("app-a").unwrap(), UserId::new(b"bob").unwrap(), DeviceId(1)),
        TrustStore::new(),
        Timestamp(5),
    )
    .unwrap();
    group_device.create_group(&group, &[]).unwrap();
    let group_record = group_device.group(&group).unwrap().unwrap();
    vec![
        ("IdentityKeyPair", format!("{identity:?}")),
        ("SignedPreKeyPair", format!("{signed:?}")),
        ("OneTimePreKeyPair", format!("{one_time:?}")),
        ("CertificateKeyPair", format!("{certificate_key:?}")),
        ("MemoryStore", format!("{store:?}")),
        ("Account", format!("{account:?}")),
        ("Device", format!("{sealwire_device:?}")),
        ("SessionRecord", format!("{record:?}")),
        ("Session", format!("{bob:?}")),
        ("Sealer", format!("{sealer:?}")),
        ("SenderKey", format!("{sender_key:?}")),
        ("SenderKeyDistribution", format!("{distribution:?}")),
        ("SenderKeyRecord", format!("{sender_keys:?}")),
        ("GroupRecord", format!("{group_record:?}")),
    ]
}

/// The pinned output. Public keys and ids are shown; every secret is
/// `[redacted]`.
const EXPECTED: &[(&str, &str)] = &[
    (
        "IdentityKeyPair",
        r#"IdentityKeyPair { public: IdentityKey(ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c), secret: "[redacted]" }"#,
    ),
    (
        "SignedPreKeyPair",
        r#"SignedPreKeyPair { id: PreKeyId(1), key: X25519PublicKey(31d4ab6aceec961137917037936e60716fac573afe94d9da84a8020448dfc112), secret: "[redacted]" }"#,
    ),
    (
        "OneTimePreKeyPair",
        r#"OneTimePreKeyPair { id: PreKeyId(2), key: X25519PublicKey(f77ff4b10788bfdca62ca0bb160d427cf5762d85f2b5cad6807ec9c3febbde09), secret: "[redacted]" }"#,
    ),
    (
        "CertificateKeyPair",
        r#"CertificateKeyPair { public: CertificateKey(66be7e332c7a453332bd9d0a7f7db055f5c5ef1a06ada66d98b39fb6810c473a), secret: "[redacted]" }"#,
    ),
    (
        "MemoryStore",
        r#"MemoryStore { account: Some(1), identities: 0, signed_prekeys: [PreKeyId(1)], one_time_prekeys: 100, kem_prekeys: 101, sessions: 0, device_lists: 0, groups: 0, sender_keys: 0, accepted_base_keys: 0, pending_received: 0, pending_sent: 0 }"#,
    ),
    (
        "Account",
        r#"Account { revision: 1, address: Address { user: UserAddress { app: AppId("app-a"), user: UserId("alice") }, device: DeviceId(1) }, identity: IdentityKeyPair { public: IdentityKey(641d9e4d3db7f9fb3dd9eb45a78a1c15134ddf1cc6ef8e3fe2c91679c1d20f02), secret: "[redacted]" }, certificate: false, signed_prekey: PreKeyId(1), retired: [], next_one_time_id: 101, unpublished_from: 1 }"#,
    ),
    (
        "Device",
        r#"Device { address: Address { user: UserAddress { app: AppId("app-a"), user: UserId("alice") }, device: DeviceId(1) }, identity: IdentityKey(641d9e4d3db7f9fb3dd9eb45a78a1c15134ddf1cc6ef8e3fe2c91679c1d20f02), account_revision: 1, certificate: false, policy: TrustPolicy { first_contact: Accept, on_change: Accept, bundle_certificates: Required, post_quantum: Required }, .. }"#,
    ),
    ("SessionRecord", r#"SessionRecord { revision: 3, current: None, archived: [] }"#),
    (
        "Session",
        r#"Session { role: Initiator, generation: 2, local_identity: IdentityKey(ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c), remote_identity: IdentityKey(2ac1b57b44ec16fdf46b9816e10c428d64ad5cb92514b4bb89a1f8bdaf07b279), base_key: X25519PublicKey(c383206058d199306a2cbca2e779024b4bed4479d81815f125fef92d25b71772), awaiting_reply: false, post_quantum: false, keys: "[redacted]" }"#,
    ),
    (
        "Sealer",
        r#"Sealer { certificate: SenderCertificate { app_id: AppId("app-a"), user_id: UserId("alice"), device_id: DeviceId(1), identity: IdentityKey(ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c), expires: Timestamp(1000000), issuer: IssuerCertificate { app_id: AppId("app-a"), key_id: 1, key: CertificateKey(7e09122a6bcf2493bdd79439f925a2b2f85bd56a248b70ef20f25a721cc97991), not_before: Timestamp(0), not_after: Timestamp(1000000), .. }, .. }, cached_peers: 0 }"#,
    ),
    (
        "SenderKey",
        r#"SenderKey { chain_id: 1210719522, iteration: 0, signing_key: 78be57893931a82f16a652838feb0fd08f6865c007d4c64cf211c08145c17e51, keys: "[redacted]" }"#,
    ),
    (
        "SenderKeyDistribution",
        r#"SenderKeyDistribution { group_id: GroupId(family), chain_id: 1210719522, iteration: 0, chain_key: "[redacted]", .. }"#,
    ),
    (
        "SenderKeyRecord",
        r#"SenderKeyRecord { revision: 0, identity: Some(IdentityKey(ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c)), chains: [1210719522], skipped_keys: 0, keys: "[redacted]" }"#,
    ),
    (
        "GroupRecord",
        r#"GroupRecord { revision: 1, id: GroupId(family), members: 0, sender_key: None, key_epoch: 0, rotate: false, distributed: 0, senders: 0 }"#,
    ),
];

#[test]
fn debug_output_matches_the_snapshots() {
    let shown = snapshots();
    assert_eq!(shown.len(), EXPECTED.len());
    for ((name, got), (expected_name, expected)) in shown.iter().zip(EXPECTED) {
        assert_eq!(name, expected_name);
        // Without the post-quantum agreement there is no policy for it and
        // no KEM prekey.
        let expected = if cfg!(feature = "pq") {
            (*expected).to_owned()
        } else {
            expected
                .replace(", post_quantum: Required", "")
                .replace("kem_prekeys: 101", "kem_prekeys: 0")
        };
        assert_eq!(*got, expected, "Debug of {name} changed");
        // Whatever holds a secret says so.
        if !matches!(*name, "MemoryStore" | "Sealer" | "Device" | "SessionRecord" | "GroupRecord") {
            assert!(got.contains("[redacted]"), "{name}");
        }
    }
}
