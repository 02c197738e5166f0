#!/usr/bin/env python3
"""Write a build tree from .debs, every path resolved inside the tree.

  intree.py unpack TREE DEB...  unpack each .deb's data.tar into TREE, in order
  intree.py remove TREE PATH... remove each PATH and what is below it (absent: fine)
  intree.py link TREE           make the symlinks of stdin's "TARGET PATH" lines
                                (PATH's missing directories too; PATH must not exist)
  intree.py find TREE           for each path on stdin, one line: "e REAL" when it
                                exists (REAL: its path with every link resolved),
                                "l" when it is a link to nothing, "-" when absent

A path is looked up from a descriptor of TREE, one component at a time, as a
process whose root is TREE would: a symlink met on the way is followed inside
the tree (an absolute target from TREE, '..' stops at TREE; 40 links at most),
never on this machine. The last component is never followed: a member
replaces a file or link there, it does not write through it (a directory
member over a link to a directory keeps the link, as dpkg does).

Refused, naming the .deb and the member: an absolute name or one with an empty,
'.' or '..' component, a newline or NUL in a name or link target, a hard link
to something not in the tree, a FIFO, device, sparse or other special member,
a file or link where the tree has a directory, more than MAX_MEMBERS members
or MAX_BYTES bytes, a lookup of more than MAX_WALK components (those of the
links on the way counted) or more than MAX_WALK_DEB in one .deb. Refused,
naming the .deb: a data.tar that tarfile cannot read (whatever it raises), a
pax or GNU long name or link header of more than MAX_HEADER bytes, a header
that is not one after the first (tarfile would end there) and anything but NUL
bytes after the end marker. Exit 1 with one 'intree: ...' line on stderr.
"""
import os
import stat
import subprocess
import sys
import tarfile

MAX_MEMBERS = 1_000_000  # per .deb; Debian's largest have a few 10,000
MAX_BYTES = 8 << 30  # unpacked, per .deb
MAX_NAME = 4096
MAX_LINKS = 40
MAX_WALK = 4096  # components walked by one lookup, those of the links on the way too
MAX_WALK_DEB = 16 * MAX_MEMBERS  # components walked for one .deb (4 µs each here: about a minute)
MAX_HEADER = 1 << 20  # bytes of the pax and GNU long name or link headers before one member
MAX_HEADERS = 16  # such headers before one member
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Fail(Exception):
    pass


class Missing(Exception):
    pass


class BadTar(Exception):
    """A data.tar this tool does not read (the caller names the .deb)."""


EXT_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE,
             tarfile.SOLARIS_XHDTYPE)


class Member(tarfile.TarInfo):
    """tarfile's member, read with limits: tarfile reads a pax or GNU long name
    or link header whole into memory (MAX_HEADER bytes, MAX_HEADERS of them
    before one member, the global ones MAX_HEADER bytes in all), and takes a
    header that is not one, after the first, for the end of the archive (here
    it is refused); no sparse member."""

    @classmethod
    def fromtarfile(cls, tar):
        try:
            return super().fromtarfile(tar)
        except (tarfile.InvalidHeaderError, tarfile.TruncatedHeaderError) as e:
            raise BadTar(f"{e} at byte {tar.offset}") from None

    def _proc_member(self, tar):
        if self.size < 0:
            raise BadTar(f"a header with a negative size at byte {self.offset}")
        if self.type in EXT_TYPES:
            tar.intree_ext = getattr(tar, "intree_ext", (0, 0))
            tar.intree_ext = (tar.intree_ext[0] + 1, tar.intree_ext[1] + self.size)
            if self.type == tarfile.XGLTYPE:
                tar.intree_global = getattr(tar, "intree_global", 0) + self.size
                if tar.intree_global > MAX_HEADER:
                    raise BadTar(f"global pax headers of more than {MAX_HEADER} bytes")
            if tar.intree_ext[0] > MAX_HEADERS:
                raise BadTar(f"more than {MAX_HEADERS} pax or GNU long name headers before one member")
            if tar.intree_ext[1] > MAX_HEADER:
                raise BadTar(f"pax or GNU long name or link headers of more than {MAX_HEADER} bytes "
                             f"at byte {self.offset}")
        else:
            tar.intree_ext = (0, 0)
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise BadTar(f"a sparse member at byte {self.offset}")
        return super()._proc_member(tar)

    def _proc_gnusparse_00(self, *args):
        raise BadTar("a sparse member (pax GNU.sparse)")

    _proc_gnusparse_01 = _proc_gnusparse_10 = _proc_gnusparse_00


