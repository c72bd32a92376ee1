#!/usr/bin/python3
"""http-clients.py PORT MODE N SECONDS: hostile HTTP clients of ocitapd on
127.0.0.1:PORT.
  hold: N connections that each ask for /v1/events/stream and never read a
        byte, held for SECONDS (or until killed); prints "held=N" once all
        are connected.
  drop: for SECONDS, rounds of N connections: half ask for the stream and
        close at once, half connect and close without a word; prints how
        many rounds ran."""
import socket
import sys
import time

port, mode, n, seconds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
REQUEST = b"GET /v1/events/stream?since=0 HTTP/1.1\r\nHost: x\r\n\r\n"


def connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills soon: a client that never reads
    s.connect(("127.0.0.1", port))
    return s


if mode == "hold":
    held = []
    for _ in range(n):
        try:
            s = connect()
            s.sendall(REQUEST)
            held.append(s)
        except OSError:
            pass
    print("held=%d" % len(held), flush=True)
    time.sleep(seconds)
elif mode == "drop":
    until, rounds = time.monotonic() + seconds, 0
    while time.monotonic() < until:
        for i in range(n):
            try:
                s = connect()
                if i % 2 == 0:
                    s.sendall(REQUEST)
                s.close()
            except OSError:
                pass
        rounds += 1
        time.sleep(0.05)
    print("rounds=%d" % rounds, flush=True)
else:
    sys.exit("usage: http-clients.py PORT hold|drop N SECONDS")
