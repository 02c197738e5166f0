#!/usr/bin/env python3
"""Assemble a `--deps` directory of vendored Rust crates or Go modules from
Debian's packaged sources, deterministically and offline at build time.

  vendor.py rust PINS Cargo.lock OUT CACHE_DIR
      OUT/vendor/NAME-VERSION/   one directory per crate of Cargo.lock (from
                                 /usr/share/cargo/registry/ of the librust-*-dev
                                 .debs), each with a .cargo-checksum.json
                                 listing the SHA-256 of every file
      OUT/.cargo/config.toml     [source.crates-io] replace-with the directory
                                 /work/deps/vendor; net.offline
  vendor.py go PINS go.mod OUT CACHE_DIR
      OUT/vendor/MODULE/PKG/     the packages the project imports, and the
                                 packages they import, from
                                 /usr/share/gocode/src/ of the golang-*-dev .debs
      OUT/vendor/modules.txt     every requirement of go.mod, '## explicit', and
                                 its vendored packages (what -mod=vendor reads)

PINS holds "name version arch sha256" lines (`rootfs/mkrootfs.sh resolve`
prints them; '#' starts a comment): the .debs, fetched into CACHE_DIR/debs by
`mkrootfs.sh fetch` and checked against these SHA-256s. Both layouts record
the packages in OUT/debian-packages.txt. OUT is written beside itself and
renamed into place; every file is mode 0644, every directory 0755, mtime 0.

Debian ships one version of each crate or module: Cargo.lock must name the
versions Debian has (generate it against this vendor directory); a go.mod
requirement is satisfied by whatever version Debian has of that module, which
debian-packages.txt records (modules.txt keeps go.mod's version, which
-mod=vendor checks).

The .debs are unpacked by intree.py (a link a package ships is followed inside
the unpacked tree, never on this machine); a source directory reached through
a link is refused. Refused, naming the file and line: a crate name other than
[A-Za-z0-9_-] (64 at most) or a version that is not semver; a Go module or
import path with an empty, '.' or '..' element, a leading '/' or a character
outside [A-Za-z0-9._~+-]; a file over MAX_INPUT bytes. Every file is written
below OUT, checked before it is made.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ beside the sources
import intree  # noqa: E402 (after the line above)

HERE = os.path.dirname(os.path.realpath(__file__))
PIN_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+ [0-9][A-Za-z0-9.+~:-]* [a-z0-9]+ [0-9a-f]{64}$")
DEPS_MOUNT = "/work/deps"  # where the enclave's build sees --deps
MAX_INPUT = 4 << 20  # bytes of a pin file, Cargo.lock or go.mod
CRATE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SEMVER_ID = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
SEMVER_RE = re.compile(rf"^(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)(?:-{SEMVER_ID})?(?:\+{SEMVER_ID})?$")
GO_ELEM_RE = re.compile(r"^[A-Za-z0-9_~+-][A-Za-z0-9._~+-]*$")
GO_VERSION_RE = re.compile(r"^v[0-9][0-9A-Za-z.+-]*$")


class Fail(Exception):
    pass


def read_input(path):
    """The text of a file given to vendor.py, at most MAX_INPUT bytes."""
    with open(path, "rb") as f:
        data = f.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        raise Fail(f"{path}: more than {MAX_INPUT} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Fail(f"{path}: not UTF-8 (byte {e.start})") from None


def go_path_ok(p):
    """A Go module or import path: '/'-separated elements, none empty, '.' or
    '..', no leading '/', only [A-Za-z0-9._~+-], at most 500 bytes."""
    return len(p) <= 500 and all(GO_ELEM_RE.match(e) and e not in (".", "..") for e in p.split("/"))


def below(base, *rel):
    """base joined with rel, refused unless it stays below base."""
    p = os.path.normpath(os.path.join(base, *rel))
    b = os.path.normpath(base)
    if os.path.isabs(os.path.join(*rel)) or os.path.commonpath([b, p]) != b or p == b:
        raise Fail(f"{os.path.join(*rel)!r}: not a path below {base}")
    return p


def source_dir(root, rel):
    """root/rel, every directory on the way a directory and no link (what a
    package ships is read inside the unpacked tree only); None if absent."""
    p = root
    for e in rel.split("/"):
        p = below(p, e)
        if os.path.islink(p):
            raise Fail(f"{p}: a link where a source directory was expected")
        if not os.path.isdir(p):
            return None
    return p


def read_pins(path):
    pins = []
    for n, line in enumerate(read_input(path).splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if not PIN_RE.match(line):
            raise Fail(f"{path}:{n}: not 'name version arch sha256': {line[:80]!r}")
        pins.append(line)
    if not pins:
        raise Fail(f"{path}: no packages")
    return pins


def unpack(pins, cache, into):
    """Fetch (SHA-256 checked) and unpack the pinned .debs into `into`."""
    r = subprocess.run([os.path.join(HERE, "mkrootfs.sh"), "fetch", cache], input="\n".join(pins) + "\n",
                       text=True, stdout=sys.stderr)
    if r.returncode != 0:
        raise Fail("fetching the pinned .debs failed")
    try:
        tree = intree.Tree(into)
    except intree.Fail as e:
        raise Fail(str(e)) from None
    try:
        for p in pins:
            name, ver, arch, _ = p.split()
            intree.unpack(tree, os.path.join(cache, "debs", f"{name}_{ver.replace(':', '%3a')}_{arch}.deb"))
    except intree.Fail as e:
        raise Fail(str(e)) from None
    finally:
        os.close(tree.root)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 16), b""):
            h.update(b)
    return h.hexdigest()


def copy_tree(src, dst, keep=lambda rel: True):
    """Regular files and directories only; a symlink or special file is refused."""
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for n in sorted(dirs + files):
            p = os.path.join(root, n)
            rel = os.path.relpath(p, src)
            if os.path.islink(p) or not (os.path.isfile(p) or os.path.isdir(p)):
                raise Fail(f"{p}: not a regular file or directory")
            if os.path.isfile(p) and keep(rel):
                os.makedirs(os.path.dirname(below(dst, rel)), exist_ok=True)
                shutil.copyfile(p, below(dst, rel))


# ------------------------------------------------------------------ Rust
def cargo_lock_crates(path):
    """(name, version) of every crates.io package in a Cargo.lock; a name or
    version that could not be a crate's is refused by its line."""
    crates, cur, start = [], {}, 0
    lines = read_input(path).splitlines()
    for n, line in enumerate(lines + ["[[package]]"], 1):
        if line.strip() == "[[package]]":
            if cur.get("source", ("", 0))[0].startswith("registry+"):
                for k in ("name", "version"):
                    if k not in cur:
                        raise Fail(f"{path}:{start}: a registry package without a {k}")
                name, nl = cur["name"]
                ver, vl = cur["version"]
                if not CRATE_RE.match(name):
                    raise Fail(f"{path}:{nl}: crate name {name[:80]!r} is not [A-Za-z0-9_-] (64 at most)")
                if len(ver) > 100 or not SEMVER_RE.match(ver):
                    raise Fail(f"{path}:{vl}: crate {name} version {ver[:80]!r} is not a semver version")
                crates.append((name, ver))
            cur, start = {}, n
            continue
        m = re.match(r'^(name|version|source) = "([^"]*)"$', line)
        if m:
            if m.group(1) in cur:
                raise Fail(f"{path}:{n}: a second {m.group(1)} in one package")
            cur[m.group(1)] = (m.group(2), n)
    return sorted(set(crates))


