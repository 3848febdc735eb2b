"""Raw-socket HTTP/1.1 client pieces: send exact bytes, parse responses strictly, detect a closed connection."""
from __future__ import annotations

import dataclasses
import socket
import time

LOOPBACK = "127.0.0.1"


class ProtocolError(AssertionError):
    pass


@dataclasses.dataclass
class Response:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    def connection_tokens(self) -> set[str]:
        return {t.strip().lower() for t in (self.header("connection") or "").split(",") if t.strip()}


class Conn:
    """One client TCP connection with a receive buffer."""

    def __init__(self, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((LOOPBACK, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.eof = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            data = self.sock.recv(1 << 18)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_line(self) -> bytes:
        """A line ending in CRLF (strict), without the CRLF."""
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            if len(self.buf) > 65536:
                raise ProtocolError("response line longer than 64 KiB")
            if not self._fill():
                raise ProtocolError("connection closed inside a response head (have %r)" % bytes(self.buf[:200]))

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ProtocolError("connection closed after %d of %d body bytes" % (len(self.buf), n))
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_response(self, head_request: bool = False, interim: bool = False) -> Response:
        """The next response; 1xx interim responses are skipped unless `interim` is set."""
        line = self.read_line().decode("latin-1")
        parts = line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError("bad status line %r" % line)
        version, status = parts[0], int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        while True:
            h = self.read_line().decode("latin-1")
            if h == "":
                break
            name, sep, value = h.partition(":")
            if not sep or name != name.strip():
                raise ProtocolError("bad response header line %r" % h)
            headers.append((name, value.strip()))
        resp = Response(version, status, reason, headers, b"")
        if 100 <= status < 200 and status != 101:
            if interim:
                return resp
            return self.read_response(head_request)  # interim response: the real one follows
        if head_request or status in (204, 304) or status == 101:
            return resp
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if te is not None:
            if te.strip().lower() != "chunked":
                raise ProtocolError("unexpected response transfer-encoding %r" % te)
            body = bytearray()
            while True:
                size_line = self.read_line().split(b";", 1)[0].strip()
                size = int(size_line, 16)
                if size == 0:
                    while self.read_line() != b"":
                        pass
                    break
                body += self.read_exact(size)
                if self.read_line() != b"":
                    raise ProtocolError("missing CRLF after a chunk")
            resp.body = bytes(body)
        elif cl is not None:
            values = {v.strip() for v in cl.split(",")}
            if len(values) != 1:
                raise ProtocolError("conflicting response Content-Length %r" % cl)
            resp.body = self.read_exact(int(values.pop()))
        else:  # delimited by close
            while self._fill():
                pass
            resp.body = bytes(self.buf)
            self.buf.clear()
        return resp

    def wait_closed(self, timeout: float = 5.0) -> bytes:
        """Waits for the peer to close (EOF or reset). Returns any bytes that arrived meanwhile.
        Raises ProtocolError if the connection is still open after timeout."""
        deadline = time.monotonic() + timeout
        extra = bytearray(self.buf)
        self.buf.clear()
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError("connection still open %.1fs after the response" % timeout)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if not data:
                self.eof = True
            extra += data
        return bytes(extra)


def request_bytes(method: str, target: str, host: str | None, headers: list[tuple[str, str]] = (),
                  body: bytes = b"") -> bytes:
    lines = ["%s %s HTTP/1.1" % (method, target)]
    if host is not None:
        lines.append("Host: " + host)
    lines += ["%s: %s" % kv for kv in headers]
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
