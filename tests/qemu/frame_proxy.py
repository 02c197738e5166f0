"""A fault-injecting proxy between `cleanroom build --vsock` and the vsock
bridge of `cleanroom run`, for tests/qemu/faults.sh: it passes the CONNECT
handshake and the client's bytes through, and reads the agent's side frame
by frame (4-byte big-endian length, vsock/README.md; the bodies are never
decoded). At the first frame larger than 100 kB going to the client — an
artifact's data; log frames are at most 64 KiB — it does what MODE says:

    cut      pass half of the frame, then close both connections
    stall    pass half of the frame, then pass nothing more (and keep both open)
    oversize replace the frame's length with 2 MiB (above the 1 MiB limit)

MODE droplog instead drops the first build-log frame (a body with the text
"t": "log") and passes everything else: a host hiding part of the log.

    python3 frame_proxy.py LISTEN_PATH BRIDGE_PATH MODE

Prints "ready" when listening, and one line per connection saying what it did.
"""
import os
import socket
import struct
import sys
import threading

from hostlib import read_line

BIG = 100_000


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            return None
        buf += d
    return buf


def pump_up(client, agent):
    """client -> agent, raw."""
    try:
        while True:
            d = client.recv(65536)
            if not d:
                break
            agent.sendall(d)
    except OSError:
        pass


def serve(client, bridge, mode):
    agent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    agent.connect(bridge)
    line = read_line(client)
    if not line.endswith(b"\n"):
        return
    agent.sendall(line)
    reply = read_line(agent)
    if not reply.endswith(b"\n"):
        return
    client.sendall(reply)
    threading.Thread(target=pump_up, args=(client, agent), daemon=True).start()
    frames = 0
    dropped = False
    while True:
        hdr = read_exact(agent, 4)
        if hdr is None:
            print(f"passed {frames} frames; the agent closed", flush=True)
            client.close()
            return
        (n,) = struct.unpack(">I", hdr)
        body = read_exact(agent, n)
        if body is None:
            client.close()
            return
        try:
            if mode == "droplog" and not dropped and b"\x61t\x63log" in body:
                print(f"frame {frames + 1}: a log frame of {n} bytes dropped", flush=True)
                dropped = True
                frames += 1
                continue
            if n > BIG and mode != "droplog":
                if mode == "oversize":
                    print(f"frame {frames + 1}: length {n} sent as {2 << 20}", flush=True)
                    client.sendall(struct.pack(">I", 2 << 20) + body)
                    continue
                print(f"frame {frames + 1}: {mode} after {n // 2} of {n} bytes", flush=True)
                client.sendall(hdr + body[: n // 2])
                if mode == "cut":
                    # shutdown, not just close: the other thread's recv holds the socket
                    for x in (client, agent):
                        x.shutdown(socket.SHUT_RDWR)
                        x.close()
                return  # stall: both stay open, nothing more is passed
            client.sendall(hdr + body)
        except OSError as e:  # the client gave up (as it should, e.g. on an oversize frame)
            print(f"frame {frames + 1}: the client is gone ({e.strerror})", flush=True)
            return
        frames += 1


def main():
    listen_path, bridge, mode = sys.argv[1:4]
    if os.path.exists(listen_path):
        os.unlink(listen_path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(listen_path)
    s.listen(4)
    print("ready", flush=True)
    held = []
    while True:
        c, _ = s.accept()
        held.append(c)  # a stalled connection must not be closed by the GC
        threading.Thread(target=serve, args=(c, bridge, mode), daemon=True).start()


main()