def vendor_rust(pins, lock, out, cache, work):
    unpack(pins, cache, work)
    crates = cargo_lock_crates(lock)
    if not crates:
        raise Fail(f"{lock}: no crates.io packages in it")
    for name, ver in crates:
        src = source_dir(work, f"usr/share/cargo/registry/{name}-{ver}")
        if src is None or os.path.islink(os.path.join(src, "Cargo.toml")) or \
                not os.path.isfile(os.path.join(src, "Cargo.toml")):
            raise Fail(f"{lock}: crate {name} {ver} is in none of the pinned packages")
        dst = below(out, "vendor", f"{name}-{ver}")
        copy_tree(src, dst, keep=lambda rel: rel != ".cargo-checksum.json")
        files = {}
        for root, _, fs in os.walk(dst):
            for n in fs:
                p = os.path.join(root, n)
                files[os.path.relpath(p, dst)] = sha256_file(p)
        # Debian's .crate checksums are gone ("package" would be the .crate's
        # SHA-256); cargo checks every listed file before it compiles.
        with open(os.path.join(dst, ".cargo-checksum.json"), "w") as f:
            json.dump({"files": dict(sorted(files.items())), "package": None}, f, sort_keys=True)
    os.makedirs(os.path.join(out, ".cargo"))
    with open(os.path.join(out, ".cargo/config.toml"), "w") as f:
        f.write('[source.crates-io]\nreplace-with = "vendored-sources"\n\n'
                f'[source.vendored-sources]\ndirectory = "{DEPS_MOUNT}/vendor"\n\n[net]\noffline = true\n')
    return len(crates)


