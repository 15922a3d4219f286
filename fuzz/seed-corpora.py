#!/usr/bin/env python3
"""Fill fuzz/corpus/<target>/ with seeds taken from test-vectors/*.json.

Every hex string in the vector files is routed, by its first byte (the
version or key tag), to the targets that read that format. Run from anywhere.
"""
import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent
VECTORS = ROOT.parent / "test-vectors"

ROUTES = {
    0x13: ["decode_bundle"],
    0xFF: ["decode_records", "decode_group"],
    0x23: ["decode_initial_message", "session_receive"],
    0x32: ["decode_ratchet_message", "session_receive"],
    0x43: ["decode_session"],
    0xA2: ["decode_certificate"],
    0xB2: ["decode_certificate"],
    0xE2: ["decode_certificate"],
    0xC3: ["decode_envelope", "unseal"],
    0xD3: ["decode_multi_envelope"],
}
KEYS = {0x01, 0x02, 0x04, 0x52, 0x61, 0x71, 0x81, 0x91, 0xF1}


def strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, str):
        try:
            yield bytes.fromhex(value)
        except ValueError:
            pass


def main():
    written = {}
    for path in sorted(VECTORS.glob("*.json")):
        for data in strings(json.loads(path.read_text())):
            if not data:
                continue
            targets = ROUTES.get(data[0], [])
            if len(data) == 1088:  # an ML-KEM-768 ciphertext (docs/protocol.md §7.2)
                targets = targets + ["decapsulate"]
            if data[0] in KEYS and len(data) <= 102:
                targets = targets + ["decode_keys"]
            for target in targets:
                directory = ROOT / "corpus" / target
                directory.mkdir(parents=True, exist_ok=True)
                (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)
                written[target] = written.get(target, 0) + 1
    for target, n in sorted(written.items()):
        print(f"{target:24} {n} seeds")


if __name__ == "__main__":
    main()
