#!/usr/bin/python3
"""slow-peers.py SOCKET N SECONDS: N connections to ocitapd's socket that each
send one byte of a report and then nothing, held for SECONDS (run as an
--allow-uid user: a slow or hostile peer). Prints how many the daemon took
and how many it closed at once (refused)."""
import socket
import sys
import time

path, n, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
held, refused = [], 0
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        s.send(b"{")
    except OSError:
        refused += 1
        continue
    held.append(s)
time.sleep(0.3)
for s in list(held):  # closed by the daemon right after accept: refused
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            refused += 1
            held.remove(s)
    except BlockingIOError:
        pass
    except OSError:
        refused += 1
        held.remove(s)
print("taken=%d refused=%d" % (len(held), refused), flush=True)
time.sleep(seconds)