# ------------------------------------------------------------------ Go
def go_mod_requires(path):
    """[(module, version)] of go.mod's require directives; replace is refused."""
    reqs, block = [], False
    for n, raw in enumerate(read_input(path).splitlines(), 1):
        line = raw.split("//", 1)[0].strip()
        if line.startswith("replace"):
            raise Fail(f"{path}:{n}: replace directives are not supported")
        r = None
        if block:
            if line == ")":
                block = False
            elif line:
                r = line.split()
        elif line == "require (":
            block = True
        elif line.startswith("require "):
            r = line.split()[1:]
        if r is None:
            continue
        if len(r) != 2 or not go_path_ok(r[0]) or len(r[1]) > 100 or not GO_VERSION_RE.match(r[1]):
            raise Fail(f"{path}:{n}: malformed requirement {' '.join(r)[:160]!r} (want a module path, "
                       "elements of [A-Za-z0-9._~+-] but not '.' or '..', and a version v...)")
        reqs.append((r[0], r[1]))
    return sorted(reqs)


IMPORT_RE = re.compile(r'^\s*(?:import\s+)?(?:[A-Za-z_.][A-Za-z0-9_]*\s+)?"([^"]+)"', re.M)


def go_imports(d):
    """Import paths of the non-test .go files of directory d; a path that is
    not a Go import path is refused, naming its file."""
    out = set()
    for n in sorted(os.listdir(d)):
        if not n.endswith(".go") or n.endswith("_test.go"):
            continue
        with open(os.path.join(d, n), encoding="utf-8", errors="replace") as f:
            src = f.read()
        # the import declarations come before the first top-level declaration
        head = re.split(r"^(?:func|type|var|const)\b", src, maxsplit=1, flags=re.M)[0]
        found = set(re.findall(r'^import\s+(?:[A-Za-z_.][A-Za-z0-9_]*\s+)?"([^"]+)"', head, re.M))
        for blk in re.findall(r"^import\s*\((.*?)\)", head, re.S | re.M):
            found.update(IMPORT_RE.findall(blk))
        for imp in sorted(found):
            if not go_path_ok(imp):
                raise Fail(f"{os.path.join(d, n)}: import {imp[:160]!r} is not a Go import path "
                           "(elements of [A-Za-z0-9._~+-], none empty, '.' or '..', no leading '/')")
        out |= found
    return out


