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
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.realpath(__file__))
PIN_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+ [0-9][A-Za-z0-9.+~:-]* [a-z0-9]+ [0-9a-f]{64}$")
DEPS_MOUNT = "/work/deps"  # where the enclave's build sees --deps


class Fail(Exception):
    pass


def read_pins(path):
    pins = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
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
    for p in pins:
        name, ver, arch, _ = p.split()
        deb = os.path.join(cache, "debs", f"{name}_{ver.replace(':', '%3a')}_{arch}.deb")
        if subprocess.run(["dpkg-deb", "-x", deb, into]).returncode != 0:
            raise Fail(f"cannot unpack {deb}")


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
                os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
                shutil.copyfile(p, os.path.join(dst, rel))


# ------------------------------------------------------------------ Rust
def cargo_lock_crates(path):
    """(name, version) of every crates.io package in a Cargo.lock."""
    crates, cur = [], {}
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines() + ["[[package]]"]:
            if line.strip() == "[[package]]":
                if cur.get("source", "").startswith("registry+"):
                    crates.append((cur["name"], cur["version"]))
                cur = {}
                continue
            m = re.match(r'^(name|version|source) = "([^"]*)"$', line)
            if m:
                cur[m.group(1)] = m.group(2)
    return sorted(set(crates))


def vendor_rust(pins, lock, out, cache, work):
    unpack(pins, cache, work)
    reg = os.path.join(work, "usr/share/cargo/registry")
    crates = cargo_lock_crates(lock)
    if not crates:
        raise Fail(f"{lock}: no crates.io packages in it")
    for name, ver in crates:
        src = os.path.join(reg, f"{name}-{ver}")
        if not os.path.isfile(os.path.join(src, "Cargo.toml")):
            raise Fail(f"{lock}: crate {name} {ver} is in none of the pinned packages")
        dst = os.path.join(out, "vendor", f"{name}-{ver}")
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
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("//", 1)[0].strip()
            if line.startswith("replace"):
                raise Fail(f"{path}:{n}: replace directives are not supported")
            if block:
                if line == ")":
                    block = False
                elif line:
                    reqs.append(line.split()[:2])
            elif line == "require (":
                block = True
            elif line.startswith("require "):
                reqs.append(line.split()[1:3])
    for r in reqs:
        if len(r) != 2 or not re.match(r"^[A-Za-z0-9.~_/-]+$", r[0]) or not r[1].startswith("v"):
            raise Fail(f"{path}: malformed requirement {' '.join(r)!r}")
    return sorted((m, v) for m, v in reqs)


IMPORT_RE = re.compile(r'^\s*(?:import\s+)?(?:[A-Za-z_.][A-Za-z0-9_]*\s+)?"([^"]+)"', re.M)


def go_imports(d):
    """Import paths of the non-test .go files of directory d."""
    out = set()
    for n in sorted(os.listdir(d)):
        if not n.endswith(".go") or n.endswith("_test.go"):
            continue
        with open(os.path.join(d, n), encoding="utf-8", errors="replace") as f:
            src = f.read()
        # the import declarations come before the first top-level declaration
        head = re.split(r"^(?:func|type|var|const)\b", src, maxsplit=1, flags=re.M)[0]
        for blk in re.findall(r"^import\s*\((.*?)\)", head, re.S | re.M):
            out.update(IMPORT_RE.findall(blk))
        out.update(re.findall(r'^import\s+(?:[A-Za-z_.][A-Za-z0-9_]*\s+)?"([^"]+)"', head, re.M))
    return out


def vendor_go(pins, gomod, out, cache, work):
    unpack(pins, cache, work)
    gocode = os.path.join(work, "usr/share/gocode/src")
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
        src = os.path.join(gocode, imp)
        if not os.path.isdir(src) or not any(n.endswith(".go") for n in os.listdir(src)):
            raise Fail(f"package {imp} (module {mod}) is in none of the pinned packages")
        dst = os.path.join(out, "vendor", imp)
        os.makedirs(dst, exist_ok=True)  # a parent package may come after its child
        for n in sorted(os.listdir(src)):
            p = os.path.join(src, n)
            if os.path.islink(p):
                raise Fail(f"{p}: not a regular file or directory")
            if os.path.isfile(p) and not n.endswith("_test.go"):
                shutil.copyfile(p, os.path.join(dst, n))
        pkgs.setdefault(mod, []).append(imp)
        todo.extend(sorted(go_imports(src)))
    lines = []
    for mod, ver in reqs:
        lines.append(f"# {mod} {ver}")
        gover = None
        try:
            with open(os.path.join(gocode, mod, "go.mod"), encoding="utf-8") as f:
                m = re.search(r"^go\s+([0-9.]+)\s*$", f.read(), re.M)
                gover = m and m.group(1)
        except FileNotFoundError:
            pass
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
    work = None
    try:
        pins = read_pins(pinfile)
        if os.path.lexists(tmp):
            shutil.rmtree(tmp)
        os.makedirs(tmp)
        work = tempfile.mkdtemp(prefix="vendor.", dir=os.path.dirname(os.path.abspath(out)))
        n = (vendor_rust if lang == "rust" else vendor_go)(pins, manifest, tmp, cache, work)
        with open(os.path.join(tmp, "debian-packages.txt"), "w") as f:
            f.write("\n".join(pins) + "\n")
        normalise(tmp)
        if os.path.lexists(out):
            shutil.rmtree(out)
        os.rename(tmp, out)
        what = "crates" if lang == "rust" else "packages"
        print(f"  VENDOR  {out}: {n} {what} from {len(pins)} Debian packages", file=sys.stderr)
        return 0
    except (Fail, OSError) as e:
        print(f"vendor: {e}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
        return 1
    finally:
        if work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
