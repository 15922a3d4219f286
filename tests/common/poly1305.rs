//! Poly1305 as an attacker does arithmetic with it (RFC 8439 §2.5): for
//! the forgery after a nonce reuse and for the ciphertext valid under two
//! keys. Test code only; big integers from `num-bigint`.

use chacha20::cipher::{KeyIvInit, StreamCipher};
use num_bigint::BigUint;

/// p = 2^130 − 5.
pub fn p() -> BigUint {
    (BigUint::from(1u8) << 130u32) - BigUint::from(5u8)
}

fn two_128() -> BigUint {
    BigUint::from(1u8) << 128u32
}

fn le(bytes: &[u8]) -> BigUint {
    BigUint::from_bytes_le(bytes)
}

/// `x mod 2^128` as 16 little-endian bytes.
pub fn to_tag(x: &BigUint) -> [u8; 16] {
    let mut out = [0u8; 16];
    let bytes = (x % two_128()).to_bytes_le();
    out[..bytes.len()].copy_from_slice(&bytes);
    out
}

/// The Poly1305 one-time key of ChaCha20-Poly1305 (RFC 8439 §2.6): the
/// first 32 bytes of the ChaCha20 block with counter 0, as (r, s).
pub fn chacha_poly_key(key: &[u8; 32], nonce: &[u8; 12]) -> (BigUint, BigUint) {
    let mut block = [0u8; 32];
    let mut cipher = chacha20::ChaCha20::new(key.into(), nonce.into());
    cipher.apply_keystream(&mut block);
    split_key(&block)
}

/// (r, s) of a 32-byte Poly1305 key, r clamped.
pub fn split_key(key: &[u8; 32]) -> (BigUint, BigUint) {
    let mut r = [0u8; 16];
    r.copy_from_slice(&key[..16]);
    for i in [3, 7, 11, 15] {
        r[i] &= 15;
    }
    for i in [4, 8, 12] {
        r[i] &= 252;
    }
    (le(&r), le(&key[16..]))
}

/// Whether `r` is a clamped value.
pub fn is_clamped(r: &BigUint) -> bool {
    let bytes = {
        let mut b = [0u8; 16];
        let raw = r.to_bytes_le();
        if raw.len() > 16 {
            return false;
        }
        b[..raw.len()].copy_from_slice(&raw);
        b
    };
    split_key(&{
        let mut k = [0u8; 32];
        k[..16].copy_from_slice(&bytes);
        k
    })
    .0 == *r
}

/// The 16-byte blocks Poly1305 reads for ChaCha20-Poly1305 (RFC 8439
/// §2.8): AD and ciphertext each zero-padded to 16, then their lengths.
/// Each block as a number with its 2^128 bit set.
pub fn blocks(ad: &[u8], ciphertext: &[u8]) -> Vec<BigUint> {
    let mut data = Vec::new();
    for part in [ad, ciphertext] {
        data.extend_from_slice(part);
        data.resize(data.len().div_ceil(16) * 16, 0);
    }
    data.extend_from_slice(&(ad.len() as u64).to_le_bytes());
    data.extend_from_slice(&(ciphertext.len() as u64).to_le_bytes());
    data.chunks(16).map(|c| le(c) + two_128()).collect()
}

/// Σ blocks[i] · r^(n − i) mod p, the polynomial part of the tag.
pub fn poly(r: &BigUint, blocks: &[BigUint]) -> BigUint {
    let p = p();
    blocks.iter().fold(BigUint::from(0u8), |acc, b| ((acc + b) * r) % &p)
}

/// The tag of `blocks` under (r, s).
pub fn tag(r: &BigUint, s: &BigUint, blocks: &[BigUint]) -> [u8; 16] {
    to_tag(&(poly(r, blocks) + s))
}

fn sub_mod(a: &BigUint, b: &BigUint) -> BigUint {
    let p = p();
    ((a % &p) + &p - (b % &p)) % &p
}

/// `(x + u · 2^128) mod p` for a small signed `u`.
fn offset(x: &BigUint, u: i32) -> BigUint {
    let shift = two_128() * BigUint::from(u.unsigned_abs());
    if u >= 0 { (x + shift) % p() } else { sub_mod(x, &shift) }
}

