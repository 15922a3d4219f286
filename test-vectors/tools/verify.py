#!/usr/bin/env python3
"""Reproduce sealwire's test vectors from docs/protocol.md alone.

A third implementation of the protocol, in Python with the `cryptography`
package: it shares nothing with the Rust code. From each vector's secrets it
recomputes every intermediate value and output and compares them with the
files. Section numbers refer to docs/protocol.md.

Run: python3 test-vectors/tools/verify.py   (exit status 0 when all match)
"""

import hashlib
import hmac
import json
import pathlib
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HERE = pathlib.Path(__file__).resolve().parent.parent
P = 2**255 - 19
checked = 0


def check(what, got, want):
    global checked
    if isinstance(want, str):
        want = bytes.fromhex(want)
    if got != want:
        sys.exit(f"MISMATCH {what}:\n  got  {got.hex() if isinstance(got, bytes) else got}\n  want {want.hex() if isinstance(want, bytes) else want}")
    checked += 1


def h(s):
    return bytes.fromhex(s)


# ---- §1 notation ------------------------------------------------------------------

def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def with_len(b):
    return u32(len(b)) + b


def hkdf(salt, ikm, info, length):
    return HKDF(hashes.SHA256(), length, salt, info).derive(ikm)


def mac(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def x25519(scalar, u):
    return X25519PrivateKey.from_private_bytes(scalar).exchange(X25519PublicKey.from_public_bytes(u))


def x25519_public(scalar):
    return x25519(scalar, (9).to_bytes(32, "little"))


def seal(key, nonce, ad, pt):
    return ChaCha20Poly1305(key).encrypt(nonce, pt, ad)


def open_(key, nonce, ad, ct):
    return ChaCha20Poly1305(key).decrypt(nonce, ct, ad)


# ---- §2.2, §3 keys ------------------------------------------------------------------

def ed25519_to_x25519(ed):
    """§3: u = (1 + y) / (1 - y) mod p, y being the encoding without its sign bit."""
    y = int.from_bytes(ed, "little") & ((1 << 255) - 1)
    return ((1 + y) * pow(1 - y, P - 2, P) % P).to_bytes(32, "little")


def encode_ik(ed):
    return b"\x01" + ed


def encode_pk(x):
    return b"\x02" + x


def encode_ck(ed):
    return b"\x04" + ed


class Identity:
    """§3: an Ed25519 key pair used for DH in its X25519 form."""

    def __init__(self, seed):
        self.seed = seed
        self.key = Ed25519PrivateKey.from_private_bytes(seed)
        self.ed = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.scalar = hashlib.sha512(seed).digest()[:32]
        self.x_public = ed25519_to_x25519(self.ed)
        # The same key, computed the other way: scalar times the base point.
        assert self.x_public == x25519_public(self.scalar)

    def sign(self, m):
        return self.key.sign(m)

    def encoded(self):
        return encode_ik(self.ed)


# ---- §5 X3DH, §6 ratchet, §7 messages ---------------------------------------------------

def kdf_rk(rk, dh):
    okm = hkdf(rk, dh, b"sealwire/ratchet/root/v1", 64)
    return okm[:32], okm[32:]


def kdf_ck(ck):
    return mac(ck, b"\x02"), mac(ck, b"\x01")  # (next chain key, message key)


def message_keys(mk):
    okm = hkdf(b"\x00" * 32, mk, b"sealwire/ratchet/message/v1", 44)
    return okm[:32], okm[32:]


def header(dhs_public, pn, n):
    return b"\x31" + encode_pk(dhs_public) + u32(pn) + u32(n)


class Party:
    """§6.2: the specification's state, sending chain absent after a receive."""

    def __init__(self, ad, rk, sending, dhr):
        self.ad, self.rk, self.sending, self.dhr = ad, rk, sending, dhr
        self.pn, self.receiving, self.skipped = 0, None, []

    def encrypt(self, plaintext, draw):
        out = {}
        if self.sending is None:  # §6.5 step 2
            secret = draw()
            dh = x25519(secret, self.dhr)
            self.rk, ck = kdf_rk(self.rk, dh)
            self.sending = [secret, x25519_public(secret), ck, 0]
            out.update(rng=[secret], dh=dh)
        secret, public, ck, n = self.sending
        next_ck, mk = kdf_ck(ck)
        self.sending = [secret, public, next_ck, n + 1]
        key, nonce = message_keys(mk)
        hdr = header(public, self.pn, n)
        body = seal(key, nonce, self.ad + hdr, plaintext)
        out.update(root_key=self.rk, chain_key=ck, message_key=mk, aead_key=key, nonce=nonce,
                   header=hdr, ratchet_message=hdr + with_len(body))
        return out

    def decrypt(self, message):
        """§6.4, for honest input."""
        hdr, body = message[:42], message[46:]
        dhs, pn, n = hdr[2:34], int.from_bytes(hdr[34:38], "big"), int.from_bytes(hdr[38:42], "big")
        ad = self.ad + hdr
        for i, (k, m, mk) in enumerate(self.skipped):
            if k == dhs and m == n:
                del self.skipped[i]
                key, nonce = message_keys(mk)
                return {"plaintext": open_(key, nonce, ad, body), "dh": None, "root_key": self.rk,
                        "message_key": mk, "skipped": len(self.skipped)}
        dh = None
        if self.receiving is None or dhs != self.dhr:
            if self.receiving is not None:
                ck, nr = self.receiving
                assert pn - nr <= 1000, "MAX_SKIP"
                for m in range(nr, pn):
                    ck, mk = kdf_ck(ck)
                    self.skipped.append((self.dhr, m, mk))
            secret, _, _, ns = self.sending
            self.pn, self.sending = ns, None
            dh = x25519(secret, dhs)
            self.rk, ck = kdf_rk(self.rk, dh)
            self.dhr, self.receiving = dhs, (ck, 0)
        ck, nr = self.receiving
        assert n - nr <= 1000, "MAX_SKIP"
        for m in range(nr, n):
            ck, mk = kdf_ck(ck)
            self.skipped.append((dhs, m, mk))
        ck, mk = kdf_ck(ck)
        self.receiving = (ck, n + 1)
        key, nonce = message_keys(mk)
        return {"plaintext": open_(key, nonce, ad, body), "dh": dh, "root_key": self.rk,
                "message_key": mk, "skipped": len(self.skipped)}

    def encode_ratchet(self):
        """§8.2, from RK to the end."""
        out = self.rk + u32(self.pn) + encode_pk(self.dhr)
        if self.sending is None:
            out += b"\x00"
        else:
            secret, public, ck, n = self.sending
            out += b"\x01" + secret + encode_pk(public) + ck + u32(n)
        out += b"\x00" if self.receiving is None else b"\x01" + self.receiving[0] + u32(self.receiving[1])
        chains = []
        for k, m, mk in self.skipped:
            if chains and chains[-1][0] == k:
                chains[-1][1].append((m, mk))
            else:
                chains.append((k, [(m, mk)]))
        out += u32(len(chains))
        for k, keys in chains:
            out += encode_pk(k) + u32(len(keys)) + b"".join(u32(m) + mk for m, mk in keys)
        return out


def x3dh(alice, ek, bob, spk_public, opk_public):
    """§5.1."""
    dh = [x25519(alice.scalar, spk_public), x25519(ek, bob.x_public), x25519(ek, spk_public)]
    if opk_public is not None:
        dh.append(x25519(ek, opk_public))
    ikm = b"\xff" * 32 + b"".join(dh)
    sk = hkdf(b"\x00" * 32, ikm, b"sealwire/x3dh/v1", 32)
    return dh, ikm, sk, alice.encoded() + bob.encoded()


def initial_message(alice, base_key, spk_id, opk_id, ratchet_message):
    """§7.2."""
    out = b"\x21" + alice.encoded() + encode_pk(base_key) + u32(spk_id)
    out += b"\x00" if opk_id is None else b"\x01" + u32(opk_id)
    return out + with_len(ratchet_message)


def inner_ratchet_message(wire):
    """§7: the ratchet message itself, or the one inside an initial message."""
    if wire[0] == 0x31:
        return wire
    o = 1 + 33 + 33 + 4
    o += 5 if wire[o] == 1 else 1
    length = int.from_bytes(wire[o:o + 4], "big")
    assert len(wire) == o + 4 + length
    return wire[o + 4:]


def signed_prekey_message(spk_id, public):
    return b"sealwire/signed-prekey/v1" + u32(spk_id) + encode_pk(public)


# ---- families -------------------------------------------------------------------------

def load(name):
    return json.loads((HERE / name).read_text())


def identity_family():
    v = load("identity.json")["vectors"][0]
    ident = Identity(h(v["seed"]))
    check("identity ed25519", ident.ed, v["ed25519_public"])
    check("identity x25519 scalar", ident.scalar, v["x25519_scalar"])
    check("identity x25519 public", ident.x_public, v["x25519_public"])
    check("identity encoding", ident.encoded(), v["encoded_public"])
    check("identity stored pair", b"\x51" + ident.seed, v["encoded_key_pair"])
    peer = h(v["dh_with_peer"]["peer_secret"])
    check("identity dh", x25519(ident.scalar, x25519_public(peer)), v["dh_with_peer"]["output"])
    spk = v["signed_prekey"]
    public = x25519_public(h(spk["secret"]))
    message = signed_prekey_message(spk["id"], public)
    check("signed prekey message", message, spk["signed_message"])
    check("signed prekey signature", ident.sign(message), spk["signature"])
    check("signed prekey record", b"\x61" + u32(spk["id"]) + encode_pk(public) + ident.sign(message), spk["public_record"])
    opk = v["one_time_prekey"]
    check("one-time prekey record", b"\x81" + u32(opk["id"]) + encode_pk(x25519_public(h(opk["secret"]))), opk["public_record"])
    check("certificate key", encode_ck(ident.ed), v["as_certificate_key"]["encoded_public"])


def x3dh_family():
    for v in load("x3dh.json")["vectors"]:
        i = v["inputs"]
        alice, bob = Identity(h(i["alice_identity_seed"])), Identity(h(i["bob_identity_seed"]))
        spk_secret = h(i["bob_signed_prekey"]["secret"])
        spk_public = x25519_public(spk_secret)
        opk = i["bob_one_time_prekey"]
        opk_public = x25519_public(h(opk["secret"])) if opk else None
        ek, first_ratchet = h(i["rng"][0]), h(i["rng"][1])
        # §4.3 bundle
        signature = bob.sign(signed_prekey_message(1, spk_public))
        bundle = b"\x11" + bob.encoded() + u32(1) + encode_pk(spk_public) + signature
        bundle += (b"\x01" + u32(100) + encode_pk(opk_public)) if opk else b"\x00"
        check("bundle", bundle + b"\x00", v["bundle"])
        dh, ikm, sk, ad = x3dh(alice, ek, bob, spk_public, opk_public)
        for n, d in enumerate(dh):
            check(f"x3dh dh{n + 1}", d, v["dh"][n])
        check("x3dh kdf input", ikm, v["kdf_input"])
        check("x3dh sk", sk, v["sk"])
        check("x3dh ad", ad, v["ad"])
        # §6.3 initiator
        ratchet_dh = x25519(first_ratchet, spk_public)
        check("ratchet dh", ratchet_dh, v["ratchet_dh"])
        rk, ck = kdf_rk(sk, ratchet_dh)
        party = Party(ad, rk, [first_ratchet, x25519_public(first_ratchet), ck, 0], spk_public)
        sent = party.encrypt(h(i["plaintext"]), None)
        for field in ("root_key", "chain_key", "message_key", "aead_key", "nonce", "header", "ratchet_message"):
            check(f"x3dh {field}", sent[field], v[field])
        wire = initial_message(alice, x25519_public(ek), 1, 100 if opk else None, sent["ratchet_message"])
        check("initial message", wire, v["initial_message"])


def ratchet_family():
    doc = load("ratchet.json")
    s = doc["setup"]
    alice, bob = Identity(h(s["alice_identity_seed"])), Identity(h(s["bob_identity_seed"]))
    spk_secret, opk_secret = h(s["bob_signed_prekey"]["secret"]), h(s["bob_one_time_prekey"]["secret"])
    ek, first = h(s["alice_rng"][0]), h(s["alice_rng"][1])
    _, _, sk, ad = x3dh(alice, ek, bob, x25519_public(spk_secret), x25519_public(opk_secret))
    check("ratchet setup sk", sk, s["sk"])
    check("ratchet setup ad", ad, s["ad"])
    rk, ck = kdf_rk(sk, x25519(first, x25519_public(spk_secret)))
    parties = {
        "alice": Party(ad, rk, [first, x25519_public(first), ck, 0], x25519_public(spk_secret)),
        # §6.3 responder: RK = SK, the signed prekey as DHs, no chains.
        "bob": Party(ad, sk, [spk_secret, x25519_public(spk_secret), None, 0], None),
    }
    hello = parties["alice"].encrypt(h(s["first_message"]["plaintext"]), None)
    check("first wire message",
          initial_message(alice, x25519_public(ek), 1, 100, hello["ratchet_message"]), s["first_message"]["wire"])
    parties["bob"].decrypt(hello["ratchet_message"])
    sent, heard_back = {}, False
    for e in doc["events"]:
        p = parties[e["by"]]
        if e["event"] == "send":
            draws = [h(x) for x in e["rng"]]
            out = p.encrypt(h(e["plaintext"]), lambda: draws.pop(0))
            assert not draws
            check(f"event {e['index']} rng", b"".join(out.get("rng", [])), b"".join(h(x) for x in e["rng"]))
            check(f"event {e['index']} dh", out.get("dh"), h(e["dh"]) if e["dh"] else None)
            for field in ("root_key", "chain_key", "message_key", "aead_key", "nonce", "header", "ratchet_message"):
                check(f"send {e['index']} {field}", out[field], e[field])
            # §8.1: the initiator wraps until it hears back.
            wire = out["ratchet_message"]
            if e["by"] == "alice" and not heard_back:
                wire = initial_message(alice, x25519_public(ek), 1, 100, wire)
            check(f"send {e['index']} wire", wire, e["wire"])
            sent[e["index"]] = out["ratchet_message"]
        else:
            heard_back = heard_back or e["by"] == "alice"
            got = p.decrypt(sent[e["index"]])
            check(f"receive {e['index']} plaintext", got["plaintext"], e["plaintext"])
            check(f"receive {e['index']} dh", got["dh"], h(e["dh"]) if e["dh"] else None)
            check(f"receive {e['index']} root key", got["root_key"], e["root_key"])
            check(f"receive {e['index']} message key", got["message_key"], e["message_key"])
            check(f"receive {e['index']} skipped", got["skipped"], e["skipped_keys_held"])


def parse_state(state):
    """§8.2: split a stored session into its header and a Party."""
    o = 1 + 1 + 66 + 66 + 33 + 4
    o += 5 if state[o] == 1 else 1
    awaiting = state[o]
    o += 1
    # Encode(IK) of each, tag included, each followed by Encode(its X25519 form)
    local, remote = state[2:35], state[68:101]
    for ik, u in ((local, state[35:68]), (remote, state[101:134])):
        assert u == encode_pk(ed25519_to_x25519(ik[1:])), "stored X25519 form of IK"
    ad = local + remote if state[1] == 1 else remote + local
    rk, pn, dhr = state[o:o + 32], int.from_bytes(state[o + 32:o + 36], "big"), state[o + 37:o + 69]
    o += 69
    sending = None
    if state[o] == 1:
        secret, public = state[o + 1:o + 33], state[o + 34:o + 66]
        assert state[o + 33] == 0x02 and public == x25519_public(secret), "DHs public key"
        sending = [secret, public, state[o + 66:o + 98], int.from_bytes(state[o + 98:o + 102], "big")]
        o += 102
    else:
        o += 1
    party = Party(ad, rk, sending, dhr)
    party.pn = pn
    if state[o] == 1:
        party.receiving = (state[o + 1:o + 33], int.from_bytes(state[o + 33:o + 37], "big"))
        o += 37
    else:
        o += 1
    chains = int.from_bytes(state[o:o + 4], "big")
    o += 4
    for _ in range(chains):
        key, count = state[o + 1:o + 33], int.from_bytes(state[o + 33:o + 37], "big")
        o += 37
        for _ in range(count):
            party.skipped.append((key, int.from_bytes(state[o:o + 4], "big"), state[o + 4:o + 36]))
            o += 36
    assert o == len(state), "trailing bytes"
    return state[:len(state) - len(party.encode_ratchet())], party, awaiting


def session_state_family():
    v = load("session-state.json")["vectors"][0]
    state = h(v["state"])
    head, party, _ = parse_state(state)
    check("state re-encodes", head + party.encode_ratchet(), state)
    check("state skipped keys", len(party.skipped), v["skipped_keys"])
    got = party.decrypt(inner_ratchet_message(h(v["next_message"])))
    check("state next plaintext", got["plaintext"], v["plaintext"])
    check("state after", head + party.encode_ratchet(), v["state_after"])


def certificates(doc):
    """§9: rebuild the issuer and sender certificates."""
    c = doc["certificates"]
    root = Identity(h(c["trust_roots"][0]["root_seed"]))
    issuer = Identity(h(c["issuer"]["issuer_seed"]))
    app = c["issuer"]["app_id"].encode()
    check("trust root", b"\xe1" + encode_ck(root.ed) + with_len(app), c["trust_roots"][0]["encoded"])
    signed = u32(c["issuer"]["key_id"]) + encode_ck(issuer.ed) + with_len(app) + u64(c["issuer"]["not_before"]) + u64(c["issuer"]["not_after"])
    message = b"sealwire/issuer-certificate/v1" + signed
    check("issuer signed message", message, c["issuer"]["signed_message"])
    issuer_cert = b"\xa1" + signed + root.sign(message)
    check("issuer certificate", issuer_cert, c["issuer"]["certificate"])
    sender = Identity(h(c["sender"]["identity_seed"]))
    s = c["sender"]
    signed = with_len(app) + with_len(h(s["user_id"])) + u32(s["device_id"]) + sender.encoded() + u64(s["expires"]) + with_len(issuer_cert)
    message = b"sealwire/sender-certificate/v1" + signed
    check("sender signed message", message, s["signed_message"])
    cert = b"\xb1" + signed + issuer.sign(message)
    check("sender certificate", cert, s["certificate"])
    return cert


def seal_envelope(v, sender, recipients, messages, padded):
    """§10.1–§10.4 and §11: returns the multi-recipient envelope and the splits."""
    e, m = h(v["rng"][0]), h(v["rng"][1])
    e_pub = x25519_public(e)
    check("ephemeral public", e_pub, v["ephemeral_public"])
    content = with_len(h(v["sender_certificate"])) + u32(len(recipients))
    for r, msg in zip(recipients, messages):
        content += r.encoded() + (b"\x01" if msg[0] == 0x21 else b"\x02") + with_len(msg)
    unpadded = 119 + len(content) + 16  # §10.3
    pad = (max(512, 1 << (unpadded - 1).bit_length()) - unpadded) if padded else 0
    check("padding length", pad, v["padding_length"])
    content += b"\x00" * pad
    check("content", content, v["content"])
    okm = hkdf(b"\x00" * 32, m, b"sealwire/sealed/payload/v1", 44)
    check("payload key", okm[:32], v["payload_key"])
    check("payload nonce", okm[32:], v["payload_nonce"])
    payload = seal(okm[:32], okm[32:], encode_pk(e_pub), content)
    check("payload", payload, v["payload"])
    digest = hashlib.sha256(payload).digest()
    check("payload hash", digest, v["payload_hash"])
    shares = []
    for r, want in zip(recipients, v["shares"]):
        edh = x25519(e, r.x_public)
        check("ephemeral dh", edh, want["ephemeral_dh"])
        wrap = hkdf(b"\x00" * 32, edh, b"sealwire/sealed/wrap/v1" + encode_pk(e_pub) + r.encoded(), 32)
        check("wrap key", wrap, want["wrap_key"])
        wrapped = bytes(a ^ b for a, b in zip(m, wrap))
        check("wrapped secret", wrapped, want["wrapped_secret"])
        sdh = x25519(sender.scalar, r.x_public)
        check("static dh", sdh, want["static_dh"])
        auth = hkdf(b"\x00" * 32, sdh, b"sealwire/sealed/auth/v1" + sender.encoded() + r.encoded(), 32)
        check("auth key", auth, want["auth_key"])
        tag = mac(auth, encode_pk(e_pub) + r.encoded() + wrapped + digest)[:16]
        check("share tag", tag, want["tag"])
        shares.append((r.encoded(), wrapped, tag))
    splits = [b"\xc1" + r + encode_pk(e_pub) + w + t + with_len(payload) for r, w, t in shares]
    multi = b"\xd1" + encode_pk(e_pub) + u32(len(shares)) + b"".join(r + w + t for r, w, t in shares) + with_len(payload)
    return multi, splits


def unseal(recipient, envelope):
    """§10.5 steps 1–5 and 7, for an honest envelope: returns the entry's message."""
    e_pub, wrapped, tag, payload = envelope[35:67], envelope[67:99], envelope[99:115], envelope[119:]
    wrap = hkdf(b"\x00" * 32, x25519(recipient.scalar, e_pub), b"sealwire/sealed/wrap/v1" + encode_pk(e_pub) + recipient.encoded(), 32)
    m = bytes(a ^ b for a, b in zip(wrapped, wrap))
    okm = hkdf(b"\x00" * 32, m, b"sealwire/sealed/payload/v1", 44)
    content = open_(okm[:32], okm[32:], encode_pk(e_pub), payload)
    cert_len = int.from_bytes(content[:4], "big")
    cert = content[4:4 + cert_len]
    o = 4 + cert_len
    # The certificate's identity key: after app id, user id and device id.
    c = 1
    c += 4 + int.from_bytes(cert[c:c + 4], "big")
    c += 4 + int.from_bytes(cert[c:c + 4], "big")
    c += 4
    sender_ed = cert[c + 1:c + 33]
    sender = Identity.__new__(Identity)
    sender_x = ed25519_to_x25519(sender_ed)
    auth = hkdf(b"\x00" * 32, x25519(recipient.scalar, sender_x), b"sealwire/sealed/auth/v1" + encode_ik(sender_ed) + recipient.encoded(), 32)
    assert mac(auth, encode_pk(e_pub) + recipient.encoded() + wrapped + hashlib.sha256(payload).digest())[:16] == tag
    count = int.from_bytes(content[o:o + 4], "big")
    o += 4
    for _ in range(count):
        r, kind, length = content[o:o + 33], content[o + 33], int.from_bytes(content[o + 34:o + 38], "big")
        msg = content[o + 38:o + 38 + length]
        o += 38 + length
        if r == recipient.encoded():
            return sender_ed, kind, msg
    raise AssertionError("no entry")


def sealed_family():
    doc = load("sealed.json")
    cert = certificates(doc)
    v = doc["vectors"][0]
    check("certificate in vector", cert, v["sender_certificate"])
    sender, recipient = Identity(h(v["sender_identity_seed"])), Identity(h(v["recipient_identity_seed"]))
    inner = h(v["inner_message"])
    _, splits = seal_envelope(v, sender, [recipient], [inner], v["name"] == "padded")
    check("sealed envelope", splits[0], v["envelope"])
    sender_ed, kind, msg = unseal(recipient, splits[0])
    check("unsealed identity", encode_ik(sender_ed), v["unsealed"]["identity_key"])
    check("unsealed content type", kind, v["unsealed"]["content_type"])
    check("unsealed message", msg, inner)


def multi_family():
    v = load("multi-recipient.json")["vectors"][0]
    sender = Identity(h(v["sender_identity_seed"]))
    recipients = [Identity(h(s)) for s in v["recipient_identity_seeds"]]
    messages = [h(m) for m in v["messages"]]
    multi, splits = seal_envelope(v, sender, recipients, messages, True)
    check("multi-recipient envelope", multi, v["multi_recipient_envelope"])
    for i, (r, split) in enumerate(zip(recipients, splits)):
        check(f"split envelope {i}", split, v["split_envelopes"][i])
        check(f"split {i} length is a bucket", len(split) & (len(split) - 1), 0)
        _, _, msg = unseal(r, split)
        check(f"split {i} message", msg, messages[i])


def main():
    for family in (identity_family, x3dh_family, ratchet_family, session_state_family, sealed_family, multi_family):
        before = checked
        family()
        print(f"{family.__name__[:-7]:16} {checked - before:4} values match")
    print(f"all {checked} values match")


if __name__ == "__main__":
    main()
