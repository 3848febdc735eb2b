"""TLS client pieces for the integration tests, built on real tools only: the openssl CLI (a throw-away test
CA, `s_client`, certificate parsing) and Python's ssl module (handshakes, a captured ClientHello, many
concurrent handshakes). Everything connects to 127.0.0.1; the name a client asks for travels in SNI.
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime
import hashlib
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

from rawhttp import Conn

LOOPBACK = "127.0.0.1"
OPENSSL = shutil.which("openssl") or "openssl"

# OpenSSL 3 refuses TLS 1.0/1.1 at its default security level on the *client* side too: without this a
# `-tls1_1` handshake would fail whatever the server does. With it, a server that still speaks TLS 1.1 is
# reached (checked against nginx), so a refusal is the server's.
LEGACY_CLIENT_CIPHERS = "DEFAULT@SECLEVEL=0"


def openssl(*args, input: bytes | None = None, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
    p = subprocess.run([OPENSSL, *[str(a) for a in args]], input=input, capture_output=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError("openssl %s failed (%d):\n%s" % (" ".join(map(str, args)), p.returncode,
                                                          p.stderr.decode(errors="replace")))
    return p


# ---------------------------------------------------------------- a test CA (openssl CLI)

_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_intermediate]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


def _newkey_args(kind: str) -> list[str]:
    if kind == "ec":
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    if kind == "rsa":
        return ["-newkey", "rsa:2048"]
    raise ValueError("key kind must be 'ec' (P-256) or 'rsa' (2048), not %r" % kind)


@dataclasses.dataclass
class Issued:
    """A leaf issued by TestCA: `cert` is the leaf alone, `chain` is leaf + intermediate (what a server sends)."""
    names: list[str]
    key: Path
    cert: Path
    chain: Path
    kind: str

    @property
    def fingerprint(self) -> str:
        return pem_fingerprint(self.cert.read_text())


class TestCA:
    """Root -> intermediate -> leaves, all made with the openssl CLI in `directory`. `root` is what clients trust."""
    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path, label: str = "Edge Test"):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config = self.dir / "openssl.cnf"
        self.config.write_text(_CONFIG)
        tag = secrets.token_hex(4)  # distinct subjects per CA: a verifying client cannot mix two test CAs
        self.root, self.root_key = self.dir / "root.crt", self.dir / "root.key"
        openssl("req", "-config", self.config, "-x509", "-new", *_newkey_args("ec"), "-nodes",
                "-keyout", self.root_key, "-out", self.root, "-days", 2, "-sha256",
                "-subj", "/O=%s/CN=%s Root %s" % (label, label, tag), "-extensions", "v3_root",
                "-set_serial", "0x" + secrets.token_hex(8))
        self.intermediate, self.intermediate_key = self.dir / "intermediate.crt", self.dir / "intermediate.key"
        csr = self.dir / "intermediate.csr"
        openssl("req", "-config", self.config, "-new", *_newkey_args("ec"), "-nodes",
                "-keyout", self.intermediate_key, "-out", csr, "-subj", "/O=%s/CN=%s Intermediate %s" % (label, label, tag))
        openssl("x509", "-req", "-in", csr, "-CA", self.root, "-CAkey", self.root_key,
                "-set_serial", "0x" + secrets.token_hex(8), "-days", 2, "-sha256",
                "-extfile", self.config, "-extensions", "v3_intermediate", "-out", self.intermediate)
        self._count = 0

    def issue(self, names: list[str], kind: str = "ec", days: int = 2) -> Issued:
        """A server certificate for `names` (all in the SAN, the first one also the CN), signed by the intermediate."""
        self._count += 1
        stem = self.dir / ("leaf%d-%s" % (self._count, re.sub(r"[^A-Za-z0-9.-]", "_", names[0])))
        key, csr, cert, chain = (Path(str(stem) + s) for s in (".key", ".csr", ".crt", ".chain.crt"))
        ext = Path(str(stem) + ".ext")
        usage = "digitalSignature" if kind == "ec" else "digitalSignature, keyEncipherment"
        ext.write_text("[v3_leaf]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, %s\n"
                       "extendedKeyUsage = serverAuth\nsubjectAltName = %s\nsubjectKeyIdentifier = hash\n"
                       "authorityKeyIdentifier = keyid\n"
                       % (usage, ", ".join(("IP:" if _is_ip(n) else "DNS:") + n for n in names)))
        openssl("req", "-config", self.config, "-new", *_newkey_args(kind), "-nodes", "-keyout", key, "-out", csr,
                "-subj", "/CN=%s" % names[0])
        openssl("x509", "-req", "-in", csr, "-CA", self.intermediate, "-CAkey", self.intermediate_key,
                "-set_serial", "0x" + secrets.token_hex(8), "-days", days, "-sha256",
                "-extfile", ext, "-extensions", "v3_leaf", "-out", cert)
        chain.write_text(cert.read_text() + self.intermediate.read_text())
        return Issued(list(names), key, cert, chain, kind)


def _is_ip(name: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name)
        return True
    except OSError:
        return False


def write_atomically(path: Path, data: bytes | str, mode: int = 0o600) -> None:
    """Write to a temp file beside `path`, then rename: a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".%s.%s.tmp" % (path.name, secrets.token_hex(4)))
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# ---------------------------------------------------------------- certificates as the client sees them


