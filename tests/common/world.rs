//! A small world for the device-layer scenarios: three apps with their
//! certificate authorities, a server that keeps what devices publish and
//! the device lists, and a clock.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, VecDeque};

use rand_chacha::ChaCha20Rng;
use sealwire::{
    Address, Device, DeviceError, DeviceId, IdentityKey, MemoryStore, MultiRecipientEnvelope,
    OneTimePreKey, PreKeyBundle, Publication, Received, SealedEnvelope, Timestamp, TrustStore,
    UserAddress, UserId,
};

use sealwire::store::Store;

use super::{App, rng, trusting};

/// How long the world's issuers and certificates are valid: long enough
/// for every schedule the scenarios run through.
pub const YEARS: u64 = 10 * 365 * 24 * 3600;

/// A device on a memory store.
pub type Dev = Device<MemoryStore>;

/// An error of a device on a memory store.
pub type DevError = DeviceError<sealwire::store::MemoryStoreError>;

/// What the server keeps: each device's publication with its remaining
/// one-time prekeys, and each user's device list.
#[derive(Default)]
pub struct Server {
    pub published: BTreeMap<Address, (Publication, VecDeque<OneTimePreKey>)>,
    pub devices: BTreeMap<UserAddress, Vec<DeviceId>>,
}

pub struct World {
    pub rng: ChaCha20Rng,
    pub apps: Vec<App>,
    pub trust: TrustStore,
    pub now: Timestamp,
    pub server: Server,
}

/// One recipient's part of an upload.
#[derive(Clone, Debug)]
pub struct Part {
    pub to: IdentityKey,
    pub envelope: Vec<u8>,
}

impl World {
    /// Apps "chat.a", "chat.b" and "chat.c", trusted by every device.
    pub fn new(seed: u64) -> Self {
        let mut rng = rng(seed);
        let apps: Vec<App> = ["chat.a", "chat.b", "chat.c"]
            .iter()
            .map(|n| App::valid_until(&mut rng, n, YEARS))
            .collect();
        let trust = trusting(&apps.iter().collect::<Vec<_>>());
        Self { rng, apps, trust, now: super::NOW, server: Server::default() }
    }

    pub fn tick(&mut self, seconds: u64) {
        self.now = Timestamp(self.now.0 + seconds);
    }

    pub fn user(&self, app: usize, user: &str) -> UserAddress {
        UserAddress::new(self.apps[app].id.clone(), UserId::new(user.as_bytes()).unwrap())
    }

    /// A new device, certified by its app, whose prekeys the server holds
    /// and whose user lists it.
    pub fn device(&mut self, app: usize, user: &str, device: u32) -> Dev {
        self.device_on(MemoryStore::new(), app, user, device)
    }

    /// `device`, on `store`.
    pub fn device_on<S: Store>(
        &mut self,
        store: S,
        app: usize,
        user: &str,
        device: u32,
    ) -> Device<S> {
        let address = self.user(app, user).device(DeviceId(device));
        let mut d =
            Device::create(&mut self.rng, store, address, self.trust.clone(), self.now).unwrap();
        self.certify(&mut d);
        self.publish(&mut d, None);
        d
    }

    /// Gives `device` a certificate from its app for its current identity.
    pub fn certify<S: Store>(&mut self, device: &mut Device<S>) {
        let address = device.address().clone();
        let app = self.apps.iter().find(|a| &a.id == address.app()).unwrap();
        let user = std::str::from_utf8(address.user_id().as_bytes()).unwrap();
        let certificate = app.certify(user, address.device().0, device.identity());
        device.set_certificate(certificate).unwrap();
    }

    /// Uploads what `device` has to publish (replacing its earlier
    /// publication; the server keeps one-time prekeys it has not handed
    /// out), and lists the device.
    pub fn publish<S: Store>(&mut self, device: &mut Device<S>, server_count: Option<usize>) {
        let publication = device.publication(&mut self.rng, self.now, server_count).unwrap();
        let address = device.address().clone();
        let mut one_time = self
            .server
            .published
            .remove(&address)
            .map(
                |(old, keys)| {
                    if old.identity() == publication.identity() { keys } else { VecDeque::new() }
                },
            )
            .unwrap_or_default();
        one_time.extend(publication.one_time_prekeys().iter().copied());
        device.mark_published(&publication).unwrap();
        let list = self.server.devices.entry(address.user().clone()).or_default();
        if !list.contains(&address.device()) {
            list.push(address.device());
        }
        self.server.published.insert(address, (publication, one_time));
    }

