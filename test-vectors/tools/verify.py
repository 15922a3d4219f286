#!/usr/bin/env python3
"""Reproduce sealwire's test vectors (protocol version 3) from the documents alone.

A third implementation of the protocol, in Python with the `cryptography`
package and the pure-Python ML-KEM of `kyber-py`, written from docs/protocol.md,
docs/sessions.md (the session layer's records, addresses and safety numbers) and
test-vectors/README.md: it shares nothing with the Rust code. From each vector's
inputs (seeds, the draws under `rng`, plaintexts) it recomputes every
intermediate value and output and compares them with the files, byte for byte;
it replays the ratchet conversation with its own Double Ratchet; and it runs
every negative vector through its own decoders and operations, which must refuse
it with the same error (code and name). Section numbers (§) refer to
docs/protocol.md, and "S" followed by a number to docs/sessions.md. Sealed
envelopes are version 3 (the payload's layout byte, test-vectors/README.md
"Sealed envelopes, version 3"); the group family (group.json: sender keys,
group messages, a member's record, group records) follows the README's
"Groups" section.

What `cryptography` does not offer is written here in pure Python from its
definition: HChaCha20 (for XChaCha20-Poly1305), X25519 (RFC 7748, so that an
all-zero output can be seen rather than raised), Edwards25519 point
arithmetic, identity-key decoding (§2.2) and strict Ed25519 verification (§3).
ML-KEM-768 (FIPS 203, for PQXDH, §20) is `kyber-py`'s: KeyGen_internal from the
seed d || z, Encaps_internal with the drawn m, and Decaps; the encapsulation
key's modulus check (FIPS 203 §7.2) is written here. Where `cryptography` has
ML-KEM too, the key pairs and decapsulations are checked against it as well.

Both packages are installed with pip when missing.

Run: python3 test-vectors/tools/verify.py   (exit status 0 when all match)
"""

import copy
import hashlib
import hmac
import importlib
import json
import pathlib
import struct
import subprocess
import sys


def require(module, package):
    """Import `module`, installing `package` with pip first if it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    print(f"verify.py: installing {package} (python3 -m pip install --quiet {package})", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", package], check=False)
    importlib.invalidate_caches()
    try:
        return importlib.import_module(module)
    except ImportError:
        sys.exit(f"verify.py needs the Python package {package}: python3 -m pip install {package}")


require("cryptography", "cryptography")
ML_KEM_768 = require("kyber_py.ml_kem", "kyber-py==1.2.0").ML_KEM_768

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

try:    # a second ML-KEM, for a cross-check only (cryptography 47 and later, with a backend that has it)
    from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
    MLKEM768PrivateKey.from_seed_bytes(bytes(64))
except (ImportError, UnsupportedAlgorithm):
    MLKEM768PrivateKey = None

HERE = pathlib.Path(__file__).resolve().parent.parent
checked = 0    # values compared
refused = 0    # negative vectors refused with the expected error


def check(what, got, want):
    """Compare one recomputed value with the file's; stop at the first mismatch."""
    global checked
    if isinstance(want, str) and isinstance(got, bytes):
        want = bytes.fromhex(want)
    if got != want:
        show = lambda v: v.hex() if isinstance(v, bytes) else v
        sys.exit(f"MISMATCH {what}:\n  got  {show(got)}\n  want {show(want)}")
    checked += 1


def h(s):
    return None if s is None else bytes.fromhex(s)


def check_vector(what, got, want):
    """`check`, for a value computed from a vector's inputs."""
    check(what, got, want)


# ---- §13, §15 limits and constants ---------------------------------------------------

MAX_SKIP = 1000
MAX_SKIPPED_KEYS = 2000
MAX_RECEIVING_CHAINS = 5
MAX_CHAIN_HISTORY = 32
MAX_DROPPED_RANGES = 64
MAX_PLAINTEXT_LEN = 1_048_576
MAX_MESSAGE_LEN = 1_050_624
MAX_N = 2**32 - 2
SESSION_MAX_ENCODED_LEN = 75_599
MULTI_MAX_ENCODED_LEN = 4_526_003
MAX_ENVELOPE_LEN = 4_194_304
MAX_FANOUT_BYTES = 2**32
MIN_PADDED_ENVELOPE_LEN = 512
MAX_RECIPIENTS = 4096
MAX_APP_ID_LEN = 64
MAX_USER_ID_LEN = 64
ENVELOPE_PREFIX_LEN = 151
SHARE_LEN = 81
SENDER_CERTIFICATE_MAX_LEN = 436
ISSUER_CERTIFICATE_MAX_LEN = 186
BUNDLE_MAX_LEN = 1_865
ENTRY_OVERHEAD = 38
KEM_PUBLIC_KEY_LEN, KEM_CIPHERTEXT_LEN, KEM_SEED_LEN, KEM_SECRET_LEN = 1184, 1088, 64, 32   # ML-KEM-768, §15
KEM_PREKEY_FIELDS_LEN = 4 + 1 + 1 + KEM_PUBLIC_KEY_LEN + 64                                # §4.3, §4.4: 1,254

IDENTITY_SEED_LABEL = b"sealwire/identity-seed/v1"
SIGNED_PREKEY_LABEL = b"sealwire/signed-prekey/v1"
X3DH_INFO = b"sealwire/x3dh/v1"
KEM_PREKEY_LABEL = b"sealwire/kem-prekey/v1"
PQXDH_INFO = b"sealwire/pqxdh/v1/x25519-sha256-mlkem768"
ROOT_INFO = b"sealwire/ratchet/root/v1"
ISSUER_LABEL = b"sealwire/issuer-certificate/v1"
SENDER_LABEL = b"sealwire/sender-certificate/v1"
PAYLOAD_INFO = b"sealwire/sealed/payload/v2"
WRAP_INFO = b"sealwire/sealed/wrap/v1"
AUTH_INFO = b"sealwire/sealed/auth/v1"
ZERO32 = bytes(32)

# Version tags (§15) and key types (§2.2).
KEY_IDENTITY, KEY_X25519, KEY_KEM, KEY_CERTIFICATE = 0x01, 0x02, 0x03, 0x04
TAG_BUNDLE, TAG_INITIAL, TAG_RATCHET, TAG_SESSION, TAG_IDENTITY_PAIR = 0x13, 0x23, 0x32, 0x43, 0x52
TAG_KEM_PREKEY, TAG_KEM_PREKEY_PAIR = b"\xff\x91", b"\xff\xa1"
KEM_ONE_TIME, KEM_LAST_RESORT = 0x00, 0x01     # §4.4: the KEM prekey's kind
TAG_SIGNED_PREKEY, TAG_SIGNED_PREKEY_PAIR, TAG_ONE_TIME_PREKEY, TAG_ONE_TIME_PREKEY_PAIR = 0x61, 0x71, 0x81, 0x91
TAG_ISSUER, TAG_SENDER, TAG_SEALED, TAG_MULTI, TAG_TRUST_ROOT, TAG_CERT_KEY_PAIR = 0xA2, 0xB2, 0xC3, 0xD3, 0xE2, 0xF1
# §10.2: the payload's layout byte; an entry's content type (0x10 added: its plaintext is a
# sender key distribution message); the shared layout's content type.
LAYOUT_ENTRIES, LAYOUT_SHARED = 0x01, 0x02
CONTENT_INITIAL, CONTENT_RATCHET, CONTENT_GROUP, CONTENT_DISTRIBUTION = 0x01, 0x02, 0x03, 0x10
ENTRY_TYPES = (0x01, 0x02, 0x11, 0x12)

# §21 groups: the escaped tags, the message key's label and the limits.
TAG_DISTRIBUTION, TAG_GROUP_MESSAGE = b"\xff\xb1", b"\xff\xc1"
TAG_SENDER_KEY_RECORD, TAG_GROUP_RECORD = b"\xff\xd1", b"\xff\xe1"
GROUP_MESSAGE_KEY_INFO = b"sealwire/group/message-key/v1"
MAX_GROUP_ID_LEN = 64
MAX_GROUP_MEMBERS = 1000
MAX_GROUP_DEVICES = MAX_RECIPIENTS
MAX_SENDER_KEY_SKIP = 1000
MAX_SENDER_KEY_SKIPPED_KEYS = 2000
MAX_SENDER_KEY_CHAINS = 5
MAX_SENDER_KEY_DROPPED_RANGES = 64
MAX_SENDER_KEY_RETIRED_CHAINS = 32
GROUP_HEADER_FIXED = 2 + 4 + 4 + 4 + 24 + 32          # tag, the id's length, chain id, iteration, nonce, commitment
GROUP_MESSAGE_MAX_LEN = GROUP_HEADER_FIXED + MAX_GROUP_ID_LEN + 4 + MAX_PLAINTEXT_LEN + 16 + 64   # 1,048,794
DISTRIBUTION_MAX_LEN = 2 + 4 + MAX_GROUP_ID_LEN + 4 + 4 + 32 + 32                               # 142
RECEIVING_CHAIN_FIXED = 4 + 32 + 4 + 4 + 32 + 4 + 4 + 4
SENDER_KEY_RECORD_MAX_LEN = (2 + 8 + 1 + 33 + 1 + MAX_SENDER_KEY_CHAINS * RECEIVING_CHAIN_FIXED
                             + MAX_SENDER_KEY_SKIPPED_KEYS * 36 + MAX_SENDER_KEY_DROPPED_RANGES * 8
                             + 1 + MAX_SENDER_KEY_RETIRED_CHAINS * 4)                         # 73,126
SENDER_KEY_STORED_LEN = 4 + 4 + 32 + 32


def limits_are_consistent():
    """§13: the maximum lengths follow from the layouts and the other limits."""
    check("MAX_MESSAGE_LEN is the plaintext limit + 2048", MAX_MESSAGE_LEN, MAX_PLAINTEXT_LEN + 2048)   # §13, §20.6
    ratchet_message = 66 + 4 + MAX_PLAINTEXT_LEN + 16                              # §7.1
    check("a ratchet message fits MAX_MESSAGE_LEN", ratchet_message <= MAX_MESSAGE_LEN, True)
    initial = 1 + 33 + 33 + 4 + 1 + 4 + 1 + 4 + KEM_CIPHERTEXT_LEN + 4 + ratchet_message   # §7.2, with KEM fields
    check("an initial message fits MAX_MESSAGE_LEN", initial <= MAX_MESSAGE_LEN, True)
    check("the longest initial message would not fit the version 2 limit", initial > MAX_PLAINTEXT_LEN + 256, True)
    # §13: the largest message fits a sealed envelope (its content at its longest: the
    # certificate, one entry, no padding) with room to spare.
    content = 4 + SENDER_CERTIFICATE_MAX_LEN + 1 + 4 + ENTRY_OVERHEAD + MAX_MESSAGE_LEN   # §10.2
    check("the largest message fits MAX_ENVELOPE_LEN", ENVELOPE_PREFIX_LEN + content + 16 <= MAX_ENVELOPE_LEN, True)
    kem = 1 + 4 + 32 + 1 + KEM_CIPHERTEXT_LEN                                     # §8.2: the KEM section, kept
    session = (1 + 1 + 8 + 5 * 33 + 4 + 1 + 4 + kem + 1                           # §8.2
               + 32 + 4 + 33 + 1 + 32 + 33 + 32 + 4 + 1 + 32 + 4
               + MAX_CHAIN_HISTORY * 49 + MAX_SKIPPED_KEYS * 36 + MAX_DROPPED_RANGES * 8)
    check("Session::MAX_ENCODED_LEN", session, SESSION_MAX_ENCODED_LEN)
    check("Session::MAX_ENCODED_LEN less the KEM section (its flag too) is version 2's", session - kem, 74_473)
    multi = 1 + 33 + 32 + 4 + MAX_RECIPIENTS * SHARE_LEN + 4 + MAX_ENVELOPE_LEN - ENVELOPE_PREFIX_LEN   # §11
    check("MultiRecipientEnvelope::MAX_ENCODED_LEN", multi, MULTI_MAX_ENCODED_LEN)
    # §4.3: at most 1,865 bytes; 175 without a certificate or KEM prekey; a KEM prekey adds 1,254.
    classic = 1 + 33 + 4 + 33 + 64 + 1 + 4 + 33 + 1 + 1
    check("bundle maximum without a certificate or KEM prekey", classic, 175)
    check("a KEM prekey's fields (§4.4: id, kind, Encode(PQPK), signature)", KEM_PREKEY_FIELDS_LEN, 1254)
    check("bundle maximum", classic + KEM_PREKEY_FIELDS_LEN + SENDER_CERTIFICATE_MAX_LEN, BUNDLE_MAX_LEN)
    check("KEM prekey signed message (§4.4)", len(KEM_PREKEY_LABEL) + 4 + 1 + 1 + KEM_PUBLIC_KEY_LEN, 1212)
    check("KEM prekey public record (§4.4)", 2 + KEM_PREKEY_FIELDS_LEN, 1256)
    check("KEM prekey stored pair (§4.4)", 2 + 4 + 1 + KEM_SEED_LEN + 64, 135)
    check("KEM prekey signature label length (§15)", len(KEM_PREKEY_LABEL), 22)
    check("PQXDH info length (§15)", len(PQXDH_INFO), 40)
    check("trust root maximum", 1 + 33 + 4 + MAX_APP_ID_LEN, 102)                # §9.2
    issuer = 1 + 4 + 33 + 4 + MAX_APP_ID_LEN + 8 + 8 + 64                          # §9.3
    check("issuer certificate maximum", issuer, 186)
    check("sender certificate maximum", 1 + 4 + MAX_APP_ID_LEN + 4 + MAX_USER_ID_LEN + 4 + 33 + 8 + 4 + issuer + 64,
          436)                                                                      # §9.4
    check("envelope prefix", 1 + 33 + 33 + 32 + 32 + 16 + 4, ENVELOPE_PREFIX_LEN)   # §10.4
    check("share", 33 + 32 + 16, SHARE_LEN)                                         # §11
    check("entry overhead", 33 + 1 + 4, ENTRY_OVERHEAD)                             # §10.2
    # §21: every group message fits what an entry or the shared layout carries, and the
    # longest one fits a sealed envelope.
    check("GroupMessage::MAX_ENCODED_LEN", GROUP_MESSAGE_MAX_LEN, 1_048_794)
    check("a group message fits MAX_MESSAGE_LEN", GROUP_MESSAGE_MAX_LEN <= MAX_MESSAGE_LEN, True)
    shared = 4 + SENDER_CERTIFICATE_MAX_LEN + 1 + 1 + 4 + GROUP_MESSAGE_MAX_LEN
    check("the longest group message fits MAX_ENVELOPE_LEN", ENVELOPE_PREFIX_LEN + shared + 16 <= MAX_ENVELOPE_LEN, True)
    check("SenderKeyDistribution::MAX_ENCODED_LEN", DISTRIBUTION_MAX_LEN, 142)
    check("SenderKeyRecord::MAX_ENCODED_LEN", SENDER_KEY_RECORD_MAX_LEN, 73_126)
    check("group message key label length", len(GROUP_MESSAGE_KEY_INFO), 29)


# ---- §14 errors ------------------------------------------------------------------------

CODES = {
    "Decode": {"Truncated": 101, "TrailingBytes": 102, "UnknownVersion": 103, "UnexpectedKeyType": 104,
               "InvalidKey": 105, "TooLong": 106, "InvalidValue": 107, "Unsupported": 108,
               "InconsistentState": 109},
    "Agreement": {"InvalidSignature": 201, "UnknownSignedPreKey": 202, "UnknownOneTimePreKey": 203,
                  "NonContributory": 204, "InvalidKemSignature": 205, "UnknownKemPreKey": 206,
                  "PostQuantumRequired": 207},
    "Decrypt": {"Malformed": 301, "Failed": 302, "StaleMessage": 303, "TooManySkipped": 304,
                "OtherSession": 305, "Duplicate": 306, "KeyDropped": 307},
    "Encrypt": {"PlaintextTooLong": 401, "ChainExhausted": 402, "NonContributory": 403},
    "Certificate": {"UntrustedApp": 501, "BrokenChain": 502, "Revoked": 503, "NotYetValid": 504,
                    "Expired": 505, "KeyMismatch": 506, "InvalidValidity": 507, "Denied": 508, "Missing": 509,
                    "IdentityMismatch": 510, "AddressMismatch": 511},
    "Unseal": {"Malformed": 601, "NotForRecipient": 602, "Failed": 603, "SenderMismatch": 604,
               "ForeignInitialMessage": 605, "WrongSession": 606},
    "Seal": {"CertificateMismatch": 701, "NoRecipients": 702, "TooManyRecipients": 703,
             "DuplicateRecipient": 704, "InvalidMessage": 705, "TooLong": 706, "NonContributory": 707,
             "ForeignInitialMessage": 708},
    "Group": {"NoSenderKey": 1001, "InvalidSignature": 1002, "NotAMember": 1003, "UnknownGroup": 1004,
              "GroupExists": 1005, "TooManyMembers": 1006, "TooManyDevices": 1007, "TooManySenders": 1008},
}


class Refused(Exception):
    """An error of §14: `code` is its stable number; `name` its Rust spelling (README "Errors")."""

    def __init__(self, group, variant, code, why=None):
        super().__init__(f"{group}({variant})")
        self.group, self.variant, self.code, self.why = group, variant, code, why

    @property
    def name(self):
        return f"{self.group}({self.variant})"


def error(group, variant, arg=None):
    return Refused(group, variant if arg is None else f"{variant}({arg})", CODES[group][variant])


def bad(variant, arg=None, why=None):
    """A decoding error (1xx); `why` says which rule, for reading only."""
    e = error("Decode", variant, arg)
    e.why = why
    return e


def inconsistent(why):
    return bad("InconsistentState", why=why)


def malformed(group, e):
    """Decrypt::Malformed (301) and Unseal::Malformed (601) carry the 1xx error."""
    return Refused(group, f"Malformed({e.variant})", CODES[group]["Malformed"])


# ---- §1 notation -----------------------------------------------------------------------

P = 2**255 - 19
ELL = 2**252 + 27742317777372353535851937790883648493


def u8(v):
    return bytes([v])


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def with_len(b):
    return u32(len(b)) + b


def flag(present):
    return b"\x01" if present else b"\x00"


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def sha256(m):
    return hashlib.sha256(m).digest()


def hkdf(salt, ikm, info, length):
    return HKDF(hashes.SHA256(), length, salt, info).derive(ikm)


def mac(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def x25519(k, u):
    """RFC 7748 §5, in pure Python: the scalar is clamped, the top bit of u masked."""
    k = bytearray(k)
    k[0] &= 248
    k[31] = (k[31] & 127) | 64
    k = int.from_bytes(k, "little")
    x1 = int.from_bytes(u, "little") & ((1 << 255) - 1)
    x2, z2, x3, z3, swap = 1, 0, x1, 1, 0
    for t in reversed(range(255)):
        bit = (k >> t) & 1
        if swap ^ bit:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b, c, d = x2 + z2, x2 - z2, x3 + z3, x3 - z3
        aa, bb, da, cb = a * a % P, b * b % P, d * a % P, c * b % P
        e = aa - bb
        x3, z3 = (da + cb) ** 2 % P, x1 * (da - cb) ** 2 % P
        x2, z2 = aa * bb % P, e * (aa + 121665 * e) % P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, P - 2, P) % P).to_bytes(32, "little")


def x25519_public(secret):
    return x25519(secret, (9).to_bytes(32, "little"))


def aead_seal(key, nonce, ad, pt):
    return ChaCha20Poly1305(key).encrypt(nonce, pt, ad)


def aead_open(key, nonce, ad, ct):
    """Returns None when the tag does not verify."""
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, ct, ad)
    except InvalidTag:
        return None


