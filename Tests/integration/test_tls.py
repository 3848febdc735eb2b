"""TLS termination: the local CA (`tls internal`, localhost), certificate files, certificates from storage,
SNI and no-SNI, TLS 1.2/1.3 only, ALPN, automatic HTTP->HTTPS redirects, garbage on the TLS port, one
certificate lookup for 1,000 concurrent handshakes, proxying (and WebSockets) over TLS, `edge trust`.
(Bodies and back-pressure through TLS: test_tls_bodies.py; ciphers and curves per site: test_tls_policies.py.)

Every test writes its own Caddyfile (http_port, https_port and storage under tmp_path) and runs its own node.
Clients are curl, `openssl s_client` and Python's ssl, all on 127.0.0.1 with the name in SNI.
"""
from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import os
import re
import ssl
import subprocess
import threading
import time
import warnings
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

import harness
import tlsutil
from rawhttp import Conn, request_bytes
from tlsutil import TLSConn

pytestmark = pytest.mark.edge_only("TLS termination")

READ_HEADER_S = 2


class EdgeNode:
    """One `edge run` with a generated Caddyfile; ports and storage are picked before the sites are written,
    so a test can name them in its site blocks."""

    def __init__(self, edge_bin: str, workdir: Path, name: str = "edge"):
        self.edge_bin, self.workdir, self.name = edge_bin, workdir, name
        self.http_port, self.https_port = harness.free_port(), harness.free_port()
        self.storage = workdir / "storage"
        self.proc: harness.ManagedProcess | None = None

    @property
    def local_ca(self) -> Path:
        return self.storage / "pki" / "authorities" / "local"

    @property
    def root(self) -> Path:
        return self.local_ca / "root.crt"

    def caddyfile(self, sites: str, options: str, read_header_s: int, storage_block: bool) -> str:
        storage = ("\tstorage file_system {\n\t\troot %s\n\t}" % self.storage if storage_block
                   else "\tstorage file_system %s" % self.storage)
        return "\n".join([
            "{",
            "\tworkers 2",
            "\tgrace_period 2s",
            "\thttp_port %d" % self.http_port,
            "\thttps_port %d" % self.https_port,
            storage,
            # Names served from storage here are placed there by the tests: no ACME (it would reach the
            # public CA), unless a test sets its own auto_https.
            "" if "auto_https" in options else "\tauto_https disable_certs",
            "\tservers {",
            "\t\ttimeouts {",
            "\t\t\tread_header %ds" % read_header_s,
            "\t\t\tidle 30s",
            "\t\t}",
            "\t}",
            *["\t" + line for line in options.strip().splitlines()],
            "}",
            sites.strip(),
            "",
        ])

    def start(self, sites: str, options: str = "", read_header_s: int = READ_HEADER_S, storage_block: bool = False,
              ports: tuple[int, ...] | None = None, wait_for_root: bool = True) -> "EdgeNode":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config = self.workdir / "Caddyfile"
        self.config.write_text(self.caddyfile(sites, options, read_header_s, storage_block))
        self.proc = harness.ManagedProcess(self.name, [self.edge_bin, "run", "--config", self.config], self.workdir)
        for port in ports if ports is not None else (self.https_port, self.http_port):
            self.proc.wait_for_port(port)
        if wait_for_root:
            poll(lambda: self.root.is_file(), 10,
                 lambda: "local CA root %s never appeared\n%s" % (self.root, self.describe()))
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.proc.poll() is None

    def stderr(self) -> str:
        return self.proc.stderr_path.read_text(errors="replace") if self.proc else ""

    def lookups(self, name: str) -> list[str]:
        """The `certificate lookup` log lines for `name`."""
        pattern = re.compile(r"certificate lookup.*(?:^|\s)name=" + re.escape(name) + r"(?=\s|$)")
        return [line for line in self.stderr().splitlines() if pattern.search(line)]

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(timeout=6)

    def describe(self) -> str:
        if self.proc is None:
            return "(not started)"
        text = self.proc.describe()
        try:
            text += "\n--- Caddyfile ---\n" + self.config.read_text()
        except OSError:
            pass
        return text