def from_tar(what, f, *args):
    """f(*args), a call into tarfile; what it raises on a malformed archive
    (TarError, but ValueError, EOFError, IndexError... too) is a Fail, what
    the start of its message."""
    try:
        return f(*args)
    except (Fail, OSError):
        raise
    except BadTar as e:
        msg = str(e)
    except Exception as e:  # whatever tarfile raises on bad input
        msg = f"{e} ({type(e).__name__})"
    raise Fail(f"{what}: {msg}") from None


def split_name(name, what):
    """The components of a member or hard link name ('./' prefix allowed)."""
    if len(name) > MAX_NAME:
        raise Fail(f"{what}: a name of more than {MAX_NAME} bytes")
    if "\n" in name:
        raise Fail(f"{what}: a newline in the name {name!r}")
    if "\0" in name:
        raise Fail(f"{what}: a NUL byte in the name {name!r}")
    if name.startswith("/"):
        raise Fail(f"{what}: an absolute name {name!r}")
    if name.startswith("./"):
        name = name[2:]
    name = name.rstrip("/")
    if name in ("", "."):
        return []
    parts = name.split("/")
    for p in parts:
        if p in ("", ".", ".."):
            raise Fail(f"{what}: an empty, '.' or '..' component in {name!r}")
    return parts


class Tree:
    def __init__(self, path):
        try:
            self.root = os.open(path, DIR_FLAGS)
        except OSError as e:
            raise Fail(f"{path}: {e.strerror}") from None
        self.budget = None  # components left to walk (unpack: per .deb); None: no limit

    def lookup(self, parts, create, follow, what):
        """Walk parts from the root, links in directories followed inside the
        tree, the last component's too when follow. Returns (fd, names, last,
        st): the directory that holds the last component (the caller closes it
        with close()), its path from the root, the last component's name and
        its lstat (None: absent); last None: parts end at that directory.
        A missing directory is made (create) or raises Missing(a link was
        followed at the last component). One descriptor is open at a time:
        '..' opens the parent, checked to be the directory walked through."""
        cur, names, ids = self.root, [], []  # the directory, its path from the root, their (dev, ino)
        todo, links, last, st, at_last = parts[::-1], 0, None, None, False  # todo: popped from the end
        walked = 0
        try:
            while todo:
                walked += 1
                if walked > MAX_WALK:
                    raise Fail(f"{what}: more than {MAX_WALK} path components on the way (those of links too)")
                if self.budget is not None:
                    self.budget -= 1
                    if self.budget < 0:
                        raise Fail(f"{what}: more than {MAX_WALK_DEB} path components looked up for one .deb")
                c = todo.pop()
                last, st = None, None
                if c in ("", "."):
                    continue
                if c == "..":
                    if names:
                        up = os.open("..", DIR_FLAGS, dir_fd=cur)
                        os.close(cur)
                        names.pop()
                        ids.pop()
                        if names:
                            cur = up
                            ust = os.fstat(up)
                            if (ust.st_dev, ust.st_ino) != ids[-1]:
                                raise Fail(f"{what}: the tree changed while it was walked")
                        else:
                            os.close(up)
                            cur = self.root
                    continue
                st = self.lstat(cur, c)
                if not todo and (st is None or not stat.S_ISLNK(st.st_mode) or not follow):
                    last = c
                    break
                if st is None:
                    if not create:
                        raise Missing(at_last)
                    os.mkdir(c, 0o755, dir_fd=cur)
                    st = self.lstat(cur, c)
                if stat.S_ISLNK(st.st_mode):
                    links += 1
                    if links > MAX_LINKS:
                        raise Fail(f"{what}: more than {MAX_LINKS} symlinks on the way")
                    at_last = at_last or not todo
                    target = os.readlink(c, dir_fd=cur)
                    if target.startswith("/"):
                        self.close(cur)
                        cur, names, ids = self.root, [], []
                    todo.extend(target.split("/")[::-1])
                    continue
                if not stat.S_ISDIR(st.st_mode):
                    if not create:
                        raise Missing(at_last)
                    path = "/".join(names + [c])
                    raise Fail(f"{what}: {path} is not a directory")
                d = os.open(c, DIR_FLAGS, dir_fd=cur)
                self.close(cur)
                cur = d
                names.append(c)
                ids.append((st.st_dev, st.st_ino))
        except BaseException:
            self.close(cur)
            raise
        self.followed_last = at_last
        return cur, names, last, st

    def close(self, fd):
        if fd != self.root:
            os.close(fd)

    @staticmethod
    def lstat(fd, name):
        try:
            return os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def clear(self, fd, name, st, what):
        """Make room for a file or link: remove what is there unless a directory."""
        if st is None:
            return
        if stat.S_ISDIR(st.st_mode):
            raise Fail(f"{what}: the tree has a directory there")
        os.unlink(name, dir_fd=fd)

    def is_dir(self, parts, what):
        """Does parts lead to a directory, every link followed?"""
        try:
            fd, _, last, st = self.lookup(parts, False, True, what)
        except Missing:
            return False
        self.close(fd)
        return last is None or (st is not None and stat.S_ISDIR(st.st_mode))

    def find(self, parts, what):
        """'e REAL', 'l' or '-' for the entry at parts, every link followed."""
        try:
            fd, names, last, st = self.lookup(parts, False, True, what)
        except Missing as e:
            return "l" if e.args[0] else "-"
        self.close(fd)
        if last is None:
            return "e " + ("/".join(names) or ".")
        if st is None:
            return "l" if self.followed_last else "-"
        return "e " + "/".join(names + [last])


