//! The prekey lifecycle: what a device publishes, and when it rotates and
//! replenishes its prekeys (`docs/sessions.md` §6).

use alloc::vec::Vec;

use rand_core::CryptoRng;

use super::{Device, DeviceError, DeviceResult};
use crate::bundle::PreKeyBundle;
use crate::certificate::{SenderCertificate, Timestamp};
use crate::error::AgreementError;
use crate::identity::IdentityKey;
#[cfg(feature = "pq")]
use crate::kem_prekey::{KemPreKey, KemPreKeyKind, KemPreKeyPair, last_resort_kem_id};
use crate::limits::{MAX_ONE_TIME_PREKEYS, ONE_TIME_PREKEY_BATCH, ONE_TIME_PREKEY_REPLENISH_BELOW};
use crate::prekey::{OneTimePreKey, OneTimePreKeyPair, PreKeyId, SignedPreKey, SignedPreKeyPair};
use crate::store::{Changes, Store};

/// What a device uploads to the server, which builds bundles from it: the
/// identity key, the current signed prekey, the one-time prekeys not yet
/// published, and the device's certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publication {
    replaces_all: bool,
    epoch: u32,
    identity: IdentityKey,
    signed_prekey: SignedPreKey,
    one_time_prekeys: Vec<OneTimePreKey>,
    /// The last-resort KEM prekey that goes with the signed prekey.
    #[cfg(feature = "pq")]
    kem_prekey: Option<KemPreKey>,
    /// One-time KEM prekeys, each with the id of the one-time prekey made
    /// with it.
    #[cfg(feature = "pq")]
    kem_one_time_prekeys: Vec<KemPreKey>,
    certificate: Option<SenderCertificate>,
    /// Every one-time prekey below this id is covered once this is marked
    /// published.
    end: u32,
}

impl Publication {
    /// Whether this publication replaces everything the server holds for
    /// the device, one-time prekeys included: the first after
    /// [`Device::after_restore`]. The server drops what it holds and keeps
    /// only this.
    pub fn replaces_all(&self) -> bool {
        self.replaces_all
    }

    /// The device's identity key.
    pub fn identity(&self) -> &IdentityKey {
        &self.identity
    }

    /// The current signed prekey (the last-resort key: a bundle without a
    /// one-time prekey uses it alone).
    pub fn signed_prekey(&self) -> &SignedPreKey {
        &self.signed_prekey
    }

    /// One-time prekeys to add to the server's supply.
    pub fn one_time_prekeys(&self) -> &[OneTimePreKey] {
        &self.one_time_prekeys
    }

    /// The device's certificate, which every bundle carries.
    pub fn certificate(&self) -> Option<&SenderCertificate> {
        self.certificate.as_ref()
    }

    /// The last-resort KEM prekey, which a bundle carries once the
    /// one-time KEM prekeys are gone.
    #[cfg(feature = "pq")]
    pub fn kem_prekey(&self) -> Option<&KemPreKey> {
        self.kem_prekey.as_ref()
    }

    /// One-time KEM prekeys to add to the server's supply. Each has the id
    /// of the one-time prekey made with it; a server hands them out
    /// together ([`Publication::bundle_with_kem`]).
    #[cfg(feature = "pq")]
    pub fn kem_one_time_prekeys(&self) -> &[KemPreKey] {
        &self.kem_one_time_prekeys
    }

    /// The bundle the server hands out, with one one-time prekey from its
    /// supply or, once they are gone, none; and the one-time KEM prekey of
    /// the same id if this publication has it, else the last-resort KEM
    /// prekey. A server that keeps one-time KEM prekeys from earlier
    /// publications hands them out with [`Publication::bundle_with_kem`].
    pub fn bundle(&self, one_time: Option<OneTimePreKey>) -> PreKeyBundle {
        #[cfg(feature = "pq")]
        let kem = one_time
            .and_then(|k| self.kem_one_time_prekeys.iter().find(|kem| kem.id() == k.id()))
            .or(self.kem_prekey.as_ref())
            .cloned();
        self.bundle_of(
            one_time,
            #[cfg(feature = "pq")]
            kem,
        )
    }

    fn bundle_of(
        &self,
        one_time: Option<OneTimePreKey>,
        #[cfg(feature = "pq")] kem: Option<KemPreKey>,
    ) -> PreKeyBundle {
        let bundle = PreKeyBundle::new(self.identity, self.signed_prekey, one_time);
        #[cfg(feature = "pq")]
        let bundle = match kem {
            Some(kem) => bundle.with_kem_prekey(kem),
            None => bundle,
        };
        match &self.certificate {
            Some(certificate) => bundle.with_certificate(certificate.clone()),
            None => bundle,
        }
    }