def der_fingerprint(der: bytes) -> str:
    """SHA-256 of the DER, formatted like `openssl x509 -fingerprint -sha256`: AB:CD:..."""
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def pem_fingerprint(pem: str) -> str:
    return der_fingerprint(ssl.PEM_cert_to_DER_cert(first_pem(pem)))


def first_pem(text: str) -> str:
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)
    if not m:
        raise ValueError("no PEM certificate in %r" % text[:200])
    return m.group(0) + "\n"


def pem_certificates(text: str) -> list[str]:
    return [m + "\n" for m in re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)]


@dataclasses.dataclass
class CertInfo:
    der: bytes
    fingerprint: str  # AB:CD:... (SHA-256)
    serial: str       # upper-case hex, as openssl prints it
    subject: str      # RFC 2253
    issuer: str       # RFC 2253
    sans: list[str]   # ["DNS:a.test", "IP Address:127.0.0.1", ...]
    not_before: datetime.datetime
    not_after: datetime.datetime
    public_key: str   # e.g. "id-ecPublicKey" or "rsaEncryption"

    def dns_names(self) -> list[str]:
        return [s[4:] for s in self.sans if s.startswith("DNS:")]


_OPENSSL_DATE = "%b %d %H:%M:%S %Y GMT"


def cert_info(der_or_pem: bytes | str) -> CertInfo:
    """Parses a certificate with `openssl x509` (serial, subject, issuer, SAN, validity, key algorithm)."""
    if isinstance(der_or_pem, str):
        der = ssl.PEM_cert_to_DER_cert(first_pem(der_or_pem))
    else:
        der = der_or_pem
    text = openssl("x509", "-inform", "DER", "-noout", "-text", "-nameopt", "RFC2253", input=der).stdout.decode()
    fields = openssl("x509", "-inform", "DER", "-noout", "-serial", "-subject", "-issuer", "-startdate", "-enddate",
                     "-nameopt", "RFC2253", input=der).stdout.decode()
    kv = {}
    for line in fields.splitlines():
        k, _, v = line.partition("=")
        kv[k.strip()] = v.strip()
    sans: list[str] = []
    m = re.search(r"X509v3 Subject Alternative Name:.*?\n\s*(.+)", text)
    if m:
        sans = [s.strip() for s in m.group(1).split(",")]
    pk = re.search(r"Public Key Algorithm:\s*(\S+)", text)

    def date(s):
        return datetime.datetime.strptime(re.sub(r"\s+", " ", s), _OPENSSL_DATE).replace(tzinfo=datetime.timezone.utc)

    return CertInfo(der, der_fingerprint(der), kv["serial"].upper(), kv["subject"], kv["issuer"], sans,
                    date(kv["notBefore"]), date(kv["notAfter"]), pk.group(1) if pk else "?")


