#!/usr/bin/python3
"""fd-kinds.py SOCKET KIND ID: one seccomp listener message for container ID
whose seccompFd is not a seccomp notify fd but a KIND: pipe (with data waiting
in it, so it polls readable), eventfd, socket, epoll, memfd, devnull. Prints
the daemon's answer (it closes the connection) and exits 0 when the peer was
dropped, 1 when the daemon kept the connection open for 3 s."""
import os
import select
import socket
import sys

path, kind, cid = sys.argv[1], sys.argv[2], sys.argv[3]
state = ('{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":1,"metadata":"policy=deny",'
         '"state":{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":1,"bundle":"/b"}}' % cid).encode()

keep = []
if kind == "pipe":
    r, w = os.pipe()
    os.write(w, b"x" * 100)  # readable forever: a daemon that polls it spins
    fd, keep = r, [w]
elif kind == "eventfd":
    fd = os.eventfd(1)
elif kind == "socket":
    a, b = socket.socketpair()
    b.send(b"y")
    fd, keep = a.detach(), [b]
elif kind == "epoll":
    ep = select.epoll()
    fd = os.dup(ep.fileno())
elif kind == "memfd":
    fd = os.memfd_create("not-seccomp")
elif kind == "devnull":
    fd = os.open("/dev/null", os.O_RDONLY)
else:
    sys.exit("unknown kind " + kind)

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(3)
s.connect(path)
s.sendmsg([state], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fd.to_bytes(4, sys.byteorder))])
os.close(fd)
try:
    answer = s.recv(512)
except socket.timeout:
    print("still open after 3 s")
    sys.exit(1)
print("closed", answer.decode(errors="replace").strip())
