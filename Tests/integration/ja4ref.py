"""An independent JA4 (FoxIO's TLS client fingerprint, github.com/FoxIO-LLC/ja4 technical_details/JA4.md)
in Python, from the raw bytes a client sends: the integration tests compare it with the fingerprint edge
reports for the same client command. Written from the specification, not from edge's Swift."""
from __future__ import annotations

import hashlib
import socket
import subprocess
import threading

GREASE = {(b << 8) | b for b in range(0x0a, 0x100, 0x10)}


def hello_complete(stream: bytes) -> bytes | None:
    """The ClientHello message (handshake header included) once the records carry all of it."""
    message, offset = b"", 0
    while len(stream) - offset >= 5:
        length = int.from_bytes(stream[offset + 3:offset + 5], "big")
        if len(stream) - offset - 5 < length:
            return None
        message += stream[offset + 5:offset + 5 + length]
        offset += 5 + length
        if len(message) >= 4 and len(message) >= 4 + int.from_bytes(message[1:4], "big"):
            return message[:4 + int.from_bytes(message[1:4], "big")]
    return None


def parse(message: bytes) -> dict:
    body = message[4:]
    pos = 2 + 32
    hello = {"legacy": int.from_bytes(body[0:2], "big"), "exts": [], "versions": [], "sigalgs": [], "alpn": [],
             "groups": []}
    pos += 1 + body[pos]
    n = int.from_bytes(body[pos:pos + 2], "big")
    hello["ciphers"] = [int.from_bytes(body[i:i + 2], "big") for i in range(pos + 2, pos + 2 + n, 2)]
    pos += 2 + n
    pos += 1 + body[pos]
    if pos == len(body):
        return hello
    end = pos + 2 + int.from_bytes(body[pos:pos + 2], "big")
    pos += 2
    while pos < end:
        kind = int.from_bytes(body[pos:pos + 2], "big")
        size = int.from_bytes(body[pos + 2:pos + 4], "big")
        data = body[pos + 4:pos + 4 + size]
        pos += 4 + size
        hello["exts"].append(kind)
        u16s = lambda b: [int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2)]
        if kind == 0x002b:
            hello["versions"] = u16s(data[1:])
        elif kind == 0x000d:
            hello["sigalgs"] = u16s(data[2:])
        elif kind == 0x000a:
            hello["groups"] = u16s(data[2:])
        elif kind == 0x0010:
            i, names = 2, []
            while i < len(data):
                names.append(data[i + 1:i + 1 + data[i]])
                i += 1 + data[i]
            hello["alpn"] = names
    return hello


VERSIONS = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3", 0x0002: "s2",
            0xfeff: "d1", 0xfefd: "d2", 0xfefc: "d3"}


def ja4(hello: dict) -> str:
    ciphers = [c for c in hello["ciphers"] if c not in GREASE]
    exts = [e for e in hello["exts"] if e not in GREASE]
    versions = [v for v in hello["versions"] if v not in GREASE]
    version = VERSIONS.get(max(versions) if versions else hello["legacy"], "00")
    sni = "d" if 0 in exts else "i"
    alpn = "00"
    if hello["alpn"] and hello["alpn"][0]:
        first = hello["alpn"][0]
        isalnum = lambda b: chr(b).isascii() and chr(b).isalnum()
        if isalnum(first[0]) and isalnum(first[-1]):
            alpn = chr(first[0]) + chr(first[-1])
        else:
            alpn = first.hex()[0] + first.hex()[-1]
    a = "t%s%s%02d%02d%s" % (version, sni, min(len(ciphers), 99), min(len(exts), 99), alpn)
    h = lambda text: hashlib.sha256(text.encode()).hexdigest()[:12]
    b = h(",".join("%04x" % c for c in sorted(ciphers))) if ciphers else "000000000000"
    rest = sorted(e for e in exts if e not in (0x0000, 0x0010))
    c = "000000000000"
    if rest:
        text = ",".join("%04x" % e for e in rest)
        sigalgs = [s for s in hello["sigalgs"] if s not in GREASE]
        if sigalgs:
            text += "_" + ",".join("%04x" % s for s in sigalgs)
        c = h(text)
    return "%s_%s_%s" % (a, b, c)


def capture(argv: list[str], port: int, timeout: float = 10) -> bytes:
    """Runs `argv` (a TLS client pointed at 127.0.0.1:port) against a plain TCP server that keeps the first
    bytes until the ClientHello is complete, then hangs up. Returns the hello message."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(1)
    server.settimeout(timeout)
    got: dict = {}

    def serve():
        try:
            conn, _ = server.accept()
        except OSError:
            return
        conn.settimeout(timeout)
        stream = b""
        with conn:
            while (message := hello_complete(stream)) is None:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                stream += chunk
            got["message"], got["stream"] = message, stream

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    finally:
        thread.join(timeout)
        server.close()
    assert "message" in got, "no ClientHello captured from %s" % " ".join(argv)
    return got["message"]
