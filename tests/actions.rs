//! Every error says what an application should do about it
//! (`Error::action`), and the answer for each is the documented one:
//! docs/protocol.md §14 lists them beside the codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use sealwire::Action::{Alarm, Drop, FixRequest, KeepForLater, ResetSession};
use sealwire::{
    Action, AgreementError, CertificateError, DecodeError, DecryptError, EncryptError, Error,
    PreKeyId, SealError, UnsealError,
};

fn table() -> Vec<(Error, u16, Action)> {
    use CertificateError as C;
    use DecryptError as D;
    let id = PreKeyId(1);
    vec![
        (DecodeError::Truncated.into(), 101, Drop),
        (DecodeError::TrailingBytes.into(), 102, Drop),
        (DecodeError::UnknownVersion(0).into(), 103, Drop),
        (DecodeError::UnexpectedKeyType(0).into(), 104, Drop),
        (DecodeError::InvalidKey.into(), 105, Drop),
        (DecodeError::TooLong.into(), 106, Drop),
        (DecodeError::InvalidValue.into(), 107, Drop),
        (DecodeError::Unsupported.into(), 108, Drop),
        (DecodeError::InconsistentState.into(), 109, Drop),
        (AgreementError::InvalidSignature.into(), 201, Drop),
        (AgreementError::UnknownSignedPreKey(id).into(), 202, Drop),
        (AgreementError::UnknownOneTimePreKey(id).into(), 203, Drop),
        (AgreementError::NonContributory.into(), 204, Drop),
        (D::Malformed(DecodeError::Truncated).into(), 301, Drop),
        (D::Failed.into(), 302, Drop),
        (D::StaleMessage.into(), 303, Drop),
        (D::TooManySkipped.into(), 304, Drop),
        (D::OtherSession.into(), 305, Drop),
        (D::Duplicate.into(), 306, Drop),
        (D::KeyDropped.into(), 307, Drop),
        (EncryptError::PlaintextTooLong.into(), 401, FixRequest),
        (EncryptError::ChainExhausted.into(), 402, ResetSession),
        (EncryptError::NonContributory.into(), 403, ResetSession),
        (C::UntrustedApp.into(), 501, Drop),
        (C::BrokenChain.into(), 502, Drop),
        (C::Revoked.into(), 503, Drop),
        (C::NotYetValid.into(), 504, KeepForLater),
        (C::Expired.into(), 505, Drop),
        (C::KeyMismatch.into(), 506, FixRequest),
        (C::InvalidValidity.into(), 507, FixRequest),
        (C::Denied.into(), 508, Drop),
        (C::Missing.into(), 509, Drop),
        (C::IdentityMismatch.into(), 510, Drop),
        (C::AddressMismatch.into(), 511, Drop),
        (UnsealError::Malformed(DecodeError::Truncated).into(), 601, Drop),
        (UnsealError::NotForRecipient.into(), 602, Drop),
        (UnsealError::Failed.into(), 603, Drop),
        (UnsealError::SenderMismatch.into(), 604, Drop),
        (UnsealError::ForeignInitialMessage.into(), 605, Alarm),
        (UnsealError::WrongSession.into(), 606, FixRequest),
        (UnsealError::Certificate(C::NotYetValid).into(), 504, KeepForLater),
        (UnsealError::Certificate(C::Revoked).into(), 503, Drop),
        (SealError::CertificateMismatch.into(), 701, FixRequest),
        (SealError::NoRecipients.into(), 702, FixRequest),
        (SealError::TooManyRecipients.into(), 703, FixRequest),
        (SealError::DuplicateRecipient.into(), 704, FixRequest),
        (SealError::InvalidMessage(DecodeError::Truncated).into(), 705, FixRequest),
        (SealError::TooLong.into(), 706, FixRequest),
        (SealError::NonContributory.into(), 707, FixRequest),
        (SealError::ForeignInitialMessage.into(), 708, FixRequest),
    ]
}

#[test]
fn every_error_has_its_code_and_action() {
    for (error, code, action) in table() {
        assert_eq!(error.code(), code, "{error:?}");
        assert_eq!(error.action(), action, "{error:?}");
        assert!(!error.to_string().is_empty());
    }
}

#[test]
fn no_error_the_relay_can_cause_raises_an_alarm() {
    // What a relay can do alone (replay, reorder, withhold, drop, flip
    // bits, rewrite headers) gives errors whose answer is at most Drop or
    // KeepForLater: a relay must not be able to make an app cry wolf.
    for error in [
        Error::from(DecryptError::Failed),
        DecryptError::Duplicate.into(),
        DecryptError::KeyDropped.into(),
        DecryptError::StaleMessage.into(),
        DecryptError::TooManySkipped.into(),
        DecryptError::Malformed(DecodeError::TrailingBytes).into(),
        // A ratchet message wrapped in an initial message's header.
        DecryptError::OtherSession.into(),
        // An envelope sealed under the relay's own key with a made-up
        // chain, or replayed after the recipient revoked, denied or
        // rotated.
        UnsealError::Certificate(CertificateError::BrokenChain).into(),
        UnsealError::Certificate(CertificateError::Revoked).into(),
        UnsealError::Certificate(CertificateError::Denied).into(),
        // A bundle stripped of its certificate, or given another's.
        CertificateError::Missing.into(),
        CertificateError::IdentityMismatch.into(),
        CertificateError::AddressMismatch.into(),
        UnsealError::Failed.into(),
        UnsealError::NotForRecipient.into(),
        UnsealError::Malformed(DecodeError::Truncated).into(),
        // A flipped share tag, or a bundle altered on the server.
        UnsealError::SenderMismatch.into(),
        AgreementError::InvalidSignature.into(),
    ] {
        assert!(matches!(error.action(), Drop | KeepForLater), "{error:?}");
    }
}
