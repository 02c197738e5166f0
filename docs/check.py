#!/usr/bin/env python3
"""Suite docs/man: the manual pages and the docs cannot drift from the code.

    docs/check.py CLEANROOM

Prints one line per case for tests/run.sh ("ok - ...", "not ok - ...: why"):

  * every page docs/man/*.scd renders with scdoc;
  * every command `cleanroom --help` lists has its page cleanroom-<command>.1
    and is named in cleanroom.1, and cleanroom.1 names --help and --version;
  * for every command, every option its `--help` lists (the usage lines and
    the option column of the option lines, up to the examples) appears in the
    rendered page of that command;
  * README.md has at most 220 lines;
  * every relative link in README.md, docs/*.md and the folders' README.md
    files points at a file that exists (and, for a #fragment into a Markdown
    file, at a heading that exists);
  * README.md and docs/ name no path of the development machines (the
    steering checkout or worktrees) and no issue number.

Run from the top of the source tree.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

MAX_README_LINES = 220
failures = 0


def ok(name):
    print(f"ok - {name}", flush=True)


def not_ok(name, why):
    global failures
    failures += 1
    print(f"not ok - {name}: {why}", flush=True)


def run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


# ---------------------------------------------------------------- man pages

def render(src, out_dir):
    """Render one page; returns the roff text with escapes removed, or None."""
    name = os.path.basename(src)[:-len(".scd")]
    with open(src, "rb") as f:
        p = subprocess.run(["scdoc"], stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        not_ok(f"render {name}", p.stderr.decode(errors="replace").strip())
        return None
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(p.stdout)
    ok(f"render {name}")
    text = p.stdout.decode(errors="replace")
    # roff to plain words: \- is a hyphen, \fB \fI \fR \fP switch fonts, \& is nothing
    text = text.replace("\\-", "-").replace("\\&", "").replace("\\e", "\\")
    return re.sub(r"\\f[BIRP]", "", text)


OPT_RE = re.compile(r"(?<![\w-])(--[A-Za-z0-9][A-Za-z0-9-]*|-[A-Za-z])(?![\w-])")


def help_options(text):
    """Options a --help text lists: its usage lines, and the option column of
    the lines that start with an option (indented by 1 to 4 spaces), up to
    the examples."""
    opts = []
    in_usage = False
    for line in text.splitlines():
        s = line.strip()
        if re.match(r"examples?:", s):
            break
        if s.startswith("usage:"):
            in_usage = True
        elif in_usage and (not s or not line[:1].isspace()):
            in_usage = False
        if in_usage:
            opts += OPT_RE.findall(s)
        elif re.match(r" {1,4}-{1,2}[A-Za-z]", line):
            # an option line; deeper lines starting with an option continue a text
            column = re.split(r"\s{2,}", s)[0]
            opts += OPT_RE.findall(column)
    seen = []
    for o in opts:
        if o not in seen:
            seen.append(o)
    return seen


def has_word(text, word):
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text) is not None


def check_man(cleanroom):
    if subprocess.run(["sh", "-c", "command -v scdoc"], stdout=subprocess.DEVNULL).returncode:
        not_ok("scdoc", "scdoc is not installed (apt-get install scdoc; make deps does it)")
        return
    pages = {}
    with tempfile.TemporaryDirectory() as out:
        for src in sorted(glob.glob("docs/man/*.scd")):
            text = render(src, out)
            if text is not None:
                pages[os.path.basename(src)[:-len(".scd")]] = text
    rc, top = run([cleanroom, "--help"])
    if rc != 0:
        not_ok("cleanroom --help", f"exit status {rc}")
        return
    m = re.search(r"^commands:\n((?:  \S.*\n)+)", top, re.M)
    commands = [l.split()[0] for l in m.group(1).splitlines()] if m else []
    if not commands:
        not_ok("cleanroom --help lists commands", "no 'commands:' list found")
        return
    main = pages.get("cleanroom.1")
    if main is None:
        not_ok("cleanroom.1", "no page docs/man/cleanroom.1.scd (or it did not render)")
    else:
        missing = [c for c in commands if not has_word(main, c) or not has_word(main, f"cleanroom-{c}")]
        missing += [o for o in ("--help", "--version") if not has_word(main, o)]
        if missing:
            not_ok("cleanroom.1 names every command and option", "missing: " + " ".join(missing))
        else:
            ok(f"cleanroom.1 names every command ({len(commands)}) and --help, --version")
    if "cleanroom-bundle.5" not in pages:
        not_ok("cleanroom-bundle.5", "no page docs/man/cleanroom-bundle.5.scd (or it did not render)")
    for c in commands:
        page = f"cleanroom-{c}.1"
        rc, text = run([cleanroom, c, "--help"])
        if rc != 0:
            not_ok(f"{page} options", f"'cleanroom {c} --help' exited with {rc}")
            continue
        if page not in pages:
            not_ok(f"{page} options", f"no page docs/man/{page}.scd (or it did not render)")
            continue
        opts = help_options(text)
        missing = [o for o in opts if not has_word(pages[page], o)]
        if not opts:
            not_ok(f"{page} options", f"no option found in 'cleanroom {c} --help'")
        elif missing:
            not_ok(f"{page} options", f"'cleanroom {c} --help' lists {' '.join(missing)}, the page does not")
        else:
            ok(f"{page} documents the {len(opts)} options of 'cleanroom {c} --help'")


# ---------------------------------------------------------------- Markdown

def slug(heading):
    """GitHub's anchor for a heading."""
    h = heading.strip().lower()
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")


def anchors(path):
    seen = {}
    out = set()
    in_code = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                in_code = not in_code
            if in_code:
                continue
            m = re.match(r"#{1,6}\s+(.*)", line)
            if m:
                s = slug(m.group(1))
                n = seen.get(s, 0)
                seen[s] = n + 1
                out.add(s if n == 0 else f"{s}-{n}")
    return out


LINK_RE = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def check_links(md):
    bad = []
    text = open(md, encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)   # code blocks
    text = re.sub(r"`[^`\n]*`", "", text)               # code spans
    for target in LINK_RE.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, frag = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
        if not os.path.exists(full):
            bad.append(f"{target} (no such file)")
        elif frag and full.endswith(".md") and frag not in anchors(full):
            bad.append(f"{target} (no such heading)")
    if bad:
        not_ok(f"links in {md}", "; ".join(bad))
    else:
        ok(f"links in {md}")


def check_docs():
    n = sum(1 for _ in open("README.md", encoding="utf-8"))
    if n > MAX_README_LINES:
        not_ok("README.md length", f"{n} lines, at most {MAX_README_LINES}")
    else:
        ok(f"README.md has {n} lines (at most {MAX_README_LINES})")
    files = ["README.md"] + sorted(glob.glob("docs/*.md")) + sorted(glob.glob("*/README.md"))
    for md in files:
        check_links(md)
    bad = []
    for md in ["README.md"] + sorted(glob.glob("docs/*.md")) + sorted(glob.glob("docs/man/*.scd")):
        for i, line in enumerate(open(md, encoding="utf-8"), 1):
            if re.search(r"/work/(shared|main|wt-|\.library|\.mirror)|\bissues? #?\d+", line, re.I):
                bad.append(f"{md}:{i}")
    if bad:
        not_ok("no machine paths or issue numbers in the docs", " ".join(bad))
    else:
        ok("no machine paths or issue numbers in the docs")


def main():
    if len(sys.argv) != 2:
        print("usage: docs/check.py CLEANROOM", file=sys.stderr)
        return 2
    check_man(sys.argv[1])
    check_docs()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
