"""Clients of the nodes: HTTPS requests and bare handshakes by address with a chosen SNI, verified against
pebble's issuing root (the chain must verify and the certificate must be for the name)."""
from __future__ import annotations

import hashlib
import socket
import ssl
from pathlib import Path

_contexts: dict[str, ssl.SSLContext] = {}


def context(cafile: Path) -> ssl.SSLContext:
    key = str(cafile)
    if key not in _contexts:
        ctx = ssl.create_default_context(cafile=key)
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        _contexts[key] = ctx
    return _contexts[key]


class Served:
    """What a handshake showed: the leaf (DER, parsed), its SANs and fingerprint."""

    def __init__(self, tls: ssl.SSLSocket):
        self.der = tls.getpeercert(binary_form=True)
        self.cert = tls.getpeercert()
        self.sans = [v for k, v in self.cert.get("subjectAltName", ()) if k == "DNS"]
        self.serial = self.cert.get("serialNumber")
        self.fingerprint = hashlib.sha256(self.der).hexdigest()
        self.issuer = dict(x[0] for x in self.cert.get("issuer", ()))


def handshake(address: str, name: str, cafile: Path, port: int = 443, timeout: float = 3.0) -> Served:
    """A verified TLS handshake with SNI `name` to address:port (raises ssl.SSLError / OSError)."""
    with socket.create_connection((address, port), timeout=timeout) as raw:
        with context(cafile).wrap_socket(raw, server_hostname=name) as tls:
            return Served(tls)


def get(address: str, name: str, cafile: Path, path: str = "/", port: int = 443,
        timeout: float = 5.0) -> tuple[int, bytes, Served]:
    """GET https://name/path from address:port, verified: (status, body, served certificate)."""
    with socket.create_connection((address, port), timeout=timeout) as raw:
        with context(cafile).wrap_socket(raw, server_hostname=name) as tls:
            served = Served(tls)
            tls.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path.encode(), name.encode()))
            data = b""
            while True:
                try:
                    chunk = tls.recv(65536)
                except ssl.SSLEOFError:
                    break
                if not chunk:
                    break
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    if b"transfer-encoding: chunked" in head.lower():
        body = _dechunk(body)
    return status, body, served


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out


def http_get(address: str, port: int, path: str, host: str | None = None, method: str = "GET",
             body: bytes | None = None, headers: dict | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    """Plain HTTP request (admin API): (status, body)."""
    import http.client
    c = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        h = {"Host": host or "%s:%d" % (address, port)}
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()
