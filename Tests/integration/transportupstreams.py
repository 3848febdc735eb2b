"""Upstreams for the transport tests, run as threads of the test process on 127.0.0.1:

- `HTTPSUpstream`: HTTP/1.1 over TLS (Python's ssl with a certificate from a TestCA), recording the SNI of
  every connection and how many connections were open at once;
- `ProxyHeaderUpstream`: plain HTTP/1.1 that first reads a PROXY protocol header (v1 or v2, parsed here
  independently of edge) on every connection and records it.

Both answer every request with JSON: what they saw (path, headers, this connection's number and SNI or
PROXY header). `GET /slow?ms=N` waits N milliseconds before answering.
"""
from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import struct
import threading
import time
from urllib.parse import parse_qs, urlsplit

LOOPBACK = "127.0.0.1"


class _HTTPServer:
    """Thread per connection; keep-alive; GET/HEAD and bodies with Content-Length only."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.address = "%s:%d" % (LOOPBACK, self.port)
        self.lock = threading.Lock()
        self.connections: list[dict] = []  # one record per accepted connection
        self.open_now = 0
        self.open_max = 0
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self._stop = True
        try:
            self.sock.close()
        except OSError:
            pass

    def reset(self):
        with self.lock:
            self.connections = []
            self.open_max = self.open_now

    def _accept(self):
        while not self._stop:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn, peer), daemon=True).start()

    def _serve(self, conn: socket.socket, peer):
        record = {"peer": peer, "requests": [], "error": None}
        with self.lock:
            record["number"] = len(self.connections)
            self.connections.append(record)
            self.open_now += 1
            self.open_max = max(self.open_max, self.open_now)
        try:
            conn.settimeout(30)
            stream = self.prepare(conn, record)
            if stream is not None:
                self._requests(stream, record)
        except (OSError, ValueError, ssl.SSLError) as e:
            record["error"] = "%s: %s" % (type(e).__name__, e)
        finally:
            with self.lock:
                self.open_now -= 1
            try:
                conn.close()
            except OSError:
                pass

    def prepare(self, conn, record):
        return conn

    def describe(self, record) -> dict:
        return {}

    def _requests(self, stream, record):
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = stream.recv(65536)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = []
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers.append((name.strip(), value.strip()))
            length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
            while len(buf) < length:
                data = stream.recv(65536)
                if not data:
                    return
                buf += data
            buf = buf[length:]
            record["requests"].append({"method": method, "target": target, "headers": headers})
            url = urlsplit(target)
            if url.path == "/slow":
                time.sleep(int(parse_qs(url.query).get("ms", ["200"])[0]) / 1000)
            body = json.dumps({"path": url.path, "connection": record["number"], "headers": headers,
                               **self.describe(record)}).encode()
            stream.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                           % len(body) + (body if method != "HEAD" else b""))


class HTTPSUpstream(_HTTPServer):
    def __init__(self, chain, key):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(chain), str(key))
        # The handshake runs on the connection's own thread: the callback leaves the name there.
        self._handshake = threading.local()

        def remember(_sslobj, name, _context):
            self._handshake.sni = name
        self.context.sni_callback = remember
        super().__init__()

    def prepare(self, conn, record):
        self._handshake.sni = None
        try:
            return self.context.wrap_socket(conn, server_side=True)
        finally:
            # Also when the client gives up on the handshake (a certificate it refuses).
            record["sni"] = self._handshake.sni

    def describe(self, record):
        return {"sni": record.get("sni")}

    def snis(self) -> list:
        with self.lock:
            return [c.get("sni") for c in self.connections]


def parse_proxy_header(read) -> dict:
    """Reads one PROXY header with `read(n)` (exactly n bytes) following haproxy's proxy-protocol.txt."""
    first = read(12)
    if first == b"\r\n\r\n\x00\r\nQUIT\n":
        ver_cmd, fam, length = struct.unpack("!BBH", read(4))
        assert ver_cmd >> 4 == 2, "v2 version nibble %x" % ver_cmd
        rest = read(length)
        result = {"version": 2, "command": "LOCAL" if ver_cmd & 0xF == 0 else "PROXY", "family": fam}
        if ver_cmd & 0xF == 1 and fam == 0x11:
            src, dst, sport, dport = struct.unpack("!4s4sHH", rest[:12])
            result.update(src=str(ipaddress.IPv4Address(src)), dst=str(ipaddress.IPv4Address(dst)), sport=sport, dport=dport)
        elif ver_cmd & 0xF == 1 and fam == 0x21:
            src, dst, sport, dport = struct.unpack("!16s16sHH", rest[:36])
            result.update(src=str(ipaddress.IPv6Address(src)), dst=str(ipaddress.IPv6Address(dst)), sport=sport, dport=dport)
        return result
    assert first.startswith(b"PROXY "), "no PROXY header: %r" % first
    line = first
    while not line.endswith(b"\r\n"):
        line += read(1)
        assert len(line) <= 107, "v1 header too long: %r" % line
    parts = line[6:-2].decode("ascii").split(" ")
    if parts[0] == "UNKNOWN":
        return {"version": 1, "command": "UNKNOWN"}
    assert parts[0] in ("TCP4", "TCP6") and len(parts) == 5, line
    return {"version": 1, "command": "PROXY", "family": parts[0], "src": parts[1], "dst": parts[2],
            "sport": int(parts[3]), "dport": int(parts[4])}


class ProxyHeaderUpstream(_HTTPServer):
    def prepare(self, conn, record):
        def read(n):
            data = b""
            while len(data) < n:
                more = conn.recv(n - len(data))
                if not more:
                    raise ValueError("closed inside the PROXY header")
                data += more
            return data
        record["proxy"] = parse_proxy_header(read)
        return conn

    def describe(self, record):
        return {"proxy": record.get("proxy")}

    def headers_seen(self) -> list:
        with self.lock:
            return [(c.get("proxy"), len(c["requests"])) for c in self.connections]