def poll(predicate, timeout: float, message, interval: float = 0.05):
    """Waits until predicate() is true; AssertionError(message()) after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(message())
        time.sleep(interval)


@pytest.fixture
def edge_node(edge_bin, tmp_path, request):
    """Factory: an EdgeNode (not started) stopped after the test; its stderr is shown when the test fails."""
    try:
        import conftest  # the suite's conftest: failing tests print the stderr of the processes listed there
        live = conftest._live_processes
    except (ImportError, AttributeError):
        live = []
    made = []

    def make(name: str = "edge") -> EdgeNode:
        node = EdgeNode(edge_bin, tmp_path / ("%s%d" % (name, len(made) + 1)), name)
        made.append(node)
        live.append(("edge " + node.workdir.name, node))
        return node

    yield make
    for node in made:
        entry = ("edge " + node.workdir.name, node)
        if entry in live:
            live.remove(entry)
        node.stop()


@pytest.fixture(scope="module")
def own_ca(tmp_path_factory) -> tlsutil.TestCA:
    """A CA of the tests' own (openssl CLI) for certificate files and storage: edge only serves its leaves."""
    return tlsutil.TestCA(tmp_path_factory.mktemp("test-ca"))


def get(conn: Conn, host: str, target: str = "/", headers=()):
    conn.send(request_bytes("GET", target, host, list(headers)))
    return conn.read_response()


def https_get(node: EdgeNode, name: str, cafile, target: str = "/", port: int | None = None):
    port = port or node.https_port
    with TLSConn(port, name, cafile=cafile) as c:
        return get(c, "%s:%d" % (name, port), target)