def unpack(tree, deb):
    """Unpack deb's data.tar (through dpkg-deb) into tree."""
    p = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    tree.budget = MAX_WALK_DEB
    try:
        n = size = 0
        bad = f"{deb}: data.tar is malformed"
        tar = from_tar(bad, lambda: tarfile.open(fileobj=p.stdout, mode="r|", tarinfo=Member))
        with tar:
            prev = None
            while True:
                m = from_tar(bad if prev is None else f"{bad} after member {prev[:MAX_NAME]!r}", tar.next)
                if m is None:
                    break
                tar.members.clear()  # tarfile keeps every member (its pax headers too)
                prev = m.name
                n += 1
                if n > MAX_MEMBERS:
                    raise Fail(f"{deb}: more than {MAX_MEMBERS} members")
                if m.size < 0:
                    raise Fail(f"{deb}: data.tar is malformed: member {m.name[:MAX_NAME]!r} has a negative size")
                size += m.size if m.isreg() else 0
                if size > MAX_BYTES:
                    raise Fail(f"{deb}: more than {MAX_BYTES} bytes unpacked")
                what = f"{deb}: member {m.name[:MAX_NAME]!r}"
                try:
                    member(tree, tar, m, what)
                except OSError as e:
                    raise Fail(f"{what}: {e.strerror or e}") from None
            # tarfile stops at the first NUL block; dpkg-deb -x takes no more
            while True:
                b = from_tar(bad, tar.fileobj.read, 1 << 16)
                if not b:
                    break
                if b.count(0) != len(b):
                    raise Fail(f"{deb}: data.tar is malformed: more than NUL bytes after its end marker")
    except OSError as e:
        raise Fail(f"{deb}: {e.strerror or e}") from None
    finally:
        tree.budget = None
        p.stdout.close()
        rc = p.wait()
    if rc != 0:
        raise Fail(f"{deb}: dpkg-deb --fsys-tarfile failed (exit {rc})")


def member(tree, tar, m, what):
    parts = split_name(m.name, what)
    if not parts:
        return  # the root itself
    if not (m.isdir() or m.isreg() or m.issym() or m.islnk()):
        raise Fail(f"{what}: a FIFO, device or other special file")
    fd, _, name, st = tree.lookup(parts, True, False, what)
    try:
        if m.isdir():
            if st is not None and stat.S_ISLNK(st.st_mode):
                if not tree.is_dir(parts, what):
                    raise Fail(f"{what}: a directory where the tree has a link to no directory")
                return  # a link to a directory stays, as dpkg keeps it
            if st is None:
                os.mkdir(name, 0o755, dir_fd=fd)
            elif not stat.S_ISDIR(st.st_mode):
                raise Fail(f"{what}: a directory where the tree has a file")
            d = os.open(name, DIR_FLAGS, dir_fd=fd)
            try:
                os.fchmod(d, m.mode & 0o7777)
            finally:
                os.close(d)
        elif m.issym():
            if not m.linkname or len(m.linkname) > MAX_NAME:
                raise Fail(f"{what}: an empty link target or one of more than {MAX_NAME} bytes")
            if "\n" in m.linkname:
                raise Fail(f"{what}: a newline in its link target {m.linkname!r}")
            if "\0" in m.linkname:
                raise Fail(f"{what}: a NUL byte in its link target {m.linkname!r}")
            tree.clear(fd, name, st, what)
            os.symlink(m.linkname, name, dir_fd=fd)
        elif m.islnk():
            hard_link(tree, fd, name, st, m.linkname, what)
        else:
            tree.clear(fd, name, st, what)
            out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                          dir_fd=fd)
            try:
                src, left = tar.extractfile(m), m.size
                while left > 0:
                    b = memoryview(from_tar(f"{what}: data.tar is malformed", src.read, min(left, 1 << 20)))
                    if not b:
                        raise Fail(f"{what}: the archive ends inside it")
                    left -= len(b)
                    while b:
                        b = b[os.write(out, b):]
                os.fchmod(out, m.mode & 0o7777)
            finally:
                os.close(out)
    finally:
        tree.close(fd)


