#!/usr/bin/env python3
"""Make a small .deb, hostile if asked, for cli/rootfs-hostile.

  debtest.py OUT.deb PACKAGE MEMBER...

MEMBER, in data.tar's order, its name as given (so './../x' or '/abs' stay):
  d:NAME          a directory, mode 0755
  f:NAME=TEXT     a file holding TEXT, mode 0755
  l:NAME=TARGET   a symlink
  h:NAME=TARGET   a hard link
  p:NAME          a FIFO
Prints nothing; the .deb's SHA-256 is for the caller to take.
"""
import io
import sys
import tarfile


def tar_gz(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as t:
        for kind, name, arg in members:
            ti = tarfile.TarInfo(name)
            ti.mode, ti.mtime = 0o755, 0
            data = None
            if kind == "d":
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
    return buf.getvalue()


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