# ---------------------------------------------------------------- handshakes with python ssl


def client_context(cafile: Path | str | None = None, alpn: list[str] | None = None,
                   min_version: ssl.TLSVersion | None = None, max_version: ssl.TLSVersion | None = None,
                   check_hostname: bool = True) -> ssl.SSLContext:
    """A client context: verifying against `cafile` only (not the system store) when given, else not verifying."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile is not None:
        ctx.load_verify_locations(cafile=str(cafile))
        ctx.check_hostname = check_hostname
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


@dataclasses.dataclass
class Handshake:
    version: str        # "TLSv1.3"
    cipher: str
    alpn: str | None
    der: bytes          # the leaf the server sent
    verified: bool      # the chain verified against the given cafile (and the name, when one was sent)

    def cert(self) -> CertInfo:
        return cert_info(self.der)

    @property
    def fingerprint(self) -> str:
        return der_fingerprint(self.der)


def tls_socket(port: int, server_hostname: str | None, cafile=None, alpn=None, min_version=None, max_version=None,
               timeout: float = 10.0) -> ssl.SSLSocket:
    """A connected, handshaken TLS socket to 127.0.0.1:port (SNI = server_hostname; None sends no SNI)."""
    ctx = client_context(cafile, alpn, min_version, max_version,
                         check_hostname=server_hostname is not None and not _is_ip(server_hostname))
    raw = socket.create_connection((LOOPBACK, port), timeout=timeout)
    try:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return ctx.wrap_socket(raw, server_hostname=server_hostname)
    except BaseException:
        raw.close()
        raise


def handshake(port: int, server_hostname: str | None, cafile=None, alpn=None, min_version=None, max_version=None,
              timeout: float = 10.0) -> Handshake:
    """One handshake; raises ssl.SSLError (or OSError) when it fails."""
    with tls_socket(port, server_hostname, cafile, alpn, min_version, max_version, timeout) as s:
        return Handshake(s.version(), s.cipher()[0], s.selected_alpn_protocol(),
                         s.getpeercert(binary_form=True), cafile is not None)


def handshake_error(port: int, server_hostname: str | None, **kw) -> Exception:
    """The error of a handshake that must fail (AssertionError if it succeeds)."""
    try:
        h = handshake(port, server_hostname, **kw)
    except (ssl.SSLError, OSError) as e:
        return e
    raise AssertionError("handshake with SNI %r succeeded (%s, cert %s), expected a failure"
                         % (server_hostname, h.version, h.cert().sans))


def is_unrecognized_name(err: Exception) -> bool:
    """The server sent alert 112 (unrecognized_name), as OpenSSL reports it to the client."""
    return isinstance(err, ssl.SSLError) and (
        getattr(err, "reason", None) == "TLSV1_UNRECOGNIZED_NAME" or "unrecognized name" in str(err).lower())


class TLSConn(Conn):
    """rawhttp.Conn over TLS: exact request bytes, strict response parsing, close detection."""

    def __init__(self, port: int, server_hostname: str | None, cafile=None, timeout: float = 10.0, alpn=None):
        self.sock = tls_socket(port, server_hostname, cafile, alpn=alpn, timeout=timeout)
        self.buf = bytearray()
        self.eof = False

    def _fill(self) -> bool:
        try:
            return super()._fill()
        except ssl.SSLError:  # an abrupt close from the peer (e.g. EOF without close_notify)
            self.eof = True
            return False


# ---------------------------------------------------------------- openssl s_client


@dataclasses.dataclass
class SClient:
    returncode: int
    output: str

    @property
    def version(self) -> str | None:
        """The negotiated protocol ("TLSv1.3"), None when no handshake completed."""
        m = re.search(r"^New, (\S+), Cipher is (\S+)", self.output, re.M)
        if not m or m.group(2) == "(NONE)":
            return None
        if m.group(1) == "TLSv1.3":
            return m.group(1)
        # below 1.3 that version is the cipher suite's ("TLSv1.0" for a TLS 1.1 session): the session says
        p = re.search(r"^\s*Protocol\s*:\s*(\S+)", self.output, re.M)
        return p.group(1) if p else m.group(1)

    @property
    def connected(self) -> bool:
        return self.returncode == 0 and self.version is not None

    @property
    def alpn(self) -> str | None:
        m = re.search(r"^ALPN protocol: (\S+)", self.output, re.M)
        return m.group(1) if m else None

    @property
    def verify_ok(self) -> bool:
        return re.search(r"Verify return code: 0 \(ok\)", self.output) is not None

    def tail(self, n: int = 25) -> str:
        """The last lines of the output, without hex dumps (session tickets)."""
        lines = [l for l in self.output.splitlines() if not re.match(r"^\s+[0-9a-f]{4} - ", l)]
        return "\n".join(lines[-n:])


def s_client(port: int, servername: str | None, *args, cafile=None, timeout: float = 20) -> SClient:
    """`openssl s_client` to 127.0.0.1:port with stdin closed: it handshakes, prints the session, and quits.
    servername None sends no SNI (-noservername)."""
    argv = [OPENSSL, "s_client", "-connect", "%s:%d" % (LOOPBACK, port)]
    argv += ["-noservername"] if servername is None else ["-servername", servername]
    if cafile is not None:
        argv += ["-CAfile", str(cafile), "-verify_return_error"]
        if servername is not None:
            argv += ["-verify_hostname", servername]
    argv += [str(a) for a in args]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return SClient(p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace"))


# ---------------------------------------------------------------- raw bytes on the TLS port


def client_hello(server_hostname: str = "a.test", alpn: list[str] | None = None) -> bytes:
    """A real ClientHello as python ssl would send it (captured with memory BIOs, never sent anywhere)."""
    ctx = client_context(None, alpn)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=server_hostname)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    assert hello[:1] == b"\x16" and hello[5:6] == b"\x01", "not a ClientHello record: %r" % hello[:8]
    assert len(hello) == 5 + int.from_bytes(hello[3:5], "big"), "more than one record"
    return hello


@dataclasses.dataclass
class Closed:
    elapsed: float   # seconds from the last byte sent to the close
    received: bytes  # whatever the server sent before closing (an alert, a 400 ...)
    how: str         # "eof" or "reset"


def send_and_wait_close(port: int, data: bytes, half_close: bool = False, timeout: float = 10.0) -> Closed:
    """Sends `data` on a fresh TCP connection (then shuts down the write side if `half_close`) and waits for the
    server to close. AssertionError if it is still open after `timeout`."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return Closed(0.0, b"", "reset")  # closed while we were still sending
        t0 = time.monotonic()
        if half_close:
            s.shutdown(socket.SHUT_WR)
        received = bytearray()
        deadline = t0 + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("connection still open %.1fs after sending %d bytes (received %r)"
                                     % (timeout, len(data), bytes(received[:100])))
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return Closed(time.monotonic() - t0, bytes(received), "reset")
            if not chunk:
                return Closed(time.monotonic() - t0, bytes(received), "eof")
            received += chunk


