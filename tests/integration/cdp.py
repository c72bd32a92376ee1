#!/usr/bin/env python3
"""cdp.py: drive a running headless Chromium through the DevTools protocol,
for tests/integration/page.sh. Standard library only: a minimal WebSocket
client (RFC 6455: masked text frames out; text, continuation, ping and
close frames in) and the protocol's JSON commands.

  cdp.py PORT open URL            a new tab at URL, once it has loaded; prints
                                  the tab's id, then one line per console
                                  message, exception or browser log entry
                                  (a Content-Security-Policy refusal among
                                  them) seen while it loaded and for a second
                                  after
  cdp.py PORT eval TAB EXPR       prints the JSON value of the expression
                                  (awaited when it is a promise)
  cdp.py PORT wait TAB EXPR SECS  evaluates EXPR every 100 ms until it is
                                  truthy and prints that value; after SECS,
                                  prints the last value and exits 1

Exits 2 when Chromium or the tab cannot be reached or the expression
throws, naming what failed.
"""
import base64
import http.client
import json
import os
import socket
import struct
import sys
import time


class WebSocket:
    def __init__(self, host, port, path, timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
             f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("the DevTools socket closed during the handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise OSError("no WebSocket upgrade: " + head.split(b"\r\n")[0].decode(errors="replace"))

    def _exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("the DevTools socket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self, opcode, payload):
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, text):
        self._frame(0x1, text.encode())

    def recv(self):
        """The next text message."""
        message = b""
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exact(8))[0]
            mask = self._exact(4) if b1 & 0x80 else None
            payload = self._exact(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise OSError("the DevTools socket was closed by Chromium")
            if opcode == 0x9:
                self._frame(0xA, payload)
                continue
            if opcode in (0x0, 0x1, 0x2):
                message += payload
                if b0 & 0x80:
                    return message.decode()


class Tab:
    def __init__(self, port, tab_id):
        self.ws = WebSocket("127.0.0.1", port, f"/devtools/page/{tab_id}")
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error'].get('message')}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method, seconds):
        """The first event named method within seconds (others are kept)."""
        self.ws.sock.settimeout(seconds)
        end = time.monotonic() + seconds
        for i, m in enumerate(self.events):
            if m["method"] == method:
                return self.events.pop(i)
        while time.monotonic() < end:
            self.ws.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                m = json.loads(self.ws.recv())
            except socket.timeout:
                break
            if m.get("method") == method:
                return m
            if "method" in m:
                self.events.append(m)
        return None

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise RuntimeError("the expression threw: " + d.get("exception", {}).get("description", d.get("text", "")))
        return r.get("result", {}).get("value")


def http_json(port, method, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        raise OSError(f"{method} {path}: HTTP {r.status}: {body[:200]!r}")
    return json.loads(body)


def describe(m):
    p = m.get("params", {})
    if m["method"] == "Runtime.consoleAPICalled":
        args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
        return f"console.{p.get('type')}: {args}"
    if m["method"] == "Runtime.exceptionThrown":
        d = p.get("exceptionDetails", {})
        return "exception: " + d.get("exception", {}).get("description", d.get("text", ""))
    if m["method"] == "Log.entryAdded":
        e = p.get("entry", {})
        return f"log {e.get('level')} ({e.get('source')}): {e.get('text')}"
    return None


def cmd_open(port, url):
    target = http_json(port, "PUT", "/json/new?about:blank")
    tab = Tab(port, target["id"])
    for domain in ("Page", "Runtime", "Log"):
        tab.call(domain + ".enable")
    tab.call("Page.navigate", url=url)
    if not tab.wait_event("Page.loadEventFired", 15):
        raise OSError(f"{url} did not load in 15 s")
    tab.wait_event("never", 1)  # what the page logs as its script starts
    print(target["id"])
    for m in tab.events:
        line = describe(m)
        if line:
            print(line.replace("\n", " "))


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    port = int(argv[1])
    try:
        if argv[2] == "open" and len(argv) == 4:
            cmd_open(port, argv[3])
            return 0
        if argv[2] == "eval" and len(argv) == 5:
            print(json.dumps(Tab(port, argv[3]).evaluate(argv[4])))
            return 0
        if argv[2] == "wait" and len(argv) == 6:
            tab, end, value = Tab(port, argv[3]), time.monotonic() + float(argv[5]), None
            while True:
                value = tab.evaluate(argv[4])
                if value or time.monotonic() > end:
                    break
                time.sleep(0.1)
            print(json.dumps(value))
            return 0 if value else 1
    except (OSError, RuntimeError, ValueError, KeyError) as e:
        print(f"cdp.py: {argv[2]}: {e}", file=sys.stderr)
        return 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