def curl(*args, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--noproxy", "*", "--max-time", "10", *[str(a) for a in args]],
                          capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------- 1. curl against the local CA


def test_curl_verifies_localhost_and_a_tls_internal_site(edge_node, own_ca):
    node = edge_node()
    node.start("""
localhost {
	respond "hello from localhost"
}
a.test {
	tls internal
	respond "site a"
}
""", storage_block=True)  # `storage file_system { root DIR }` form
    p = node.https_port
    fmt = ["-w", "\n%{http_code} %{ssl_verify_result}"]
    r = curl("--cacert", node.root, "--resolve", "localhost:%d:127.0.0.1" % p, *fmt, "https://localhost:%d/" % p)
    assert r.returncode == 0, "curl https://localhost: exit %d: %s\n%s" % (r.returncode, r.stderr, node.describe())
    assert r.stdout == "hello from localhost\n200 0", r.stdout
    r = curl("--cacert", node.root, "--resolve", "a.test:%d:127.0.0.1" % p, *fmt, "https://a.test:%d/" % p)
    assert r.returncode == 0, "curl https://a.test: exit %d: %s\n%s" % (r.returncode, r.stderr, node.describe())
    assert r.stdout == "site a\n200 0", r.stdout
    # the verification is real: trusting another root, curl refuses the certificate (exit 60)
    r = curl("--cacert", own_ca.root, "--resolve", "a.test:%d:127.0.0.1" % p, "https://a.test:%d/" % p)
    assert r.returncode == 60, "curl trusting an unrelated root: exit %d %s" % (r.returncode, r.stderr)


# ---------------------------------------------------------------- 2. one leaf per SNI name


def test_each_sni_name_gets_its_own_leaf_chained_to_the_local_root(edge_node):
    node = edge_node()
    node.start("""
a.test, b.test {
	tls internal
	respond "site ab"
}
""")
    intermediate = tlsutil.cert_info((node.local_ca / "intermediate.crt").read_text())
    root = tlsutil.cert_info(node.root.read_text())
    assert intermediate.issuer == root.subject
    now = datetime.datetime.now(datetime.timezone.utc)
    leaves = {}
    for name in ("a.test", "b.test"):
        # the client trusts the root only: verifying proves the intermediate came in the chain
        h = tlsutil.handshake(node.https_port, name, cafile=node.root)
        info = h.cert()
        assert name in info.dns_names(), "%s served a leaf with SAN %s" % (name, info.sans)
        assert info.issuer == intermediate.subject, (info.issuer, intermediate.subject)
        left = info.not_after - now
        assert datetime.timedelta(hours=11) < left <= datetime.timedelta(hours=12, minutes=5), \
            "leaf for %s valid until %s (%s from now), expected ~12 h" % (name, info.not_after, left)
        leaves[name] = info
    assert leaves["a.test"].serial != leaves["b.test"].serial, "one leaf for both names: %s" % leaves["a.test"]
    assert leaves["a.test"].fingerprint != leaves["b.test"].fingerprint
    # the chain on the wire is leaf + intermediate
    r = tlsutil.s_client(node.https_port, "a.test", "-showcerts", cafile=node.root)
    chain = tlsutil.pem_certificates(r.output)
    assert r.connected and len(chain) == 2, "%d certificates sent:\n%s" % (len(chain), r.tail())
    assert tlsutil.pem_fingerprint(chain[0]) == leaves["a.test"].fingerprint
    assert tlsutil.pem_fingerprint(chain[1]) == intermediate.fingerprint
    # issued once, then served from the cache: one lookup per name however many handshakes
    assert tlsutil.handshake(node.https_port, "a.test", cafile=node.root).fingerprint == leaves["a.test"].fingerprint
    assert https_get(node, "b.test", node.root).body == b"site ab"
    for name in ("a.test", "b.test"):
        assert len(node.lookups(name)) == 1, "lookups for %s:\n%s" % (name, "\n".join(node.lookups(name)))


# ---------------------------------------------------------------- 3. a certificate appearing in storage


def test_certificate_written_to_storage_is_served_without_reload(edge_node, own_ca):
    node = edge_node()
    node.start("""
stored.test {
	respond "stored"
}
""", wait_for_root=False)
    err = tlsutil.handshake_error(node.https_port, "stored.test", cafile=own_ca.root)
    assert tlsutil.is_unrecognized_name(err), "before a certificate is stored: expected alert 112, got %r" % err
    assert node.alive()

    issued = own_ca.issue(["stored.test"], "ec")
    certs = node.storage / "certificates"
    tlsutil.write_atomically(certs / "stored.test.key", issued.key.read_bytes())  # the key first,
    tlsutil.write_atomically(certs / "stored.test.crt", issued.chain.read_bytes())  # then the chain

    h = tlsutil.handshake(node.https_port, "stored.test", cafile=own_ca.root)
    assert h.fingerprint == issued.fingerprint, "served %s, stored %s" % (h.cert().sans, issued.names)
    assert https_get(node, "stored.test", own_ca.root).body == b"stored"


# ---------------------------------------------------------------- 4. certificate files, ECDSA and RSA


def test_certificate_files_ecdsa_p256_and_rsa_2048(edge_node, own_ca):
    ec = own_ca.issue(["files.test"], "ec")
    rsa = own_ca.issue(["rsa.test"], "rsa")
    node = edge_node()
    node.start("""
files.test {
	tls %s %s
	respond "files"
}
rsa.test {
	tls %s %s
	respond "rsa"
}
""" % (ec.chain, ec.key, rsa.chain, rsa.key), wait_for_root=False)
    for issued, key_alg, suite_word, body in ((ec, "id-ecPublicKey", "ECDSA", b"files"),
                                             (rsa, "rsaEncryption", "RSA", b"rsa")):
        name = issued.names[0]
        h = tlsutil.handshake(node.https_port, name, cafile=own_ca.root)  # root only: the chain file is sent whole
        assert h.fingerprint == issued.fingerprint, "%s: served %s" % (name, h.cert().sans)
        assert h.cert().public_key == key_alg
        h12 = tlsutil.handshake(node.https_port, name, cafile=own_ca.root, max_version=ssl.TLSVersion.TLSv1_2)
        assert h12.version == "TLSv1.2" and suite_word in h12.cipher, (h12.version, h12.cipher)
        assert https_get(node, name, own_ca.root).body == body


# ---------------------------------------------------------------- 5. protocol versions


def test_tls_1_2_and_1_3_only_and_per_site_protocols(edge_node):
    node = edge_node()
    node.start("""
a.test {
	tls internal
	respond "site a"
}
old.test {
	tls internal {
		protocols tls1.3
	}
	respond "only 1.3"
}
""")
    p, root = node.https_port, node.root
    # SECLEVEL=0 so that it is the server, not OpenSSL 3's client defaults, that refuses TLS 1.1
    r = tlsutil.s_client(p, "a.test", "-tls1_1", "-cipher", tlsutil.LEGACY_CLIENT_CIPHERS, cafile=root)
    assert not r.connected, "TLS 1.1 was accepted:\n" + r.tail()
    for flag, version in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        r = tlsutil.s_client(p, "a.test", flag, cafile=root)
        assert r.connected and r.version == version and r.verify_ok, "%s: %s\n%s" % (flag, r.version, r.tail())
    r = tlsutil.s_client(p, "old.test", "-tls1_2", cafile=root)
    assert not r.connected, "old.test (protocols tls1.3) accepted TLS 1.2:\n" + r.tail()
    r = tlsutil.s_client(p, "old.test", "-tls1_3", cafile=root)
    assert r.connected and r.version == "TLSv1.3" and r.verify_ok, r.tail()
    # the same with python ssl
    with pytest.raises((ssl.SSLError, OSError)):
        tlsutil.handshake(p, "old.test", cafile=root, max_version=ssl.TLSVersion.TLSv1_2)
    assert tlsutil.handshake(p, "a.test", cafile=root, max_version=ssl.TLSVersion.TLSv1_2).version == "TLSv1.2"
    assert https_get(node, "old.test", root).body == b"only 1.3"
    assert node.alive()


# ---------------------------------------------------------------- 6. ALPN


def test_alpn_prefers_h2_then_http_1_1(edge_node):
    node = edge_node()
    node.start("""
a.test {
	tls internal
	respond "site a"
}
""")
    r = tlsutil.s_client(node.https_port, "a.test", "-alpn", "http/1.1", cafile=node.root)
    assert r.connected and r.alpn == "http/1.1", r.tail()
    h = tlsutil.handshake(node.https_port, "a.test", cafile=node.root, alpn=["http/1.1", "h2"])
    assert h.alpn == "h2"  # the server's preference wins
    assert tlsutil.handshake(node.https_port, "a.test", cafile=node.root).alpn is None  # none offered, none chosen
    with TLSConn(node.https_port, "a.test", cafile=node.root, alpn=["http/1.1"]) as c:
        r = get(c, "a.test")
    assert r.status == 200 and r.version == "HTTP/1.1" and r.body == b"site a"


# ---------------------------------------------------------------- 7. garbage on the TLS port


def test_garbage_on_the_tls_port_closes_only_that_connection(edge_node):
    node = edge_node()
    node.start("""
a.test {
	tls internal
	respond "site a"
}
""")
    p = node.https_port
    good = TLSConn(p, "a.test", cafile=node.root)
    try:
        assert get(good, "a.test").body == b"site a"
        hello = tlsutil.client_hello("a.test")
        cases = {
            "plain HTTP": (b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", False),
            "4 KiB random": (os.urandom(4096), False),
            "40 bytes of a ClientHello, then EOF": (hello[:40], True),
            "40 bytes of a ClientHello, then silence": (hello[:40], False),
        }
        results = {}

        def send(label, data, half_close):
            try:
                results[label] = tlsutil.send_and_wait_close(p, data, half_close=half_close, timeout=READ_HEADER_S + 5)
            except BaseException as e:  # noqa: BLE001 - reported below
                results[label] = e

        threads = [threading.Thread(target=send, args=(label, *case)) for label, case in cases.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for label in cases:
            res = results[label]
            assert not isinstance(res, BaseException), "%s: %s\n%s" % (label, res, node.describe())
            assert res.elapsed <= READ_HEADER_S + 1.5, "%s: closed after %.2fs (read_header %ds)" % (
                label, res.elapsed, READ_HEADER_S)
        # the connection opened before is still served, and so are new ones
        r = get(good, "a.test")
        assert r.status == 200 and r.body == b"site a"
    finally:
        good.close()
    assert https_get(node, "a.test", node.root).body == b"site a"
    assert node.alive(), node.describe()


# ---------------------------------------------------------------- 8. 1,000 handshakes, one lookup


@pytest.mark.parametrize("source", ["local_ca", "storage"])
def test_thousand_concurrent_handshakes_cause_one_certificate_lookup(edge_node, own_ca, source):
    """1,000 ClientHellos for one name not yet in the node's cache, all written within a few milliseconds:
    one lookup (one log line), every handshake served the same leaf. `storage`: an RSA-2048 certificate
    put in storage before the start (public-looking name, no tls directive)."""
    count = 1000
    tlsutil.raise_nofile(4 * count)  # before edge starts: it inherits the limit
    node = edge_node()
    if source == "storage":
        issued = own_ca.issue(["a.test"], "rsa")
        tlsutil.write_atomically(node.storage / "certificates" / "a.test.key", issued.key.read_bytes())
        tlsutil.write_atomically(node.storage / "certificates" / "a.test.crt", issued.chain.read_bytes())
        site, cafile = 'a.test {\n\trespond "site a"\n}\n', own_ca.root
    else:
        site, cafile = 'a.test {\n\ttls internal\n\trespond "site a"\n}\n', None
    # read_header 15s: the connections wait between their connect and their ClientHello
    node.start(site, read_header_s=15, wait_for_root=source == "local_ca")
    cafile = cafile or node.root
    assert node.lookups("a.test") == [], "looked up before any handshake:\n" + node.stderr()
    req = b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"
    res = tlsutil.concurrent_handshakes(node.https_port, "a.test", count, cafile, request=req,
                                        expect_body=b"site a", timeout=30)
    allowed = count // 100
    assert len(res.failures) <= allowed, "%d of %d failed, e.g.\n%s\n%s" % (
        len(res.failures), count, "\n".join(res.failures[:10]), node.describe())
    if res.failures:
        warnings.warn("%d of %d concurrent handshakes failed: %s" % (len(res.failures), count, res.failures[:5]))
    assert len(res.fingerprints) == 1, "%d different leaves served for one name" % len(res.fingerprints)
    if source == "storage":
        assert res.fingerprints == {issued.fingerprint}
    poll(lambda: node.lookups("a.test"), 3,
         lambda: "no `certificate lookup ... name=a.test` line on stderr:\n" + node.describe())
    lines = node.lookups("a.test")
    assert len(lines) == 1, "%d lookups for one name (%d ClientHellos sent within %.3fs):\n%s" % (
        len(lines), count, res.hellos_sent, "\n".join(lines[:20]))
    assert node.alive()


# ---------------------------------------------------------------- 9. automatic HTTPS redirects


def test_http_port_redirects_to_https(edge_node):
    node = edge_node()
    node.start("""
a.test {
	tls internal
	respond "site a"
}
localhost {
	respond "hello from localhost"
}
""")
    for host, name in (("a.test", "a.test"), ("a.test:%d" % node.http_port, "a.test"), ("localhost", "localhost")):
        expected = "https://%s:%d/some/path?x=1&y=%%2F" % (name, node.https_port)
        with Conn(node.http_port) as c:
            r = get(c, host, "/some/path?x=1&y=%2F")
        assert r.status == 308, "Host %s: %d %r" % (host, r.status, r.body[:200])
        assert r.header("location") == expected, "Host %s: Location %r" % (host, r.header("location"))
    with Conn(node.http_port) as c:
        r = get(c, "a.test", "/.well-known/acme-challenge/x")
    assert r.status == 404 and r.header("location") is None, "acme-challenge: %d %s" % (r.status, r.headers)


def test_disable_redirects(edge_node):
    node = edge_node()
    node.start("""
a.test {
	tls internal
	respond "site a"
}
http://plain.test {
	respond "plain"
}
""", options="auto_https disable_redirects")
    with Conn(node.http_port) as c:
        r = get(c, "a.test", "/x")
        assert r.status != 308 and r.header("location") is None, "redirected: %d %s" % (r.status, r.headers)
    with Conn(node.http_port) as c:
        assert get(c, "plain.test").body == b"plain"
    assert https_get(node, "a.test", node.root).body == b"site a"


# ---------------------------------------------------------------- 10. proxying over TLS


def test_reverse_proxy_and_websocket_over_tls(edge_node, upstream, ws_upstream):
    node = edge_node()
    node.start("""
a.test {
	tls internal
	reverse_proxy %s
}
ws.test {
	tls internal
	reverse_proxy %s
}
http://plain.test {
	reverse_proxy %s
}
""" % (upstream.address, ws_upstream.address, upstream.address))

    def forwarded_proto(conn, host):
        r = get(conn, host, "/echo")
        assert r.status == 200, r
        return [v for k, v in json.loads(r.body)["headers"] if k.lower() == "x-forwarded-proto"]

    with TLSConn(node.https_port, "a.test", cafile=node.root) as c:
        assert forwarded_proto(c, "a.test:%d" % node.https_port) == ["https"]
    with Conn(node.http_port) as c:  # the contrast: the same upstream behind a plain-HTTP site
        assert forwarded_proto(c, "plain.test") == ["http"]

    msgs = ["hello over wss", os.urandom(1000), "x" * 70000]

    async def echo():
        ctx = tlsutil.client_context(node.root)
        async with connect("wss://ws.test:%d/chat" % node.https_port, ssl=ctx, host=tlsutil.LOOPBACK,
                           port=node.https_port, proxy=None, max_size=1 << 20, compression=None,
                           open_timeout=10) as ws:
            assert ws.response.status_code == 101
            out = []
            for m in msgs:
                await ws.send(m)
                out.append(await asyncio.wait_for(ws.recv(), 10))
            return out

    assert asyncio.run(echo()) == msgs


# ---------------------------------------------------------------- 11. no SNI, unknown SNI, default_sni


def test_no_sni_refused_unless_default_sni(edge_node):
    # Two sites share the port, so a client without SNI names neither (with one site, edge serves it:
    # test_tls_policies.py::test_no_sni_gets_the_only_site_of_its_port).
    sites = """
a.test {
	tls internal
	respond "site a"
}
b.test {
	tls internal
	respond "site b"
}
"""
    plain = edge_node()
    plain.start(sites)
    err = tlsutil.handshake_error(plain.https_port, None, cafile=plain.root)
    assert tlsutil.is_unrecognized_name(err), "no SNI, no default_sni: expected alert 112, got %r" % err
    err = tlsutil.handshake_error(plain.https_port, "unknown.test", cafile=plain.root)
    assert tlsutil.is_unrecognized_name(err), "unknown SNI: expected alert 112, got %r" % err
    r = tlsutil.s_client(plain.https_port, None, cafile=plain.root)
    assert not r.connected, r.tail()
    plain.stop()

    node = edge_node()
    node.start(sites, options="default_sni a.test")
    h = tlsutil.handshake(node.https_port, None, cafile=node.root)  # chain verified; no name to check
    assert "a.test" in h.cert().dns_names(), h.cert().sans
    assert tlsutil.handshake(node.https_port, "a.test", cafile=node.root).fingerprint == h.fingerprint
    with TLSConn(node.https_port, None, cafile=node.root) as c:
        assert get(c, "a.test").body == b"site a"


# ---------------------------------------------------------------- extra: local_certs, a site on its own port


def test_local_certs_and_a_site_on_its_own_port(edge_node):
    node = edge_node()
    own = harness.free_port()
    node.start("""
c.test {
	respond "c"
}
d.test:%d {
	respond "d"
}
""" % own, options="local_certs", ports=(node.https_port, own))
    assert https_get(node, "c.test", node.root).body == b"c"
    assert https_get(node, "d.test", node.root, port=own).body == b"d"


# ---------------------------------------------------------------- 12. edge trust


def _system_store_state() -> dict:
    state = {}
    for d in ("/usr/local/share/ca-certificates", "/etc/ssl/certs"):
        try:
            state[d] = sorted(os.listdir(d))
        except OSError:
            state[d] = None
    try:
        state["bundle"] = hashlib.sha256(Path("/etc/ssl/certs/ca-certificates.crt").read_bytes()).hexdigest()
    except OSError:
        state["bundle"] = None
    return state


def test_trust_prints_root_and_fingerprint_without_installing(edge_bin, edge_node, tmp_path):
    storage = tmp_path / "trust-storage"
    before = _system_store_state()
    p = subprocess.run([edge_bin, "trust", "--storage", storage], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, "edge trust: exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr)
    local = storage / "pki" / "authorities" / "local"
    root = local / "root.crt"
    assert root.is_file(), "no %s after edge trust" % root
    out = p.stdout
    assert str(root) in out or str(root.resolve()) in out, "root path not printed: %r" % out
    m = re.search(r"(?i)sha256 fingerprint=(\S+)", tlsutil.openssl("x509", "-noout", "-fingerprint", "-sha256",
                                                                    "-in", root).stdout.decode())
    fingerprint = m.group(1)
    assert re.search(r"(?<![0-9A-F:])%s(?![0-9A-F:])" % re.escape(fingerprint), out), \
        "fingerprint %s not in %r" % (fingerprint, out)
    for key in ("root.key", "intermediate.key"):
        mode = (local / key).stat().st_mode & 0o777
        assert mode == 0o600, "%s has mode %o" % (key, mode)
    assert _system_store_state() == before, "edge trust without --install changed the system trust store"

    # again: the same CA (not a new one); --pem prints the PEM only
    p2 = subprocess.run([edge_bin, "trust", "--storage", storage], capture_output=True, text=True, timeout=30)
    assert p2.returncode == 0 and fingerprint in p2.stdout, p2.stdout + p2.stderr
    pem = subprocess.run([edge_bin, "trust", "--storage", storage, "--pem"], capture_output=True, text=True, timeout=30)
    assert pem.returncode == 0, pem.stderr
    assert pem.stdout.strip() == root.read_text().strip(), "--pem printed %r" % pem.stdout[:300]
    assert tlsutil.pem_certificates(pem.stdout) and tlsutil.pem_fingerprint(pem.stdout) == fingerprint

    # a node on that storage serves leaves under that root
    node = edge_node()
    node.storage = storage
    node.start("""
a.test {
	tls internal
	respond "site a"
}
""")
    assert https_get(node, "a.test", root).body == b"site a"
    assert tlsutil.openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", root).stdout.decode().strip().endswith(
        fingerprint), "the node replaced the root that edge trust created"
