"""A recording upstream: a raw TCP server (in the test process) that keeps every byte each connection
received, reads requests with h11 (a strict third-party HTTP/1.1 parser, so what the proxy forwards is
also checked by a parser that is not edge's), and answers each with JSON describing it.

`split_forwarded` reads the same bytes a second, stricter way: every forwarded head must carry exactly one
framing (one Content-Length, or Transfer-Encoding: chunked alone, or neither) and exactly one Host.
"""
from __future__ import annotations

import json
import socket
import threading

import h11

LOOPBACK = "127.0.0.1"


class Recorded:
    """One upstream connection: its raw bytes, the requests h11 read from them, and h11's error if any."""

    def __init__(self):
        self.raw = bytearray()
        self.requests: list[dict] = []
        self.error: str | None = None
        self.closed = threading.Event()


class RecordingUpstream:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.address = "%s:%d" % (LOOPBACK, self.port)
        self.connections: list[Recorded] = []
        self.lock = threading.Lock()
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def reset(self):
        with self.lock:
            self.connections = []

    def snapshot(self) -> list[Recorded]:
        with self.lock:
            return list(self.connections)

    def requests(self) -> list[dict]:
        return [r for c in self.snapshot() for r in c.requests]

    def raw(self) -> bytes:
        return b"".join(bytes(c.raw) for c in self.snapshot())

    def stop(self):
        self._stop = True
        try:
            socket.create_connection((LOOPBACK, self.port), timeout=1).close()
        except OSError:
            pass
        self.sock.close()

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self._stop:
                conn.close()
                return
            record = Recorded()
            with self.lock:
                self.connections.append(record)
            threading.Thread(target=self._serve, args=(conn, record), daemon=True).start()

    def _serve(self, sock: socket.socket, record: Recorded):
        parser = h11.Connection(h11.SERVER)
        current: dict | None = None
        try:
            while True:
                event = parser.next_event()
                if event is h11.NEED_DATA:
                    data = sock.recv(65536)
                    record.raw += data
                    parser.receive_data(data)
                    if not data:
                        return
                    continue
                if isinstance(event, h11.Request):
                    current = {"method": event.method.decode("latin-1"), "target": event.target.decode("latin-1"),
                               "version": event.http_version.decode(), "body": bytearray(),
                               "headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers]}
                elif isinstance(event, h11.Data):
                    current["body"] += event.data
                elif isinstance(event, h11.EndOfMessage):
                    current["body"] = bytes(current["body"])
                    current["trailers"] = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers]
                    record.requests.append(current)
                    body = json.dumps({"method": current["method"], "target": current["target"],
                                       "body_length": len(current["body"])}).encode()
                    sock.sendall(parser.send(h11.Response(status_code=200, headers=[
                        ("Content-Type", "application/json"), ("Content-Length", str(len(body)))])))
                    sock.sendall(parser.send(h11.Data(data=body)) + parser.send(h11.EndOfMessage()))
                    current = None
                    if parser.our_state is h11.MUST_CLOSE:
                        return
                    parser.start_next_cycle()
                elif isinstance(event, h11.ConnectionClosed):
                    return
        except (h11.RemoteProtocolError, h11.LocalProtocolError) as e:
            record.error = str(e)
        except OSError as e:
            record.error = "socket: %s" % e
        finally:
            record.closed.set()
            try:
                sock.close()
            except OSError:
                pass


class FramingError(AssertionError):
    pass


def split_forwarded(raw: bytes) -> list[tuple[str, list[tuple[str, str]], bytes]]:
    """The requests in what one upstream connection received, read strictly: (request line, fields, body).
    Raises FramingError for a head with two framings, a duplicated Content-Length or Host, a line not ended
    by CRLF, or bytes that do not form whole requests."""
    out = []
    rest = raw
    while rest:
        end = rest.find(b"\r\n\r\n")
        if end < 0:
            raise FramingError("incomplete head: %r" % rest[:200])
        head = rest[:end].decode("latin-1")
        rest = rest[end + 4:]
        if "\n" in head.replace("\r\n", "") or "\r" in head.replace("\r\n", ""):
            raise FramingError("bare CR or LF in a forwarded head: %r" % head)
        line, *field_lines = head.split("\r\n")
        fields = []
        for f in field_lines:
            name, sep, value = f.partition(":")
            if not sep or name != name.strip() or not name:
                raise FramingError("bad forwarded field line %r" % f)
            fields.append((name, value.strip()))
        names = [n.lower() for n, _ in fields]
        lengths = [v for n, v in fields if n.lower() == "content-length"]
        codings = [v for n, v in fields if n.lower() == "transfer-encoding"]
        if names.count("host") != 1:
            raise FramingError("%d Host fields forwarded: %r" % (names.count("host"), head))
        if lengths and codings:
            raise FramingError("both Content-Length and Transfer-Encoding forwarded: %r" % head)
        if len(lengths) > 1 or len(codings) > 1:
            raise FramingError("a framing field forwarded twice: %r" % head)
        if codings:
            if codings[0] != "chunked":
                raise FramingError("forwarded Transfer-Encoding %r" % codings[0])
            body = bytearray()
            while True:
                i = rest.find(b"\r\n")
                if i < 0:
                    raise FramingError("incomplete chunk size line")
                size_text = rest[:i].decode("latin-1")
                if not size_text or any(c not in "0123456789abcdefABCDEF" for c in size_text):
                    raise FramingError("forwarded chunk size line %r (extensions are never forwarded)" % size_text)
                size = int(size_text, 16)
                rest = rest[i + 2:]
                if size == 0:
                    if not rest.startswith(b"\r\n"):
                        raise FramingError("trailer fields forwarded: %r" % rest[:200])
                    rest = rest[2:]
                    break
                if len(rest) < size + 2 or rest[size:size + 2] != b"\r\n":
                    raise FramingError("incomplete or unterminated chunk")
                body += rest[:size]
                rest = rest[size + 2:]
            out.append((line, fields, bytes(body)))
        elif lengths:
            if not lengths[0].isdigit() or (len(lengths[0]) > 1 and lengths[0][0] == "0"):
                raise FramingError("forwarded Content-Length %r is not a plain decimal" % lengths[0])
            n = int(lengths[0])
            if len(rest) < n:
                raise FramingError("incomplete body: %d of %d bytes" % (len(rest), n))
            out.append((line, fields, rest[:n]))
            rest = rest[n:]
        else:
            out.append((line, fields, b""))
    return out


class FixedResponder:
    """An upstream that answers every request with the bytes in `response` (none: it closes without an
    answer, like a crashing upstream), then closes; `requests` counts the heads it read."""

    def __init__(self, response: bytes = b""):
        self.response = response
        self.requests = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(64)
        self.address = "%s:%d" % (LOOPBACK, self.sock.getsockname()[1])
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    more = conn.recv(65536)
                    if not more:
                        break
                    data += more
                self.requests += 1
                conn.sendall(self.response)

    def stop(self):
        self.sock.close()
