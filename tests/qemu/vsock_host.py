#!/usr/bin/env python3
"""Host half of the qemu/vsock suite (the guest half is guest_vsock.c).

    vsock_host.py UDS_PATH [TIMEOUT_S]

UDS_PATH is the vsock bridge's host socket (cleanroom run --vsock-dir DIR
makes it DIR/vsock). This script listens on UDS_PATH_9001 (control) and
UDS_PATH_9002 (echo for guest-initiated connections) before the guest asks
for them, then checks, printing ok/not ok lines:

  - the guest reports READY on the control connection;
  - CONNECT 5000 gets "OK <port>" and a 1 MiB echo comes back byte-exact,
    then a 16 MiB one (throughput printed as informational lines);
  - several concurrent host->guest connections echo their own data;
  - CONNECT to a guest port nobody listens on is closed without "OK";
  - a malformed CONNECT line is closed;
  - the guest's connection to a missing host listener failed cleanly;
  - the guest's concurrent connections to UDS_PATH_9002 echoed correctly;
then tells the guest to power off.
"""
import os
import socket
import sys
import threading
import time

from hostlib import connect as bridge_connect, failures, listen, report

UDS = sys.argv[1]
TIMEOUT = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0


def echo_handler(c):
    """Echo until the guest ends its side, then end ours."""
    with c:
        while True:
            d = c.recv(65536)
            if not d:
                break
            c.sendall(d)
        c.shutdown(socket.SHUT_WR)


control = {"conn": None, "lines": [], "cv": threading.Condition()}


def control_handler(c):
    with control["cv"]:
        control["conn"] = c
        control["cv"].notify_all()
    f = c.makefile("rb")
    for line in f:
        with control["cv"]:
            control["lines"].append(line.decode(errors="replace").strip())
            control["cv"].notify_all()


def wait_line(prefix, timeout):
    end = time.time() + timeout
    with control["cv"]:
        while True:
            for l in control["lines"]:
                if l.startswith(prefix):
                    return l
            left = end - time.time()
            if left <= 0:
                return None
            control["cv"].wait(left)


def connect(port):
    return bridge_connect(UDS, port)


def pattern(n, seed):
    block = bytes((i * 13 + seed * 101 + (i >> 9)) & 0xFF for i in range(65536))
    return (block * (n // len(block) + 1))[:n]


def echo_exchange(s, data):
    """Send data (from a thread) while reading the echo; returns what came back."""
    def writer():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    got = bytearray()
    while len(got) < len(data):
        d = s.recv(262144)
        if not d:
            break
        got += d
    t.join(10)
    return bytes(got)


def main():
    listeners = [listen(UDS + "_9001", control_handler), listen(UDS + "_9002", echo_handler)]
    ready = wait_line("READY", TIMEOUT)
    report(ready is not None, "guest reports READY on its control connection to CID 3 port 9001",
           f"nothing within {TIMEOUT:.0f} s")
    if ready is None:
        return

    # 1 MiB echo, byte-exact; then 16 MiB for a throughput figure (1 MiB is
    # dominated by start-up latency under TCG).
    for size, exact_name in ((1 << 20, "1 MiB echo through the guest is byte-exact"),
                             (16 << 20, "16 MiB echo through the guest is byte-exact")):
        try:
            s, line = connect(5000)
            ok_line = line.startswith("OK ") and line[3:].strip().isdigit()
            if size == 1 << 20:
                report(ok_line, "CONNECT 5000 answered with OK <hostport>", repr(line))
                port = int(line[3:]) if ok_line else 0
                report(port >= 1 << 30, "host port of a host-initiated connection is in [2^30, 2^31)", str(port))
            data = pattern(size, 1)
            t0 = time.time()
            got = echo_exchange(s, data)
            dt = time.time() - t0
            eof = s.recv(1) == b""
            s.close()
            why = ""
            if got != data:
                first = next((i for i in range(min(len(got), len(data))) if got[i] != data[i]),
                             min(len(got), len(data)))
                why = f"got {len(got)} bytes, first difference at {first}"
            report(got == data, exact_name, why)
            if size == 1 << 20:
                report(eof, "guest closes the echo stream after the host's half-close")
            print(f"# vsock echo throughput: {size / dt / 2**20:.1f} MiB/s "
                  f"({size >> 20} MiB each way in {dt * 1000:.0f} ms)", flush=True)
        except OSError as ex:
            report(False, f"CONNECT 5000 and {size >> 20} MiB echo", str(ex))

    # Concurrent host-initiated connections.
    n = 6
    results = [None] * n

    def one(i):
        try:
            s, line = connect(5000)
            if not line.startswith("OK "):
                results[i] = f"reply {line!r}"
                return
            data = pattern(200 * 1024 + i * 1000, i + 7)
            got = echo_exchange(s, data)
            s.close()
            results[i] = "ok" if got == data else f"echo differs ({len(got)} of {len(data)} bytes)"
        except OSError as ex:
            results[i] = str(ex)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(TIMEOUT)
    report(all(r == "ok" for r in results), f"{n} concurrent host->guest connections echo their own data",
           "; ".join(f"#{i}: {r}" for i, r in enumerate(results) if r != "ok"))

    # No guest listener: closed without OK.
    try:
        s, line = connect(5999)
        report(line == "", "CONNECT to a guest port without listener is closed without OK", repr(line))
        s.close()
    except OSError as ex:
        report(True, "CONNECT to a guest port without listener is closed without OK") if "reset" in str(ex) \
            else report(False, "CONNECT to a guest port without listener", str(ex))

    # Malformed CONNECT line.
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(UDS)
        s.sendall(b"CONNECT nope\n")
        report(s.recv(16) == b"", "a malformed CONNECT line is closed")
        s.close()
    except OSError as ex:
        report("reset" in str(ex), "a malformed CONNECT line is closed", str(ex))

    missing = wait_line("MISSING", TIMEOUT)
    report(missing == "MISSING ECONNRESET", "guest connection to a missing host listener fails with ECONNRESET",
           repr(missing))
    conc = wait_line("CONCURRENT", TIMEOUT)
    report(conc is not None and conc.startswith("CONCURRENT 8/8"),
           "8 concurrent guest->host connections echo byte-exact", repr(conc))

    with control["cv"]:
        c = control["conn"]
    try:
        c.sendall(b"POWEROFF\n")
    except OSError as ex:
        report(False, "send POWEROFF to the guest", str(ex))
    for l in listeners:
        l.close()
    for p in (UDS + "_9001", UDS + "_9002"):
        try:
            os.unlink(p)
        except OSError:
            pass


main()
sys.exit(1 if failures() else 0)
