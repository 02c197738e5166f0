#!/usr/bin/env python3
"""Craft hostile or broken OCI image layouts for tests/cli/oci.sh.

  ocitest.py layer LAYOUT KIND        append a hostile layer (or two) to the image
  ocitest.py corrupt LAYOUT KIND      break the layout in one way
  ocitest.py opaque OUT.tar           a layer with an opaque directory (opq/)
  ocitest.py multiarch LAYOUT         index.json -> a nested image index with the
                                      image as linux/amd64 and a copy as linux/arm64
                                      (Cmd /bin/arm64-cmd)

LAYOUT is an OCI image layout with one manifest (as umoci/skopeo write it);
the manifest, config and index are rewritten so every digest still matches,
except where KIND breaks one on purpose."""
import gzip, hashlib, io, json, os, sys, tarfile


def sha(b):
    return hashlib.sha256(b).hexdigest()


def put_blob(lay, data):
    d = sha(data)
    with open(os.path.join(lay, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)


def blob_path(lay, digest):
    return os.path.join(lay, "blobs", "sha256", digest.split(":")[1])


def load(lay):
    idx = json.load(open(os.path.join(lay, "index.json")))
    mdesc = idx["manifests"][0]
    man = json.load(open(blob_path(lay, mdesc["digest"])))
    cfg = json.load(open(blob_path(lay, man["config"]["digest"])))
    return idx, man, cfg


def save(lay, idx, man, cfg, edit=None):
    """edit: {"config"|"manifest"|"index": fn(json text) -> text}, for what
    json.dumps cannot write (two keys Go's decoders read as one)."""
    edit = edit or {}
    keep = lambda what, text: edit.get(what, lambda t: t)(text)
    c = keep("config", json.dumps(cfg)).encode()
    man["config"]["digest"], man["config"]["size"] = put_blob(lay, c)
    m = keep("manifest", json.dumps(man)).encode()
    idx["manifests"][0]["digest"], idx["manifests"][0]["size"] = put_blob(lay, m)
    with open(os.path.join(lay, "index.json"), "w") as f:
        f.write(keep("index", json.dumps(idx)))


def tar_bytes(members):
    """members: list of (TarInfo, data or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, data in members:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def ti(name, type=tarfile.REGTYPE, size=0, linkname="", mode=0o644):
    t = tarfile.TarInfo(name)
    t.type, t.size, t.linkname, t.mode = type, size, linkname, mode
    return t


def reg(name, data=b"x"):
    return (ti(name, size=len(data)), data)


def add_layer(lay, members, idx, man, cfg, gz=True, raw=None, compress=None):
    """raw: the layer's tar bytes as they are (else members); compress:
    bytes -> bytes (else gzip, or none when gz is false)."""
    raw = tar_bytes(members) if raw is None else raw
    data = (compress or (lambda b: gzip.compress(b, mtime=0) if gz else b))(raw)
    digest, size = put_blob(lay, data)
    man["layers"].append({
        "mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gz else ""),
        "digest": digest, "size": size})
    cfg.setdefault("rootfs", {"type": "layers", "diff_ids": []})["diff_ids"].append("sha256:" + sha(raw))


def tree_entry(name, mtime, uid):
    if name == "d":
        t = ti(name, tarfile.DIRTYPE, mode=0o700)
        data = None
    else:
        data = ("content of " + name + "\n").encode()
        t = ti(name, size=len(data), mode=0o600 if name != "x" else 0o750)
    t.mtime, t.uid, t.gid, t.uname, t.gname = mtime, uid, uid, "u%d" % uid, "g%d" % uid
    return (t, data)


HOSTILE = {
    "dotdot": [[reg("../evil")]],
    "absolute": [[reg("/abs-evil")]],
    "symlink-then-write": [[(ti("s", tarfile.SYMTYPE, linkname=os.environ.get("OUTSIDE", "/tmp")), None),
                            reg("s/evil")]],
    "symlink-across-layers": [[(ti("s2", tarfile.SYMTYPE, linkname=os.environ.get("OUTSIDE", "/tmp")), None)],
                              [reg("s2/evil")]],
    "symlink-dir-across-layers": [[(ti("s3", tarfile.SYMTYPE, linkname=".."), None)],
                                  [(ti("s3/evil", tarfile.DIRTYPE, mode=0o755), None)]],
    "hardlink-outside": [[(ti("h", tarfile.LNKTYPE, linkname="../../../etc/passwd"), None)]],
    "hardlink-absolute": [[(ti("h", tarfile.LNKTYPE, linkname="/etc/passwd"), None)]],
    "hardlink-missing": [[(ti("h", tarfile.LNKTYPE, linkname="no/such/file"), None)]],
    "device": [[(ti("dev/evil-null", tarfile.CHRTYPE), None)]],
    "fifo": [[(ti("evil-fifo", tarfile.FIFOTYPE), None)]],
    # A mount point of the init's as a symlink (/proc -> /tmp) or a file.
    "proc-symlink": [[(ti("proc", tarfile.SYMTYPE, linkname="tmp"), None)]],
    "var-file": [[reg("var")]],
    "bomb": [[reg("bomb", b"\0" * (64 << 20))]],
    "many-files": [[reg("f%d" % i, b"y" * 1024) for i in range(3000)]],
    # Not hostile: one tree written in two orders, with other mtimes and owners.
    "order-a": [[tree_entry(n, 1000 + i, 0) for i, n in enumerate(["d", "d/f1", "d/f2", "x"])]],
    "order-b": [[tree_entry(n, 5000000 + i, 1234) for i, n in enumerate(["x", "d/f2", "d", "d/f1"])]],
    # Not hostile: non-ASCII names and owner names in PAX headers (Go's
    # archive/tar writes those for any non-ASCII name).
    "utf8": [[reg("caf\u00e9"), (lambda t: (setattr(t, "uname", "j\u00fcrgen"), (t, b"x"))[1])(ti("owned", size=1))]],
    # A whiteout below a lower layer's symlink (to etc/): Docker, containerd
    # and umoci resolve it inside the root and delete etc/greet; cleanroom
    # never deletes through a symlink, so it refuses rather than keep it.
    "wh-under-link": [[(ti("ws", tarfile.SYMTYPE, linkname="etc"), None)], [reg("ws/.wh.greet", b"")]],
    # Not hostile: "/" names the root directory (as umoci insert writes it).
    "root-slash": [[(ti("/", tarfile.DIRTYPE, mode=0o755), None), reg("rootslash-ok")]],
}


def ustar(name, typ, size=0):
    """One ustar header, written by hand (tarfile will not put a size on a
    directory)."""
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = b"0000755\0"
    h[108:124] = b"0000000\0" * 2
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[156:157] = typ
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def pax_header(records):
    body = b""
    for k, v in records.items():
        rec = b" %s=%s\n" % (k.encode(), v.encode())
        n = len(rec) + 1
        while len(str(n)) + len(rec) != n:
            n += 1
        body += str(n).encode() + rec
    return ustar("PaxHeader", b"x", len(body)) + body + b"\0" * (-len(body) % 512)


# Layers as raw tar bytes and their compression (bytes -> bytes).
RAW = {
    # A directory entry whose PAX size says 64 MiB: data no file holds,
    # decompressed for nothing (64 KiB of gzip).
    "dir-data": (lambda: pax_header({"size": str(64 << 20)}) + ustar("dd/", b"5") + b"\0" * (64 << 20) + b"\0" * 1024,
                 lambda b: gzip.compress(b, mtime=0)),
    # gzip inside gzip, media type tar+gzip: decompressed twice.
    "gzip-gzip": (lambda: tar_bytes([reg("gg", b"x" * 100)]),
                  lambda b: gzip.compress(gzip.compress(b, mtime=0), mtime=0)),
}


def cmd_layer(lay, kind):
    idx, man, cfg = load(lay)
    if kind in RAW:
        add_layer(lay, None, idx, man, cfg, raw=RAW[kind][0](), compress=RAW[kind][1])
        save(lay, idx, man, cfg)
        return
    for members in HOSTILE[kind]:
        add_layer(lay, members, idx, man, cfg)
    save(lay, idx, man, cfg)


# Keys that Go's encoding/json takes for one struct field (ASCII case, U+017F
# for s, U+212A for k), the last one winning there: {file: edit of its text}.
FOLD = {
    # skopeo and Docker would run /bin/evil with EVIL=1
    "case-cmd": {"config": lambda t: t.replace('"config": {', '"config": {"cmd": ["/bin/evil"], "env": ["EVIL=1"], ', 1)},
    # Env spelled "env" (the only one): Go reads it as Env
    "case-env-only": {"config": lambda t: t.replace('"Env": ', '"env": ', 1)},
    # umoci would unpack the layers of "layer\u017f" (the last key)
    "fold-layers": {"manifest": lambda t: t.replace('"layers": ', '"layer\\u017f": [], "layers": ', 1)},
    "fold-index": {"index": lambda t: t.replace('"manifests": ', '"Manifests": [], "manifests": ', 1)},
    # not refused: Labels is a map in Go (exact keys), two labels there too
    "case-labels": {"config": lambda t: t.replace('"config": {', '"config": {"Labels": {"a": "1", "A": "2"}, ', 1)},
}


def cmd_corrupt(lay, kind):
    idx, man, cfg = load(lay)
    if kind in FOLD:
        save(lay, idx, man, cfg, FOLD[kind])
        return
    top = man["layers"][-1]
    p = blob_path(lay, top["digest"])
    if kind == "wrong-digest":  # same size, one byte changed
        b = bytearray(open(p, "rb").read())
        b[len(b) // 2] ^= 1
        open(p, "wb").write(bytes(b))
        return
    if kind == "truncated":
        b = open(p, "rb").read()
        open(p, "wb").write(b[:len(b) - 10])
        return
    if kind == "missing-blob":
        os.unlink(p)
        return
    if kind == "wrong-size":
        top["size"] += 1
    elif kind == "smaller-size":
        top["size"] -= 1
    elif kind == "bad-digest-type":
        top["digest"] = 123
    elif kind == "bad-digest-text":
        top["digest"] = "sha256:xyz"
    elif kind == "bad-schema":
        man["schemaVersion"] = 1
    elif kind == "bad-layer-mediatype":
        top["mediaType"] = "application/x-evil"
    elif kind == "bad-cmd":
        cfg["config"]["Cmd"] = "not-a-list"
    elif kind == "bad-env":
        cfg["config"]["Env"] = ["NOEQUALS"]
    elif kind == "wrong-arch":
        cfg["architecture"] = "s390x"
    elif kind == "wrong-diffid":
        cfg["rootfs"]["diff_ids"][-1] = "sha256:" + "0" * 64
    elif kind == "fewer-diffids":
        cfg["rootfs"]["diff_ids"].pop()
    else:
        sys.exit("unknown kind " + kind)
    save(lay, idx, man, cfg)


def cmd_opaque(out):
    # opq/c comes before the marker: the marker hides the lower layers
    # only, never an entry of its own layer.
    members = [(ti("opq", tarfile.DIRTYPE, mode=0o755), None), reg("opq/c", b"new\n"),
               reg("opq/.wh..wh..opq", b"")]
    open(out, "wb").write(tar_bytes(members))


def cmd_multiarch(lay):
    idx, man, cfg = load(lay)
    amd = dict(idx["manifests"][0])
    amd.pop("annotations", None)
    amd["platform"] = {"architecture": "amd64", "os": "linux"}
    cfg2 = json.loads(json.dumps(cfg))
    cfg2["architecture"] = "arm64"
    cfg2.setdefault("config", {})["Cmd"] = ["/bin/arm64-cmd"]
    man2 = json.loads(json.dumps(man))
    man2["config"]["digest"], man2["config"]["size"] = put_blob(lay, json.dumps(cfg2).encode())
    d2, s2 = put_blob(lay, json.dumps(man2).encode())
    arm = {"mediaType": amd["mediaType"], "digest": d2, "size": s2,
           "platform": {"architecture": "arm64", "os": "linux"}}
    nested = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
              "manifests": [arm, amd]}
    nd, ns = put_blob(lay, json.dumps(nested).encode())
    top = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": nd, "size": ns,
        "annotations": {"org.opencontainers.image.ref.name": "multi"}}]}
    with open(os.path.join(lay, "index.json"), "w") as f:
        json.dump(top, f)


if __name__ == "__main__":
    {"layer": cmd_layer, "corrupt": cmd_corrupt, "opaque": cmd_opaque, "multiarch": cmd_multiarch}[sys.argv[1]](*sys.argv[2:])