    /// The bundle with a one-time KEM prekey from the server's supply (or,
    /// with `None`, the last-resort one).
    #[cfg(feature = "pq")]
    pub fn bundle_with_kem(
        &self,
        one_time: Option<OneTimePreKey>,
        kem_one_time: Option<KemPreKey>,
    ) -> PreKeyBundle {
        self.bundle_of(one_time, kem_one_time.or_else(|| self.kem_prekey.clone()))
    }
}

impl<S: Store> Device<S> {
    /// Brings the prekeys up to date at `now` and returns what to upload.
    ///
    /// - The signed prekey is rotated once it is
    ///   [`crate::limits::SIGNED_PREKEY_ROTATION_SECS`] old; retired ones
    ///   are deleted after [`crate::limits::SIGNED_PREKEY_GRACE_SECS`], with
    ///   the record of the initial messages accepted under them.
    /// - One-time prekeys are topped up to [`ONE_TIME_PREKEY_BATCH`] once
    ///   fewer than [`ONE_TIME_PREKEY_REPLENISH_BELOW`] are left.
    ///   `server_count` is how many the server says it still holds; without
    ///   it the device counts those it published and has not seen used.
    ///   Beyond [`MAX_ONE_TIME_PREKEYS`] stored, the oldest are deleted.
    ///
    /// - After a restore ([`Device::after_restore`]), the first publication
    ///   replaces everything ([`Publication::replaces_all`]): a new signed
    ///   prekey, a new batch of one-time prekeys, both with ids moved past
    ///   any the device may have handed out after the state it was restored
    ///   to, and the stored one-time prekeys deleted.
    ///
    /// Call it at start and then daily, and after the server reports a low
    /// supply; then upload, then [`Device::mark_published`]. Until marked,
    /// the same one-time prekeys are returned again. The device's
    /// certificate goes with it, so it must be set first.
    ///
    /// # Errors
    /// [`DeviceError::NoCertificate`] before [`Device::set_certificate`]:
    /// bundles without one are refused by default;
    /// [`DeviceError::PreKeyIdsExhausted`]; [`DeviceError::Store`],
    /// [`DeviceError::Conflict`].
    pub fn publication<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Timestamp,
        server_count: Option<usize>,
    ) -> DeviceResult<Publication, S> {
        if self.account.certificate().is_none() {
            return Err(DeviceError::NoCertificate);
        }
        self.attempt(|device| {
            let mut account = device.reload_account()?;
            let mut changes = Changes::new();
            let replaces_all = account.must_republish();
            if replaces_all {
                account.skip_ids_after_restore().ok_or(DeviceError::PreKeyIdsExhausted)?;
            }
            let signed_prekey = if account.rotation_due(now) || replaces_all {
                let id = account.take_signed_id().ok_or(DeviceError::PreKeyIdsExhausted)?;
                let pair = SignedPreKeyPair::generate(rng, account.identity(), id);
                let public = pair.public();
                changes.add_signed_prekey(pair);
                for id in account.rotate(id, now) {
                    changes.delete_signed_prekey(id);
                    #[cfg(feature = "pq")]
                    changes.delete_kem_prekey(last_resort_kem_id(id));
                }
                public
            } else {
                for id in account.expire(now) {
                    changes.delete_signed_prekey(id);
                    #[cfg(feature = "pq")]
                    changes.delete_kem_prekey(last_resort_kem_id(id));
                }
                let id = account.signed_prekey_id();
                device
                    .store
                    .load_signed_prekey(id)
                    .map_err(DeviceError::Store)?
                    .ok_or(DeviceError::Agreement(AgreementError::UnknownSignedPreKey(id)))?
                    .public()
            };

            // What is stored and not yet published goes out again; after a
            // restore, nothing stored does: it is all replaced.
            let mut ids = device.store.one_time_prekey_ids().map_err(DeviceError::Store)?;
            if replaces_all {
                for id in ids.drain(..) {
                    changes.delete_one_time_prekey(id);
                    #[cfg(feature = "pq")]
                    changes.delete_kem_prekey(id);
                }
            }
            let mut one_time_prekeys = Vec::new();
            for id in ids.iter().filter(|id| !account.is_published(**id)) {
                if let Some(pair) =
                    device.store.load_one_time_prekey(*id).map_err(DeviceError::Store)?
                {
                    one_time_prekeys.push(pair.public());
                }
            }
            let unpublished = one_time_prekeys.len();
            let published = ids.len() - unpublished;
            let supply = if replaces_all {
                0
            } else {
                server_count.unwrap_or(published).saturating_add(unpublished)
            };
            let mut added = 0;
            #[cfg(feature = "pq")]
            let mut new_kem: Vec<KemPreKey> = Vec::new();
            if supply < ONE_TIME_PREKEY_REPLENISH_BELOW {
                added = ONE_TIME_PREKEY_BATCH - supply;
                let range =
                    account.take_one_time_ids(added).ok_or(DeviceError::PreKeyIdsExhausted)?;
                for id in range {
                    let pair = OneTimePreKeyPair::generate(rng, PreKeyId(id));
                    one_time_prekeys.push(pair.public());
                    changes.add_one_time_prekey(pair);
                    #[cfg(feature = "pq")]
                    {
                        if id >= crate::kem_prekey::LAST_RESORT_KEM_ID_BIT {
                            return Err(DeviceError::PreKeyIdsExhausted);
                        }
                        let kem = KemPreKeyPair::generate(
                            rng,
                            account.identity(),
                            PreKeyId(id),
                            KemPreKeyKind::OneTime,
                        );
                        new_kem.push(kem.public());
                        changes.add_kem_prekey(kem);
                    }
                }
            }
            // Past the bound, the oldest go: published ones first, since
            // ids grow.
            let stored = ids.len() + added;
            for id in ids.iter().take(stored.saturating_sub(MAX_ONE_TIME_PREKEYS)) {
                changes.delete_one_time_prekey(*id);
                #[cfg(feature = "pq")]
                changes.delete_kem_prekey(*id);
                one_time_prekeys.retain(|k| k.id() != *id);
            }
            #[cfg(feature = "pq")]
            let (kem_prekey, kem_one_time_prekeys) = device.kem_publication(
                rng,
                &account,
                signed_prekey.id(),
                &ids,
                &one_time_prekeys,
                new_kem,
                &mut changes,
            )?;

            let publication = Publication {
                replaces_all,
                epoch: account.epoch(),
                identity: *account.identity_key(),
                signed_prekey,
                one_time_prekeys,
                #[cfg(feature = "pq")]
                kem_prekey,
                #[cfg(feature = "pq")]
                kem_one_time_prekeys,
                certificate: account.certificate().cloned(),
                end: account.next_one_time_id(),
            };
            // Everything read, the changes go in one commit, and nothing is
            // read after it.
            if !changes.is_empty() {
                device.commit_account(account, changes)?;
            }
            Ok(publication)
        })
    }

    /// The KEM half of a publication: the last-resort KEM prekey of the
    /// signed prekey `signed` (made if the store lacks it), and the
    /// one-time KEM prekeys that go with `one_time` (the new ones in
    /// `new_kem`, the others loaded). One-time KEM prekeys whose one-time
    /// prekey is gone (`stored` lists those left) are deleted.
    #[cfg(feature = "pq")]
    #[allow(clippy::too_many_arguments)]
    fn kem_publication<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        account: &crate::account::Account,
        signed: PreKeyId,
        stored: &[PreKeyId],
        one_time: &[OneTimePreKey],
        new_kem: Vec<KemPreKey>,
        changes: &mut Changes,
    ) -> DeviceResult<(Option<KemPreKey>, Vec<KemPreKey>), S> {
        let last_resort_id = last_resort_kem_id(signed);
        let last_resort =
            match self.store.load_kem_prekey(last_resort_id).map_err(DeviceError::Store)? {
                Some(pair) => pair.public(),
                None => {
                    let pair = KemPreKeyPair::generate(
                        rng,
                        account.identity(),
                        last_resort_id,
                        KemPreKeyKind::LastResort,
                    );
                    let public = pair.public();
                    changes.add_kem_prekey(pair);
                    public
                }
            };
        let mut kem_one_time = Vec::with_capacity(one_time.len());
        for key in one_time {
            if let Some(kem) = new_kem.iter().find(|k| k.id() == key.id()) {
                kem_one_time.push(kem.clone());
            } else if let Some(pair) =
                self.store.load_kem_prekey(key.id()).map_err(DeviceError::Store)?
            {
                kem_one_time.push(pair.public());
            }
        }
        for id in self.store.kem_prekey_ids().map_err(DeviceError::Store)? {
            let one_time_kem = id.0 < crate::kem_prekey::LAST_RESORT_KEM_ID_BIT;
            if one_time_kem && !stored.contains(&id) && !new_kem.iter().any(|k| k.id() == id) {
                changes.delete_kem_prekey(id);
            }
        }
        Ok((Some(last_resort), kem_one_time))
    }

    /// Records that `publication` was uploaded: its one-time prekeys are
    /// not returned again, and after a restore, the replacement is done.
    ///
    /// # Errors
    /// [`DeviceError::NotThisDevice`] for another device's publication;
    /// [`DeviceError::Store`], [`DeviceError::Conflict`].
    pub fn mark_published(&mut self, publication: &Publication) -> DeviceResult<(), S> {
        if publication.identity != *self.identity() {
            return Err(DeviceError::NotThisDevice);
        }
        let whole = publication.replaces_all && publication.epoch == self.account.epoch();
        if publication.end <= self.account.unpublished_from() && !whole {
            return Ok(());
        }
        self.attempt(|device| {
            let mut account = device.reload_account()?;
            account.mark_published(publication.end);
            if publication.replaces_all && publication.epoch == account.epoch() {
                account.republished();
            }
            device.commit_account(account, Changes::new())
        })
    }
}