fn inverse(a: &BigUint) -> BigUint {
    let p = p();
    a.modpow(&(&p - BigUint::from(2u8)), &p)
}

/// The Poly1305 keys (r, s) consistent with two tagged messages that
/// share a key and nonce, the same AD and lengths, and differ only in
/// their last ciphertext block (which Poly1305 multiplies by r²). What
/// someone who sees two messages sealed under one key and nonce learns.
/// Run on messages that break those assumptions, it finds whatever the
/// arithmetic gives, checked against both tags: usually nothing.
pub fn recover_key(
    ad: &[u8],
    (c1, t1): (&[u8], &[u8; 16]),
    (c2, t2): (&[u8], &[u8; 16]),
) -> Vec<(BigUint, BigUint)> {
    let p = p();
    let (b1, b2) = (blocks(ad, c1), blocks(ad, c2));
    let last = b1.len() - 2;
    let delta = sub_mod(&b1[last], &b2[last]);
    let exponent = (&p + BigUint::from(1u8)) >> 2u32; // p ≡ 3 (mod 4)
    let mut found = Vec::new();
    // t1 − t2 ≡ poly1 − poly2 (mod 2^128), and poly1 − poly2 ∈ (−p, p).
    for u in -5..=5 {
        let diff_tags = offset(&sub_mod(&le(t1), &le(t2)), u);
        let r_squared = diff_tags * inverse(&delta) % &p;
        let root = r_squared.modpow(&exponent, &p);
        if &root * &root % &p != r_squared {
            continue;
        }
        for r in [root.clone(), (&p - &root) % &p] {
            if is_clamped(&r) {
                let s = (le(t1) + two_128() * BigUint::from(4u8) - poly(&r, &b1) % two_128())
                    % two_128();
                if tag(&r, &s, &b2) == *t2 {
                    found.push((r, s));
                }
            }
        }
    }
    found
}

/// A value `x` (16 bytes) for ciphertext block `index` such that the
/// ciphertext has one tag under both (r1, s1) and (r2, s2), or `None`.
/// `ciphertext` holds anything at that block; the result replaces it.
pub fn collide(
    ad: &[u8],
    ciphertext: &[u8],
    index: usize,
    (r1, s1): (&BigUint, &BigUint),
    (r2, s2): (&BigUint, &BigUint),
) -> Option<[u8; 16]> {
    let p = p();
    let mut zeroed = ciphertext.to_vec();
    zeroed[index * 16..index * 16 + 16].fill(0);
    let b = blocks(ad, &zeroed);
    let at = ad.len().div_ceil(16) + index;
    let exponent = BigUint::from((b.len() - at) as u64);
    let (a1, a2) = (poly(r1, &b), poly(r2, &b));
    let coefficient = sub_mod(&r1.modpow(&exponent, &p), &r2.modpow(&exponent, &p));
    // The block's contribution is (x + 2^128 − 2^128) · (r1^e − r2^e) more
    // than with a zero block, whose own 2^128 bit is already in a1, a2.
    // Wanted: a1' + s1 ≡ a2' + s2 (mod 2^128) with a1', a2' the reduced
    // polys; try the few integer offsets that can make it hold.
    for u in -5..=5 {
        let target = offset(&sub_mod(s2, s1), u);
        let needed = sub_mod(&target, &sub_mod(&a1, &a2));
        let x = needed * inverse(&coefficient) % &p;
        if x >= two_128() {
            continue;
        }
        let mut candidate = ciphertext.to_vec();
        let bytes = to_tag(&x);
        candidate[index * 16..index * 16 + 16].copy_from_slice(&bytes);
        let blocks = blocks(ad, &candidate);
        if tag(r1, s1, &blocks) == tag(r2, s2, &blocks) {
            return Some(bytes);
        }
    }
    None
}

/// The Poly1305 one-time key of XChaCha20-Poly1305: the first 32 bytes of
/// the XChaCha20 keystream (block 0), as (r, s).
pub fn xchacha_poly_key(key: &[u8; 32], nonce: &[u8; 24]) -> (BigUint, BigUint) {
    let mut block = [0u8; 32];
    let mut cipher = chacha20::XChaCha20::new(key.into(), nonce.into());
    cipher.apply_keystream(&mut block);
    split_key(&block)
}
