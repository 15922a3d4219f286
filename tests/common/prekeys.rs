//! A responder's prekeys for the tests below the device layer: what the
//! store of `sealwire::Device` does, in a few lines. Looks up the prekeys
//! an initial message names, and deletes the one-time prekey once the
//! message has decrypted.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;

use sealwire::{
    AgreementError, Error, IdentityKeyPair, InitialMessage, OneTimePreKeyPair, PreKeyId, Session,
    SignedPreKeyPair, Unsealed,
};

#[derive(Default)]
pub struct PreKeys {
    signed: BTreeMap<PreKeyId, SignedPreKeyPair>,
    one_time: BTreeMap<PreKeyId, OneTimePreKeyPair>,
    #[cfg(feature = "pq")]
    kem: BTreeMap<PreKeyId, sealwire::KemPreKeyPair>,
}

impl PreKeys {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_signed_prekey(&mut self, pair: SignedPreKeyPair) {
        self.signed.insert(pair.id(), pair);
    }

    pub fn remove_signed_prekey(&mut self, id: PreKeyId) {
        self.signed.remove(&id);
    }

    pub fn add_one_time_prekey(&mut self, pair: OneTimePreKeyPair) {
        self.one_time.insert(pair.id(), pair);
    }

    /// A KEM prekey; a one-time one is deleted once used.
    #[cfg(feature = "pq")]
    pub fn add_kem_prekey(&mut self, pair: sealwire::KemPreKeyPair) {
        self.kem.insert(pair.id(), pair);
    }

    #[cfg(feature = "pq")]
    pub fn kem_prekey_count(&self) -> usize {
        self.kem.len()
    }

    pub fn one_time_prekey_count(&self) -> usize {
        self.one_time.len()
    }

    /// `Session::accept` with the prekeys `initial` names; the one-time
    /// prekey is deleted once it succeeded.
    pub fn accept(
        &mut self,
        identity: &IdentityKeyPair,
        initial: &InitialMessage<'_>,
    ) -> Result<(Session, Vec<u8>), Error> {
        let signed = self
            .signed
            .get(&initial.signed_prekey_id())
            .ok_or(AgreementError::UnknownSignedPreKey(initial.signed_prekey_id()))?;
        let one_time = match initial.one_time_prekey_id() {
            Some(id) => {
                Some(self.one_time.get(&id).ok_or(AgreementError::UnknownOneTimePreKey(id))?)
            }
            None => None,
        };
        #[cfg(feature = "pq")]
        let accepted = {
            let kem = match initial.kem_prekey_id() {
                Some(id) => Some(self.kem.get(&id).ok_or(AgreementError::UnknownKemPreKey(id))?),
                None => None,
            };
            Session::accept_hybrid(identity, signed, one_time, kem, initial)?
        };
        #[cfg(not(feature = "pq"))]
        let accepted = Session::accept(identity, signed, one_time, initial)?;
        if let Some(id) = initial.one_time_prekey_id() {
            self.one_time.remove(&id);
        }
        #[cfg(feature = "pq")]
        if let Some(id) = initial.kem_prekey_id()
            && self.kem.get(&id).is_some_and(|k| k.kind() == sealwire::KemPreKeyKind::OneTime)
        {
            self.kem.remove(&id);
        }
        Ok(accepted)
    }

    /// The same for the message of an unsealed envelope.
    pub fn accept_unsealed(
        &mut self,
        identity: &IdentityKeyPair,
        opened: &Unsealed,
    ) -> Result<(Session, Vec<u8>), Error> {
        let initial = opened.initial_message()?;
        self.accept(identity, &initial)
    }
}
