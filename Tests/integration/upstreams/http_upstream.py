#!/usr/bin/env python3
"""A small HTTP/1.1 origin server for the integration tests, written on raw sockets.

One thread per TCP connection; keep-alive and pipelining are honoured (requests on a connection are
answered in order); request bodies may be Content-Length or chunked. Every response carries
`X-Upstream-Id: <id>` so a test can see which upstream answered.

Endpoints (query parameters in brackets):
  GET  /_stats                 {"id", "connections", "requests"} (counts since start, this request included)
  ANY  /echo                   {"method", "path", "version", "headers": [[name, value], ...],
                                "body_length", "body_sha256"}
  ANY  /upload                 {"length", "sha256"} of the request body
  GET  /bytes[n, seed]         n deterministic bytes (random.Random(seed).randbytes(n)), Content-Length
  GET  /chunked[n, seed]       the same bytes, Transfer-Encoding: chunked (chunk sizes vary)
  GET  /slow[delay]            sleeps `delay` seconds before the response head, then "slow"
  GET  /drip[n, seed, chunks, ms]  Content-Length n; the body in `chunks` pieces, `ms` ms apart
  ANY  anything else           200 "ok"

Usage: http_upstream.py --port PORT --id NAME
"""
import argparse
import hashlib
import json
import random
import socket
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

MAX_HEAD = 64 * 1024


class BadRequest(Exception):
    pass


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.connections = 0
        self.requests = 0

    def add(self, connections=0, requests=0):
        with self.lock:
            self.connections += connections
            self.requests += requests
            return self.connections, self.requests


def deterministic_bytes(n, seed):
    return random.Random(seed).randbytes(n)


def read_head(reader):
    """Returns (method, target, version, [(name, value)]) or None on a clean EOF before a request."""
    lines = []
    total = 0
    while True:
        line = reader.readline(MAX_HEAD + 1)
        if not line:
            if lines:
                raise BadRequest("EOF inside request head")
            return None
        total += len(line)
        if total > MAX_HEAD:
            raise BadRequest("request head too large")
        if not lines and line in (b"\r\n", b"\n"):
            continue  # tolerate a stray CRLF between requests (RFC 9112 2.2)
        if line in (b"\r\n", b"\n"):
            break
        lines.append(line.rstrip(b"\r\n").decode("latin-1"))
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise BadRequest("bad request line %r" % lines[0])
    headers = []
    for raw in lines[1:]:
        name, sep, value = raw.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest("bad header line %r" % raw)
        headers.append((name, value.strip(" \t")))
    return parts[0], parts[1], parts[2], headers


def header(headers, name):
    name = name.lower()
    values = [v for k, v in headers if k.lower() == name]
    return ", ".join(values) if values else None


def read_body(reader, headers, sink):
    """Reads the request body into sink(bytes). Returns the byte count."""
    te = header(headers, "transfer-encoding")
    cl = header(headers, "content-length")
    total = 0
    if te is not None:
        if te.strip().lower() != "chunked":
            raise BadRequest("unsupported transfer-encoding %r" % te)
        while True:
            size_line = reader.readline(1024)
            if not size_line.endswith(b"\n"):
                raise BadRequest("bad chunk size line")
            size_text = size_line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadRequest("bad chunk size %r" % size_text)
            if size == 0:
                while True:  # trailers, up to the empty line
                    t = reader.readline(MAX_HEAD)
                    if not t:
                        raise BadRequest("EOF in trailers")
                    if t in (b"\r\n", b"\n"):
                        return total
            remaining = size
            while remaining:
                data = reader.read(min(remaining, 1 << 20))
                if not data:
                    raise BadRequest("EOF in chunk")
                sink(data)
                remaining -= len(data)
                total += len(data)
            if reader.readline(3) not in (b"\r\n", b"\n"):
                raise BadRequest("missing CRLF after chunk")
    elif cl is not None:
        try:
            remaining = int(cl)
        except ValueError:
            raise BadRequest("bad content-length %r" % cl)
        while remaining:
            data = reader.read(min(remaining, 1 << 20))
            if not data:
                raise BadRequest("EOF in body")
            sink(data)
            remaining -= len(data)
            total += len(data)
    return total