def vendor_go(pins, gomod, out, cache, work):
    unpack(pins, cache, work)
    reqs = go_mod_requires(gomod)
    mods = [m for m, _ in reqs]
    todo, seen, pkgs = sorted(go_imports(os.path.dirname(os.path.abspath(gomod)))), set(), {}
    while todo:
        imp = todo.pop()
        if imp in seen or "." not in imp.split("/")[0]:
            continue  # the standard library
        seen.add(imp)
        mod = max((m for m in mods if imp == m or imp.startswith(m + "/")), key=len, default=None)
        if mod is None:
            raise Fail(f"{imp} is imported but no requirement of {gomod} provides it")
        src = source_dir(work, "usr/share/gocode/src/" + imp)
        if src is None or not any(n.endswith(".go") for n in os.listdir(src)):
            raise Fail(f"package {imp} (module {mod}) is in none of the pinned packages")
        dst = below(out, "vendor", imp)
        os.makedirs(dst, exist_ok=True)  # a parent package may come after its child
        for n in sorted(os.listdir(src)):
            p = os.path.join(src, n)
            if os.path.islink(p):
                raise Fail(f"{p}: not a regular file or directory")
            if os.path.isfile(p) and not n.endswith("_test.go"):
                shutil.copyfile(p, below(dst, n))
        pkgs.setdefault(mod, []).append(imp)
        todo.extend(sorted(go_imports(src)))
    lines = []
    for mod, ver in reqs:
        lines.append(f"# {mod} {ver}")
        gover, d = None, source_dir(work, "usr/share/gocode/src/" + mod)
        if d and os.path.isfile(os.path.join(d, "go.mod")) and not os.path.islink(os.path.join(d, "go.mod")):
            m = re.search(r"^go\s+([0-9.]+)\s*$", read_input(os.path.join(d, "go.mod")), re.M)
            gover = m and m.group(1)
        lines.append("## explicit" + (f"; go {gover}" if gover else ""))
        lines.extend(sorted(pkgs.get(mod, [])))
    os.makedirs(os.path.join(out, "vendor"), exist_ok=True)
    with open(os.path.join(out, "vendor/modules.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(seen)


def normalise(d):
    for root, dirs, files in os.walk(d):
        for n in dirs:
            os.chmod(os.path.join(root, n), 0o755)
        for n in files:
            os.chmod(os.path.join(root, n), 0o644)
    for root, dirs, files in os.walk(d, topdown=False):
        for n in dirs + files:
            os.utime(os.path.join(root, n), (0, 0))
    os.chmod(d, 0o755)
    os.utime(d, (0, 0))


def main(argv):
    if len(argv) != 6 or argv[1] not in ("rust", "go"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    lang, pinfile, manifest, out, cache = argv[1:]
    out = out.rstrip("/")
    tmp = out + ".tmp"
    work, done = None, False
    try:
        pins = read_pins(pinfile)
        intree.rmtree(tmp)
        os.makedirs(tmp)
        work = tempfile.mkdtemp(prefix="vendor.", dir=os.path.dirname(os.path.abspath(out)))
        n = (vendor_rust if lang == "rust" else vendor_go)(pins, manifest, tmp, cache, work)
        with open(os.path.join(tmp, "debian-packages.txt"), "w") as f:
            f.write("\n".join(pins) + "\n")
        normalise(tmp)
        intree.rmtree(out)
        os.rename(tmp, out)
        done = True
        what = "crates" if lang == "rust" else "packages"
        print(f"  VENDOR  {out}: {n} {what} from {len(pins)} Debian packages", file=sys.stderr)
        return 0
    except (Fail, intree.Fail, OSError) as e:
        print(f"vendor: {e}", file=sys.stderr)
        return 1
    except RecursionError:
        # os.walk recurses (Python 3.11): a package tree deeper than about
        # a thousand directories is refused by name, not with a traceback
        print("vendor: a source tree is nested too deep to copy (about 1000 directories)", file=sys.stderr)
        return 1
    finally:
        # on every failure (an unexpected exception too): no OUT.tmp, no work
        # directory; removed without recursion (a package's tree may be deep)
        for d in ([] if done else [tmp]) + ([work] if work else []):
            try:
                intree.rmtree(d)
            except (intree.Fail, OSError) as e:
                print(f"vendor: removing {d}: {e}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
