#!/usr/bin/env python3
"""The layout suite: dependencies between folders point one way.

  tests/layout/check.py BUILD_DIR CC

Reads the allowed uses (USES_<folder> in the Makefile), then checks:
  - every #include "..." of every source file stays within what its folder
    may use, and names an existing file by its path from the root;
  - no cycle of includes between files, nor between folders;
  - the compiler enforces it: for each folder, including a header of a
    folder it may not use fails to compile with that folder's include path
    (BUILD_DIR/inc/<folder>), and including one it may use compiles.
Prints the folder graph as comment lines ("# a -> b (n includes)").
"""
import os, re, subprocess, sys, tempfile

build, cc = sys.argv[1], sys.argv[2]
results = []
def check(name, ok, why=""):
    print(("ok - " if ok else "not ok - ") + name + ("" if ok else ": " + why))
    results.append(ok)

uses = {}
for line in open("Makefile"):
    m = re.match(r"USES_(\S+)\s*:=\s*(.*)", line)
    if m:
        uses[m.group(1)] = m.group(2).split()
check("the Makefile names the folders and their uses", len(uses) >= 7, str(uses))

files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                       capture_output=True, text=True, check=True).stdout.split()
files = [f for f in files if f.endswith((".c", ".h")) and os.path.exists(f)]
top = lambda f: f.split("/")[0]
inc_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
edges, folder_edges, bad = {}, {}, []
for f in files:
    if f.startswith(("kernel-config/", "demo/")):
        continue                      # kernel module and the sample project: not ours to layer
    for inc in inc_re.findall(open(f, errors="replace").read()):
        if not os.path.exists(inc):
            bad.append(f"{f}: \"{inc}\" is not a path from the root")
            continue
        edges.setdefault(f, set()).add(inc)
        a, b = top(f), top(inc)
        if a in uses:
            if b not in uses[a]:
                bad.append(f"{f}: {a}/ may not include {inc}")
        if a != b:
            folder_edges[(a, b)] = folder_edges.get((a, b), 0) + 1
check("every include is a path from the root and points the allowed way", not bad, "; ".join(bad[:10]))

# host-tool's wings use each other one way too (host-tool/README.md); the
# front ends (host-tool/*.c) use them all.
wings = {"eif": {"eif"}, "run": {"eif", "run"}, "client": {"client"}, "verify": {"eif", "client", "verify"}}
bad = []
for f, incs in edges.items():
    p = f.split("/")
    if p[0] != "host-tool" or len(p) < 3:
        continue
    for inc in incs:
        q = inc.split("/")
        if q[0] == "host-tool" and len(q) >= 3 and q[1] not in wings.get(p[1], ()):
            bad.append(f"{f}: host-tool/{p[1]}/ may not include {inc}")
        elif q[0] == "host-tool" and len(q) == 2:
            bad.append(f"{f}: a wing may not include the front ends' {inc}")
check("host-tool's wings include each other the allowed way (eif <- run, verify; client <- verify)", not bad,
      "; ".join(bad[:10]))

def cycle(graph):
    state, stack = {}, []
    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if not state.get(m):
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None
    for n in sorted(graph):
        if not state.get(n):
            c = visit(n)
            if c:
                return c
    return None
c = cycle(edges)
check("no cycle of includes between files", c is None, " -> ".join(c or []))
fg = {}
for (a, b) in folder_edges:
    fg.setdefault(a, set()).add(b)
c = cycle(fg)
check("no cycle between folders", c is None, " -> ".join(c or []))

# The compiler enforces the direction.
layers = [l for l in uses]
some_header = {}
for f in sorted(files):
    if f.endswith(".h") and top(f) in uses and top(f) not in some_header:
        some_header[top(f)] = f
with tempfile.TemporaryDirectory() as d:
    for l in layers:
        inc = os.path.join(build, "inc", l)
        if not os.path.isdir(inc):
            check(f"{l}/: its include tree exists", False, f"{inc} is missing (run make first)")
            continue
        for other in layers:
            h = some_header.get(other)
            if not h:
                continue
            src = os.path.join(d, "probe.c")
            open(src, "w").write(f'#include "{h}"\nint probe(void);\nint probe(void) {{ return 0; }}\n')
            deps_inc = os.path.join(build, "deps", "host", "include")
            r = subprocess.run([cc, "-std=c11", "-D_GNU_SOURCE", "-fsyntax-only", "-I" + inc, "-I" + deps_inc, src],
                               capture_output=True, text=True)
            allowed = other in uses[l]
            if allowed:
                check(f"{l}/ may include {h}: it compiles", r.returncode == 0, r.stderr.strip()[:300])
            else:
                check(f"{l}/ may not include {h}: it does not compile", r.returncode != 0 and "No such file" in r.stderr,
                      "it compiled")

for (a, b), n in sorted(folder_edges.items()):
    print(f"# {a} -> {b} ({n} includes)")
sys.exit(0 if all(results) else 1)