    /// Uploads a publication already made, as `publish` does.
    pub fn publish_publication<S: Store>(
        &mut self,
        device: &mut Device<S>,
        publication: Publication,
    ) {
        let address = device.address().clone();
        let mut one_time = self
            .server
            .published
            .remove(&address)
            .map(|(old, keys)| {
                let same = old.identity() == publication.identity() && !publication.replaces_all();
                if same { keys } else { VecDeque::new() }
            })
            .unwrap_or_default();
        one_time.extend(publication.one_time_prekeys().iter().copied());
        device.mark_published(&publication).unwrap();
        self.server.published.insert(address, (publication, one_time));
    }

    /// Removes every one-time prekey the server holds for `address`.
    pub fn exhaust_one_time_prekeys(&mut self, address: &Address) {
        self.server.published.get_mut(address).unwrap().1.clear();
    }

    /// Removes `address` from its user's device list on the server.
    pub fn unlist(&mut self, address: &Address) {
        self.server.devices.get_mut(address.user()).unwrap().retain(|d| *d != address.device());
    }

    /// A bundle for `address`, with a one-time prekey while any are left.
    pub fn bundle(&mut self, address: &Address) -> PreKeyBundle {
        let (publication, one_time) = self.server.published.get_mut(address).unwrap();
        publication.bundle(one_time.pop_front())
    }

    /// The server's device list of `user`.
    pub fn devices_of(&self, user: &UserAddress) -> Vec<DeviceId> {
        self.server.devices.get(user).cloned().unwrap_or_default()
    }

    /// Brings `from`'s device lists for `to` and its own user up to date
    /// and starts a session with every device that needs one.
    pub fn connect<S: Store>(&mut self, from: &mut Device<S>, to: &UserAddress) {
        let own = from.address().user().clone();
        for user in [to, &own] {
            let devices = self.devices_of(user);
            from.set_devices(user, &devices).unwrap();
        }
        for missing in from.missing_sessions(to, self.now).unwrap() {
            let bundle = self.bundle(&missing);
            from.start_session(&mut self.rng, &missing, &bundle, self.now).unwrap();
        }
    }

    /// `connect`, then send: the parts the relay delivers.
    pub fn send<S: Store>(
        &mut self,
        from: &mut Device<S>,
        to: &UserAddress,
        text: &str,
    ) -> Vec<Part> {
        self.connect(from, to);
        self.send_only(from, to, text)
    }

    /// Sends over the sessions `from` has, without connecting first.
    pub fn send_only<S: Store>(
        &mut self,
        from: &mut Device<S>,
        to: &UserAddress,
        text: &str,
    ) -> Vec<Part> {
        let sent = from.send(&mut self.rng, to, text.as_bytes(), self.now).unwrap();
        split(&sent.envelope)
    }

    /// `device` receives `part` at the world's time.
    pub fn receive<S: Store>(
        &self,
        device: &mut Device<S>,
        part: &Part,
    ) -> Result<Received, DeviceError<S::Error>> {
        assert_eq!(&part.to, device.identity(), "a part delivered to the wrong device");
        device.receive(&part.envelope, self.now)
    }

    /// `device` receives its part of `parts`.
    pub fn deliver<S: Store>(
        &self,
        device: &mut Device<S>,
        parts: &[Part],
    ) -> Result<Received, DeviceError<S::Error>> {
        let part = for_device(parts, device);
        self.receive(device, &part)
    }

    /// `device` receives its part of `parts` and returns the text.
    pub fn read<S: Store>(&self, device: &mut Device<S>, parts: &[Part]) -> String {
        let part = for_device(parts, device);
        let received = self.receive(device, &part).unwrap();
        String::from_utf8(received.plaintext).unwrap()
    }
}

/// What a relay delivers for an upload.
pub fn split(upload: &[u8]) -> Vec<Part> {
    MultiRecipientEnvelope::parse(upload)
        .unwrap()
        .recipients()
        .map(|share| {
            let envelope = share.to_envelope();
            let to = *SealedEnvelope::parse(&envelope).unwrap().recipient();
            Part { to, envelope }
        })
        .collect()
}

/// The part of `parts` for `device`.
pub fn for_device<S: Store>(parts: &[Part], device: &Device<S>) -> Part {
    parts.iter().find(|p| &p.to == device.identity()).cloned().expect("no part for this device")
}

/// The base key of the current session `device` holds with `peer`.
pub fn current_base_key<S: Store>(
    device: &Device<S>,
    peer: &Address,
) -> Option<sealwire::X25519PublicKey> {
    let record = device.store().load_session(peer).unwrap()?;
    record.current().map(|s| *s.base_key())
}
