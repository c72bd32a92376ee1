#!/usr/bin/python3
"""flood.py SOCKET SECONDS: bad peers at ocitapd's socket for SECONDS, from
a few threads at once: garbage, oversized messages, slowloris connections
(one byte every 100 ms, never finishing), fd bombs (a listener message with
250 fds, and a stream of messages with 16 fds each), truncated messages, and
peers that connect and vanish. Prints how many of each it sent."""
import os
import socket
import sys
import threading
import time

path, seconds = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + seconds
counts = {}
lock = threading.Lock()
STATE = (b'{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":1,"metadata":"policy=audit",'
         b'"state":{"ociVersion":"1.0.2","id":"bomb","status":"creating","pid":1,"bundle":"/b"}}')


def count(kind):
    with lock:
        counts[kind] = counts.get(kind, 0) + 1


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(path)
    return s


def fds(n):
    # pipe ends: real fds, none of them a seccomp notify fd
    out = []
    while len(out) < n:
        r, w = os.pipe()
        out += [r, w]
    return out[:n]


def one(kind):
    try:
        s = connect()
        if kind == "garbage":
            s.sendall(os.urandom(512))
        elif kind == "oversized":
            try:
                s.sendall(b'{"ociVersion":"1.0.2","x":"' + b"a" * (2 << 20))
            except (BrokenPipeError, ConnectionResetError):
                pass  # dropped before the end: what the daemon should do
        elif kind == "fd-bomb-250":
            f = fds(250)
            s.sendmsg([STATE], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(memoryview(bytearray().join(
                x.to_bytes(4, sys.byteorder) for x in f))))])
            for x in f:
                os.close(x)
        elif kind == "fd-bomb-16":
            f = fds(16)
            for _ in range(4):
                s.sendmsg([STATE[:40]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, b"".join(
                    x.to_bytes(4, sys.byteorder) for x in f))])
            for x in f:
                os.close(x)
        elif kind == "truncated":
            s.sendall(STATE[: len(STATE) // 2])
        elif kind == "vanish":
            pass
        try:
            s.recv(256)
        except OSError:
            pass
        s.close()
        count(kind)
    except OSError:
        count(kind + " (refused)")


def loop(kinds):
    i = 0
    while time.monotonic() < deadline:
        one(kinds[i % len(kinds)])
        i += 1


def slowloris():
    conns = []
    while time.monotonic() < deadline:
        try:
            if len(conns) < 64:
                conns.append(connect())
                count("slowloris")
            for c in conns:
                c.send(b"{")
        except OSError:
            conns = [c for c in conns if c.fileno() >= 0][:-1]
        time.sleep(0.1)
    for c in conns:
        c.close()


threads = [threading.Thread(target=loop, args=(["garbage", "fd-bomb-250", "truncated", "vanish"],)),
           threading.Thread(target=loop, args=(["fd-bomb-16", "oversized", "garbage"],)),
           threading.Thread(target=slowloris)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
