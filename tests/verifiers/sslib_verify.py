#!/usr/bin/python3
"""securesystemslib (Debian's python3-securesystemslib) on a DSSE envelope:
what a consumer of cleanroom.intoto.jsonl runs, given the enclave key that
`cleanroom verify --key-out` wrote.

    sslib_verify.py ENVELOPE.intoto.jsonl KEY.pem

The file holds one envelope per line (each must verify). The key's curve
picks the scheme (P-256: ecdsa-sha2-nistp256, P-384: ecdsa-sha2-nistp384);
a line verifies when one of its signatures verifies with the key over the
DSSE pre-authentication encoding (this securesystemslib has no DSSE module,
so PAE is built here, as the DSSE spec writes it). Exit 0 verified; 1
refused (the reason on stdout); 2 usage.
"""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives import serialization
from securesystemslib import exceptions
from securesystemslib.signer import Signature, SSlibKey

SCHEMES = {"secp256r1": "ecdsa-sha2-nistp256", "secp384r1": "ecdsa-sha2-nistp384"}


def pae(payload_type: str, payload: bytes) -> bytes:
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: sslib_verify.py ENVELOPE.intoto.jsonl KEY.pem", file=sys.stderr)
        return 2
    pem = open(sys.argv[2], "rb").read()
    pub = serialization.load_pem_public_key(pem)
    scheme = SCHEMES.get(getattr(getattr(pub, "curve", None), "name", ""))
    if not scheme:
        print("refused: the key is not an ECDSA P-256 or P-384 key")
        return 1
    der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    key = SSlibKey(hashlib.sha256(der).hexdigest(), "ecdsa", scheme, {"public": pem.decode()})
    lines = [l for l in open(sys.argv[1], "rb").read().split(b"\n") if l.strip()]
    if not lines:
        print("refused: no envelope")
        return 1
    for n, line in enumerate(lines, 1):
        env = json.loads(line)
        data = pae(env["payloadType"], base64.b64decode(env["payload"], validate=True))
        ok = False
        for s in env["signatures"]:
            sig = Signature(key.keyid, base64.b64decode(s["sig"], validate=True).hex())
            try:
                key.verify_signature(sig, data)
                ok = True
                break
            except (exceptions.UnverifiedSignatureError, exceptions.VerificationError):
                continue
        if not ok:
            print(f"refused: line {n}: no signature verifies with the key ({scheme})")
            return 1
    print(f"verified ({scheme}, {len(lines)} envelope{'s' if len(lines) > 1 else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