def hchacha20(key, nonce16):
    """draft-irtf-cfrg-xchacha-03 §2.2: ChaCha20's 20 rounds on constants, key and
    16-byte nonce; output words 0..3 and 12..15, without the final addition."""
    s = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    s += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    rotl = lambda v, c: ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))

    def quarter(a, b, c, d):
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 16)
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 12)
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 8)
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 7)

    for _ in range(10):
        quarter(0, 4, 8, 12); quarter(1, 5, 9, 13); quarter(2, 6, 10, 14); quarter(3, 7, 11, 15)
        quarter(0, 5, 10, 15); quarter(1, 6, 11, 12); quarter(2, 7, 8, 13); quarter(3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def xaead_seal(key, nonce, ad, pt):
    """§1: XChaCha20-Poly1305 = ChaCha20-Poly1305 under HChaCha20(key, nonce[0..16])."""
    return aead_seal(hchacha20(key, nonce[:16]), b"\x00" * 4 + nonce[16:], ad, pt)


def xaead_open(key, nonce, ad, ct):
    return aead_open(hchacha20(key, nonce[:16]), b"\x00" * 4 + nonce[16:], ad, ct)


def check_hchacha20():
    """draft-irtf-cfrg-xchacha-03 §2.2.1."""
    key = bytes(range(32))
    nonce = h("000000090000004a0000000031415927")
    check("HChaCha20 test vector", hchacha20(key, nonce),
          "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc")


# ---- §1.1 randomness --------------------------------------------------------------------

class Rng:
    """§1.1: hands out a vector's listed draws, in order; each draw has a size."""

    def __init__(self, draws):
        self.left = [h(d) for d in draws]
        self.used = []

    def draw(self, size):
        if not self.left:
            sys.exit(f"MISMATCH rng: a draw of {size} bytes beyond the listed ones")
        d = self.left.pop(0)
        check(f"rng draw size", len(d), size)
        self.used.append(d)
        return d

    def all_used(self, what):
        check(f"{what}: every listed draw used", len(self.left), 0)


# ---- §2.1 rules common to every format --------------------------------------------------

class Reader:
    """§2.1: the maximum total length first (TooLong), then the version tag
    (UnknownVersion); fields in order; nothing left over (TrailingBytes)."""

    def __init__(self, data, tag, max_len):
        if len(data) > max_len:
            raise bad("TooLong")
        self.data, self.o = data, 0
        if tag is not None:
            self.version(tag)

    def version(self, tag):
        """A one-byte tag, or an escaped one (§15: 0xFF, then a byte naming the format):
        the first byte that differs is the UnknownVersion's argument."""
        for want in (tag if isinstance(tag, bytes) else [tag]):
            v = self.u8()
            if v != want:
                raise bad("UnknownVersion", v)

    def remaining(self):
        return len(self.data) - self.o

    def take(self, n):
        if self.remaining() < n:
            raise bad("Truncated")
        self.o += n
        return self.data[self.o - n:self.o]

    def u8(self):
        return self.take(1)[0]

    def u32(self):
        return int.from_bytes(self.take(4), "big")

    def u64(self):
        return int.from_bytes(self.take(8), "big")

    def flag(self):
        v = self.u8()
        if v not in (0, 1):
            raise bad("InvalidValue")
        return v == 1

    def var(self, maximum, minimum=0):
        """Rule 3: a u32 length, compared with its maximum before the bytes are read."""
        n = self.u32()
        if n > maximum:
            raise bad("TooLong")
        if n < minimum:
            raise bad("Truncated")
        return self.take(n)

    def count(self, maximum, smallest):
        """Rule 4: a u32 count, its maximum, then count × smallest item against what remains."""
        n = self.u32()
        if n > maximum:
            raise bad("TooLong")
        if n * smallest > self.remaining():
            raise bad("Truncated")
        return n

    def key_tag(self, want):
        tag = self.u8()
        if tag != want:
            raise bad("UnexpectedKeyType", tag)

    def identity_key(self, full=True):
        self.key_tag(KEY_IDENTITY)
        return decode_identity_point(self.take(32), full)

    def x25519_key(self):
        self.key_tag(KEY_X25519)
        return decode_x25519(self.take(32))

    def certificate_key(self):
        self.key_tag(KEY_CERTIFICATE)
        return decode_certificate_point(self.take(32))

    def kem_key(self):
        """§2.2: Encode(PQPK). Another tag is InvalidValue (§2.2 says so for this key type;
        the other key types' wrong tag is UnexpectedKeyType); then the 1184 bytes; then
        FIPS 203's modulus check, also InvalidValue."""
        if self.u8() != KEY_KEM:
            raise bad("InvalidValue")
        ek = self.take(KEM_PUBLIC_KEY_LEN)
        if not mlkem_modulus_check(ek):
            raise bad("InvalidValue")
        return ek

    def finish(self):
        if self.remaining():
            raise bad("TrailingBytes")


# ---- Edwards25519 (RFC 8032 §5.1) --------------------------------------------------------

ED_D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY_POINT = (0, 1, 1, 0)   # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z


def ed_add(p1, p2):
    """RFC 8032 §5.1.4 (a = −1); also doubles."""
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a, b = (y1 - x1) * (y2 - x2) % P, (y1 + x1) * (y2 + x2) % P
    c, d = 2 * t1 * t2 * ED_D % P, 2 * z1 * z2 % P
    e, f, g, hh = b - a, d - c, d + c, b + a
    return (e * f % P, g * hh % P, f * g % P, e * hh % P)


def ed_neg(p1):
    x, y, z, t = p1
    return (-x % P, y, z, -t % P)


def ed_mul(s, p1):
    q = IDENTITY_POINT
    while s:
        if s & 1:
            q = ed_add(q, p1)
        p1 = ed_add(p1, p1)
        s >>= 1
    return q


def ed_is_identity(p1):
    x, y, z, _ = p1
    return x % P == 0 and (y - z) % P == 0


def ed_equal(p1, p2):
    return (p1[0] * p2[2] - p2[0] * p1[2]) % P == 0 and (p1[1] * p2[2] - p2[1] * p1[2]) % P == 0


def ed_compress(p1):
    x, y, z, _ = p1
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def ed_decompress(s):
    """RFC 8032 §5.1.3 for a y already known to be below p; None if not on the curve."""
    y = int.from_bytes(s, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    u, v = (y * y - 1) % P, (ED_D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if v * x * x % P == u:
        pass
    elif v * x * x % P == -u % P:
        x = x * SQRT_M1 % P
    else:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


def ed_small_order(p1):
    return ed_is_identity(ed_mul(8, p1))


ED_B = ed_decompress((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


# ---- §2.2 public keys --------------------------------------------------------------------

def y_not_canonical(s):
    return (int.from_bytes(s, "little") & ((1 << 255) - 1)) >= P


def decode_identity_point(s, full=True):
    """§2.2 rules 1–5, in order, all InvalidKey. A stored session (§8.2) checks only the
    encoding (rules 1 and 2): `full=False`. Returns the 32 bytes."""
    if s[31] & 0x80:
        raise bad("InvalidKey")                                  # 1. odd x
    if y_not_canonical(s):
        raise bad("InvalidKey")                                  # 2. y ≥ p
    if full:
        a = ed_decompress(s)
        if a is None:
            raise bad("InvalidKey")                              # 3. not on the curve
        if ed_small_order(a):
            raise bad("InvalidKey")                              # 4. [8]A = identity
        if not ed_is_identity(ed_mul(ELL, a)):
            raise bad("InvalidKey")                              # 5. torsion component
    return s


def decode_certificate_point(s):
    """§2.2: a certificate key is decoded with rules 2–4."""
    if y_not_canonical(s):
        raise bad("InvalidKey")
    a = ed_decompress(s)
    if a is None or ed_small_order(a):
        raise bad("InvalidKey")
    return s


def decode_x25519(s):
    """§2.2: a u-coordinate below p; low-order values decode."""
    if int.from_bytes(s, "little") >= P:
        raise bad("InvalidKey")
    return s


def encode_ik(ed):
    return u8(KEY_IDENTITY) + ed


def encode_pk(x):
    return u8(KEY_X25519) + x


def encode_ck(ed):
    return u8(KEY_CERTIFICATE) + ed


def decode_identity_key(data):
    """The `IdentityKey` decoder of the negative vectors."""
    r = Reader(data, None, 33)
    key = r.identity_key()
    r.finish()
    return key


def decode_x25519_public_key(data):
    """The `X25519PublicKey` decoder of the negative vectors."""
    r = Reader(data, None, 33)
    key = r.x25519_key()
    r.finish()
    return key


def decode_certificate_key(data):
    """The `CertificateKey` decoder of the negative vectors: §2.2, tag 0x04, rules 2–4."""
    r = Reader(data, None, 33)
    key = r.certificate_key()
    r.finish()
    return key


# ---- §2.3 Diffie-Hellman -------------------------------------------------------------------

def dh(secret, public, failure):
    """§2.3: X25519; an all-zero output raises `failure` (which depends on the operation)."""
    out = x25519(secret, public)
    if out == ZERO32:
        raise failure
    return out


def dh_edwards(secret, ed):
    """§2.3: the same DH computed on the Edwards curve, u of [clamp(a)]·A."""
    k = bytearray(secret)
    k[0] &= 248
    k[31] = (k[31] & 127) | 64
    p1 = ed_mul(int.from_bytes(k, "little"), ed_decompress(ed))
    x, y, z, _ = p1
    return ((z + y) * pow(z - y, P - 2, P) % P).to_bytes(32, "little")


# ---- ML-KEM-768 (FIPS 203): §2.2, §4.4, §20 ------------------------------------------------

MLKEM_Q = 3329


def byte_decode12(b):
    """FIPS 203 Algorithm 6, d = 12: each 3 bytes hold two 12-bit integers, low bits first,
    each taken mod q."""
    out = []
    for i in range(0, len(b), 3):
        b0, b1, b2 = b[i:i + 3]
        out += [(b0 | (b1 & 0x0F) << 8) % MLKEM_Q, (b1 >> 4 | b2 << 4) % MLKEM_Q]
    return out


def byte_encode12(coefficients):
    """FIPS 203 Algorithm 5, d = 12."""
    out = bytearray()
    for a, b in zip(coefficients[0::2], coefficients[1::2]):
        out += bytes([a & 0xFF, a >> 8 | (b & 0x0F) << 4, b >> 4])
    return bytes(out)


def mlkem_modulus_check(ek):
    """FIPS 203 §7.2, the encapsulation key's input check: its length (type check), and
    ByteEncode12(ByteDecode12(ek[0 : 384k])) = ek[0 : 384k] (modulus check), which holds
    exactly when every 12-bit coefficient is below q. The last 32 bytes (rho) are free."""
    if len(ek) != KEM_PUBLIC_KEY_LEN:
        return False
    body = ek[:384 * 3]
    return byte_encode12(byte_decode12(body)) == body


class KemKeyPair:
    """§4.4: an ML-KEM-768 key pair, derived from its 64-byte seed d || z by FIPS 203's
    ML-KEM.KeyGen_internal(d, z) (Algorithm 16)."""

    def __init__(self, seed):
        if len(seed) != KEM_SEED_LEN:
            sys.exit(f"MISMATCH KEM seed of {len(seed)} bytes, not {KEM_SEED_LEN}")
        self.seed = seed
        self.public, self.secret = ML_KEM_768._keygen_internal(seed[:32], seed[32:])


def kem_encapsulate(ek, m):
    """§20.2 step 3: (CT, SS) = ML-KEM.Encaps_internal(ek, m) (FIPS 203 Algorithm 17).
    (kyber-py returns the secret first.)"""
    ss, ct = ML_KEM_768._encaps_internal(ek, m)
    return ct, ss


def kem_decapsulate(dk, ct):
    """§20.3 step 3: ML-KEM.Decaps (FIPS 203 Algorithms 18 and 21), with implicit rejection:
    a ciphertext not made for this key gives an unrelated secret, never an error."""
    return ML_KEM_768.decaps(dk, ct)


def kem_cross_check(what, pair, ct, ss):
    """The same key pair and decapsulation by `cryptography`'s ML-KEM, where it has one."""
    if MLKEM768PrivateKey is None:
        return
    other = MLKEM768PrivateKey.from_seed_bytes(pair.seed)
    check(f"{what} KEM public key, cryptography", other.public_key().public_bytes_raw(), pair.public)
    check(f"{what} KEM decapsulation, cryptography", other.decapsulate(ct), ss)


def check_mlkem_modulus_check():
    """The modulus check refuses exactly a coefficient of q or more, in either half of its
    3 bytes, and ignores rho."""
    ek = bytes(KEM_PUBLIC_KEY_LEN)
    check("ML-KEM check: the zero key", mlkem_modulus_check(ek), True)
    for c, ok in ((MLKEM_Q - 1, True), (MLKEM_Q, False), (4095, False)):
        low = bytes([c & 0xFF, c >> 8]) + ek[2:]
        high = ek[:1] + bytes([(c & 0x0F) << 4, c >> 4]) + ek[3:]
        check(f"ML-KEM check: a first coefficient of {c}", mlkem_modulus_check(low), ok)
        check(f"ML-KEM check: a second coefficient of {c}", mlkem_modulus_check(high), ok)
    check("ML-KEM check: rho is not checked", mlkem_modulus_check(ek[:-32] + b"\xff" * 32), True)
    check("ML-KEM check: a key one byte short", mlkem_modulus_check(ek[:-1]), False)


# ---- §3 identity keys --------------------------------------------------------------------

def ed25519_public(seed):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def ed25519_sign(seed, m):
    return Ed25519PrivateKey.from_private_bytes(seed).sign(m)


def ed25519_to_x25519(ed):
    """§3: u = (1 + y) / (1 − y) mod p."""
    y = int.from_bytes(ed, "little") & ((1 << 255) - 1)
    return ((1 + y) * pow(1 - y, P - 2, P) % P).to_bytes(32, "little")


def is_odd(ed):
    return bool(ed[31] & 0x80)


class Identity:
    """§3: an Ed25519 key pair with an even x, used for DH in its X25519 form."""

    def __init__(self, seed):
        self.seed = seed
        self.ed = ed25519_public(seed)
        if is_odd(self.ed):
            raise bad("InvalidKey")
        self.scalar = hashlib.sha512(seed).digest()[:32]
        self.x = ed25519_to_x25519(self.ed)

    @classmethod
    def generate(cls, rng):
        """§3: one draw; rehash while its key is odd."""
        seed = rng.draw(32)
        while is_odd(ed25519_public(seed)):
            seed = sha256(IDENTITY_SEED_LABEL + seed)
        return cls(seed)

    def sign(self, m):
        return ed25519_sign(self.seed, m)

    def encoded(self):
        return encode_ik(self.ed)

    def encoded_pair(self):
        """§12: the stored identity key pair."""
        return u8(TAG_IDENTITY_PAIR) + self.seed


def decode_identity_key_pair(data):
    """§12, the `IdentityKeyPair` decoder."""
    r = Reader(data, TAG_IDENTITY_PAIR, 33)
    seed = r.take(32)
    r.finish()
    return Identity(seed)   # an odd key: InvalidKey


def verify_strict(ed, message, signature):
    """§3: RFC 8032 §5.1.7, cofactorless, refusing S ≥ ℓ, R that does not decompress or
    is of small order, a key of small order, and R ≠ encoding of [S]B − [k]A."""
    a = None if y_not_canonical(ed) else ed_decompress(ed)
    if a is None or ed_small_order(a):
        return False
    r_bytes, s = signature[:32], int.from_bytes(signature[32:], "little")
    if s >= ELL:
        return False
    r = None if y_not_canonical(r_bytes) else ed_decompress(r_bytes)
    if r is None or ed_small_order(r):
        return False
    k = int.from_bytes(hashlib.sha512(r_bytes + ed + message).digest(), "little") % ELL
    return ed_compress(ed_add(ed_mul(s, ED_B), ed_neg(ed_mul(k, a)))) == r_bytes


class CertificateKey:
    """§2.2, §12: a certificate-signing Ed25519 key pair (any parity)."""

    def __init__(self, seed):
        self.seed, self.ed = seed, ed25519_public(seed)

    def sign(self, m):
        return ed25519_sign(self.seed, m)

    def encoded_pair(self):
        return u8(TAG_CERT_KEY_PAIR) + self.seed


# ---- §4 prekeys and bundles ---------------------------------------------------------------

def signed_prekey_message(spk_id, spk_public):
    """§4.1: the 62 bytes the identity key signs."""
    return SIGNED_PREKEY_LABEL + u32(spk_id) + encode_pk(spk_public)


def encode_signed_prekey(spk_id, public, signature):
    """§4.1: the 102-byte public record."""
    return u8(TAG_SIGNED_PREKEY) + u32(spk_id) + encode_pk(public) + signature


def decode_signed_prekey(data):
    r = Reader(data, TAG_SIGNED_PREKEY, 102)
    spk_id, public, signature = r.u32(), r.x25519_key(), r.take(64)
    r.finish()
    return spk_id, public, signature


def verify_signed_prekey(identity_encoded, record):
    """§4.1, §5.1 step 1: the `verify signed prekey` operation."""
    ik = decode_identity_key(identity_encoded)
    spk_id, public, signature = decode_signed_prekey(record)
    if not verify_strict(ik, signed_prekey_message(spk_id, public), signature):
        raise error("Agreement", "InvalidSignature")


def encode_one_time_prekey(opk_id, public):
    """§4.2: 38 bytes."""
    return u8(TAG_ONE_TIME_PREKEY) + u32(opk_id) + encode_pk(public)


def encode_pqpk(ek):
    """§2.2: Encode(PQPK), 1185 bytes."""
    return u8(KEY_KEM) + ek


def kem_prekey_message(kem_id, kind, ek):
    """§4.4: the 1,212 bytes the identity key signs."""
    return KEM_PREKEY_LABEL + u32(kem_id) + u8(kind) + encode_pqpk(ek)


def encode_kem_prekey_fields(kem):
    """§4.4: a KEM prekey (id, kind, ek, signature) as its fields, 1,254 bytes: the bundle
    carries them after its KEM flag (§4.3), the public record after its tag."""
    kem_id, kind, ek, signature = kem
    return u32(kem_id) + u8(kind) + encode_pqpk(ek) + signature


def read_kem_prekey_fields(r):
    """§4.4, read in place: id; kind (0 or 1; another: InvalidValue, as the vectors have it,
    §4.4 names no error); Encode(PQPK) (§2.2); the signature. Nothing is verified here."""
    kem_id, kind = r.u32(), r.u8()
    if kind not in (KEM_ONE_TIME, KEM_LAST_RESORT):
        raise bad("InvalidValue")
    return kem_id, kind, r.kem_key(), r.take(64)


def encode_kem_prekey(kem):
    """§4.4: the public record, 1,256 bytes."""
    return TAG_KEM_PREKEY + encode_kem_prekey_fields(kem)


def decode_kem_prekey(data):
    r = Reader(data, TAG_KEM_PREKEY, 2 + KEM_PREKEY_FIELDS_LEN)
    kem = read_kem_prekey_fields(r)
    r.finish()
    return kem


def encode_kem_prekey_pair(kem_id, kind, seed, signature):
    """§4.4: the stored key pair, 135 bytes."""
    return TAG_KEM_PREKEY_PAIR + u32(kem_id) + u8(kind) + seed + signature


def verify_kem_prekey(ik, kem):
    """§5.1 step 1, §4.4: the KEM prekey's signature under the bundle's identity key."""
    kem_id, kind, ek, signature = kem
    if not verify_strict(ik, kem_prekey_message(kem_id, kind, ek), signature):
        raise error("Agreement", "InvalidKemSignature")


def encode_bundle(ik, spk_id, spk, signature, opk_id, opk, kem=None, certificate=None):
    """§4.3, version 3: the KEM prekey's fields (§4.4), if any, follow its flag; the
    certificate, if any, follows its flag whole, with no length of its own (the sender
    certificate's encoding delimits itself, §9.4)."""
    out = u8(TAG_BUNDLE) + encode_ik(ik) + u32(spk_id) + encode_pk(spk) + signature
    out += flag(opk is not None)
    if opk is not None:
        out += u32(opk_id) + encode_pk(opk)
    out += flag(kem is not None)
    if kem is not None:
        out += encode_kem_prekey_fields(kem)
    out += flag(certificate is not None)
    return out + (certificate or b"")


def decode_bundle(data):
    """§4.3: at most 1,865 bytes; the KEM prekey's fields as §4.4 reads them (the `pq`
    feature's decoder: its key's coefficients are checked, §2.2); the certificate as §9.4
    says. Structure only: no signature is verified here."""
    r = Reader(data, TAG_BUNDLE, BUNDLE_MAX_LEN)
    b = {"ik": r.identity_key(), "spk_id": r.u32(), "spk": r.x25519_key(), "signature": r.take(64),
         "opk_id": None, "opk": None}
    if r.flag():
        b["opk_id"], b["opk"] = r.u32(), r.x25519_key()
    b["kem"] = read_kem_prekey_fields(r) if r.flag() else None
    b["certificate"] = read_sender_certificate(r)["encoding"] if r.flag() else None
    r.finish()
    return b


# ---- §5 the X3DH agreement ----------------------------------------------------------------

def agreement_sk(dhs, kem_secret=None):
    """§5.1 step 4 (X3DH), or §20.2 step 5 (PQXDH: the KEM secret after the DHs, and the
    PQXDH info)."""
    if kem_secret is None:
        ikm = b"\xff" * 32 + b"".join(dhs)
        return ikm, hkdf(ZERO32, ikm, X3DH_INFO, 32)
    ikm = b"\xff" * 32 + b"".join(dhs) + kem_secret
    return ikm, hkdf(ZERO32, ikm, PQXDH_INFO, 32)


def initiate(identity, bundle, rng):
    """§5.1 and §6.3 (initiator), with §20.2 when the bundle has a KEM prekey: returns the
    new session and the values on the way."""
    b = decode_bundle(bundle)
    if not verify_strict(b["ik"], signed_prekey_message(b["spk_id"], b["spk"]), b["signature"]):
        raise error("Agreement", "InvalidSignature")                      # step 1
    if b["kem"] is not None:
        verify_kem_prekey(b["ik"], b["kem"])                               # step 1: InvalidKemSignature
    ek = rng.draw(32)                                                      # step 2
    out = {"alice_ephemeral_public": x25519_public(ek), "kem_ciphertext": None, "kem_shared_secret": None}
    kem = None
    if b["kem"] is not None:                                               # §20.2 step 3
        m = rng.draw(32)
        ct, ss = kem_encapsulate(b["kem"][2], m)
        out.update(kem_m=m, kem_ciphertext=ct, kem_shared_secret=ss)
        kem = {"id": b["kem"][0], "digest": sha256(ct), "ciphertext": ct}  # kept until the first reply (§20.2 step 7)
    nc = error("Agreement", "NonContributory")
    ik_b_x = ed25519_to_x25519(b["ik"])
    dhs = [dh(identity.scalar, b["spk"], nc), dh(ek, ik_b_x, nc), dh(ek, b["spk"], nc)]   # step 3
    if b["opk"] is not None:
        dhs.append(dh(ek, b["opk"], nc))
    ikm, sk = agreement_sk(dhs, out["kem_shared_secret"])                  # step 4 (§20.2 step 5)
    ad = identity.encoded() + encode_ik(b["ik"])                           # step 5
    first = rng.draw(32)                                                   # step 6: §6.3 (after m, §20.2 step 6)
    ratchet_dh = dh(first, b["spk"], nc)
    rk, cks = kdf_rk(sk, ratchet_dh)
    ratchet = Ratchet(rk, 0, b["spk"], Sending(first, x25519_public(first), cks, 0), None, [])
    session = Session(1, 0, identity.ed, identity.x, b["ik"], ik_b_x, x25519_public(ek),
                      b["spk_id"], b["opk_id"], True, ratchet, kem)
    out.update(dh=dhs, kdf_input=ikm, sk=sk, ad=ad, alice_ratchet_public=x25519_public(first), ratchet_dh=ratchet_dh)
    return session, out


class PreKeyStore:
    """The responder's signed, one-time and KEM prekeys, by id (§5.2, §20.3). The KEM
    prekeys are (kind, key pair), the pair derived from the vector's seed (§4.4)."""

    def __init__(self, prekeys):
        self.signed = {p["id"]: h(p["secret"]) for p in prekeys["signed"]}
        self.one_time = {p["id"]: h(p["secret"]) for p in prekeys["one_time"]}
        self.kem = {p["id"]: (p["kind"], KemKeyPair(h(p["seed"]))) for p in prekeys.get("kem", [])}


def accept(identity, store, wire):
    """§5.2 and §6.3 (responder), with §20.3 when the message names a KEM prekey: a new
    session from an initial message, or an error."""
    m = decode_initial_message(wire)          # a decode error is that DecodeError (§5.2)
    if m["spk_id"] not in store.signed:
        raise error("Agreement", "UnknownSignedPreKey", f"PreKeyId({m['spk_id']})")      # 1
    if m["opk_id"] is not None and m["opk_id"] not in store.one_time:
        raise error("Agreement", "UnknownOneTimePreKey", f"PreKeyId({m['opk_id']})")     # 2
    ss, kem = None, None
    if m["kem_id"] is not None:
        if m["kem_id"] not in store.kem:
            raise error("Agreement", "UnknownKemPreKey", f"PreKeyId({m['kem_id']})")     # §20.3 step 2
        ss = kem_decapsulate(store.kem[m["kem_id"]][1].secret, m["kem_ciphertext"])      # §20.3 step 3
        kem = {"id": m["kem_id"], "digest": sha256(m["kem_ciphertext"]), "ciphertext": None}
    nc = error("Agreement", "NonContributory")
    spk = store.signed[m["spk_id"]]
    ik_a_x = ed25519_to_x25519(m["ik"])
    dhs = [dh(spk, ik_a_x, nc), dh(identity.scalar, m["base_key"], nc), dh(spk, m["base_key"], nc)]  # 3
    if m["opk_id"] is not None:
        dhs.append(dh(store.one_time[m["opk_id"]], m["base_key"], nc))
    _, sk = agreement_sk(dhs, ss)                                                           # 4
    ad = encode_ik(m["ik"]) + identity.encoded()
    ratchet, info = Ratchet.responder(sk, spk, m["message"], ad)                            # 5
    if m["opk_id"] is not None:
        del store.one_time[m["opk_id"]]                                                     # 6
    if kem is not None and store.kem[kem["id"]][0] == KEM_ONE_TIME:
        del store.kem[kem["id"]]                                                            # §20.3 step 5
    session = Session(2, 1, identity.ed, identity.x, m["ik"], ik_a_x, m["base_key"],
                      m["spk_id"], m["opk_id"], False, ratchet, kem)
    return session, dict(info, kem_shared_secret=ss)


# ---- §6 the Double Ratchet ------------------------------------------------------------------

def kdf_rk(rk, dh_out):
    """§6.1."""
    okm = hkdf(rk, dh_out, ROOT_INFO, 64)
    return okm[:32], okm[32:]


def kdf_ck(ck):
    """§6.1: (next chain key, message key)."""
    return mac(ck, b"\x02"), mac(ck, b"\x01")


def diff(a, b):
    """§6.4: differences do not wrap; a negative one is 0."""
    return max(a - b, 0)


class Sending:
    """§6.2: the sending chain, (DHs key pair, CKs, Ns)."""

    def __init__(self, secret, public, ck, n):
        self.secret, self.public, self.ck, self.n = secret, public, ck, n


class ReceivedChain:
    """§6.2: what is remembered of one of the peer's chains."""

    def __init__(self, key, end, unknown_below=0, skipped=None, dropped=None):
        self.key, self.end, self.unknown_below = key, end, unknown_below
        self.skipped = dict(skipped or [])    # number -> message key, in increasing number
        self.dropped = [list(r) for r in (dropped or [])]   # [start, end) ranges, increasing

    def add_keys(self, keys):
        for n, mk in keys:
            self.skipped[n] = mk

    def drop_lowest_key(self):
        """§6.6: drop the lowest key and record its number."""
        n = next(iter(self.skipped))
        del self.skipped[n]
        if self.dropped and self.dropped[-1][1] == n:
            self.dropped[-1][1] = n + 1
        else:
            self.dropped.append([n, n + 1])


class Ratchet:
    """§6.2: the ratchet part of a session."""

    def __init__(self, rk, pn, dhr, sending, ckr, chains):
        self.rk, self.pn, self.dhr, self.sending, self.ckr, self.chains = rk, pn, dhr, sending, ckr, chains

    # §6.3 responder
    @classmethod
    def responder(cls, sk, spk_secret, h_, ad):
        if h_["n"] > MAX_SKIP:
            raise error("Decrypt", "TooManySkipped")
        d = dh(spk_secret, h_["dhs"], error("Decrypt", "Failed"))
        rk, ck = kdf_rk(sk, d)
        ck, kept, mk = step_chain(ck, 0, h_["n"])
        pt = xaead_open(mk, h_["nonce"], ad + h_["header"], h_["ciphertext"])
        if pt is None:
            raise error("Decrypt", "Failed")
        ratchet = cls(rk, 0, h_["dhs"], None, ck, [ReceivedChain(h_["dhs"], h_["n"] + 1, 0, kept)])
        return ratchet, {"plaintext": pt, "dh": None, "root_key": rk, "message_key": mk}

    # §6.5
    def encrypt(self, plaintext, ad, rng):
        if len(plaintext) > MAX_PLAINTEXT_LEN:
            raise error("Encrypt", "PlaintextTooLong")                          # 1
        out = {"dh": None}
        if self.sending is None:                                                # 2
            secret = rng.draw(32)
            d = dh(secret, self.dhr, error("Encrypt", "NonContributory"))
            self.rk, ck = kdf_rk(self.rk, d)
            self.sending = Sending(secret, x25519_public(secret), ck, 0)
            out["dh"] = d
        s = self.sending
        if s.n == 2**32 - 1:
            raise error("Encrypt", "ChainExhausted")                            # 3
        nonce = rng.draw(24)                                                    # 4
        ck = s.ck
        s.ck, mk = kdf_ck(ck)                                                   # 5
        header = encode_header(s.public, self.pn, s.n, nonce)                   # 6
        body = xaead_seal(mk, nonce, ad + header, plaintext)
        s.n += 1                                                                # 7
        out.update(root_key=self.rk, chain_key=ck, message_key=mk, nonce=nonce,
                   xchacha_subkey=hchacha20(mk, nonce[:16]), header=header,
                   aead_associated_data=ad + header, ratchet_message=header + with_len(body))
        return out

    # §6.4
    def decrypt(self, h_, ad):
        """Works on a copy and commits only on success: a failure changes nothing."""
        work = copy.deepcopy(self)
        out = work._decrypt(h_, ad + h_["header"])
        self.__dict__.update(work.__dict__)
        return out

    def _open(self, mk, h_, aad):
        pt = xaead_open(mk, h_["nonce"], aad, h_["ciphertext"])
        if pt is None:
            raise error("Decrypt", "Failed")
        return {"plaintext": pt, "message_key": mk}

    def _decrypt(self, h_, aad):
        n = h_["n"]
        # 1. the current receiving chain
        if self.ckr is not None and h_["dhs"] == self.dhr:
            chain = self.chains[-1]
            nr = chain.end
            if n < nr:
                return self._lookup(chain, h_, aad)
            if n - nr > MAX_SKIP:
                raise error("Decrypt", "TooManySkipped")
            ck, kept, mk = step_chain(self.ckr, nr, n)
            out = self._open(mk, h_, aad)
            chain.add_keys(kept)
            self.ckr, chain.end = ck, n + 1
            self.apply_limits()
            return dict(out, dh=None, root_key=self.rk)
        # 2. a remembered chain
        for chain in self.chains:
            if chain.key == h_["dhs"]:
                return self._lookup(chain, h_, aad)
        # 3. a new ratchet key
        if self.sending is None:
            raise error("Decrypt", "Failed")
        if self.ckr is not None and diff(h_["pn"], self.chains[-1].end) > MAX_SKIP:
            raise error("Decrypt", "TooManySkipped")
        if n > MAX_SKIP:
            raise error("Decrypt", "TooManySkipped")
        d = dh(self.sending.secret, h_["dhs"], error("Decrypt", "Failed"))
        rk, ck = kdf_rk(self.rk, d)
        ck, kept, mk = step_chain(ck, 0, n)
        out = self._open(mk, h_, aad)
        # commit
        if self.ckr is not None:
            old = self.chains[-1]
            nr = old.end
            _, old_keys = chain_keys(self.ckr, nr, h_["pn"])    # none if PN ≤ Nr
            old.add_keys(old_keys)
            old.end = max(nr, h_["pn"])
        self.rk, self.pn, self.sending = rk, self.sending.n, None
        self.dhr, self.ckr = h_["dhs"], ck
        self.chains.append(ReceivedChain(h_["dhs"], n + 1, 0, kept))
        self.apply_limits()
        return dict(out, dh=d, root_key=self.rk)

    def _lookup(self, chain, h_, aad):
        """§6.4 LOOKUP."""
        n = h_["n"]
        if n in chain.skipped:
            out = self._open(chain.skipped[n], h_, aad)
            del chain.skipped[n]
            return dict(out, dh=None, root_key=self.rk)
        if n >= chain.end:
            raise error("Decrypt", "Failed")
        if any(s <= n < e for s, e in chain.dropped):
            raise error("Decrypt", "KeyDropped")
        if n < chain.unknown_below:
            raise error("Decrypt", "StaleMessage")
        raise error("Decrypt", "Duplicate")

    # §6.6
    def apply_limits(self):
        while len(self.chains) > MAX_CHAIN_HISTORY:                                  # 1
            # the oldest chain other than the newest that holds no skipped keys
            oldest = next(i for i, c in enumerate(self.chains[:-1]) if not c.skipped)
            del self.chains[oldest]
        while True:                                                                  # 2
            holding = [c for c in self.chains[:-1] if c.skipped]
            if len(holding) <= MAX_RECEIVING_CHAINS - 1:
                break
            while holding[0].skipped:
                holding[0].drop_lowest_key()
        total = self.skipped_keys()                                                  # 3
        while total > MAX_SKIPPED_KEYS:
            next(c for c in self.chains if c.skipped).drop_lowest_key()
            total -= 1
        while sum(len(c.dropped) for c in self.chains) > MAX_DROPPED_RANGES:         # 4
            c = next(c for c in self.chains if c.dropped)
            _, end = c.dropped.pop(0)
            c.unknown_below = max(c.unknown_below, end)

    def skipped_keys(self):
        return sum(len(c.skipped) for c in self.chains)

    # §8.2, from RK on
    def encode(self):
        out = self.rk + u32(self.pn) + encode_pk(self.dhr)
        s = self.sending
        out += flag(s is not None)
        if s is not None:
            out += s.secret + encode_pk(s.public) + s.ck + u32(s.n)
        out += flag(self.ckr is not None)
        if self.ckr is not None:
            out += self.ckr
        out += u32(len(self.chains))
        for c in self.chains:
            out += encode_pk(c.key) + u32(c.end) + u32(c.unknown_below)
            out += u32(len(c.skipped)) + b"".join(u32(n) + mk for n, mk in c.skipped.items())
            out += u32(len(c.dropped)) + b"".join(u32(s_) + u32(e) for s_, e in c.dropped)
        return out


def chain_keys(ck, start, stop):
    """The message keys numbered start .. stop−1 of a chain whose key at `start` is ck,
    and the chain key at `stop`."""
    keys = []
    for m in range(start, stop):
        ck, mk = kdf_ck(ck)
        keys.append((m, mk))
    return ck, keys


def step_chain(ck, start, n):
    """Step a chain key from message number `start` to `n`: the keys start .. n−1 (kept),
    the message key for n, and the chain key after n."""
    ck, kept = chain_keys(ck, start, n)
    ck, mk = kdf_ck(ck)
    return ck, kept, mk


# ---- §7 messages ------------------------------------------------------------------------------

def encode_header(dhs_public, pn, n, nonce):
    """§7.1: bytes 0..66."""
    return u8(TAG_RATCHET) + encode_pk(dhs_public) + u32(pn) + u32(n) + nonce


def decode_ratchet_message(data):
    """§7.1."""
    r = Reader(data, TAG_RATCHET, MAX_MESSAGE_LEN)
    m = {"dhs": r.x25519_key(), "pn": r.u32(), "n": r.u32()}
    if m["n"] > MAX_N:
        raise bad("InvalidValue")                  # checked as it is read (§2.1 rule 7)
    m["nonce"] = r.take(24)
    m["header"] = data[:66]
    m["ciphertext"] = r.var(MAX_PLAINTEXT_LEN + 16, minimum=16)
    r.finish()
    return m


def encode_initial_message(ik, base_key, spk_id, opk_id, kem, ratchet_message):
    """§7.2, version 3; `kem` is (KEM prekey id, CT) for the post-quantum agreement."""
    out = u8(TAG_INITIAL) + encode_ik(ik) + encode_pk(base_key) + u32(spk_id) + flag(opk_id is not None)
    if opk_id is not None:
        out += u32(opk_id)
    out += flag(kem is not None)
    if kem is not None:
        out += u32(kem[0]) + kem[1]
    return out + with_len(ratchet_message)


MAX_RATCHET_MESSAGE_LEN = 70 + MAX_PLAINTEXT_LEN + 16     # §7.2: the longest ratchet message


def decode_initial_message(data):
    """§7.2, the `InitialMessage` decoder: M is at most 70 + MAX_PLAINTEXT_LEN + 16
    (TooLong), and the inner ratchet message fills exactly M bytes."""
    r = Reader(data, TAG_INITIAL, MAX_MESSAGE_LEN)
    m = {"ik": r.identity_key(), "base_key": r.x25519_key(), "spk_id": r.u32(), "opk_id": None,
         "kem_id": None, "kem_ciphertext": None}
    if r.flag():
        m["opk_id"] = r.u32()
    if r.flag():                                   # the `pq` feature's decoder (§20)
        m["kem_id"], m["kem_ciphertext"] = r.u32(), r.take(KEM_CIPHERTEXT_LEN)
    m["message"] = decode_ratchet_message(r.var(MAX_RATCHET_MESSAGE_LEN))
    r.finish()
    return m


# ---- §8 sessions ------------------------------------------------------------------------------

class Session:
    """§8: a session, its agreement's identifiers, its generation and its ratchet. `kem` is
    None for X3DH, or for PQXDH {"id", "digest" (SHA-256 of CT), "ciphertext" (CT while
    kept, else None)} (§8.2, §20.2 step 7)."""

    def __init__(self, role, generation, local_ik, local_x, peer_ik, peer_x, base_key, spk_id, opk_id,
                 awaiting, ratchet, kem=None):
        self.role, self.generation = role, generation      # role 1: initiator, 2: responder
        self.local_ik, self.local_x, self.peer_ik, self.peer_x = local_ik, local_x, peer_ik, peer_x
        self.base_key, self.spk_id, self.opk_id, self.awaiting = base_key, spk_id, opk_id, awaiting
        self.ratchet, self.kem = ratchet, kem

    def ad(self):
        """§8.2: AD rebuilt from the two identity keys, the initiator's first."""
        ik_a, ik_b = (self.local_ik, self.peer_ik) if self.role == 1 else (self.peer_ik, self.local_ik)
        return encode_ik(ik_a) + encode_ik(ik_b)

    def encrypt(self, plaintext, rng):
        """§6.5, wrapped in an initial message until the first reply (§8.1)."""
        out = self.ratchet.encrypt(plaintext, self.ad(), rng)
        out["wire"] = out["ratchet_message"]
        if self.role == 1 and self.awaiting:
            kem = None if self.kem is None else (self.kem["id"], self.kem["ciphertext"])   # §20.2 step 7
            out["wire"] = encode_initial_message(self.local_ik, self.base_key, self.spk_id, self.opk_id, kem,
                                                 out["ratchet_message"])
        self.generation += 1
        return out

    def decrypt(self, wire):
        """§6.4 and §8.1: a ratchet message, or an initial message of this session."""
        try:
            if len(wire) > MAX_MESSAGE_LEN:
                raise bad("TooLong")
            if wire[:1] == u8(TAG_INITIAL):
                m = decode_initial_message(wire)
                initial = True
            else:
                m = decode_ratchet_message(wire)
                initial = False
        except Refused as e:
            raise malformed("Decrypt", e)
        if initial:
            # §8.1: it must match exactly. §8.1 lists the base key, IK_A and the prekey ids;
            # "exactly" is read here to take in the KEM fields too: the KEM prekey id (or its
            # absence) and the ciphertext, by the SHA-256 the state keeps of it (§8.2).
            m_kem = None if m["kem_id"] is None else (m["kem_id"], sha256(m["kem_ciphertext"]))
            own_kem = None if self.kem is None else (self.kem["id"], self.kem["digest"])
            m_ids = (m["base_key"], m["ik"], m["spk_id"], m["opk_id"], m_kem)
            if self.role != 2 or m_ids != (self.base_key, self.peer_ik, self.spk_id, self.opk_id, own_kem):
                raise error("Decrypt", "OtherSession")
            m = m["message"]
            # §8.1: every initial message is sent from the initiator's first chain; once the
            # history has forgotten it (§6.6), an initial message of this session is stale.
            # The state does not say which chain was the first: a matching initial message
            # whose ratchet key is not remembered is taken to be from a forgotten chain.
            if not any(c.key == m["dhs"] for c in self.ratchet.chains):
                raise error("Decrypt", "StaleMessage")
        out = self.ratchet.decrypt(m, self.ad())
        self.generation += 1
        self.awaiting = False
        if self.kem is not None:
            self.kem["ciphertext"] = None         # kept only until the first reply (§20.2 step 7, §8.2)
        return out

    def encode(self):
        """§8.2."""
        out = u8(TAG_SESSION) + u8(self.role) + u64(self.generation)
        out += encode_ik(self.local_ik) + encode_pk(self.local_x) + encode_ik(self.peer_ik) + encode_pk(self.peer_x)
        out += encode_pk(self.base_key) + u32(self.spk_id) + flag(self.opk_id is not None)
        if self.opk_id is not None:
            out += u32(self.opk_id)
        out += flag(self.kem is not None)
        if self.kem is not None:
            ct = self.kem["ciphertext"]
            out += u32(self.kem["id"]) + self.kem["digest"] + flag(ct is not None) + (ct or b"")
        return out + flag(self.awaiting) + self.ratchet.encode()


def decode_session(data):
    """§8.2, the `Session` decoder. Fields are read in order (§2.1 rule 7) and each check is
    made as soon as its fields have been read, in the order §8.2 lists them."""
    r = Reader(data, None, SESSION_MAX_ENCODED_LEN)
    # §8.2: version 3, and version 2 (0x42), which has no KEM section.
    tag = r.u8()
    if tag not in (TAG_SESSION, 0x42):
        raise bad("UnknownVersion", tag)
    role = r.u8()
    if role not in (1, 2):
        raise bad("InvalidValue")
    generation = r.u64()
    local_ik, local_x = r.identity_key(full=False), r.x25519_key()
    peer_ik, peer_x = r.identity_key(full=False), r.x25519_key()
    base_key, spk_id = r.x25519_key(), r.u32()
    opk_id = r.u32() if r.flag() else None
    kem = None
    if tag == TAG_SESSION and r.flag():
        kem = {"id": r.u32(), "digest": r.take(32)}
        kem["ciphertext"] = r.take(KEM_CIPHERTEXT_LEN) if r.flag() else None
    awaiting = r.flag()
    rk, pn, dhr = r.take(32), r.u32(), r.x25519_key()
    sending = Sending(r.take(32), r.x25519_key(), r.take(32), r.u32()) if r.flag() else None
    ckr = r.take(32) if r.flag() else None
    if sending is None and ckr is None:
        raise inconsistent("both chains absent")
    c = r.count(MAX_CHAIN_HISTORY, 49)
    if (ckr is not None) != (c > 0):
        raise inconsistent("received chains without the receiving chain, or none with it")
    chains, total_keys, total_ranges = [], 0, 0
    for i in range(c):
        key = r.x25519_key()
        last = i == c - 1
        if (key == dhr) != last or any(key == earlier.key for earlier in chains):
            raise inconsistent("DHr's chain is not the last, or two chains with one key")
        end, unknown_below = r.u32(), r.u32()
        if unknown_below > end:
            raise inconsistent("unknown_below > end")
        k = r.count(MAX_SKIPPED_KEYS - total_keys, 36)
        total_keys += k
        keys = []
        for _ in range(k):
            n = r.u32()
            if keys and n <= keys[-1][0]:
                raise inconsistent("skipped keys not strictly increasing")
            if n >= end:
                raise inconsistent("a skipped key at or above end")
            if n < unknown_below:
                raise inconsistent("a skipped key below unknown_below")
            keys.append((n, r.take(32)))
        d = r.count(MAX_DROPPED_RANGES - total_ranges, 8)
        total_ranges += d
        ceiling = keys[0][0] if keys else end
        ranges = []
        for _ in range(d):
            start, stop = r.u32(), r.u32()
            if start >= stop:
                raise inconsistent("an empty dropped range")
            if stop > ceiling:
                raise inconsistent("a dropped range above the first key (or end)")
            if ranges and start <= ranges[-1][1]:
                raise inconsistent("dropped ranges not increasing and apart")
            if start < unknown_below or (unknown_below > 0 and start <= unknown_below):
                raise inconsistent("a dropped range at or below unknown_below")
            ranges.append((start, stop))
        chains.append(ReceivedChain(key, end, unknown_below, keys, ranges))
    if sum(1 for ch in chains[:-1] if ch.skipped) > MAX_RECEIVING_CHAINS - 1:
        raise inconsistent("too many earlier chains hold keys")
    if kem is not None and kem["ciphertext"] is not None and sha256(kem["ciphertext"]) != kem["digest"]:
        raise inconsistent("a kept KEM ciphertext that does not hash to the digest")
    if awaiting and ckr is not None:
        raise inconsistent("awaiting reply set with the receiving chain present")
    if not awaiting and ckr is None:
        raise inconsistent("awaiting reply clear with the receiving chain absent")
    if awaiting and role == 2:
        raise inconsistent("awaiting reply set for a responder")
    if kem is not None and (kem["ciphertext"] is not None) != awaiting:
        raise inconsistent("the KEM ciphertext kept while not awaiting the reply, or not kept while awaiting it")
    r.finish()
    ratchet = Ratchet(rk, pn, dhr, sending, ckr, chains)
    return Session(role, generation, local_ik, local_x, peer_ik, peer_x, base_key, spk_id, opk_id, awaiting,
                   ratchet, kem)


# ---- §9 certificates --------------------------------------------------------------------------

def encode_app_id(app_id):
    return with_len(app_id)


def read_app_id(r):
    """§9.1: 1 to 64 bytes of [a-z0-9.-_]."""
    app_id = r.var(MAX_APP_ID_LEN)
    if not app_id or any(not (c in b"abcdefghijklmnopqrstuvwxyz0123456789.-_") for c in app_id):
        raise bad("InvalidValue")
    return app_id


def read_user_id(r):
    user_id = r.var(MAX_USER_ID_LEN)
    if not user_id:
        raise bad("InvalidValue")
    return user_id


def encode_trust_root(root_ed, app_id):
    """§9.2."""
    return u8(TAG_TRUST_ROOT) + encode_ck(root_ed) + encode_app_id(app_id)


def decode_trust_root(data):
    r = Reader(data, TAG_TRUST_ROOT, 102)
    out = (r.certificate_key(), read_app_id(r))
    r.finish()
    return out


def issuer_signed_part(key_id, issuer_ed, app_id, not_before, not_after):
    """§9.3: S, every byte between the version tag and the signature."""
    return u32(key_id) + encode_ck(issuer_ed) + encode_app_id(app_id) + u64(not_before) + u64(not_after)


def issue_issuer_certificate(root, key_id, issuer_ed, app_id, not_before, not_after):
    if not_after < not_before:
        raise error("Certificate", "InvalidValidity")
    signed = issuer_signed_part(key_id, issuer_ed, app_id, not_before, not_after)
    return ISSUER_LABEL + signed, u8(TAG_ISSUER) + signed + root.sign(ISSUER_LABEL + signed)


def decode_issuer_certificate(data):
    r = Reader(data, TAG_ISSUER, 186)
    c = {"key_id": r.u32(), "key": r.certificate_key(), "app_id": read_app_id(r),
         "not_before": r.u64(), "not_after": r.u64()}
    if c["not_after"] < c["not_before"]:
        raise inconsistent("not after below not before")     # as soon as it is read (§2.1 rule 7)
    c["signed"] = ISSUER_LABEL + data[1:r.o]
    c["signature"] = r.take(64)
    r.finish()
    return c


def sender_signed_part(app_id, user_id, device_id, ik, expires, issuer_certificate):
    """§9.4: S, the issuer certificate included."""
    return (encode_app_id(app_id) + with_len(user_id) + u32(device_id) + encode_ik(ik) + u64(expires)
            + with_len(issuer_certificate))


def issue_sender_certificate(issuer, issuer_certificate, app_id, user_id, device_id, ik, expires):
    if decode_issuer_certificate(issuer_certificate)["key"] != issuer.ed:
        raise error("Certificate", "KeyMismatch")
    signed = sender_signed_part(app_id, user_id, device_id, ik, expires, issuer_certificate)
    return SENDER_LABEL + signed, u8(TAG_SENDER) + signed + issuer.sign(SENDER_LABEL + signed)


def read_sender_certificate(r):
    """§9.4, read in place from `r` (a bundle carries one without a length, §4.3): its tag,
    then its fields in order, each checked as it is read."""
    start = r.o
    tag = r.u8()
    if tag != TAG_SENDER:
        raise bad("UnknownVersion", tag)
    c = {"app_id": read_app_id(r), "user_id": read_user_id(r), "device_id": r.u32(),
         "ik": r.identity_key(), "expires": r.u64()}
    c["issuer"] = decode_issuer_certificate(r.var(ISSUER_CERTIFICATE_MAX_LEN))
    c["signed"] = SENDER_LABEL + r.data[start + 1:r.o]
    c["signature"] = r.take(64)
    c["encoding"] = r.data[start:r.o]
    c["fingerprint"] = sha256(c["encoding"])
    return c


def decode_sender_certificate(data):
    r = Reader(data, None, SENDER_CERTIFICATE_MAX_LEN)
    c = read_sender_certificate(r)
    r.finish()
    return c


def revocation_id(ed):
    """§9.5 rule 3: a revoked key is compared by the y coordinate of [8]A (its sign bit
    cleared), which A, −A and A + T (T of small order) share. A key that does not
    decompress keeps its encoding."""
    a = None if y_not_canonical(ed) else ed_decompress(ed)
    if a is None:
        return ed
    y = bytearray(ed_compress(ed_mul(8, a)))
    y[31] &= 0x7F
    return bytes(y)


class TrustStore:
    """README "Trust stores": roots by app, revocations and deny lists."""

    def __init__(self, t):
        # §2.2: a trust root's raw 32-byte key is decoded as a certificate key (rules 2–4).
        self.roots = {r["app_id"].encode(): decode_certificate_point(h(r["key"])) for r in t["roots"]}
        self.revoked_key_ids = {(r["app_id"].encode(), r["key_id"]) for r in t["revoked_key_ids"]}
        self.revoked_keys = {revocation_id(h(k)) for k in t["revoked_keys"]}
        self.denied_identities = {h(k) for k in t["denied_identities"]}
        self.denied_certificates = {h(k) for k in t["denied_certificates"]}


def validate_certificate(c, trust, now):
    """§9.5, checked in order."""
    fail = lambda variant: error("Certificate", variant)
    root = trust.roots.get(c["app_id"])
    if root is None:
        raise fail("UntrustedApp")                                                        # 1
    i = c["issuer"]
    if not verify_strict(root, i["signed"], i["signature"]) or i["app_id"] != c["app_id"]:
        raise fail("BrokenChain")                                                         # 2
    if (i["app_id"], i["key_id"]) in trust.revoked_key_ids or revocation_id(i["key"]) in trust.revoked_keys:
        raise fail("Revoked")                                                             # 3
    if now < i["not_before"]:
        raise fail("NotYetValid")                                                         # 4
    if now > i["not_after"]:
        raise fail("Expired")
    if not verify_strict(i["key"], c["signed"], c["signature"]):
        raise fail("BrokenChain")                                                         # 5
    if now > c["expires"]:
        raise fail("Expired")                                                             # 6
    if encode_ik(c["ik"]) in trust.denied_identities or c["fingerprint"] in trust.denied_certificates:
        raise fail("Denied")                                                              # 7


# ---- §10 sealed envelopes ---------------------------------------------------------------------

def payload_keys(m):
    """§10.1: K (32), N (12), K_C (32) from M."""
    okm = hkdf(ZERO32, m, PAYLOAD_INFO, 76)
    return okm[:32], okm[32:44], okm[44:]


def wrap_key(dh_out, e_public, recipient_encoded):
    return hkdf(ZERO32, dh_out, WRAP_INFO + encode_pk(e_public) + recipient_encoded, 32)


def auth_key(dh_out, sender_encoded, recipient_encoded):
    return hkdf(ZERO32, dh_out, AUTH_INFO + sender_encoded + recipient_encoded, 32)


def share_tag(a_sr, e_public, recipient_encoded, k_c, c_r, payload_hash):
    return mac(a_sr, encode_pk(e_public) + recipient_encoded + k_c + c_r + payload_hash)[:16]


def content_type(message):
    """§10.2: the content type of a session message, from its version tag."""
    return {TAG_INITIAL: CONTENT_INITIAL, TAG_RATCHET: CONTENT_RATCHET}.get(message[0]) if message else None


def message_type(message):
    """§10.2: the type of an entry's or the shared layout's message from its first bytes: 0x23
    initial, 0x32 ratchet, 0xFF 0xC1 group. Empty, or 0xFF alone: Truncated. Anything else is
    UnknownVersion of the first byte, 0xFF included (a message starting 0xFF 0xB1 names no
    message type: its first byte is what is unknown here)."""
    if not message or message == b"\xff":
        raise bad("Truncated")
    if message[0] == TAG_INITIAL:
        return CONTENT_INITIAL
    if message[0] == TAG_RATCHET:
        return CONTENT_RATCHET
    if message[:2] == TAG_GROUP_MESSAGE:
        return CONTENT_GROUP
    raise bad("UnknownVersion", message[0])


def encode_entries(certificate, entries, padding):
    """§10.2, layout 0x01: `entries` are (Encode(IK_R), content type, message)."""
    out = with_len(certificate) + u8(LAYOUT_ENTRIES) + u32(len(entries))
    for recipient_encoded, kind, message in entries:
        out += recipient_encoded + u8(kind) + with_len(message)
    return out + bytes(padding)


def encode_shared(certificate, group_message, padding):
    """§10.2, layout 0x02: one group message for every recipient."""
    return with_len(certificate) + u8(LAYOUT_SHARED) + u8(CONTENT_GROUP) + with_len(group_message) + bytes(padding)


def padding_length(unpadded_content_len, padded):
    """§10.3: each split envelope is max(512, 2^⌈log2 L⌉) bytes, L its length with p = 0."""
    if not padded:
        return 0
    length = ENVELOPE_PREFIX_LEN + unpadded_content_len + 16
    return max(MIN_PADDED_ENVELOPE_LEN, 1 << (length - 1).bit_length()) - length


def invalid_message(e):
    """Seal::InvalidMessage (705) carries the 1xx error."""
    return Refused("Seal", f"InvalidMessage({e.variant})", CODES["Seal"]["InvalidMessage"])


def seal(sender, certificate, recipients, messages, rng, padded, distribution=False, group_message=None):
    """§10.1–§10.3 and §11: the multi-recipient envelope and every intermediate value.
    `recipients` are Encode(IK_R) byte strings. With `group_message`, the payload is the shared
    layout (§21.4, `messages` unused); otherwise one entry per recipient, of a distribution
    content type if `distribution`."""
    # The documents give these checks (§10.1, §10.2, §11, §14 codes 701–708) but no order
    # between them; this one follows the codes of §14, and makes every check that needs no
    # randomness before the first draw (the vectors' `rng` is empty for each refusal).
    cert = decode_sender_certificate(certificate)
    if cert["ik"] != sender.ed:
        raise error("Seal", "CertificateMismatch")                                   # 701
    if not recipients:
        raise error("Seal", "NoRecipients")                                          # 702
    if len(recipients) > MAX_RECIPIENTS:
        raise error("Seal", "TooManyRecipients")                                     # 703
    for recipient in recipients:
        decode_identity_key(recipient)           # a recipient is an identity key (§2.2)
    if len(set(recipients)) != len(recipients):
        raise error("Seal", "DuplicateRecipient")                                    # 704
    if group_message is not None:
        try:
            decode_group_message(group_message)
        except Refused as e:
            raise invalid_message(e)                                                 # 705
        unpadded = lambda pad: encode_shared(certificate, group_message, pad)
    else:
        for m in messages:
            try:
                kind = message_type(m)
                if kind == CONTENT_GROUP:
                    # A group message goes in the shared layout, never in an entry.
                    raise bad("UnknownVersion", m[0])
                decoded = decode_initial_message(m) if kind == CONTENT_INITIAL else decode_ratchet_message(m)
            except Refused as e:
                raise invalid_message(e)                                             # 705
            if kind == CONTENT_INITIAL and decoded["ik"] != sender.ed:
                raise error("Seal", "ForeignInitialMessage")                         # 708 (§10.2)
        extra = CONTENT_DISTRIBUTION if distribution else 0
        entries = [(r, content_type(m) | extra, m) for r, m in zip(recipients, messages)]
        unpadded = lambda pad: encode_entries(certificate, entries, pad)
    pad = padding_length(len(unpadded(0)), padded)
    content = unpadded(pad)
    envelope_len = ENVELOPE_PREFIX_LEN + len(content) + 16
    if envelope_len > MAX_ENVELOPE_LEN or len(recipients) * envelope_len > MAX_FANOUT_BYTES:
        raise error("Seal", "TooLong")                                               # 706 (§11)
    e, m = rng.draw(32), rng.draw(32)
    e_public = x25519_public(e)
    k, n, k_c = payload_keys(m)
    payload = aead_seal(k, n, encode_pk(e_public), content)
    digest = sha256(payload)
    out = {"ephemeral_public": e_public, "content": content, "padding_length": pad, "payload_key": k,
           "payload_nonce": n, "commitment": k_c, "payload": payload, "payload_hash": digest, "shares": []}
    nc = error("Seal", "NonContributory")
    for recipient in recipients:
        ik_r_x = ed25519_to_x25519(recipient[1:])
        edh = dh(e, ik_r_x, nc)
        w = wrap_key(edh, e_public, recipient)
        c_r = xor(m, w)
        sdh = dh(sender.scalar, ik_r_x, nc)
        a = auth_key(sdh, sender.encoded(), recipient)
        t = share_tag(a, e_public, recipient, k_c, c_r, digest)
        out["shares"].append({"recipient": recipient, "ephemeral_dh": edh, "wrap_key": w, "wrapped_secret": c_r,
                              "static_dh": sdh, "auth_key": a, "tag": t,
                              "envelope_prefix": envelope_prefix(recipient, e_public, k_c, c_r, t, len(payload))})
    out["multi_recipient_envelope"] = encode_multi(e_public, k_c, [(s["recipient"], s["wrapped_secret"], s["tag"])
                                                                   for s in out["shares"]], payload)
    return out


def envelope_prefix(recipient_encoded, e_public, k_c, c_r, t_r, payload_len):
    """§10.4, §11: the first 151 bytes of a sealed envelope."""
    return (u8(TAG_SEALED) + recipient_encoded + encode_pk(e_public) + k_c + c_r + t_r + u32(payload_len))


def decode_sealed_envelope(data, full_recipient=False):
    """§10.4. Decoding for unsealing (§10.5 step 1) keeps the recipient field as bytes;
    a decoder that hands out the recipient decodes it fully (§2.2): `full_recipient`."""
    r = Reader(data, TAG_SEALED, MAX_ENVELOPE_LEN)
    recipient = u8(KEY_IDENTITY) + r.identity_key() if full_recipient else r.take(33)
    env = {"recipient": recipient, "e": r.x25519_key(),
           "k_c": r.take(32), "c_r": r.take(32), "t_r": r.take(16)}
    env["payload"] = r.var(MAX_ENVELOPE_LEN - ENVELOPE_PREFIX_LEN, minimum=16)
    r.finish()
    return env


def decode_content(data):
    """§10.2, in the order given there: the certificate, the layout byte (neither layout:
    InvalidValue), then the layout's fields, then zero padding. Entries' recipient fields are
    kept as bytes, and their messages checked by their first bytes only (`message_type`): an
    initial message is decoded at §10.5 step 8, a ratchet message by the session. The shared
    layout's group message is decoded whole (§21.2)."""
    r = Reader(data, None, len(data))
    c = {"certificate": decode_sender_certificate(r.var(436)), "entries": [], "group_message": None}
    layout = r.u8()
    if layout == LAYOUT_ENTRIES:
        k = r.count(MAX_RECIPIENTS, ENTRY_OVERHEAD)
        if k == 0:
            raise bad("InvalidValue")
        for _ in range(k):
            recipient = r.take(33)
            if recipient[0] != KEY_IDENTITY:
                raise bad("UnexpectedKeyType", recipient[0])
            kind = r.u8()
            if kind not in ENTRY_TYPES:
                raise bad("InvalidValue")
            message = r.var(MAX_MESSAGE_LEN)
            if message_type(message) != kind & 0x0F:
                raise inconsistent("content type does not match the message's tag")
            c["entries"].append((recipient, kind, message))
    elif layout == LAYOUT_SHARED:
        if r.u8() != CONTENT_GROUP:
            raise bad("InvalidValue")
        c["group_message"] = r.var(GROUP_MESSAGE_MAX_LEN)
        decode_group_message(c["group_message"])
    else:
        raise bad("InvalidValue")
    if any(r.take(r.remaining())):
        raise bad("InvalidValue")
    return c


def unseal(recipient, trust, now, data):
    """§10.5, in order."""
    try:
        env = decode_sealed_envelope(data)                                               # 1
    except Refused as e:
        raise malformed("Unseal", e)
    if env["recipient"] != recipient.encoded():                                          # 2
        try:
            decode_identity_key(env["recipient"])
        except Refused as e:
            raise malformed("Unseal", e)
        raise error("Unseal", "NotForRecipient")
    w = wrap_key(dh(recipient.scalar, env["e"], error("Unseal", "Failed")), env["e"], env["recipient"])  # 3
    m = xor(env["c_r"], w)
    k, n, k_c = payload_keys(m)
    if not hmac.compare_digest(k_c, env["k_c"]):
        raise error("Unseal", "Failed")
    content = aead_open(k, n, encode_pk(env["e"]), env["payload"])
    if content is None:
        raise error("Unseal", "Failed")
    try:
        c = decode_content(content)                                                      # 4
    except Refused as e:
        raise malformed("Unseal", e)
    cert = c["certificate"]
    sdh = dh(recipient.scalar, ed25519_to_x25519(cert["ik"]), error("Unseal", "SenderMismatch"))   # 5
    a = auth_key(sdh, encode_ik(cert["ik"]), recipient.encoded())
    t = share_tag(a, env["e"], env["recipient"], env["k_c"], env["c_r"], sha256(env["payload"]))
    if not hmac.compare_digest(t, env["t_r"]):
        raise error("Unseal", "SenderMismatch")
    try:
        validate_certificate(cert, trust, now)                                           # 6
    except Refused as e:
        raise Refused("Unseal", f"Certificate({e.variant})", e.code)
    result = {"app_id": cert["app_id"], "user_id": cert["user_id"], "device_id": cert["device_id"],
              "identity_key": encode_ik(cert["ik"]), "m": m}
    if c["group_message"] is not None:
        # The shared layout: the share addressed this recipient; there is no entry to find.
        return dict(result, content_type=CONTENT_GROUP, distribution=False, message=c["group_message"])
    mine = [e for e in c["entries"] if e[0] == recipient.encoded()]                      # 7
    if not mine:
        raise error("Unseal", "NotForRecipient")
    if len(mine) > 1:
        raise malformed("Unseal", inconsistent("two entries for the recipient"))
    _, kind, message = mine[0]
    if kind & 0x0F == CONTENT_INITIAL:                                                   # 8
        try:
            ik_a = decode_initial_message(message)["ik"]
        except Refused as e:
            raise malformed("Unseal", e)
        if ik_a != cert["ik"]:
            raise error("Unseal", "ForeignInitialMessage")
    return dict(result, content_type=kind & 0x0F, distribution=bool(kind & CONTENT_DISTRIBUTION), message=message)


# ---- §11 multi-recipient envelopes ------------------------------------------------------------

def encode_multi(e_public, k_c, shares, payload):
    out = u8(TAG_MULTI) + encode_pk(e_public) + k_c + u32(len(shares))
    out += b"".join(r + c + t for r, c, t in shares)
    return out + with_len(payload)


def decode_multi(data):
    """§11, the relay's `MultiRecipientEnvelope` decoder: the structure first, then the
    fan-out bound, then the recipient fields in share order, then duplicates."""
    r = Reader(data, TAG_MULTI, MULTI_MAX_ENCODED_LEN)
    e, k_c = r.x25519_key(), r.take(32)
    n = r.count(MAX_RECIPIENTS, SHARE_LEN)
    if n == 0:
        raise bad("InvalidValue")
    raw = [r.take(SHARE_LEN) for _ in range(n)]
    payload = r.var(MAX_ENVELOPE_LEN - ENVELOPE_PREFIX_LEN, minimum=16)
    r.finish()
    if n * (ENVELOPE_PREFIX_LEN + len(payload)) > MAX_FANOUT_BYTES:
        raise bad("TooLong")
    shares = []
    for s in raw:
        if s[0] != KEY_IDENTITY:
            raise bad("UnexpectedKeyType", s[0])
        if is_odd(s[1:33]) or y_not_canonical(s[1:33]):
            raise bad("InvalidKey")
        shares.append((s[:33], s[33:65], s[65:81]))
    if len({s[0] for s in shares}) != len(shares):
        raise inconsistent("two shares with one recipient")
    return {"e": e, "k_c": k_c, "shares": shares, "payload": payload}


def split(multi):
    """§11: each recipient's sealed envelope, its prefix then the shared payload."""
    return [envelope_prefix(r, multi["e"], multi["k_c"], c, t, len(multi["payload"])) + multi["payload"]
            for r, c, t in multi["shares"]]


# ---- §12 stored keys ----------------------------------------------------------------------------

def encode_signed_prekey_pair(spk_id, secret, signature):
    return u8(TAG_SIGNED_PREKEY_PAIR) + u32(spk_id) + secret + signature


def encode_one_time_prekey_pair(opk_id, secret):
    return u8(TAG_ONE_TIME_PREKEY_PAIR) + u32(opk_id) + secret


# ---- §21 groups: sender keys ---------------------------------------------------------------------
# Written from the group family's description in test-vectors/README.md (its "Groups" section).

def read_group_id(r):
    """A group id: a u32 length (above 64: TooLong) and 1 to 64 bytes (empty: InvalidValue)."""
    group_id = r.var(MAX_GROUP_ID_LEN)
    if not group_id:
        raise bad("InvalidValue")
    return group_id


def group_message_key(seed):
    """The message's AEAD key and the commitment to it: 64 bytes of HKDF, the key first."""
    okm = hkdf(ZERO32, seed, GROUP_MESSAGE_KEY_INFO, 64)
    return okm[:32], okm[32:]


def group_header(group_id, chain_id, iteration, nonce, commitment):
    """The header, the AEAD's associated data: everything before the ciphertext's length, the
    key commitment last."""
    return TAG_GROUP_MESSAGE + with_len(group_id) + u32(chain_id) + u32(iteration) + nonce + commitment


def encode_distribution(group_id, chain_id, iteration, chain_key, signing_key):
    return TAG_DISTRIBUTION + with_len(group_id) + u32(chain_id) + u32(iteration) + chain_key + signing_key


def decode_distribution(data):
    """The `SenderKeyDistribution` decoder. The signing key is decoded as a certificate key is
    (§2.2 rules 2–4: y below p, on the curve, not of small order; either sign of x)."""
    r = Reader(data, TAG_DISTRIBUTION, DISTRIBUTION_MAX_LEN)
    d = {"group_id": read_group_id(r), "chain_id": r.u32(), "iteration": r.u32(), "chain_key": r.take(32),
         "signing_key": decode_certificate_point(r.take(32))}
    r.finish()
    return d


def decode_group_message(data):
    """The `GroupMessage` decoder: the group id, chain id, iteration, nonce and key commitment (the
    header), the ciphertext with its tag (a u32 length, at most MAX_PLAINTEXT_LEN + 16; below 16:
    Truncated), the 64-byte signature."""
    r = Reader(data, TAG_GROUP_MESSAGE, GROUP_MESSAGE_MAX_LEN)
    m = {"group_id": read_group_id(r), "chain_id": r.u32(), "iteration": r.u32(), "nonce": r.take(24),
         "commitment": r.take(32)}
    m["header"] = data[:r.o]
    m["ciphertext"] = r.var(MAX_PLAINTEXT_LEN + 16)
    if len(m["ciphertext"]) < 16:
        raise bad("Truncated")
    m["signed"] = data[:r.o]
    m["signature"] = r.take(64)
    r.finish()
    return m


class SenderKey:
    """The sending side: a chain id, the chain's position and key, the Ed25519 signing seed."""

    def __init__(self, chain_id, iteration, chain_key, seed):
        self.chain_id, self.iteration, self.chain_key, self.seed = chain_id, iteration, chain_key, seed
        self.public = ed25519_public(seed)

    @classmethod
    def generate(cls, rng):
        """Draws, in order: the chain id (4 bytes, big-endian), the chain key, the seed."""
        chain_id = int.from_bytes(rng.draw(4), "big")
        return cls(chain_id, 0, rng.draw(32), rng.draw(32))

    def advance(self, iteration):
        """Moves the chain to `iteration` without sending (to rebuild a later message)."""
        while self.iteration < iteration:
            self.chain_key, self.iteration = mac(self.chain_key, b"\x02"), self.iteration + 1

    def encrypt(self, group_id, plaintext, rng):
        if len(plaintext) > MAX_PLAINTEXT_LEN:
            raise error("Encrypt", "PlaintextTooLong")
        if self.iteration == 2**32 - 1:
            raise error("Encrypt", "ChainExhausted")
        nonce = rng.draw(24)
        seed, next_ck = mac(self.chain_key, b"\x01"), mac(self.chain_key, b"\x02")
        key, commitment = group_message_key(seed)
        header = group_header(group_id, self.chain_id, self.iteration, nonce, commitment)
        ciphertext = xaead_seal(key, nonce, header, plaintext)
        signed = header + with_len(ciphertext)
        signature = ed25519_sign(self.seed, signed)
        out = {"iteration": self.iteration, "chain_key": self.chain_key, "message_key_seed": seed,
               "next_chain_key": next_ck, "aead_key": key, "commitment": commitment, "nonce": nonce, "xchacha_subkey": hchacha20(key, nonce[:16]),
               "header": header, "ciphertext": ciphertext, "signed": signed, "signature": signature,
               "encoding": signed + signature}
        self.chain_key, self.iteration = next_ck, self.iteration + 1
        return out

    def distribution(self, group_id):
        return encode_distribution(group_id, self.chain_id, self.iteration, self.chain_key, self.public)

    def stored(self):
        """Inside a group record: chain id, iteration, chain key, signing seed."""
        return u32(self.chain_id) + u32(self.iteration) + self.chain_key + self.seed


class SenderKeyRecord:
    """What a member keeps of one sender device's sender keys in one group: the sender's identity
    key, and its chains, oldest first, each {chain_id, signing_key, start, next, chain_key,
    unknown_below, keys: [(iteration, message key seed)], dropped: [(start, end)]}; and the ids of
    the chains it dropped, oldest first (at most MAX_SENDER_KEY_RETIRED_CHAINS)."""

    def __init__(self, revision=0, identity=None, chains=None, retired=None):
        self.revision, self.identity, self.chains = revision, identity, chains or []
        self.retired = retired or []

    def skipped(self):
        return sum(len(c["keys"]) for c in self.chains)

    def process(self, sender, data):
        """Takes in a distribution from `sender` (an Ed25519 key); whether the record changed.
        Another sender than the record's replaces everything, the retired ids too; a retired
        chain id is refused; a chain held with the same id and signing key stays as it is; one
        with the same id and another key is replaced; a new chain goes last, the oldest dropped
        past MAX_SENDER_KEY_CHAINS and its id retired (the oldest retired id forgotten past
        MAX_SENDER_KEY_RETIRED_CHAINS)."""
        d = decode_distribution(data)
        if self.identity != sender:
            self.identity, self.chains, self.retired = sender, [], []
        if d["chain_id"] in self.retired:
            return False
        same = [c for c in self.chains if c["chain_id"] == d["chain_id"]]
        if same and same[0]["signing_key"] == d["signing_key"]:
            return False
        self.chains = [c for c in self.chains if c["chain_id"] != d["chain_id"]]
        self.chains.append({"chain_id": d["chain_id"], "signing_key": d["signing_key"], "start": d["iteration"],
                            "next": d["iteration"], "chain_key": d["chain_key"], "unknown_below": 0, "keys": [],
                            "dropped": []})
        if len(self.chains) > MAX_SENDER_KEY_CHAINS:
            self.retired.append(self.chains.pop(0)["chain_id"])
            self.retired = self.retired[-MAX_SENDER_KEY_RETIRED_CHAINS:]
        return True

    def decrypt(self, sender, data):
        """In order: the sender and the chain id (NoSenderKey), the signature (InvalidSignature),
        then the key: ahead of `next` (more than MAX_SENDER_KEY_SKIP past it: TooManySkipped),
        below `start` (StaleMessage), a kept key, a dropped one (KeyDropped), below
        `unknown_below` (StaleMessage), else already read (Duplicate); then the key commitment
        (another than the key's: Failed) and the AEAD (Failed). Works on copies: a failure changes
        nothing."""
        if self.identity != sender:
            raise error("Group", "NoSenderKey")
        m = decode_group_message(data)
        chain = next((c for c in self.chains if c["chain_id"] == m["chain_id"]), None)
        if chain is None:
            raise error("Group", "NoSenderKey")
        if not verify_strict(chain["signing_key"], m["signed"], m["signature"]):
            raise error("Group", "InvalidSignature")
        i = m["iteration"]
        work, forward = copy.deepcopy(chain), i >= chain["next"]
        if forward:
            if i - chain["next"] > MAX_SENDER_KEY_SKIP or i == 2**32 - 1:
                raise error("Decrypt", "TooManySkipped")
            ck = chain["chain_key"]
            for n in range(chain["next"], i):
                work["keys"].append((n, mac(ck, b"\x01")))
                ck = mac(ck, b"\x02")
            seed = mac(ck, b"\x01")
            work["chain_key"], work["next"] = mac(ck, b"\x02"), i + 1
        elif i < chain["start"]:
            raise error("Decrypt", "StaleMessage")
        elif any(n == i for n, _ in chain["keys"]):
            seed = next(k for n, k in chain["keys"] if n == i)
            work["keys"] = [(n, k) for n, k in chain["keys"] if n != i]
        elif any(s <= i < e for s, e in chain["dropped"]):
            raise error("Decrypt", "KeyDropped")
        elif i < chain["unknown_below"]:
            raise error("Decrypt", "StaleMessage")
        else:
            raise error("Decrypt", "Duplicate")
        key, commitment = group_message_key(seed)
        if not hmac.compare_digest(commitment, m["commitment"]):
            raise error("Decrypt", "Failed")
        plaintext = xaead_open(key, m["nonce"], m["header"], m["ciphertext"])
        if plaintext is None:
            raise error("Decrypt", "Failed")
        chain.update(work)
        if forward:
            self.apply_limits()
        return plaintext

    def apply_limits(self):
        """Past MAX_SENDER_KEY_SKIPPED_KEYS in all, the lowest keys of the oldest chains go first,
        each recorded in the chain's dropped ranges (extending the last range when it ends at
        that iteration); past MAX_SENDER_KEY_DROPPED_RANGES in all, the oldest chains' first
        ranges are forgotten, `unknown_below` rising to their ends."""
        excess = max(0, self.skipped() - MAX_SENDER_KEY_SKIPPED_KEYS)
        for c in self.chains:
            n = min(excess, len(c["keys"]))
            for counter, _ in c["keys"][:n]:
                if c["dropped"] and c["dropped"][-1][1] == counter:
                    c["dropped"][-1] = (c["dropped"][-1][0], counter + 1)
                else:
                    c["dropped"].append((counter, counter + 1))
            c["keys"] = c["keys"][n:]
            excess -= n
        ranges = sum(len(c["dropped"]) for c in self.chains)
        for c in self.chains:
            while ranges > MAX_SENDER_KEY_DROPPED_RANGES and c["dropped"]:
                c["unknown_below"] = max(c["unknown_below"], c["dropped"].pop(0)[1])
                ranges -= 1

    def encode(self):
        out = TAG_SENDER_KEY_RECORD + u64(self.revision) + flag(self.identity is not None)
        out += encode_ik(self.identity) if self.identity is not None else b""
        out += u8(len(self.chains))
        for c in self.chains:
            out += (u32(c["chain_id"]) + c["signing_key"] + u32(c["start"]) + u32(c["next"]) + c["chain_key"]
                    + u32(c["unknown_below"]) + u32(len(c["keys"])))
            out += b"".join(u32(n) + k for n, k in c["keys"])
            out += u32(len(c["dropped"])) + b"".join(u32(a) + u32(b) for a, b in c["dropped"])
        return out + u8(len(self.retired)) + b"".join(u32(i) for i in self.retired)


def decode_sender_key_record(data):
    """The `SenderKeyRecord` decoder. The chain count is one byte: above MAX_SENDER_KEY_CHAINS,
    or chains without an identity, InconsistentState. Per chain, as read: start ≤ next and
    unknown_below ≤ next; the kept keys' count against what the record may still hold (the
    limit is over all chains: TooLong) then against the bytes left (Truncated); each key's
    iteration increasing, in [start, next); the dropped ranges' count likewise; each range
    [s, e) with s ≥ start (and ≥ the previous range's end), s < e ≤ next, and holding no kept
    key. Any of these is InconsistentState. Once a chain is read, its id must be new. Then the
    retired ids: a one-byte count (above MAX_SENDER_KEY_RETIRED_CHAINS, or above 0 without an
    identity: InconsistentState, before the ids are read) and the ids, each u32, none twice and
    none a held chain's (InconsistentState)."""
    r = Reader(data, TAG_SENDER_KEY_RECORD, SENDER_KEY_RECORD_MAX_LEN)
    rec = SenderKeyRecord(r.u64())
    rec.identity = r.identity_key() if r.flag() else None
    count = r.u8()
    if count > MAX_SENDER_KEY_CHAINS or (rec.identity is None and count > 0):
        raise inconsistent("chains")
    keys_left, ranges_left = MAX_SENDER_KEY_SKIPPED_KEYS, MAX_SENDER_KEY_DROPPED_RANGES
    for _ in range(count):
        c = {"chain_id": r.u32(), "signing_key": decode_certificate_point(r.take(32)), "start": r.u32(),
             "next": r.u32(), "chain_key": r.take(32), "unknown_below": r.u32(), "keys": [], "dropped": []}
        if c["start"] > c["next"] or c["unknown_below"] > c["next"]:
            raise inconsistent("start, next, unknown_below")
        n = r.count(keys_left, 36)
        keys_left -= n
        floor = c["start"]
        for _ in range(n):
            counter = r.u32()
            if counter < floor or counter >= c["next"]:
                raise inconsistent("a kept key's iteration")
            floor = counter + 1
            c["keys"].append((counter, r.take(32)))
        n = r.count(ranges_left, 8)
        ranges_left -= n
        floor = c["start"]
        for _ in range(n):
            a, b = r.u32(), r.u32()
            if a < floor or a >= b or b > c["next"] or any(a <= k < b for k, _ in c["keys"]):
                raise inconsistent("a dropped range")
            floor = b
            c["dropped"].append((a, b))
        if any(x["chain_id"] == c["chain_id"] for x in rec.chains):
            raise inconsistent("two chains with one id")
        rec.chains.append(c)
    retired = r.u8()
    if retired > MAX_SENDER_KEY_RETIRED_CHAINS or (rec.identity is None and retired > 0):
        raise inconsistent("retired ids")
    for _ in range(retired):
        chain_id = r.u32()
        if chain_id in rec.retired or any(c["chain_id"] == chain_id for c in rec.chains):
            raise inconsistent("a retired id twice, or held")
        rec.retired.append(chain_id)
    r.finish()
    return rec


def group_record_max_len():
    """GroupRecord::MAX_ENCODED_LEN, from the layout and the limits."""
    return (2 + 8 + 4 + MAX_GROUP_ID_LEN + 4 + MAX_GROUP_MEMBERS * (4 + MAX_APP_ID_LEN + 4 + MAX_USER_ID_LEN)
            + 1 + SENDER_KEY_STORED_LEN + 4 + 1 + 4 + MAX_GROUP_DEVICES * (ADDRESS_MAX_LEN + 33)
            + 4 + MAX_GROUP_DEVICES * ADDRESS_MAX_LEN)


def encode_group_record(g):
    out = TAG_GROUP_RECORD + u64(g["revision"]) + with_len(g["group_id"]) + u32(len(g["members"]))
    out += b"".join(encode_app_id(app) + with_len(user) for app, user in g["members"])
    out += flag(g["sender_key"] is not None)
    out += g["sender_key"].stored() + u32(g["key_epoch"]) if g["sender_key"] else b""
    out += flag(g["rotate"]) + u32(len(g["distributed"]))
    out += b"".join(encode_address(*a) + encode_ik(k) for a, k in g["distributed"])
    return out + u32(len(g["senders"])) + b"".join(encode_address(*a) for a in g["senders"])


def decode_group_record(data):
    """The `GroupRecord` decoder: the members (app id, user id; count at most MAX_GROUP_MEMBERS,
    10 bytes the smallest), the sender key and its epoch (u32) if flagged, the rotation flag (set without a sender
    key: InconsistentState, as soon as read), the holders (address and Encode(IK)) and the
    senders (addresses), each count at most MAX_GROUP_DEVICES. Then, before the end of the
    input is checked: members, holders (by address) and senders each strictly increasing,
    comparing app id, user id (as bytes, not as encoded) and device id in turn; holders only
    with a sender key. Either is InconsistentState."""
    r = Reader(data, TAG_GROUP_RECORD, group_record_max_len())
    g = {"revision": r.u64(), "group_id": read_group_id(r)}
    g["members"] = [(read_app_id(r), read_user_id(r)) for _ in range(r.count(MAX_GROUP_MEMBERS, 10))]
    g["sender_key"], g["key_epoch"] = None, None
    if r.flag():
        g["sender_key"] = SenderKey(r.u32(), r.u32(), r.take(32), r.take(32))
        g["key_epoch"] = r.u32()
    g["rotate"] = r.flag()
    if g["rotate"] and g["sender_key"] is None:
        raise inconsistent("a rotation without a sender key")
    g["distributed"] = [(read_address(r), r.identity_key())
                        for _ in range(r.count(MAX_GROUP_DEVICES, ADDRESS_MIN_LEN + 33))]
    g["senders"] = [read_address(r) for _ in range(r.count(MAX_GROUP_DEVICES, ADDRESS_MIN_LEN))]
    increasing = lambda xs: all(a < b for a, b in zip(xs, xs[1:]))
    if not (increasing(g["members"]) and increasing([a for a, _ in g["distributed"]]) and increasing(g["senders"])):
        raise inconsistent("not sorted")
    if g["sender_key"] is None and g["distributed"]:
        raise inconsistent("holders without a sender key")
    r.finish()
    return g


# ---- docs/sessions.md: the session layer's formats and safety numbers ---------------------------
# Section numbers prefixed "S" refer to docs/sessions.md.

TAG_ADDRESS, TAG_SESSION_RECORD, TAG_REMOTE_IDENTITY = b"\xff\x11", b"\xff\x21", b"\xff\x31"
TAG_ACCOUNT, TAG_DEVICE_LIST, TAG_SCANNABLE = b"\xff\x41", b"\xff\x51", b"\xff\x61"
SAFETY_NUMBER_LABEL = b"sealwire/safety-number/v1"
SAFETY_NUMBER_ITERATIONS = 5200
MAX_ARCHIVED_SESSIONS = 8
MAX_DEVICES_PER_USER = 32
MAX_SIGNED_PREKEYS = 6
ADDRESS_MAX_LEN = 142
SESSION_RECORD_MAX_LEN = 680_590      # S3.1 still says 670,456, version 2's (from 74,473 per session)
MAX_REPLACED_IDENTITIES = 4
REMOTE_IDENTITY_MAX_LEN = 374
ACCOUNT_MAX_LEN = 715
DEVICE_LIST_MAX_LEN = 131
TRUST_ACCEPTED, TRUST_VERIFIED = 0x01, 0x02
SESSION_ENTRY_FIXED = 1 + 8 + 4 + 4      # flags, created, epoch, the state's length


def session_limits_are_consistent():
    """S3: the maximum lengths follow from the layouts."""
    address = 2 + 4 + MAX_APP_ID_LEN + 4 + MAX_USER_ID_LEN + 4
    check("Address maximum (S2)", address, ADDRESS_MAX_LEN)
    entry = SESSION_ENTRY_FIXED + SESSION_MAX_ENCODED_LEN
    check("SessionRecord maximum (S3.1)", 2 + 8 + 1 + entry + 1 + MAX_ARCHIVED_SESSIONS * entry + 1 + 33,
          SESSION_RECORD_MAX_LEN)
    check("RemoteIdentity maximum (S3.2)", 2 + 33 + 33 + 1 + 8 + 1 + MAX_REPLACED_IDENTITIES * (33 + 33 + 8),
          REMOTE_IDENTITY_MAX_LEN)
    check("DeviceList maximum (S3.4)", 2 + 1 + 4 * MAX_DEVICES_PER_USER, DEVICE_LIST_MAX_LEN)
    # S3.3: at most 715 bytes, with MAX_SIGNED_PREKEYS − 1 (5) retired signed prekeys.
    account = (2 + 8 + ADDRESS_MAX_LEN + 33 + 1 + SENDER_CERTIFICATE_MAX_LEN + 4 + 8 + 1
               + 12 * (MAX_SIGNED_PREKEYS - 1) + 4 + 4 + 4 + 4 + 4)
    check("Account maximum from its layout (S3.3)", account, ACCOUNT_MAX_LEN)


# S2 addresses

def encode_address(app_id, user_id, device_id):
    return TAG_ADDRESS + encode_app_id(app_id) + with_len(user_id) + u32(device_id)


def read_address(r):
    """S2, read in place (an account holds one, S3.3): its escaped tag, then the fields."""
    r.version(TAG_ADDRESS)
    return read_app_id(r), read_user_id(r), r.u32()


def decode_address(data):
    """The `Address` decoder."""
    r = Reader(data, None, ADDRESS_MAX_LEN)
    address = read_address(r)
    r.finish()
    return address


def address_text(app_id, user_id, device_id):
    """S2: user@app#device; in the user id, bytes outside 0x21–0x7E and @ # % are %XX."""
    user = "".join(chr(b) if 0x21 <= b <= 0x7E and b not in b"@#%" else f"%{b:02X}" for b in user_id)
    return f"{user}@{app_id.decode()}#{device_id}"


# S3.2 remote identity

def encode_remote_identity(ed, trust, since, replaced=()):
    stored = lambda k: encode_ik(k) + encode_pk(ed25519_to_x25519(k))
    out = TAG_REMOTE_IDENTITY + stored(ed) + u8(trust) + u64(since) + u8(len(replaced))
    return out + b"".join(stored(k) + u64(t) for k, t in replaced)


def decode_remote_identity(data):
    """S3.2: the key's tag, canonical y and even x (as §8.2), its X25519 form as stored;
    then the replaced keys, each checked as it is read (not the current key, not twice)."""
    r = Reader(data, TAG_REMOTE_IDENTITY, REMOTE_IDENTITY_MAX_LEN)
    ed, x = r.identity_key(full=False), r.x25519_key()
    trust = r.u8()
    if trust not in (TRUST_ACCEPTED, TRUST_VERIFIED):
        raise bad("InvalidValue")
    since = r.u64()
    replaced = []
    for _ in range(read_small_count(r, MAX_REPLACED_IDENTITIES, 33 + 33 + 8)):
        old = r.identity_key(full=False)
        r.x25519_key()
        when = r.u64()
        if old == ed or any(k == old for k, _ in replaced):
            raise inconsistent("a replaced key that is the current one or listed twice")
        replaced.append((old, when))
    r.finish()
    return {"ed": ed, "x": x, "trust": trust, "since": since, "replaced": replaced}


# S3.4 device list

def encode_device_list(devices):
    """S3.4: the ids strictly ascending. The vectors' `devices` are the ids as given to the
    list (in any order, repeated), which keeps each once, in order."""
    ids = sorted(set(devices))
    if len(ids) > MAX_DEVICES_PER_USER:
        raise RuntimeError("TooManyDevices")
    return TAG_DEVICE_LIST + u8(len(ids)) + b"".join(u32(i) for i in ids)


def read_small_count(r, maximum, smallest):
    """§2.1 rule 4, for the session layer's one-byte counts: the maximum (TooLong), then
    count × the smallest item against what remains (Truncated)."""
    n = r.u8()
    if n > maximum:
        raise bad("TooLong")
    if n * smallest > r.remaining():
        raise bad("Truncated")
    return n


def decode_device_list(data):
    """The `DeviceList` decoder."""
    r = Reader(data, TAG_DEVICE_LIST, DEVICE_LIST_MAX_LEN)
    ids = []
    for _ in range(read_small_count(r, MAX_DEVICES_PER_USER, 4)):
        i = r.u32()
        if ids and i <= ids[-1]:
            raise bad("InvalidValue")
        ids.append(i)
    r.finish()
    return ids


# S3.1 session record

def encode_session_entry(e):
    return u8(1 if e["superseded"] else 0) + u64(e["created"]) + u32(e["epoch"]) + with_len(e["state"])


def encode_session_record(revision, current, archived, refused=None):
    out = TAG_SESSION_RECORD + u64(revision) + flag(current is not None)
    if current is not None:
        out += encode_session_entry(current)
    out += u8(len(archived)) + b"".join(encode_session_entry(e) for e in archived)
    return out + flag(refused is not None) + (encode_pk(refused) if refused is not None else b"")


def decode_session_record(data):
    """The `SessionRecord` decoder. Each entry's state is decoded whole (§8.2, its errors as
    they are) and checked against the entries before it as soon as it is read."""
    r = Reader(data, TAG_SESSION_RECORD, SESSION_RECORD_MAX_LEN)
    sessions = []

    def entry():
        superseded = r.u8()
        if superseded not in (0, 1):
            raise bad("InvalidValue")
        e = {"superseded": superseded == 1, "created": r.u64(), "epoch": r.u32()}
        e["state"] = r.var(SESSION_MAX_ENCODED_LEN)
        s = decode_session(e["state"])
        for earlier in sessions:
            if s.peer_ik != earlier.peer_ik:
                raise inconsistent("sessions with different remote identity keys")
            if s.role == 2 and earlier.role == 2 and s.base_key == earlier.base_key:
                raise inconsistent("two responder sessions with one base key")
        sessions.append(s)
        e["session"] = s
        return e

    revision = r.u64()
    current = entry() if r.flag() else None
    archived = [entry() for _ in range(read_small_count(r, MAX_ARCHIVED_SESSIONS, SESSION_ENTRY_FIXED))]
    refused = r.x25519_key() if r.flag() else None
    r.finish()
    return {"revision": revision, "current": current, "archived": archived, "refused": refused}


# S3.3 account

def encode_account(a):
    out = TAG_ACCOUNT + u64(a["revision"]) + a["address"] + u8(TAG_IDENTITY_PAIR) + a["seed"]
    out += flag(a["certificate"] is not None) + (a["certificate"] or b"")
    out += u32(a["signed_prekey_id"]) + u64(a["signed_prekey_created"])
    out += u8(len(a["retired"])) + b"".join(u32(i) + u64(since) for i, since in a["retired"])
    return out + u32(a["next_signed_prekey_id"]) + u32(a["next_one_time_prekey_id"]) + u32(a["unpublished_from"]) \
        + u32(a["epoch"]) + u32(a["published_epoch"])


def decode_account(data):
    """The `Account` decoder: fields in order, each check once its fields are read."""
    r = Reader(data, TAG_ACCOUNT, ACCOUNT_MAX_LEN)
    a = {"revision": r.u64()}
    start = r.o
    app_id, user_id, device_id = read_address(r)
    a["address"] = r.data[start:r.o]
    r.version(TAG_IDENTITY_PAIR)
    a["seed"] = r.take(32)
    identity = Identity(a["seed"])                 # §12: a seed with an odd key is InvalidKey
    a["certificate"] = None
    if r.flag():
        c = read_sender_certificate(r)
        if c["ik"] != identity.ed or (c["app_id"], c["user_id"], c["device_id"]) != (app_id, user_id, device_id):
            raise inconsistent("a certificate for another identity key or address")
        a["certificate"] = c["encoding"]
    a["signed_prekey_id"], a["signed_prekey_created"] = r.u32(), r.u64()
    ids, a["retired"] = [a["signed_prekey_id"]], []
    for _ in range(read_small_count(r, MAX_SIGNED_PREKEYS - 1, 12)):
        i, since = r.u32(), r.u64()
        if i in ids:
            raise inconsistent("a signed prekey id listed twice")
        ids.append(i)
        a["retired"].append((i, since))
    a["next_signed_prekey_id"] = r.u32()
    if any(i >= a["next_signed_prekey_id"] for i in ids):
        raise inconsistent("a signed prekey id not below the next one")
    a["next_one_time_prekey_id"], a["unpublished_from"] = r.u32(), r.u32()
    if a["unpublished_from"] > a["next_one_time_prekey_id"]:
        raise inconsistent("unpublished-from above the next one-time prekey id")
    a["epoch"], a["published_epoch"] = r.u32(), r.u32()
    if a["published_epoch"] > a["epoch"]:
        raise inconsistent("a published epoch above the epoch")
    r.finish()
    return a


# S3.6 kept messages

TAG_RECEIVED, TAG_RECEIVED_V1 = b"\xff\x72", b"\xff\x71"     # S3.6: version 1 (no kind) is still read
RECEIVED_KINDS = ("message", "group message", "sender key")   # the kind byte 0, 1, 2
TAG_SENT = b"\xff\x81"
MESSAGE_ID_LABEL = b"sealwire/message-id/v1"
ADDRESS_MIN_LEN = 2 + 4 + 1 + 4 + 1 + 4
RECEIVED_MAX_LEN = 2 + 16 + ADDRESS_MAX_LEN + 33 + 1 + 33 + 1 + 1 + 4 + MAX_GROUP_ID_LEN + 4 + MAX_PLAINTEXT_LEN
SENT_MAX_LEN = 2 + 16 + 4 + MULTI_MAX_ENCODED_LEN + 12 + MAX_RECIPIENTS * (ADDRESS_MAX_LEN + 33)


def message_id(envelope):
    return hashlib.sha256(MESSAGE_ID_LABEL + envelope).digest()[:16]


def encode_received(m):
    """S3.6, version 2: after the flags, the kind (0 a direct message; 1 a group message and 2 a
    sender key, each followed by the group id), then the plaintext."""
    out = TAG_RECEIVED + m["id"] + m["from"] + encode_ik(m["identity"])
    out += u8({"none": 0, "new": 1, "changed": 2}[m["event"]])
    if m["event"] == "changed":
        out += encode_ik(m["previous"])
    out += u8(int(m["new_session"]) | (int(m["listed"]) << 1))
    out += u8(RECEIVED_KINDS.index(m["kind"])) + (with_len(m["group_id"]) if m["group_id"] is not None else b"")
    return out + with_len(m["plaintext"])


def decode_received(data):
    """S3.6: version 2 (0xFF 0x72), or version 1 (0xFF 0x71), which has no kind: a direct
    message. Another second byte is UnknownVersion of it."""
    r = Reader(data, None, RECEIVED_MAX_LEN)
    r.version(0xFF)
    version = r.u8()
    if version not in (TAG_RECEIVED[1], TAG_RECEIVED_V1[1]):
        raise bad("UnknownVersion", version)
    m = {"id": r.take(16)}
    start = r.o
    read_address(r)
    m["from"] = r.data[start:r.o]
    m["identity"] = r.identity_key()
    event = r.u8()
    if event not in (0, 1, 2):
        raise bad("InvalidValue")
    m["event"] = ["none", "new", "changed"][event]
    m["previous"] = r.identity_key() if event == 2 else None
    flags = r.u8()
    if flags > 3:
        raise bad("InvalidValue")
    m["new_session"], m["listed"] = bool(flags & 1), bool(flags & 2)
    kind = r.u8() if version == TAG_RECEIVED[1] else 0
    if kind > 2:
        raise bad("InvalidValue")
    m["kind"] = RECEIVED_KINDS[kind]
    m["group_id"] = read_group_id(r) if kind else None
    m["plaintext"] = r.var(MAX_PLAINTEXT_LEN)
    r.finish()
    return m


def encode_sent(m):
    out = TAG_SENT + m["id"] + with_len(m["envelope"]) + u32(len(m["recipients"]))
    out += b"".join(a + encode_ik(k) for a, k in m["recipients"])
    for key in ("missing", "denied"):
        out += u32(len(m[key])) + b"".join(m[key])
    return out


def decode_sent(data):
    r = Reader(data, TAG_SENT, SENT_MAX_LEN)
    m = {"id": r.take(16), "envelope": r.var(MULTI_MAX_ENCODED_LEN), "recipients": []}

    def address():
        start = r.o
        read_address(r)
        return r.data[start:r.o]

    for _ in range(r.count(MAX_RECIPIENTS, ADDRESS_MIN_LEN + 33)):
        a = address()
        m["recipients"].append((a, r.identity_key()))
    for key in ("missing", "denied"):
        m[key] = [address() for _ in range(r.count(MAX_RECIPIENTS, ADDRESS_MIN_LEN))]
    r.finish()
    return m


# S8 safety numbers

def safety_hash(identity_encoded, address_encoded):
    """S8: H_0 = label || Encode(IK) || Encode(A); H_i = SHA-512(H_(i−1) || Encode(IK))."""
    x = SAFETY_NUMBER_LABEL + identity_encoded + address_encoded
    for _ in range(SAFETY_NUMBER_ITERATIONS):
        x = hashlib.sha512(x + identity_encoded).digest()
    return x


def safety_digits(h_final):
    """S8: six 5-byte chunks of the first 30 bytes, each mod 100000 as 5 digits."""
    return "".join(f"{int.from_bytes(h_final[i:i + 5], 'big') % 100000:05d}" for i in range(0, 30, 5))


def safety_number(side_a, side_b):
    """S8: (60 digits, 66-byte scannable form), the side with the smaller digits first."""
    first, second = sorted([side_a, side_b], key=lambda s: s[0])
    return first[0] + second[0], TAG_SCANNABLE + first[1][:32] + second[1][:32]


def decode_scanned(data):
    """S8, what `SafetyNumber::matches_scanned` reads before comparing: 0xFF 0x61, then
    32 + 32 bytes; a fixed-size format, so 67 bytes are TooLong (§2.1 rule 5)."""
    r = Reader(data, TAG_SCANNABLE, 66)
    body = r.take(64)
    r.finish()
    return TAG_SCANNABLE + body


def matches_scanned(own_scannable, data):
    return hmac.compare_digest(decode_scanned(data), own_scannable)


# S6.5 a bundle's certificate

def check_bundle_certificate(bundle, trust, address, now):
    """S6.5, in order: present (Missing); its chain validates at `now` (§9.5); it certifies
    the bundle's identity key (IdentityMismatch); it certifies `address` (AddressMismatch)."""
    b = decode_bundle(bundle)
    if b["certificate"] is None:
        raise error("Certificate", "Missing")
    c = decode_sender_certificate(b["certificate"])
    validate_certificate(c, trust, now)
    if c["ik"] != b["ik"]:
        raise error("Certificate", "IdentityMismatch")
    if (c["app_id"], c["user_id"], c["device_id"]) != decode_address(address):
        raise error("Certificate", "AddressMismatch")


# ---- negative vectors (README "Errors") -----------------------------------------------------------

DECODERS = {
    "IdentityKey": decode_identity_key,
    "X25519PublicKey": decode_x25519_public_key,
    "CertificateKey": decode_certificate_key,
    "IdentityKeyPair": decode_identity_key_pair,
    "PreKeyBundle": decode_bundle,
    "InitialMessage": decode_initial_message,
    "TrustRoot": decode_trust_root,
    "Session": decode_session,
    "MultiRecipientEnvelope": decode_multi,
    "Address": decode_address,
    "RemoteIdentity": decode_remote_identity,
    "DeviceList": decode_device_list,
    "SessionRecord": decode_session_record,
    "Account": decode_account,
    "SafetyNumber::matches_scanned": decode_scanned,
    "Received": decode_received,
    "Sent": decode_sent,
    "GroupMessage": decode_group_message,
    "SenderKeyDistribution": decode_distribution,
    "SenderKeyRecord": decode_sender_key_record,
    "GroupRecord": decode_group_record,
}


def run_operation(v):
    op = v["operation"]
    if op == "verify signed prekey":
        verify_signed_prekey(h(v["identity"]), h(v["input"]))
    elif op == "initiate":
        rng = Rng(v["rng"])
        try:
            initiate(Identity(h(v["initiator_identity_seed"])), h(v["bundle"]), rng)
        finally:
            rng.all_used("initiate")
    elif op in ("accept", "accept twice"):
        identity, store = Identity(h(v["responder_identity_seed"])), PreKeyStore(v["responder_prekeys"])
        if op == "accept twice":
            accept(identity, store, h(v["input"]))
        accept(identity, store, h(v["input"]))
    elif op == "decrypt":
        state = h(v["session_state"])
        session = decode_session(state)
        check("decoded state re-encodes", session.encode(), state)
        try:
            session.decrypt(h(v["input"]))
        finally:
            check("decrypt: state unchanged", session.encode(), state)
    elif op == "encrypt":
        state = h(v["session_state"])
        session = decode_session(state)
        check("decoded state re-encodes", session.encode(), state)
        plaintext = bytes(v["plaintext_length"]) if "plaintext_length" in v else h(v["plaintext"])
        rng = Rng(v["rng"])
        try:
            session.encrypt(plaintext, rng)
        finally:
            rng.all_used("encrypt")
            check("encrypt: state unchanged", session.encode(), state)
    elif op == "seal":
        rng = Rng(v["rng"])
        try:
            seal(Identity(h(v["sender_identity_seed"])), h(v["sender_certificate"]),
                 [h(r["identity"]) for r in v["recipients"]], [h(r["message"]) for r in v["recipients"]],
                 rng, v["padded"])
        finally:
            rng.all_used("seal")
    elif op == "seal group":
        rng = Rng(v["rng"])
        try:
            seal(Identity(h(v["sender_identity_seed"])), h(v["sender_certificate"]), [h(r) for r in v["recipients"]],
                 None, rng, v["padded"], group_message=h(v["group_message"]))
        finally:
            rng.all_used("seal group")
    elif op == "group encrypt":
        key = SenderKey.generate(Rng(v["sender_key_rng"]))
        rng = Rng(v["rng"])
        try:
            key.encrypt(h(v["group_id"]), bytes(v["plaintext_length"]), rng)
        finally:
            rng.all_used("group encrypt")
            check("group encrypt: the chain did not move", key.iteration, 0)
    elif op == "unseal":
        unseal(Identity(h(v["recipient_identity_seed"])), TrustStore(v["trust"]), v["now"], h(v["input"]))
    else:
        sys.exit(f"unknown operation {op!r}")


def negative_vectors(doc):
    global refused
    for v in doc["negative"]:
        what = f"{doc['family']} negative {v['description']!r}"
        try:
            if "decoder" in v:
                DECODERS[v["decoder"]](h(v["input"]))
            else:
                run_operation(v)
        except Refused as e:
            if (e.code, e.name) != (v["error"]["code"], v["error"]["name"]):
                sys.exit(f"MISMATCH {what}:\n  got  {e.code} {e.name}\n  want {v['error']['code']} {v['error']['name']}")
            refused += 1
            continue
        sys.exit(f"MISMATCH {what}: accepted, want {v['error']['code']} {v['error']['name']}")


# ---- families -------------------------------------------------------------------------------------

def load(name):
    return json.loads((HERE / name).read_text())


def check_fields(what, got, v, fields):
    for f in fields:
        check(f"{what} {f}", got[f], h(v[f]) if isinstance(v[f], str) else v[f])


def identity_family():
    doc = load("identity.json")
    for v in doc["vectors"]:
        name = v["name"]
        rng = Rng(v["rng"])
        ident = Identity.generate(rng)
        rng.all_used(name)
        check(f"{name} draw's key is odd", is_odd(ed25519_public(h(v["rng"][0]))), v["draw_public_is_odd"])
        check(f"{name} seed", ident.seed, v["seed"])
        check(f"{name} ed25519 public", ident.ed, v["ed25519_public"])
        check(f"{name} x25519 scalar", ident.scalar, v["x25519_scalar"])
        check(f"{name} x25519 public", ident.x, v["x25519_public"])
        # The X25519 form computed the other way, scalar times the base point (§3).
        check(f"{name} x25519 public from the scalar", x25519_public(ident.scalar), v["x25519_public"])
        check(f"{name} encoded public", ident.encoded(), v["encoded_public"])
        check(f"{name} decodes", decode_identity_key(ident.encoded()), ident.ed)
        check(f"{name} stored pair", ident.encoded_pair(), v["encoded_key_pair"])
        check(f"{name} stored pair decodes", decode_identity_key_pair(ident.encoded_pair()).ed, ident.ed)
        peer = v["dh_with_peer"]
        peer_public = x25519_public(h(peer["peer_secret"]))
        check(f"{name} peer public", peer_public, peer["peer_public"])
        out = dh(ident.scalar, peer_public, AssertionError())
        check(f"{name} dh with peer", out, peer["output"])
        check(f"{name} dh with peer, the other side", x25519(h(peer["peer_secret"]), ident.x), peer["output"])
        # The pure-Python X25519 against the library's.
        lib = X25519PrivateKey.from_private_bytes(ident.scalar).exchange(X25519PublicKey.from_public_bytes(peer_public))
        check(f"{name} dh with peer, cryptography", lib, peer["output"])
        spk = v["signed_prekey"]
        secret = h(spk["secret"])
        public = x25519_public(secret)
        check(f"{name} signed prekey public", public, spk["public"])
        message = signed_prekey_message(spk["id"], public)
        check(f"{name} signed prekey message", message, spk["signed_message"])
        signature = ident.sign(message)
        check(f"{name} signed prekey signature", signature, spk["signature"])
        record = encode_signed_prekey(spk["id"], public, signature)
        check(f"{name} signed prekey record", record, spk["public_record"])
        verify_signed_prekey(ident.encoded(), record)
        check(f"{name} signed prekey record decodes", decode_signed_prekey(record), (spk["id"], public, signature))
        check(f"{name} signed prekey stored pair", encode_signed_prekey_pair(spk["id"], secret, signature),
              spk["stored_pair"])
        opk = v["one_time_prekey"]
        secret = h(opk["secret"])
        check(f"{name} one-time prekey record", encode_one_time_prekey(opk["id"], x25519_public(secret)),
              opk["public_record"])
        check(f"{name} one-time prekey stored pair", encode_one_time_prekey_pair(opk["id"], secret), opk["stored_pair"])
        ck = CertificateKey(ident.seed)
        check(f"{name} certificate key", encode_ck(ck.ed), v["as_certificate_key"]["encoded_public"])
        check(f"{name} certificate key pair", ck.encoded_pair(), v["as_certificate_key"]["stored_pair"])
    negative_vectors(doc)


X3DH_SEND_FIELDS = ("root_key", "chain_key", "message_key", "nonce", "xchacha_subkey", "header",
                    "aead_associated_data", "ratchet_message")


def x3dh_family():
    doc = load("x3dh.json")
    for v in doc["vectors"]:
        name, i = v["name"], v["inputs"]
        alice, bob = Identity(h(i["alice_identity_seed"])), Identity(h(i["bob_identity_seed"]))
        spk = i["bob_signed_prekey"]
        spk_public = x25519_public(h(spk["secret"]))
        opk = i["bob_one_time_prekey"]
        opk_public = x25519_public(h(opk["secret"])) if opk else None
        signature = bob.sign(signed_prekey_message(spk["id"], spk_public))
        kp = i.get("bob_kem_prekey")
        kem, pair = None, None
        if kp:
            kem, pair = kem_prekey_family(name, bob, kp, v)
        bundle = encode_bundle(bob.ed, spk["id"], spk_public, signature, opk and opk["id"], opk_public, kem)
        check(f"{name} bundle", bundle, v["bundle"])
        check(f"{name} bundle decodes", encode_bundle(**decode_bundle(bundle)), bundle)
        rng = Rng(i["rng"])
        session, got = initiate(alice, bundle, rng)
        check(f"{name} dh count", len(got["dh"]), len(v["dh"]))
        for n, d in enumerate(got["dh"]):
            check(f"{name} DH{n + 1}", d, v["dh"][n])
        if kp:
            # §20.2 steps 3 and 6: m is the second draw, after EK_A.
            check(f"{name} m is the second draw", got["kem_m"], i["rng"][1])
            check(f"{name} KEM secret length", len(got["kem_shared_secret"]), KEM_SECRET_LEN)
            check_fields(name, got, v, ("kem_ciphertext", "kem_shared_secret"))
            check(f"{name} kdf_input ends with the KEM secret", got["kdf_input"][-32:], v["kem_shared_secret"])
        check(f"{name} kdf_input length", len(got["kdf_input"]), 32 + 32 * len(v["dh"]) + (32 if kp else 0))
        check_fields(name, got, v, ("alice_ephemeral_public", "kdf_input", "sk", "ad", "alice_ratchet_public",
                                    "ratchet_dh"))
        sent = session.encrypt(h(i["plaintext"]), rng)
        rng.all_used(name)
        check_fields(name, sent, v, X3DH_SEND_FIELDS)
        check(f"{name} initial message", sent["wire"], v["initial_message"])
        # The responder accepts it (§5.2, §20.3) and reads the plaintext.
        store = PreKeyStore({"signed": [spk], "one_time": [opk] if opk else [],
                             "kem": [kp] if kp else []})
        bob_session, got = accept(bob, store, sent["wire"])
        check(f"{name} accepted plaintext", got["plaintext"], h(i["plaintext"]))
        check(f"{name} one-time prekey consumed", len(store.one_time), 0)
        if kp:
            check(f"{name} decapsulated secret", got["kem_shared_secret"], v["kem_shared_secret"])
            kem_cross_check(name, pair, h(v["kem_ciphertext"]), h(v["kem_shared_secret"]))
            # §20.3 step 5: a one-time KEM prekey is deleted, a last-resort one stays.
            check(f"{name} KEM prekey kept", kp["id"] in store.kem, kp["kind"] == KEM_LAST_RESORT)
            pq_sessions(name, session, bob_session, sent["wire"])
    negative_vectors(doc)


def kem_prekey_family(name, bob, kp, v):
    """§4.4: the KEM prekey of a PQXDH vector, from its seed; returns it as the bundle
    carries it, and its key pair."""
    pair = KemKeyPair(h(kp["seed"]))
    check(f"{name} KEM public key", pair.public, v["kem_public_key"])
    check(f"{name} KEM public key passes the modulus check", mlkem_modulus_check(pair.public), True)
    message = kem_prekey_message(kp["id"], kp["kind"], pair.public)
    check(f"{name} KEM prekey signed message length", len(message), 1212)
    kem_signature = bob.sign(message)
    check(f"{name} KEM prekey signature", kem_signature, v["kem_prekey_signature"])
    kem = (kp["id"], kp["kind"], pair.public, kem_signature)
    verify_kem_prekey(bob.ed, kem)
    record = encode_kem_prekey(kem)
    check(f"{name} KEM prekey record decodes", decode_kem_prekey(record), kem)
    # §4.3: the fields follow the KEM flag, after the one-time prekey's fields if any.
    at = 1 + 33 + 4 + 33 + 64 + 1 + (4 + 33 if v["inputs"]["bob_one_time_prekey"] else 0) + 1
    check(f"{name} the bundle's KEM flag", h(v["bundle"])[at - 1], 1)
    check(f"{name} KEM prekey record is the bundle's fields after its tag", record[2:],
          h(v["bundle"])[at:at + KEM_PREKEY_FIELDS_LEN])
    check(f"{name} KEM prekey stored pair length",
          len(encode_kem_prekey_pair(kp["id"], kp["kind"], pair.seed, kem_signature)), 135)
    return kem, pair


def pq_sessions(name, alice, bob, initial):
    """§8.2 and §20.2 step 7 on the sessions of a PQXDH vector (no vector holds a stored
    PQXDH state): the initiator keeps CT while it awaits the reply, the responder only its
    SHA-256; each state re-encodes, and the KEM section's consistency checks hold."""
    a_state, b_state = alice.encode(), bob.encode()
    for who, state in (("initiator", a_state), ("responder", b_state)):
        check(f"{name} {who} state re-encodes", decode_session(state).encode(), state)
    ct = decode_initial_message(initial)["kem_ciphertext"]
    check(f"{name} initiator keeps CT", (alice.kem["ciphertext"], alice.kem["digest"]), (ct, sha256(ct)))
    check(f"{name} responder keeps CT's digest only", (bob.kem["ciphertext"], bob.kem["digest"]), (None, sha256(ct)))
    # The KEM section starts after the one-time prekey's fields; the awaiting flag follows it.
    at = 1 + 1 + 8 + 5 * 33 + 4 + (5 if alice.opk_id is not None else 1)
    section = b"\x01" + u32(alice.kem["id"]) + sha256(ct)
    check(f"{name} initiator's KEM section, CT kept, awaiting", a_state[at:at + 39 + KEM_CIPHERTEXT_LEN],
          section + b"\x01" + ct + b"\x01")
    check(f"{name} responder's KEM section, CT not kept, not awaiting", b_state[at:at + 39], section + b"\x00\x00")
    broken = {
        "a kept CT that does not hash to the digest": a_state[:at + 5] + xor(a_state[at + 5:at + 6], b"\x01")
        + a_state[at + 6:],
        "CT not kept while awaiting the reply": a_state[:at + 37] + b"\x00" + a_state[at + 38 + KEM_CIPHERTEXT_LEN:],
        "CT kept by a responder": b_state[:at + 37] + b"\x01" + ct + b_state[at + 38:],
    }
    for what, state in broken.items():
        try:
            decode_session(state)
            got = None
        except Refused as e:
            got = e.name
        check(f"{name} state with {what}", got, "Decode(InconsistentState)")
    # §8.1: the initial message delivered again matches the session (its KEM fields
    # included) and was decrypted: Duplicate. The responder's state does not change.
    try:
        bob.decrypt(initial)
        got = None
    except Refused as e:
        got = e.name
    check(f"{name} the initial message again", got, "Decrypt(Duplicate)")
    check(f"{name} responder state unchanged", bob.encode(), b_state)
    # A reply (its draws made up here: no vector gives them) ends the awaiting: the
    # initiator drops CT and keeps its digest.
    made_up = lambda label: sha256(b"verify.py: " + label)
    reply = bob.encrypt(b"reply", Rng([made_up(b"DHs").hex(), made_up(b"nonce")[:24].hex()]))
    alice.decrypt(reply["wire"])
    state = alice.encode()
    check(f"{name} initiator after the reply", (alice.awaiting, alice.kem["ciphertext"], alice.kem["digest"]),
          (False, None, sha256(ct)))
    check(f"{name} initiator state after the reply re-encodes", decode_session(state).encode(), state)
    check(f"{name} initiator's KEM section after the reply", state[at:at + 39], section + b"\x00\x00")


SEND_FIELDS = ("dh", "root_key", "chain_key", "message_key", "nonce", "xchacha_subkey", "header",
               "ratchet_message", "wire")
RECEIVE_FIELDS = ("plaintext", "dh", "root_key", "message_key")


def ratchet_family():
    """Replay the conversation (§6–§8) with this file's own ratchet."""
    doc = load("ratchet.json")
    s = doc["setup"]
    alice, bob = Identity(h(s["alice_identity_seed"])), Identity(h(s["bob_identity_seed"]))
    spk, opk = s["bob_signed_prekey"], s["bob_one_time_prekey"]
    spk_public, opk_public = x25519_public(h(spk["secret"])), x25519_public(h(opk["secret"]))
    bundle = encode_bundle(bob.ed, spk["id"], spk_public, bob.sign(signed_prekey_message(spk["id"], spk_public)),
                           opk["id"], opk_public)
    rng = Rng(s["alice_rng"])
    sessions = {}
    sessions["alice"], got = initiate(alice, bundle, rng)
    check("setup sk", got["sk"], s["sk"])
    check("setup ad", got["ad"], s["ad"])
    first = sessions["alice"].encrypt(h(s["first_message"]["plaintext"]), rng)
    rng.all_used("setup")
    check("setup first message", first["wire"], s["first_message"]["wire"])
    sessions["bob"], got = accept(bob, PreKeyStore({"signed": [spk], "one_time": [opk]}), first["wire"])
    check("setup first plaintext", got["plaintext"], s["first_message"]["plaintext"])
    wires = {0: first["wire"]}
    for e in doc["events"]:
        what = f"event {e['event']} {e['index']} by {e['by']}"
        session = sessions[e["by"]]
        if e["event"] == "send":
            rng = Rng(e["rng"])
            out = session.encrypt(h(e["plaintext"]), rng)
            rng.all_used(what)
            check_fields(what, out, e, SEND_FIELDS)
            wires[e["index"]] = out["wire"]
        else:
            out = session.decrypt(wires[e["index"]])
            check_fields(what, out, e, RECEIVE_FIELDS)
            check(f"{what} skipped keys held", session.ratchet.skipped_keys(), e["skipped_keys_held"])
            check(f"{what} ratchet state", session.ratchet.encode(), e["ratchet_state"])
    # The whole stored states (§8.2) at the end. Bob's is session-state.json's fourth
    # vector; the negative vectors that decrypt with Alice's or Bob's session use them.
    final = {encode_ik(sess.local_ik): (who, sess.encode()) for who, sess in sessions.items()}
    last = next(v for v in load("session-state.json")["vectors"] if "last receive by Bob" in v.get("note", ""))
    check("Bob's final stored state is session-state.json's", final[bob.encoded()][1], last["state"])
    for v in doc["negative"]:
        state = h(v["session_state"])
        if state[10:43] in final:   # the local identity key of the stored state
            who, mine = final[state[10:43]]
            check(f"{who}'s final stored state is that of negative {v['description']!r}", mine, state)
    # The message the "trailing byte" vector extends decrypts under the same state: the
    # vectors made from it by changing one field fail for that field alone.
    for v in doc["negative"]:
        if "trailing byte" in v["description"]:
            session = decode_session(h(v["session_state"]))
            session.decrypt(h(v["input"])[:-1])
            check("the unaltered message decrypts", session.generation, decode_session(h(v["session_state"])).generation + 1)
    negative_vectors(doc)


def session_state_family():
    doc = load("session-state.json")
    for v in doc["vectors"]:
        name = v["name"]
        state = h(v["state"])
        session = decode_session(state)
        check(f"{name} re-encodes", session.encode(), h(v["encodes_as"]) if "encodes_as" in v else state)
        check(f"{name} skipped keys", session.ratchet.skipped_keys(), v["skipped_keys"])
        if "next_message" in v:
            got = session.decrypt(h(v["next_message"]))
            check(f"{name} next plaintext", got["plaintext"], v["plaintext"])
            after = session.encode()
            if "state_after" in v:
                check(f"{name} state after", after, v["state_after"])
            else:
                check(f"{name} state after (SHA-256)", sha256(after), v["state_after_sha256"])
            check(f"{name} state after re-encodes", decode_session(after).encode(), after)
            if "then" in v:
                # README "Fields": a second message the same state receives after next_message.
                t = v["then"]
                got = session.decrypt(h(t["message"]))
                check(f"{name} then plaintext", got["plaintext"], t["plaintext"])
                after = session.encode()
                check(f"{name} then state after", after, t["state_after"])
                check(f"{name} then state after re-encodes", decode_session(after).encode(), after)
    # The negative decrypts start from one of the states above, or one reached from them.
    states = {v["state"] for v in doc["vectors"]} | {v["state_after"] for v in doc["vectors"] if "state_after" in v}
    for v in doc["negative"]:
        if v.get("operation") == "decrypt":
            check(f"session-state negative {v['description']!r} starts from a vector's state",
                  v["session_state"] in states, True)
    negative_vectors(doc)


def certificates_family(doc):
    """§9: the trust roots, the issuer and the sender certificate."""
    c = doc["certificates"]
    roots = {}
    for t in c["trust_roots"]:
        root = CertificateKey(h(t["root_seed"]))
        roots[t["app_id"]] = root
        encoded = encode_trust_root(root.ed, t["app_id"].encode())
        check(f"trust root {t['app_id']}", encoded, t["encoded"])
        check(f"trust root {t['app_id']} decodes", decode_trust_root(encoded), (root.ed, t["app_id"].encode()))
    i = c["issuer"]
    issuer = CertificateKey(h(i["issuer_seed"]))
    message, issuer_cert = issue_issuer_certificate(roots[i["app_id"]], i["key_id"], issuer.ed, i["app_id"].encode(),
                                                    i["not_before"], i["not_after"])
    check("issuer signed message", message, i["signed_message"])
    check("issuer certificate", issuer_cert, i["certificate"])
    s = c["sender"]
    sender = Identity(h(s["identity_seed"]))
    message, cert = issue_sender_certificate(issuer, issuer_cert, i["app_id"].encode(), h(s["user_id"]),
                                             s["device_id"], sender.ed, s["expires"])
    check("sender signed message", message, s["signed_message"])
    check("sender certificate", cert, s["certificate"])
    check("sender certificate fingerprint", decode_sender_certificate(cert)["fingerprint"], s["fingerprint"])
    revocation_covers_every_encoding(issuer.ed)
    return cert


def revocation_covers_every_encoding(ed):
    """§9.5 rule 3: revoking A revokes −A and A + T. The vectors revoke keys by their own
    encoding only, so this checks the comparison on the issuer key's other encodings."""
    a = ed_decompress(ed)
    q = next(q for q in (ed_decompress(y.to_bytes(32, "little")) for y in range(2, 64)) if q is not None
             and not ed_is_identity(ed_mul(4, ed_mul(ELL, q))))
    t = ed_mul(ELL, q)                                       # a point of order 8
    for what, other in (("−A", ed_compress(ed_neg(a))), ("A + T", ed_compress(ed_add(a, t)))):
        check(f"revoking the issuer key revokes {what}", revocation_id(other), revocation_id(ed))
    check("a key of the same secret is another encoding", ed_compress(ed_neg(a)) != ed, True)


SEAL_FIELDS = ("ephemeral_public", "content", "padding_length", "payload_key", "payload_nonce", "commitment",
               "payload", "payload_hash")
SHARE_FIELDS = ("recipient", "ephemeral_dh", "wrap_key", "wrapped_secret", "static_dh", "auth_key", "tag",
                "envelope_prefix")


def check_sealed(name, v, sender, recipients, messages, padded, distribution=False, group_message=None):
    rng = Rng(v["rng"])
    out = seal(sender, h(v["sender_certificate"]), [r.encoded() for r in recipients], messages, rng, padded,
               distribution, group_message)
    rng.all_used(name)
    check_fields(name, out, v, SEAL_FIELDS)
    check(f"{name} shares", len(out["shares"]), len(v["shares"]))
    for n, (got, want) in enumerate(zip(out["shares"], v["shares"])):
        check_fields(f"{name} share {n}", got, want, SHARE_FIELDS)
        # §2.3: the static DH computed on the Edwards curve is the same.
        check(f"{name} share {n} static dh (Edwards)", dh_edwards(recipients[n].scalar, sender.ed), want["static_dh"])
    multi = decode_multi(out["multi_recipient_envelope"])
    check(f"{name} multi-recipient envelope re-encodes",
          encode_multi(multi["e"], multi["k_c"], multi["shares"], multi["payload"]), out["multi_recipient_envelope"])
    splits = split(multi)
    for n, envelope in enumerate(splits):
        check(f"{name} split {n} prefix", envelope[:ENVELOPE_PREFIX_LEN], out["shares"][n]["envelope_prefix"])
        if padded:
            check(f"{name} split {n} length is a bucket",
                  len(envelope) >= MIN_PADDED_ENVELOPE_LEN and len(envelope) & (len(envelope) - 1) == 0, True)
    return out, splits


def check_unsealed(name, recipient, envelope, unsealed, message, distribution=False):
    got = unseal(recipient, TrustStore(unsealed["trust"]), unsealed["now"], envelope)
    check(f"{name} unsealed message", got["message"], message)
    check(f"{name} unsealed content type", got["content_type"], message_type(message))
    check(f"{name} unsealed as a distribution", got["distribution"], distribution)
    for f in ("app_id", "user_id", "device_id", "identity_key", "content_type", "distribution"):
        if f in unsealed:
            want = unsealed[f]
            want = want.encode() if f == "app_id" else h(want) if isinstance(want, str) else want
            check_vector(f"{name} unsealed {f}", got[f], want)
    return got


def sealed_family():
    doc = load("sealed.json")
    cert = certificates_family(doc)
    for v in doc["vectors"]:
        name = v["name"]
        check(f"{name} certificate", h(v["sender_certificate"]), cert)
        sender, recipient = Identity(h(v["sender_identity_seed"])), Identity(h(v["recipient_identity_seed"]))
        message = h(v["inner_message"])
        _, splits = check_sealed(name, v, sender, [recipient], [message], v["padded"])
        check(f"{name} envelope", splits[0], v["envelope"])
        check(f"{name} envelope decodes", decode_sealed_envelope(splits[0])["payload"], h(v["payload"]))
        check(f"{name} envelope's recipient, decoded fully", decode_sealed_envelope(splits[0], True)["recipient"],
              recipient.encoded())
        check_unsealed(name, recipient, splits[0], v["unsealed"], message)
    negative_vectors(doc)


def rebuild_certificate(name, v, sender):
    """The sender certificate, rebuilt from `certificate_authority` (README "Fields"): the root
    certifies the issuer, the issuer this sender. The issuer certificate's key id and window
    are not given separately: they are read from its encoding."""
    ca = v["certificate_authority"]
    app_id = ca["app_id"].encode()
    root, issuer = CertificateKey(h(ca["root_seed"])), CertificateKey(h(ca["issuer_seed"]))
    roots = {r["app_id"]: r["key"] for r in v["unsealed"]["trust"]["roots"]}
    check(f"{name} root key is the trust store's", root.ed, roots[ca["app_id"]])
    given = decode_issuer_certificate(h(ca["issuer_certificate"]))
    check(f"{name} issuer certificate's key", given["key"], issuer.ed)
    _, issuer_cert = issue_issuer_certificate(root, given["key_id"], issuer.ed, app_id, given["not_before"],
                                              given["not_after"])
    check(f"{name} issuer certificate, rebuilt", issuer_cert, ca["issuer_certificate"])
    _, rebuilt = issue_sender_certificate(issuer, issuer_cert, app_id, h(ca["sender_user_id"]),
                                          ca["sender_device_id"], sender.ed, ca["sender_expires"])
    check(f"{name} sender certificate, rebuilt", rebuilt, v["sender_certificate"])


def multi_recipient_family():
    doc = load("multi-recipient.json")
    for v in doc["vectors"]:
        name = v["name"]
        sender = Identity(h(v["sender_identity_seed"]))
        recipients = [Identity(h(s)) for s in v["recipient_identity_seeds"]]
        messages = [h(m) for m in v["messages"]]
        rebuild_certificate(name, v, sender)
        out, splits = check_sealed(name, v, sender, recipients, messages, True)
        check(f"{name} multi-recipient envelope", out["multi_recipient_envelope"], v["multi_recipient_envelope"])
        check(f"{name} splits", len(splits), len(v["split_envelopes"]))
        for n, (r, envelope) in enumerate(zip(recipients, splits)):
            check(f"{name} split envelope {n}", envelope, v["split_envelopes"][n])
            check_unsealed(f"{name} split {n}", r, envelope, v["unsealed"], messages[n])
    for v in doc["negative"]:
        if "secrets" in v:
            # The two secrets' payload keys both open the payload (the commitment is what refuses).
            env = decode_sealed_envelope(h(v["input"]))
            contents = [aead_open(*payload_keys(h(m))[:2], encode_pk(env["e"]), env["payload"]) for m in v["secrets"]]
            check("payload opens under both secrets", [c is not None for c in contents], [True, True])
            check("the two secrets open it to different contents", contents[0] != contents[1], True)
            check("commitment is of one secret",
                  [payload_keys(h(m))[2] == env["k_c"] for m in v["secrets"]].count(True), 1)
    negative_vectors(doc)


def sessions_family():
    """docs/sessions.md §2, §3, §6.5, §8 (prefixed S below)."""
    doc = load("sessions.json")
    for v in doc["addresses"]:
        name = f"address {v['text']!r}"
        fields = (v["app_id"].encode(), h(v["user_id"]), v["device_id"])
        encoded = encode_address(*fields)
        check(f"{name} encoding", encoded, v["encoding"])
        check(f"{name} decodes", decode_address(encoded), fields)
        check(f"{name} text", address_text(*fields), v["text"])
    for v in doc["safety_numbers"]:
        name = f"safety number {v['name']!r}"
        sides = []
        for side in ("a", "b"):
            s = v[side]
            ident = Identity(h(s["identity_seed"]))
            check(f"{name} {side} identity key", ident.encoded(), s["identity_key"])
            address = h(s["address"])
            check(f"{name} {side} address re-encodes", encode_address(*decode_address(address)), address)
            final = safety_hash(ident.encoded(), address)
            check(f"{name} {side} H_5200", final, s["h_5200"])
            check(f"{name} {side} digits", safety_digits(final), s["digits"])
            sides.append((safety_digits(final), final))
        number, scannable = safety_number(*sides)
        check(f"{name} safety number", number, v["safety_number"])
        check(f"{name} safety number, the other side's view", safety_number(sides[1], sides[0])[0], v["safety_number"])
        check(f"{name} scannable", scannable, v["scannable"])
        check(f"{name} matches its scannable form", matches_scanned(scannable, scannable), True)
        other = bytearray(scannable)
        other[-1] ^= 1
        check(f"{name} does not match another", matches_scanned(scannable, bytes(other)), False)
    for v in doc["records"]:
        kind = v["kind"]
        name = f"{kind} {v.get('name', '')!r}"
        want = h(v["encoding"])
        if kind == "remote identity":
            ident = Identity(h(v["identity_seed"]))
            trust = {"accepted": TRUST_ACCEPTED, "verified": TRUST_VERIFIED}[v["trust"]]
            replaced = [(Identity(h(x["identity_seed"])).ed, x["replaced_at"]) for x in v["replaced"]]
            check(f"{name} encoding", encode_remote_identity(ident.ed, trust, v["since"], replaced), want)
            got = decode_remote_identity(want)
            check(f"{name} decodes", (got["ed"], got["x"], got["trust"], got["since"], got["replaced"]),
                  (ident.ed, ident.x, trust, v["since"], replaced))
        elif kind == "device list":
            check(f"{name} encoding", encode_device_list(v["devices"]), want)
            check(f"{name} decodes", decode_device_list(want), sorted(set(v["devices"])))
        elif kind == "session record":
            entry = lambda e: None if e is None else dict(e, state=h(e["session_state"]))
            current, archived = entry(v["current"]), [entry(e) for e in v["archived"]]
            for e in ([current] if current else []) + archived:
                check(f"{name} session state re-encodes", decode_session(e["state"]).encode(), e["state"])
            refused = h(v["refused_base_key"])
            check(f"{name} encoding", encode_session_record(v["revision"], current, archived, refused), want)
            got = decode_session_record(want)
            plain = lambda e: None if e is None else (e["superseded"], e["created"], e["epoch"], e["state"])
            check(f"{name} decodes", (got["revision"], plain(got["current"]), [plain(e) for e in got["archived"]],
                                      got["refused"]),
                  (v["revision"], plain(current), [plain(e) for e in archived], refused))
            check(f"{name} re-encodes",
                  encode_session_record(got["revision"], got["current"], got["archived"], got["refused"]), want)
        elif kind == "account":
            a = {"revision": v["revision"], "address": h(v["address"]), "seed": h(v["identity_seed"]),
                 "certificate": h(v["certificate"]), "signed_prekey_id": v["signed_prekey"]["id"],
                 "signed_prekey_created": v["signed_prekey"]["created"],
                 "retired": [(x["id"], x["since"]) for x in v["retired"]],
                 "next_signed_prekey_id": v["next_signed_prekey_id"],
                 "next_one_time_prekey_id": v["next_one_time_prekey_id"], "unpublished_from": v["unpublished_from"],
                 "epoch": v["epoch"], "published_epoch": v["published_epoch"]}
            check(f"{name} encoding", encode_account(a), want)
            check(f"{name} decodes", decode_account(want), a)
        else:
            sys.exit(f"unknown record kind {kind!r}")
    for v in doc["kept_messages"]:
        name = f"kept {v['kind']} message"
        want = h(v["encoding"])
        check(f"{name} id", message_id(h(v["envelope"])), h(v["id"]))
        if v["kind"] == "received":
            m = {"id": h(v["id"]), "from": h(v["from"]), "identity": Identity(h(v["identity_seed"])).ed,
                 "event": v["identity_event"], "new_session": v["new_session"], "listed": v["listed"],
                 "kind": v["received_kind"], "group_id": h(v["group_id"]), "plaintext": h(v["plaintext"]),
                 "previous": Identity(h(v["previous_identity_seed"])).ed if v["previous_identity_seed"] else None}
            check(f"{name} decodes", decode_received(want), m)
            if v["version"] == 1:
                # Read as a direct message, written again as version 2.
                check(f"{name} version 1's tag", want[:2], TAG_RECEIVED_V1)
                check(f"{name} re-encoding", encode_received(m), v["re_encoding"])
            else:
                check(f"{name} encoding", encode_received(m), want)
        else:
            m = {"id": h(v["id"]), "envelope": h(v["envelope"]),
                 "recipients": [(h(x["address"]), Identity(h(x["identity_seed"])).ed) for x in v["recipients"]],
                 "missing": [h(x) for x in v["missing"]], "denied": [h(x) for x in v["denied"]]}
            check(f"{name} encoding", encode_sent(m), want)
            check(f"{name} decodes", decode_sent(want), m)
    b = doc["bundle_certificates"]
    trust = TrustStore(b["trust"])
    for v in b["checks"]:
        name = f"bundle certificate check {v['description']!r}"
        bundle = h(v["bundle"])
        d = decode_bundle(bundle)
        check(f"{name} bundle re-encodes", encode_bundle(**d), bundle)
        # The bundle's own signed prekey verifies (§5.1 step 1): only its certificate is at issue.
        check(f"{name} signed prekey signature",
              verify_strict(d["ik"], signed_prekey_message(d["spk_id"], d["spk"]), d["signature"]), True)
        try:
            check_bundle_certificate(bundle, trust, h(v["address"]), b["now"])
            got = None
        except Refused as e:
            got = {"code": e.code, "name": e.name}
        check(f"{name} outcome", got, v["error"])
    negative_vectors(doc)


GROUP_FIELDS = ("chain_key", "message_key_seed", "next_chain_key", "aead_key", "commitment", "nonce", "xchacha_subkey",
                "header", "ciphertext", "signed", "signature", "encoding")


def group_family():
    """§21: sender keys, group messages, distributions, a member's record, stored records, and the
    sealed group upload and distributions."""
    doc = load("group.json")
    group_id = h(doc["group_id"])

    def fresh(index):
        """Sender key `index` as generated from its draws."""
        return SenderKey.generate(Rng(doc["sender_keys"][index]["rng"]))

    for n, v in enumerate(doc["sender_keys"]):
        name = f"sender key {n}"
        rng = Rng(v["rng"])
        key = SenderKey.generate(rng)
        rng.all_used(name)
        check(f"{name} chain id is the first draw, big-endian", key.chain_id, v["chain_id"])
        check(f"{name} chain key", key.chain_key, v["chain_key"])
        check(f"{name} signing seed", key.seed, v["signing_seed"])
        check(f"{name} signing public key", key.public, v["signing_public"])
        check(f"{name} signing public key's x is odd", is_odd(key.public), v["signing_public_is_odd"])
        check(f"{name} signing public key decodes", decode_certificate_point(key.public), key.public)

    # The chain: every intermediate, then the message decoded, verified and opened.
    key = fresh(doc["chain"]["sender_key"])
    for v in doc["chain"]["messages"]:
        name = f"group message {v['iteration']}"
        check(f"{name} iteration", key.iteration, v["iteration"])
        rng = Rng(v["rng"])
        out = key.encrypt(group_id, h(v["plaintext"]), rng)
        rng.all_used(name)
        check_fields(name, out, v, GROUP_FIELDS)
        m = decode_group_message(out["encoding"])
        check(f"{name} decodes", (m["group_id"], m["chain_id"], m["iteration"], m["nonce"], m["commitment"],
                                  m["header"], m["ciphertext"], m["signed"], m["signature"]),
              (group_id, key.chain_id, v["iteration"], h(v["nonce"]), h(v["commitment"]), h(v["header"]),
               h(v["ciphertext"]), h(v["signed"]), h(v["signature"])))
        check(f"{name} commitment is the second half of the key's expansion",
              hkdf(ZERO32, h(v["message_key_seed"]), GROUP_MESSAGE_KEY_INFO, 64), h(v["aead_key"]) + h(v["commitment"]))
        check(f"{name} signature verifies", verify_strict(key.public, m["signed"], m["signature"]), True)
        check(f"{name} opens", xaead_open(h(v["aead_key"]), m["nonce"], m["header"], m["ciphertext"]), h(v["plaintext"]))

    for v in doc["distributions"]:
        name = f"distribution of sender key {v['sender_key']} at {v['iteration']}"
        key = fresh(v["sender_key"])
        key.advance(v["iteration"])
        check(f"{name} chain key", key.chain_key, v["chain_key"])
        encoding = key.distribution(group_id)
        check(f"{name} encoding", encoding, v["encoding"])
        d = decode_distribution(encoding)
        check(f"{name} decodes", encode_distribution(d["group_id"], d["chain_id"], d["iteration"], d["chain_key"],
                                                     d["signing_key"]), encoding)

    def rebuild(origin):
        """An arriving message from its origin: the sender key's message at that iteration,
        then the alteration (one byte XOR 0x01, and signed again with the chain's key)."""
        key = fresh(origin["sender_key"])
        key.advance(origin["iteration"])
        message = bytearray(key.encrypt(group_id, h(origin["plaintext"]), Rng([origin["nonce"]]))["encoding"])
        alteration = origin["alteration"]
        if alteration:
            message[alteration["flip"]] ^= 1
            if alteration["signed_again"]:
                message[-64:] = ed25519_sign(key.seed, bytes(message[:-64]))
        return bytes(message)

    def run_steps(what, record, steps):
        afters = []
        for n, v in enumerate(steps, 1):
            name = f"{what} step {n} ({v['description']})"
            sender = decode_identity_key(h(v["sender_identity"]))
            if v["action"] == "process":
                check(f"{name} changed", record.process(sender, h(v["distribution"])), v["changed"])
            else:
                message = h(v["message"])
                check(f"{name} message, rebuilt from its origin", rebuild(v["origin"]), message)
                if "without_commitment_check" in v:
                    # The key the record derives for the message opens it, though the commitment
                    # is another key's: only the commitment refuses it.
                    m = decode_group_message(message)
                    chain = next(c for c in record.chains if c["chain_id"] == m["chain_id"])
                    check(f"{name} is ahead of the chain", m["iteration"] >= chain["next"], True)
                    ck = chain["chain_key"]
                    for _ in range(chain["next"], m["iteration"]):
                        ck = mac(ck, b"\x02")
                    key, commitment = group_message_key(mac(ck, b"\x01"))
                    check(f"{name} commitment is not the record's key's", commitment != m["commitment"], True)
                    check(f"{name} opens under the record's key without the commitment check",
                          xaead_open(key, m["nonce"], m["header"], m["ciphertext"]),
                          h(v["without_commitment_check"]["plaintext"]))
                before = record.encode()
                try:
                    got, err = record.decrypt(sender, message), None
                except Refused as e:
                    got, err = None, {"code": e.code, "name": e.name}
                    check(f"{name} record unchanged", record.encode(), before)
                check(f"{name} plaintext", got, h(v["plaintext"]))
                check(f"{name} error", err, v["error"])
            check(f"{name} keys held", record.skipped(), v["skipped_keys_held"])
            after = record.encode()
            if "record_after" in v:
                check(f"{name} record after", after, v["record_after"])
            else:
                check(f"{name} record after (SHA-256)", sha256(after), v["record_after_sha256"])
            afters.append(after)
        return afters

    receiver = doc["receiver"]
    afters = run_steps("receiver", SenderKeyRecord(), receiver["steps"])
    check("receiver's sender is the step's sender", encode_ik(Identity(h(receiver["sender_identity_seed"])).ed),
          h(receiver["steps"][0]["sender_identity"]))

    for v in doc["sender_key_records"]:
        name = f"sender key record {v['name']!r}"
        record = SenderKeyRecord(v["revision"], h(v["identity"])[1:] if v["identity"] else None, [
            {"chain_id": c["chain_id"], "signing_key": h(c["signing_key"]), "start": c["start"], "next": c["next"],
             "chain_key": h(c["chain_key"]), "unknown_below": c["unknown_below"],
             "keys": [(k["iteration"], h(k["message_key_seed"])) for k in c["skipped_keys"]],
             "dropped": [(d["start"], d["end"]) for d in c["dropped"]]} for c in v["chains"]], list(v["retired"]))
        want = h(v["encoding"])
        check(f"{name} encoding", record.encode(), want)
        decoded = decode_sender_key_record(want)
        check(f"{name} decodes", (decoded.revision, decoded.identity, decoded.chains, decoded.retired),
              (record.revision, record.identity, record.chains, record.retired))
        if "after_receiver_step" in v:
            check(f"{name} is the receiver's record then", want, afters[v["after_receiver_step"] - 1])
        if "decrypts" in v:
            run_steps(name, decoded, v["decrypts"])

    for v in doc["group_records"]:
        name = f"group record {v['name']!r}"
        key = None
        if v["sender_key"]:
            k = v["sender_key"]
            key = SenderKey(k["chain_id"], k["iteration"], h(k["chain_key"]), h(k["signing_seed"]))
            check(f"{name} sender key's public key", key.public, k["signing_public"])
            # It is the chain of sender key `sender_key` at that iteration.
            same = fresh(k["sender_key"])
            same.advance(k["iteration"])
            check(f"{name} sender key's chain", (same.chain_id, same.chain_key, same.seed),
                  (key.chain_id, key.chain_key, key.seed))
        g = {"revision": v["revision"], "group_id": h(v["group_id"]),
             "members": [(x["app_id"].encode(), h(x["user_id"])) for x in v["members"]],
             "sender_key": key, "key_epoch": v["key_epoch"], "rotate": v["rotation_pending"],
             "distributed": [(decode_address(h(x["address"])), decode_identity_key(h(x["identity_key"])))
                             for x in v["distributed"]],
             "senders": [decode_address(h(x)) for x in v["senders"]]}
        want = h(v["encoding"])
        check(f"{name} encoding", encode_group_record(g), want)
        decoded = decode_group_record(want)
        decoded["sender_key"] = decoded["sender_key"] and decoded["sender_key"].stored()
        g["sender_key"] = key and key.stored()
        check(f"{name} decodes", decoded, g)

    for v in doc["sealed_group"]:
        name = f"sealed group {v['name']!r}"
        sender = Identity(h(v["sender_identity_seed"]))
        recipients = [Identity(h(x)) for x in v["recipient_identity_seeds"]]
        rebuild_certificate(name, v, sender)
        message = h(v["group_message"])
        out, splits = check_sealed(name, v, sender, recipients, None, v["padded"], group_message=message)
        check(f"{name} multi-recipient envelope", out["multi_recipient_envelope"], v["multi_recipient_envelope"])
        check(f"{name} splits", len(splits), len(v["split_envelopes"]))
        decrypted = v["decrypted"]
        for n, (r, envelope) in enumerate(zip(recipients, splits)):
            check(f"{name} split envelope {n}", envelope, v["split_envelopes"][n])
            got = check_unsealed(f"{name} split {n}", r, envelope, v["unsealed"], message)
            record = SenderKeyRecord()
            record.process(sender.ed, h(decrypted["distribution"]))
            check(f"{name} split {n} group plaintext", record.decrypt(sender.ed, got["message"]), decrypted["plaintext"])

    for v in doc["sealed_distributions"]:
        name = f"sealed distribution {v['name']!r}"
        sender = Identity(h(v["sender_identity_seed"]))
        recipients = [Identity(h(x)) for x in v["recipient_identity_seeds"]]
        messages = [h(m) for m in v["messages"]]
        rebuild_certificate(name, v, sender)
        out, splits = check_sealed(name, v, sender, recipients, messages, v["padded"], distribution=True)
        check(f"{name} multi-recipient envelope", out["multi_recipient_envelope"], v["multi_recipient_envelope"])
        check(f"{name} split envelope", splits, [h(x) for x in v["split_envelopes"]])
        got = check_unsealed(name, recipients[0], splits[0], v["unsealed"], messages[0], distribution=True)
        # The receiver's session opens the message: its plaintext is a distribution message.
        state = h(v["receiver_session_state"])
        session = decode_session(state)
        check(f"{name} receiver's state re-encodes", session.encode(), state)
        check(f"{name} session's peer is the sealer", session.peer_ik, sender.ed)
        plaintext = session.decrypt(got["message"])["plaintext"]
        check(f"{name} inner plaintext", plaintext, v["inner_plaintext"])
        check(f"{name} inner plaintext is a distribution", plaintext in [h(d["encoding"]) for d in doc["distributions"]],
              True)
        decode_distribution(plaintext)
    negative_vectors(doc)


def main():
    check_hchacha20()
    check_mlkem_modulus_check()
    limits_are_consistent()
    session_limits_are_consistent()
    print(f"{'constants':16} {checked:5} values")
    for family in (identity_family, x3dh_family, ratchet_family, session_state_family, sealed_family,
                   multi_recipient_family, sessions_family, group_family):
        before, before_negative = checked, refused
        family()
        print(f"{family.__name__[:-7].replace('_', '-'):16} {checked - before:5} values "
              f"{refused - before_negative:3} negative vectors match")
    print(f"all {checked} values and {refused} negative vectors match")


if __name__ == "__main__":
    main()
