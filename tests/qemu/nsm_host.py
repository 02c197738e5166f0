#!/usr/bin/env python3
"""Host half of the qemu/nsm suite (the guest half is guest_nsm.c).

    nsm_host.py UDS_PATH OUTDIR RUN_JSON [TIMEOUT_S]

UDS_PATH is the vsock bridge's host socket (cleanroom run --vsock-dir DIR
makes it DIR/vsock). Listens on UDS_PATH_9001 for the guest's control
connection, sends it a fresh nonce, relays the guest's own "ok"/"not ok"
lines, stores each "DATA key value" line as OUTDIR/key (documents decoded
from hex to raw CBOR as OUTDIR/key.cbor), and, before telling the guest to
power off, copies the NSM model's test root named by the run's ready event
(RUN_JSON, `cleanroom run --json`) to OUTDIR/root.pem: the default root
lives in the run's private directory, which goes away with the run.
The shell half (nsm-run.sh) verifies the stored values afterwards.
"""
import json
import os
import queue
import shutil
import sys
import time

from hostlib import failures, listen, report

UDS, OUT, RUN_JSON = sys.argv[1], sys.argv[2], sys.argv[3]
TIMEOUT = float(sys.argv[4]) if len(sys.argv) > 4 else 300.0


def ready_event():
    try:
        with open(RUN_JSON) as f:
            for line in f:
                line = line.strip()
                if line:
                    d = json.loads(line)
                    if d.get("event") == "ready":
                        return d
    except (OSError, ValueError):
        pass
    return None


def main():
    path = UDS + "_9001"
    conns = queue.Queue()
    ls = listen(path, conns.put, backlog=1)
    try:
        c = conns.get(timeout=TIMEOUT)
    except queue.Empty:
        report(False, "the guest connects to CID 3 port 9001", f"nothing within {TIMEOUT:.0f} s")
        return
    finally:
        ls.close()
        os.unlink(path)
    c.settimeout(TIMEOUT)
    nonce = os.urandom(32)
    with open(os.path.join(OUT, "nonce"), "w") as f:
        f.write(nonce.hex())
    c.sendall(b"NONCE " + nonce.hex().encode() + b"\n")
    done = None
    f = c.makefile("rb")
    for raw in f:
        line = raw.decode(errors="replace").rstrip("\n")
        if line.startswith(("ok - ", "not ok - ", "skip - ")):
            print(line, flush=True)
        elif line.startswith("DATA "):
            parts = line.split(" ", 2)
            key, val = parts[1], parts[2] if len(parts) > 2 else ""
            if key.startswith("doc_"):
                with open(os.path.join(OUT, key + ".cbor"), "wb") as out:
                    out.write(bytes.fromhex(val))
            else:
                with open(os.path.join(OUT, key), "w") as out:
                    out.write(val)
        elif line.startswith("DONE"):
            done = line
            break
    report(done is not None, "the guest ran every NSM step and said DONE", "the control connection ended early")

    ev = None
    end = time.time() + 30
    while ev is None and time.time() < end:
        ev = ready_event()
        if ev is None:
            time.sleep(0.1)
    root = ev.get("nsm_root") if ev else None
    report(bool(root) and os.path.isfile(root), "the ready event names the NSM test root, a file while the run lasts",
           repr(root))
    if root and os.path.isfile(root):
        shutil.copy(root, os.path.join(OUT, "root.pem"))
    if ev and ev.get("nsm_module_id"):
        with open(os.path.join(OUT, "ready_module_id"), "w") as out:
            out.write(ev["nsm_module_id"])
    try:
        c.sendall(b"POWEROFF\n")
    except OSError as ex:
        report(False, "send POWEROFF to the guest", str(ex))
    c.close()


main()
sys.exit(1 if failures() else 0)