def hard_link(tree, fd, name, st, target, what):
    """name (in fd, st its lstat) a hard link to the tree's file target."""
    tparts = split_name(target, f"{what} (hard link)")
    try:
        tfd, _, tname, tst = tree.lookup(tparts, False, False, what) if tparts else (tree.root, [], None, None)
    except Missing:
        tfd, tname, tst = tree.root, None, None
    try:
        if tname is None or tst is None or stat.S_ISDIR(tst.st_mode):
            raise Fail(f"{what}: a hard link to {target!r}, which is no file of the tree")
        if st is not None and (st.st_dev, st.st_ino) == (tst.st_dev, tst.st_ino):
            return  # a link to itself, or to the file it is a link of already
        tree.clear(fd, name, st, what)
        os.link(tname, name, src_dir_fd=tfd, dst_dir_fd=fd, follow_symlinks=False)
    finally:
        tree.close(tfd)


def remove(tree, rel):
    parts = split_name(rel, rel)
    if not parts:
        raise Fail(f"{rel}: not a path below the tree")
    try:
        fd, _, name, st = tree.lookup(parts, False, False, rel)
    except Missing:
        return
    try:
        remove_entry(fd, name, st, rel)
    finally:
        tree.close(fd)


def remove_entry(fd, name, st, what):
    """Remove name (in fd, st its lstat; None: absent), a directory with what is below it."""
    if st is not None and stat.S_ISDIR(st.st_mode):
        remove_dir(fd, name, what)
    elif st is not None:
        os.unlink(name, dir_fd=fd)


def remove_dir(parent, name, what):
    """Remove the directory name (in parent) and what is below it, without
    recursion and with one descriptor open at a time (a tree may be as deep
    as names allow); a link is removed, never followed."""
    cur = os.open(name, DIR_FLAGS, dir_fd=parent)
    try:
        st = os.fstat(cur)
        path = [(name, (st.st_dev, st.st_ino), None)]  # from name down to cur: name, id, subdirectories left
        while True:
            n, ident, subs = path[-1]
            if subs is None:  # first time in cur: its files go, its subdirectories are listed
                subs = []
                with os.scandir(cur) as it:
                    entries = list(it)
                for e in entries:
                    if e.is_dir(follow_symlinks=False):
                        subs.append(e.name)
                    else:
                        os.unlink(e.name, dir_fd=cur)
                path[-1] = (n, ident, subs)
            if subs:
                sub = subs.pop()
                d = os.open(sub, DIR_FLAGS, dir_fd=cur)
                os.close(cur)
                cur = d
                st = os.fstat(cur)
                path.append((sub, (st.st_dev, st.st_ino), None))
                continue
            path.pop()
            if not path:
                break
            up = os.open("..", DIR_FLAGS, dir_fd=cur)
            os.close(cur)
            cur = up
            st = os.fstat(cur)
            if (st.st_dev, st.st_ino) != path[-1][1]:
                raise Fail(f"{what}: the tree changed while it was removed")
            os.rmdir(n, dir_fd=cur)
    finally:
        os.close(cur)
    os.rmdir(name, dir_fd=parent)


def rmtree(path):
    """Remove path and what is below it (absent: fine), as remove_dir does."""
    parent = os.open(os.path.dirname(os.path.abspath(path)) or "/", DIR_FLAGS & ~os.O_NOFOLLOW)
    try:
        name = os.path.basename(os.path.abspath(path))
        remove_entry(parent, name, Tree.lstat(parent, name), path)
    finally:
        os.close(parent)


def link(tree, target, rel):
    parts = split_name(rel, rel)
    if not parts or not target or "\n" in target or "\0" in target or len(target) > MAX_NAME:
        raise Fail(f"{rel} -> {target}: not a link to make")
    fd, _, name, st = tree.lookup(parts, True, False, rel)
    try:
        if st is not None:
            raise Fail(f"{rel}: exists already")
        os.symlink(target, name, dir_fd=fd)
    finally:
        tree.close(fd)


def named(rel, f, *args):
    """f(*args), an OSError named by rel."""
    try:
        return f(*args)
    except OSError as e:
        raise Fail(f"{rel}: {e.strerror or e}") from None


def main(argv):
    if len(argv) < 3 or argv[1] not in ("unpack", "remove", "link", "find"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        tree = Tree(argv[2])
        if argv[1] == "unpack":
            for deb in argv[3:]:
                unpack(tree, deb)
        elif argv[1] == "remove":
            for rel in argv[3:]:
                named(rel, remove, tree, rel)
        elif argv[1] == "link":
            for line in sys.stdin.read().splitlines():
                target, _, rel = line.partition(" ")
                named(rel, link, tree, target, rel)
        else:
            for rel in sys.stdin.read().splitlines():
                print(named(rel, tree.find, split_name(rel, rel), rel))
        return 0
    except (Fail, OSError) as e:
        print(f"intree: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
