#!/usr/bin/env python3
"""fake-fdstore.py DIR CMD...: the part of systemd's service manager that
ocitapd's FDSTORE=1 support talks to (sd_notify(3), sd_listen_fds(3)), for
a machine whose init is not systemd. Runs CMD with $NOTIFY_SOCKET and
$FDSTORE set; keeps the fds sent with FDSTORE=1/FDNAME=, forgets those
named by FDSTOREREMOVE=1 and those that hang up (as systemd does); when
CMD exits, runs it again (Restart=always) with the kept fds as 3, 4, ...
and $LISTEN_FDS, $LISTEN_FDNAMES, $LISTEN_PID. Writes DIR/pid (the
current CMD's pid) and DIR/store (the kept names). SIGTERM ends it."""
import fcntl
import os
import select
import signal
import socket
import subprocess
import sys

top, cmd = sys.argv[1], sys.argv[2:]
path = os.path.join(top, "notify.sock")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
store = {}  # name -> fd
stopping = False


def write(name, text):
    with open(os.path.join(top, name + ".tmp"), "w") as f:
        f.write(text)
    os.rename(os.path.join(top, name + ".tmp"), os.path.join(top, name))


def save():
    write("store", "".join(n + "\n" for n in sorted(store)))


def start():
    names = sorted(store)
    fds = [store[n] for n in names]

    def setup():
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 1000) for fd in fds]  # out of the way first
        for fd in fds:
            os.close(fd)
        for i, fd in enumerate(high):
            os.dup2(fd, 3 + i)  # dup2 clears close-on-exec
            os.close(fd)

    env = dict(os.environ, NOTIFY_SOCKET=path, FDSTORE="64")
    run = cmd
    if fds:
        env.update(LISTEN_FDS=str(len(fds)), LISTEN_FDNAMES=":".join(names))
        # $LISTEN_PID is the pid of the process that execs CMD: sh's $$
        run = ["sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"'] + cmd
    # the kept fds are dup2()ed into place by setup(); keep them open until then
    # (subprocess closes what pass_fds does not name after setup() ran)
    p = subprocess.Popen(run, env=env, preexec_fn=setup, pass_fds=fds + list(range(3, 3 + len(fds))),
                         close_fds=True)
    write("pid", "%d\n" % p.pid)
    return p


def on_term(*_):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_term)
child = start()
while not stopping:
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    for fd in store.values():
        poller.register(fd, 0)  # POLLHUP is always reported
    try:
        events = poller.poll(100)
    except InterruptedError:
        continue
    for fd, ev in events:
        if fd == sock.fileno():
            msg, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
            fds = []
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds += list(memoryview(data).cast("i"))
            fields = dict(l.split("=", 1) for l in msg.decode().split("\n") if "=" in l)
            name = fields.get("FDNAME", "stored")
            if fields.get("FDSTORE") == "1" and len(fds) == 1:
                if name in store:
                    os.close(store[name])
                store[name] = fds.pop()
            elif fields.get("FDSTOREREMOVE") == "1" and name in store:
                os.close(store.pop(name))
            for fd in fds:
                os.close(fd)
            save()
        elif ev & (select.POLLHUP | select.POLLERR):
            for name, kept in list(store.items()):
                if kept == fd:
                    os.close(store.pop(name))
            save()
    if child.poll() is not None and not stopping:
        child = start()
child.terminate()
child.wait()