def tls_alert(received: bytes) -> tuple[int, int] | None:
    """(level, description) of the first record if it is a plaintext TLS alert, else None."""
    if len(received) >= 7 and received[0] == 0x15 and received[1] == 3:
        return received[5], received[6]
    return None


# ---------------------------------------------------------------- many concurrent handshakes


@dataclasses.dataclass
class BurstResult:
    ok: int
    failures: list[str]      # one line per failed connection
    fingerprints: set[str]   # of the leaves served
    seconds: float           # from the first ClientHello to the last answer
    hellos_sent: float       # from the first ClientHello written to the last


def raise_nofile(needed: int) -> None:
    """Raises the soft RLIMIT_NOFILE to at least `needed` (up to the hard limit); child processes inherit it."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise RuntimeError("RLIMIT_NOFILE is %d (hard %d), %d needed" % (soft, hard, needed))


def concurrent_handshakes(port: int, server_hostname: str, count: int, cafile, request: bytes | None = None,
                          expect_body: bytes | None = None, timeout: float = 30.0,
                          connect_concurrency: int = 100) -> BurstResult:
    """`count` TLS handshakes for one name whose ClientHellos reach the server together.

    All TCP connections are opened first (at most `connect_concurrency` connects in flight, so the listen
    backlog never overflows) and every ClientHello is computed in advance (memory BIOs); then the hellos are
    written to their sockets in one tight loop, and each handshake is finished concurrently on asyncio.
    Each verifies against `cafile` and the name; with `request`, one request is sent and the response
    (Content-Length framed) must be a 200 with body `expect_body`. Returns how many completed and why the
    others failed."""
    return asyncio.run(_burst(port, server_hostname, count, cafile, request, expect_body, timeout, connect_concurrency))


def _response_complete(buf: bytes) -> bool:
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    m = re.search(rb"\r\ncontent-length:[ \t]*(\d+)", buf[:end + 2], re.I)
    if not m:
        raise AssertionError("response without Content-Length: %r" % buf[:300])
    return len(buf) >= end + 4 + int(m.group(1))


async def _burst(port, name, count, cafile, request, expect_body, timeout, connect_concurrency) -> BurstResult:
    loop = asyncio.get_running_loop()
    ctx = client_context(cafile, alpn=["http/1.1"])
    gate = asyncio.Semaphore(connect_concurrency)

    async def connect(i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            async with gate:
                await asyncio.wait_for(loop.sock_connect(s, (LOOPBACK, port)), timeout)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return s
        except BaseException:
            s.close()
            raise

    opened = await asyncio.gather(*(connect(i) for i in range(count)), return_exceptions=True)
    failures: list[str] = []
    conns = []
    for i, r in enumerate(opened):
        if isinstance(r, BaseException):
            failures.append("#%d connect: %r" % (i, r))
            continue
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(incoming, outgoing, server_hostname=name)
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        conns.append([i, r, obj, incoming, outgoing, outgoing.read()])
    fingerprints: set[str] = set()

    async def one(i, sock, obj, incoming, outgoing, unsent):
        deadline = loop.time() + timeout

        async def flush():
            data = outgoing.read()
            if data:
                await asyncio.wait_for(loop.sock_sendall(sock, data), max(0.01, deadline - loop.time()))

        async def receive():
            data = await asyncio.wait_for(loop.sock_recv(sock, 65536), max(0.01, deadline - loop.time()))
            if not data:
                raise ConnectionError("closed by the server")
            incoming.write(data)

        try:
            if unsent:
                await asyncio.wait_for(loop.sock_sendall(sock, unsent), timeout)
            while True:
                try:
                    obj.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    await flush()
                    await receive()
            await flush()
            fingerprints.add(der_fingerprint(obj.getpeercert(binary_form=True)))
            if request is not None:
                obj.write(request)
                await flush()
                buf = b""
                while not _response_complete(buf):
                    try:
                        chunk = obj.read(65536)
                    except ssl.SSLWantReadError:
                        await flush()
                        await receive()
                        continue
                    if not chunk:
                        raise ConnectionError("closed (close_notify) after %d response bytes" % len(buf))
                    buf += chunk
                head, _, body = buf.partition(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200 ") or (expect_body is not None and body != expect_body):
                    raise AssertionError("unexpected response %r" % buf[:300])
            return None
        except BaseException as e:  # noqa: BLE001 - every failure is reported, not raised
            return "#%d: %s: %s" % (i, type(e).__name__, e)
        finally:
            sock.close()

    # every ClientHello goes out here, back to back (a fresh socket's buffer takes a whole hello)
    t0 = time.monotonic()
    started = []
    for c in conns:
        sock, hello = c[1], c[5]
        try:
            sent = sock.send(hello)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as e:
            failures.append("#%d send: %r" % (c[0], e))
            sock.close()
            continue
        c[5] = hello[sent:]
        started.append(c)
    hellos_sent = time.monotonic() - t0
    results = await asyncio.gather(*(one(*c) for c in started))
    seconds = time.monotonic() - t0
    failures += [r for r in results if r is not None]
    return BurstResult(count - len(failures), failures, fingerprints, seconds, hellos_sent)
