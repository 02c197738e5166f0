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
'.' or '..' component, a newline in a name or link target, a hard link to
something not in the tree, a FIFO, device or other special member, a file or
link where the tree has a directory, more than MAX_MEMBERS members or
MAX_BYTES bytes. Exit 1 with one 'intree: ...' line on stderr.
"""
import os
import shutil
import stat
import subprocess
import sys
import tarfile

MAX_MEMBERS = 1_000_000  # per .deb; Debian's largest have a few 10,000
MAX_BYTES = 8 << 30  # unpacked, per .deb
MAX_NAME = 4096
MAX_LINKS = 40
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Fail(Exception):
    pass


class Missing(Exception):
    pass


def split_name(name, what):
    """The components of a member or hard link name ('./' prefix allowed)."""
    if len(name) > MAX_NAME:
        raise Fail(f"{what}: a name of more than {MAX_NAME} bytes")
    if "\n" in name or "\0" in name:
        raise Fail(f"{what}: a newline in the name {name!r}")
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

    def lookup(self, parts, create, follow, what):
        """Walk parts from the root, links in directories followed inside the
        tree, the last component's too when follow. Returns (fd, names, last,
        st): the directory that holds the last component (the caller closes it
        with close()), its path from the root, the last component's name and
        its lstat (None: absent); last None: parts end at that directory.
        A missing directory is made (create) or raises Missing(a link was
        followed at the last component)."""
        stack = [(self.root, None)]  # (descriptor, name) from the root
        todo, links, last, st, at_last = list(parts), 0, None, None, False
        try:
            while todo:
                c = todo.pop(0)
                last, st = None, None
                if c in ("", "."):
                    continue
                if c == "..":
                    if len(stack) > 1:
                        os.close(stack.pop()[0])
                    continue
                cur = stack[-1][0]
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
                        while len(stack) > 1:
                            os.close(stack.pop()[0])
                    todo[:0] = target.split("/")
                    continue
                if not stat.S_ISDIR(st.st_mode):
                    if not create:
                        raise Missing(at_last)
                    path = "/".join([n for _, n in stack[1:]] + [c])
                    raise Fail(f"{what}: {path} is not a directory")
                stack.append((os.open(c, DIR_FLAGS, dir_fd=cur), c))
        except BaseException:
            for fd, _ in stack[1:]:
                os.close(fd)
            raise
        for fd, _ in stack[1:-1]:
            os.close(fd)
        self.followed_last = at_last
        return stack[-1][0], [n for _, n in stack[1:]], last, st

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
    try:
        n = size = 0
        with tarfile.open(fileobj=p.stdout, mode="r|") as tar:
            for m in tar:
                n += 1
                if n > MAX_MEMBERS:
                    raise Fail(f"{deb}: more than {MAX_MEMBERS} members")
                size += m.size if m.isreg() else 0
                if size > MAX_BYTES:
                    raise Fail(f"{deb}: more than {MAX_BYTES} bytes unpacked")
                member(tree, tar, m, f"{deb}: member {m.name!r}")
    except tarfile.TarError as e:
        raise Fail(f"{deb}: data.tar: {e}") from None
    finally:
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
            if not m.linkname or "\n" in m.linkname or "\0" in m.linkname or len(m.linkname) > MAX_NAME:
                raise Fail(f"{what}: an empty or too long link target, or a newline in it")
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
                    b = memoryview(src.read(min(left, 1 << 20)))
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
        if st is not None and stat.S_ISDIR(st.st_mode):
            shutil.rmtree(name, dir_fd=fd)
        elif st is not None:
            os.unlink(name, dir_fd=fd)
    finally:
        tree.close(fd)


def link(tree, target, rel):
    parts = split_name(rel, rel)
    if not parts or not target or "\n" in target or len(target) > MAX_NAME:
        raise Fail(f"{rel} -> {target}: not a link to make")
    fd, _, name, st = tree.lookup(parts, True, False, rel)
    try:
        if st is not None:
            raise Fail(f"{rel}: exists already")
        os.symlink(target, name, dir_fd=fd)
    finally:
        tree.close(fd)


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
                remove(tree, rel)
        elif argv[1] == "link":
            for line in sys.stdin.read().splitlines():
                target, _, rel = line.partition(" ")
                link(tree, target, rel)
        else:
            for rel in sys.stdin.read().splitlines():
                print(tree.find(split_name(rel, rel), rel))
        return 0
    except (Fail, OSError) as e:
        print(f"intree: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
