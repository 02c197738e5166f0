"""Helpers for the host halves of the tests/qemu suites (import from a
script in this directory: Python puts the script's directory on sys.path).

    report(ok, name, why)   one "ok - name" / "not ok - name: why" line
    failures()              how many "not ok" lines so far
    listen(path, handler)   Unix listener; handler(conn) per connection, in a thread
    connect(uds, port)      the vsock bridge's CONNECT handshake: (socket, reply line)
    read_line(s)            bytes up to and including a newline
"""
import os
import socket
import threading

_failed = 0


def report(ok, name, why=""):
    global _failed
    if ok:
        print(f"ok - {name}", flush=True)
    else:
        _failed += 1
        print(f"not ok - {name}: {why}", flush=True)


def failures():
    return _failed


def listen(path, handler, backlog=32):
    """Listen on path (a stale socket there is replaced); returns the socket."""
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(backlog)

    def loop():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return s


def connect(uds, port, timeout=30.0):
    """Connect to guest port `port` through the bridge socket uds: returns
    (socket, reply line); the line is "" when the guest refused."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(uds)
    s.sendall(f"CONNECT {port}\n".encode())
    return s, read_line(s).decode(errors="replace")


def read_line(s):
    """Bytes from s up to and including b"\\n" (fewer if it closes first)."""
    line = b""
    while not line.endswith(b"\n"):
        d = s.recv(1)
        if not d:
            break
        line += d
    return line
