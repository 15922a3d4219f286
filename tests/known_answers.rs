//! Known-answer tests that pin the primitives sealwire depends on to their
//! standards: RFC 7748 (X25519), RFC 8032 (Ed25519), RFC 8439
//! (ChaCha20-Poly1305), RFC 5869 (HKDF-SHA256), RFC 4231 (HMAC-SHA256).
//! Each value was also checked against Python's `cryptography` library.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn hex32(s: &str) -> [u8; 32] {
    hex(s).try_into().unwrap()
}

// ---- RFC 7748 -------------------------------------------------------------------

#[test]
fn rfc7748_section_5_2() {
    for (scalar, u, out) in [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    ] {
        assert_eq!(x25519_dalek::x25519(hex32(scalar), hex32(u)), hex32(out));
    }
}

#[test]
fn rfc7748_iterated() {
    let (mut k, mut u) =
        (x25519_dalek::X25519_BASEPOINT_BYTES, x25519_dalek::X25519_BASEPOINT_BYTES);
    for i in 1..=1000 {
        let next = x25519_dalek::x25519(k, u);
        u = k;
        k = next;
        if i == 1 {
            assert_eq!(
                k,
                hex32("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")
            );
        }
    }
    assert_eq!(k, hex32("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"));
}

#[test]
fn rfc7748_section_6_1() {
    let alice = hex32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let bob = hex32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    let base = x25519_dalek::X25519_BASEPOINT_BYTES;
    let alice_public = x25519_dalek::x25519(alice, base);
    let bob_public = x25519_dalek::x25519(bob, base);
    assert_eq!(
        alice_public,
        hex32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    );
    assert_eq!(
        bob_public,
        hex32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    );
    let shared = hex32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    assert_eq!(x25519_dalek::x25519(alice, bob_public), shared);
    assert_eq!(x25519_dalek::x25519(bob, alice_public), shared);
}

// ---- RFC 8032 -------------------------------------------------------------------

#[test]
fn rfc8032_section_7_1() {
    for (seed, public, message, signature) in [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ] {
        let key = SigningKey::from_bytes(&hex32(seed));
        assert_eq!(key.verifying_key().to_bytes(), hex32(public));
        let sig = key.sign(&hex(message));
        assert_eq!(sig.to_bytes().to_vec(), hex(signature));
        let public = VerifyingKey::from_bytes(&hex32(public)).unwrap();
        public.verify(&hex(message), &sig).unwrap();
        public.verify_strict(&hex(message), &sig).unwrap();
        assert!(public.verify_strict(b"another message", &sig).is_err());
    }
}

// ---- RFC 8439 -------------------------------------------------------------------

#[test]
fn rfc8439_section_2_8_2() {
    let cipher = ChaCha20Poly1305::new(
        &hex32("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f").into(),
    );
    let nonce = Nonce::try_from(hex("070000004041424344454647").as_slice()).unwrap();
    let aad = hex("50515253c0c1c2c3c4c5c6c7");
    let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    let mut buf = plaintext.to_vec();
    let tag = cipher.encrypt_inout_detached(&nonce, &aad, buf.as_mut_slice().into()).unwrap();
    assert_eq!(
        buf,
        hex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
             3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
             92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
             3ff4def08e4b7a9de576d26586cec64b6116")
    );
    assert_eq!(tag.to_vec(), hex("1ae10b594f09e26a7e902ecbd0600691"));
}

#[test]
fn rfc8439_appendix_a_5() {
    let cipher = ChaCha20Poly1305::new(
        &hex32("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0").into(),
    );
    let nonce = Nonce::try_from(hex("000000000102030405060708").as_slice()).unwrap();
    let aad = hex("f33388860000000000004e91");
    let ciphertext = hex("64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2
         4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf
         332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855
         9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4
         b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e
         af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a
         0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10
         49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29
         a6ad5cb4022b02709b");
    let tag = Tag::try_from(hex("eead9d67890cbb22392336fea1851f38").as_slice()).unwrap();
    let mut buf = ciphertext.clone();
    cipher.decrypt_inout_detached(&nonce, &aad, buf.as_mut_slice().into(), &tag).unwrap();
    assert_eq!(buf.len(), 265);
    assert!(
        buf.starts_with(b"Internet-Drafts are draft documents valid for a maximum of six months")
    );
    // Encrypting the plaintext again gives the published ciphertext and tag.
    let again = cipher.encrypt_inout_detached(&nonce, &aad, buf.as_mut_slice().into()).unwrap();
    assert_eq!(buf, ciphertext);
    assert_eq!(again, tag);
}

// ---- RFC 5869 -------------------------------------------------------------------

#[test]
fn rfc5869_appendix_a() {
    let range = |from: u8, to: u16| (u16::from(from)..to).map(|b| b as u8).collect::<Vec<u8>>();
    for (salt, ikm, info, okm) in [
        (
            hex("000102030405060708090a0b0c"),
            vec![0x0b; 22],
            hex("f0f1f2f3f4f5f6f7f8f9"),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        ),
        (
            range(0x60, 0xb0),
            range(0x00, 0x50),
            range(0xb0, 0x100),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87",
        ),
        (
            Vec::new(),
            vec![0x0b; 22],
            Vec::new(),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        ),
    ] {
        let expected = hex(okm);
        let mut out = vec![0u8; expected.len()];
        let salt = if salt.is_empty() { None } else { Some(salt.as_slice()) };
        hkdf::Hkdf::<Sha256>::new(salt, &ikm).expand(&info, &mut out).unwrap();
        assert_eq!(out, expected);
    }
}

// ---- RFC 4231 -------------------------------------------------------------------

#[test]
fn rfc4231_test_cases() {
    let long = b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.";
    for (case, key, data, mac) in [
        (
            1,
            vec![0x0b; 20],
            b"Hi There".to_vec(),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        (
            2,
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".to_vec(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            3,
            vec![0xaa; 20],
            vec![0xdd; 50],
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        ),
        (
            4,
            (1..=25).collect(),
            vec![0xcd; 50],
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        ),
        (
            6,
            vec![0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
        (
            7,
            vec![0xaa; 131],
            long.to_vec(),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        ),
    ] {
        let mut m = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&key).unwrap();
        m.update(&data);
        assert_eq!(m.finalize().into_bytes().to_vec(), hex(mac), "RFC 4231 test case {case}");
    }
}
