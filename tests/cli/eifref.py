#!/usr/bin/env python3
"""An independent reference reader/writer of EIF files for the tests.

Written straight from the format facts (header 548 bytes big-endian, 12-byte
section headers, zlib CRC32 over everything but the CRC field, PCRs =
SHA384(48 zero bytes || SHA384(content))), sharing no code with cleanroom,
so that the tool's output is checked against a second implementation.

  eifref.py measure FILE        -> JSON {crc_ok, pcr0, pcr1, pcr2, sections}
  eifref.py extract FILE I OUT  -> write section I's data to OUT
  eifref.py relayout FILE OUT ORDER
        rewrite with sections in ORDER (comma-separated indices), e.g. put
        metadata last, with a fresh CRC: an EIF as another writer might lay out
  eifref.py set-crc FILE        -> recompute and store the CRC in place
  eifref.py set-section FILE OUT I DATA
        rewrite with section I's data replaced by the file DATA's bytes
  eifref.py signature FILE DIR  -> check the signature section's shape and write
        DIR/cert.pem, DIR/sig.der (ECDSA signature, DER) and DIR/tbs (the
        Sig_structure) for `openssl dgst -verify`; prints JSON facts
"""
import hashlib
import json
import struct
import sys
import zlib

HDR = 548


def parse(data):
    n = struct.unpack(">H", data[26:28])[0]
    offs = struct.unpack(">32Q", data[28:284])
    sizes = struct.unpack(">32Q", data[284:540])
    secs = []
    for i in range(n):
        t, f, s = struct.unpack(">HHQ", data[offs[i]:offs[i] + 12])
        assert s == sizes[i]
        secs.append((t, data[offs[i] + 12:offs[i] + 12 + s]))
    return secs


def crc(data):
    return zlib.crc32(data[:544] + data[548:]) & 0xFFFFFFFF


def pcr(content):
    return hashlib.sha384(b"\0" * 48 + hashlib.sha384(content).digest()).hexdigest()


def measure(data):
    secs = parse(data)
    k = b"".join(s for t, s in secs if t == 1)
    c = b"".join(s for t, s in secs if t == 2)
    rds = [s for t, s in secs if t == 3]
    return {
        "crc_ok": crc(data) == struct.unpack(">I", data[544:548])[0],
        "pcr0": pcr(k + c + b"".join(rds)),
        "pcr1": pcr(k + c + rds[0]),
        "pcr2": pcr(b"".join(rds[1:])),
        "sections": [[t, len(s)] for t, s in secs],
    }


def build(header_prefix, secs):
    """header_prefix: the first 26 bytes (magic..reserved); secs: [(type, data)]."""
    body = b""
    offs, sizes = [], []
    for t, s in secs:
        offs.append(HDR + len(body))
        sizes.append(len(s))
        body += struct.pack(">HHQ", t, 0, len(s)) + s
    offs += [0] * (32 - len(offs))
    sizes += [0] * (32 - len(sizes))
    h = header_prefix + struct.pack(">H", len(secs)) + struct.pack(">32Q", *offs) + struct.pack(">32Q", *sizes)
    h += b"\0" * 4
    out = h + b"\0\0\0\0" + body
    return out[:544] + struct.pack(">I", crc(out)) + out[548:]


def cbor(b, i=0):
    """Minimal CBOR decoder (definite lengths only): returns (value, next index)."""
    ib = b[i]; mt, ai = ib >> 5, ib & 31; i += 1
    if ai < 24: n = ai
    elif ai in (24, 25, 26, 27):
        k = 1 << (ai - 24); n = int.from_bytes(b[i:i + k], "big"); i += k
    else: raise ValueError("unsupported CBOR head %02x" % ib)
    if mt == 0: return n, i
    if mt == 1: return -1 - n, i
    if mt in (2, 3):
        v = b[i:i + n]; return (v if mt == 2 else v.decode()), i + n
    if mt == 4:
        out = []
        for _ in range(n):
            v, i = cbor(b, i); out.append(v)
        return out, i
    if mt == 5:
        out = {}
        for _ in range(n):
            k, i = cbor(b, i); v, i = cbor(b, i); out[k] = v
        return out, i
    raise ValueError("unsupported major type %d" % mt)


def cbor_bstr(x):
    n = len(x)
    head = bytes([0x40 | n]) if n < 24 else bytes([0x58, n]) if n < 256 else bytes([0x59]) + n.to_bytes(2, "big")
    return head + x


def der_int(x):
    x = x.lstrip(b"\0") or b"\0"
    if x[0] & 0x80: x = b"\0" + x
    return b"\x02" + bytes([len(x)]) + x


def signature(data, outdir):
    secs = parse(data)
    sig = [s for t, s in secs if t == 4][0]
    arr, end = cbor(sig)
    assert end == len(sig), "trailing bytes"
    assert isinstance(arr, list) and len(arr) == 1, "one PcrSignature"
    ent = arr[0]
    assert sorted(ent) == ["signature", "signing_certificate"], ent.keys()
    assert all(isinstance(x, int) and 0 <= x < 256 for x in ent["signing_certificate"] + ent["signature"]), "arrays of uints"
    pem = bytes(ent["signing_certificate"]); cose_bytes = bytes(ent["signature"])
    cose, end = cbor(cose_bytes)
    assert end == len(cose_bytes) and len(cose) == 4, "COSE_Sign1 of 4"
    prot, unprot, payload, rs = cose
    assert prot == bytes.fromhex("a1013822") and unprot == {}, "ES384 headers"
    info, _ = cbor(payload)
    m = measure(data)
    open(outdir + "/cert.pem", "wb").write(pem)
    tbs = bytes([0x84, 0x6a]) + b"Signature1" + cbor_bstr(prot) + b"\x40" + cbor_bstr(payload)
    open(outdir + "/tbs", "wb").write(tbs)
    seq = der_int(rs[:48]) + der_int(rs[48:])
    open(outdir + "/sig.der", "wb").write(b"\x30" + bytes([len(seq)]) + seq)
    print(json.dumps({
        "register_index": info["register_index"],
        "register_value_is_pcr0": bytes(info["register_value"]).hex() == m["pcr0"],
        "signature_len": len(rs),
    }))


def main():
    cmd = sys.argv[1]
    data = open(sys.argv[2], "rb").read()
    if cmd == "measure":
        print(json.dumps(measure(data)))
    elif cmd == "extract":
        open(sys.argv[4], "wb").write(parse(data)[int(sys.argv[3])][1])
    elif cmd == "relayout":
        secs = parse(data)
        order = [int(x) for x in sys.argv[4].split(",")]
        open(sys.argv[3], "wb").write(build(data[:26], [secs[i] for i in order]))
    elif cmd == "set-section":
        secs = parse(data)
        i = int(sys.argv[4])
        secs[i] = (secs[i][0], open(sys.argv[5], "rb").read())
        open(sys.argv[3], "wb").write(build(data[:26], secs))
    elif cmd == "signature":
        signature(data, sys.argv[3])
    elif cmd == "set-crc":
        out = data[:544] + struct.pack(">I", crc(data)) + data[548:]
        open(sys.argv[2], "wb").write(out)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