class Handler:
    def __init__(self, server_id, stats, sock):
        self.id = server_id
        self.stats = stats
        self.sock = sock

    def send_head(self, status, reason, headers):
        lines = ["HTTP/1.1 %d %s" % (status, reason), "X-Upstream-Id: " + self.id]
        lines += ["%s: %s" % kv for kv in headers]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send_full(self, status, reason, body, content_type="text/plain", close=False):
        hdrs = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        if close:
            hdrs.append(("Connection", "close"))
        self.send_head(status, reason, hdrs)
        if body:
            self.sock.sendall(body)

    def send_json(self, obj):
        self.send_full(200, "OK", json.dumps(obj).encode(), "application/json")

    def serve(self):
        reader = self.sock.makefile("rb", buffering=256 * 1024)
        try:
            while True:
                try:
                    head = read_head(reader)
                    if head is None:
                        return
                    method, target, version, headers = head
                    self.stats.add(requests=1)
                    keep = self.handle(reader, method, target, version, headers)
                except BadRequest as e:
                    print("upstream %s: bad request: %s" % (self.id, e), file=sys.stderr, flush=True)
                    try:
                        self.send_full(400, "Bad Request", b"bad request\n", close=True)
                    except OSError:
                        pass
                    return
                if not keep:
                    return
        except (ConnectionError, OSError):
            return
        finally:
            try:
                reader.close()
                self.sock.close()
            except OSError:
                pass

    def handle(self, reader, method, target, version, headers):
        url = urlsplit(target)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        path = url.path
        digest = hashlib.sha256()
        length = read_body(reader, headers, digest.update)
        conn = (header(headers, "connection") or "").lower()
        keep = version == "HTTP/1.1" and "close" not in conn
        if path == "/_stats":
            c, r = self.stats.add()
            self.send_json({"id": self.id, "connections": c, "requests": r})
        elif path == "/echo":
            self.send_json({
                "method": method, "path": target, "version": version, "headers": headers,
                "body_length": length, "body_sha256": digest.hexdigest(),
            })
        elif path == "/upload":
            self.send_json({"length": length, "sha256": digest.hexdigest()})
        elif path == "/bytes":
            data = deterministic_bytes(int(q.get("n", "0")), q.get("seed", "0"))
            self.send_full(200, "OK", data, "application/octet-stream")
        elif path == "/chunked":
            data = deterministic_bytes(int(q.get("n", "0")), q.get("seed", "0"))
            self.send_head(200, "OK", [("Content-Type", "application/octet-stream"),
                                       ("Transfer-Encoding", "chunked")])
            sizes = random.Random("sizes").choices([1, 17, 1000, 4096, 65536, 300000], k=4096)
            pos, i = 0, 0
            while pos < len(data):
                piece = data[pos:pos + sizes[i % len(sizes)]]
                self.sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                pos += len(piece)
                i += 1
            self.sock.sendall(b"0\r\n\r\n")
        elif path == "/text":
            # n bytes of text (compressible), Content-Length or chunked (?chunked=1) in 7000-byte pieces,
            # ?ms= apart
            n = int(q.get("n", "1000"))
            pause = float(q.get("ms", "0")) / 1000.0
            line = b"the quick brown fox jumps over the lazy dog %d\n"
            data = b"".join(line % i for i in range(n // 30 + 1))[:n]
            if q.get("chunked") == "1":
                self.send_head(200, "OK", [("Content-Type", "text/plain; charset=utf-8"), ("ETag", '"t1"'),
                                           ("Transfer-Encoding", "chunked")])
                for pos in range(0, len(data), 7000):
                    if pos and pause:
                        time.sleep(pause)
                    piece = data[pos:pos + 7000]
                    self.sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                self.sock.sendall(b"0\r\n\r\n")
            else:
                self.send_head(200, "OK", [("Content-Type", "text/plain; charset=utf-8"), ("ETag", '"t1"'),
                                           ("Content-Length", str(len(data)))])
                self.sock.sendall(data)
        elif path == "/slow":
            time.sleep(float(q.get("delay", "1")))
            self.send_full(200, "OK", b"slow")
        elif path == "/drip":
            n = int(q.get("n", "100000"))
            chunks = max(1, int(q.get("chunks", "10")))
            pause = float(q.get("ms", "100")) / 1000.0
            data = deterministic_bytes(n, q.get("seed", "0"))
            self.send_head(200, "OK", [("Content-Type", "application/octet-stream"),
                                       ("Content-Length", str(n))])
            step = -(-n // chunks)
            for pos in range(0, n, step):
                self.sock.sendall(data[pos:pos + step])
                if pos + step < n:
                    time.sleep(pause)
        else:
            self.send_full(200, "OK", b"ok")
        return keep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--id", default="up")
    args = ap.parse_args()
    stats = Stats()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(512)
    print("http_upstream %s listening on 127.0.0.1:%d" % (args.id, args.port), file=sys.stderr, flush=True)
    while True:
        sock, _ = listener.accept()
        stats.add(connections=1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=Handler(args.id, stats, sock).serve, daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
