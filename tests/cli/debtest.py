#!/usr/bin/env python3
"""Make a small .deb, hostile if asked, for cli/rootfs-hostile.

  debtest.py OUT.deb PACKAGE MEMBER...

MEMBER, in data.tar's order, its name as given (so './../x' or '/abs' stay):
  d:NAME          a directory, mode 0755
  f:NAME=TEXT     a file holding TEXT, mode 0755
  l:NAME=TARGET   a symlink
  h:NAME=TARGET   a hard link
  p:NAME          a FIFO
  x:NAME=KEY=VAL  an empty file with the pax header KEY=VAL ('\\0' in VAL: a
                  NUL byte); the archive is then in pax format
  X:SIZE          a pax header of SIZE NUL bytes, for the member after it
  g:TEXT          a 512-byte block of TEXT, no header
  z:              two NUL blocks (an end marker)
Prints nothing; the .deb's SHA-256 is for the caller to take.
"""
import gzip
import io
import sys
import tarfile


def tar_gz(members):
    buf = io.BytesIO()
    fmt = tarfile.PAX_FORMAT if any(k == "x" for k, _, _ in members) else tarfile.GNU_FORMAT
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for kind, name, arg in members:
            ti = tarfile.TarInfo(name)
            ti.mode, ti.mtime = 0o755, 0
            data = None
            if kind in ("X", "g", "z"):  # raw blocks, past tarfile
                if kind == "X":
                    h = tarfile.TarInfo("./PaxHeaders/x")
                    h.type, h.size, h.mtime = tarfile.XHDTYPE, int(name), 0
                    raw = h.tobuf(tarfile.USTAR_FORMAT) + bytes(-(-h.size // 512) * 512)
                else:
                    raw = name.encode().ljust(512, b"x")[:512] if kind == "g" else bytes(1024)
                buf.write(raw)
                t.offset += len(raw)
                continue
            if kind == "x":
                key, _, val = arg.partition("=")
                ti.pax_headers = {key: val.replace("\\0", "\0")}
            elif kind == "d":
                ti.type = tarfile.DIRTYPE
            elif kind == "f":
                data = arg.encode()
                ti.size = len(data)
            elif kind in ("l", "h"):
                ti.type = tarfile.SYMTYPE if kind == "l" else tarfile.LNKTYPE
                ti.linkname = arg
            elif kind == "p":
                ti.type = tarfile.FIFOTYPE
            else:
                sys.exit(f"debtest: unknown member kind {kind!r}")
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return gzip.compress(buf.getvalue(), mtime=0)


def ar_member(name, data):
    head = b"%-16s%-12d%-6d%-6d%-8s%-10d`\n" % (name.encode(), 0, 0, 0, b"100644", len(data))
    return head + data + (b"\n" if len(data) % 2 else b"")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    out, pkg = argv[1], argv[2]
    members = []
    for m in argv[3:]:
        kind, _, rest = m.partition(":")
        name, _, arg = rest.partition("=")
        members.append((kind, name, arg))
    control = (f"Package: {pkg}\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t <t@example.org>\n"
               "Description: a test package\n").encode()
    ctl = io.BytesIO()
    with tarfile.open(fileobj=ctl, mode="w:gz", format=tarfile.GNU_FORMAT) as t:
        ti = tarfile.TarInfo("./control")
        ti.size, ti.mtime = len(control), 0
        t.addfile(ti, io.BytesIO(control))
    with open(out, "wb") as f:
        f.write(b"!<arch>\n" + ar_member("debian-binary", b"2.0\n") + ar_member("control.tar.gz", ctl.getvalue()) +
                ar_member("data.tar.gz", tar_gz(members)))


if __name__ == "__main__":
    main(sys.argv)
