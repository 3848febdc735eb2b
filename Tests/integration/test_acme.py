"""ACME against the real test CA: pebble issues certificates for three names at start (HTTP-01 and
TLS-ALPN-01 each alone too), they verify under pebble's root, the node serves them without a restart,
and storage holds them for `edge certs list`."""
import json
import socket
import ssl
import subprocess
import time

import pytest

from harness import LOOPBACK, ManagedProcess, free_port
from pebble import Pebble

pytestmark = pytest.mark.edge_only("ACME")

NAMES = ["api.acme.test", "http1.acme.test", "grafana.acme.test"]


def start_node(edge_bin, workdir, pebble, names, extra_global="", issuer_block="", sites=None):
    """An edge whose sites (`names`, each answering "hello from <name>", or `sites` as written) get their
    certificates from `pebble`, listening where pebble validates."""
    workdir.mkdir(parents=True, exist_ok=True)
    if sites is None:
        sites = "".join('%s {\n\trespond "hello from %s"\n%s}\n' % (name, name, issuer_block) for name in names)
    (workdir / "Caddyfile").write_text("""{
	workers 1
	grace_period 1s
	admin off
	http_port %d
	https_port %d
	storage file_system %s
	email ops@acme.test
	acme_ca %s
	acme_ca_root %s
%s}
%s""" % (pebble.http_port, pebble.tls_port, workdir / "storage", pebble.directory, pebble.ca_root, extra_global, sites))
    proc = ManagedProcess("edge", [edge_bin, "run", "--config", workdir / "Caddyfile"], workdir)
    try:
        proc.wait_for_port(pebble.tls_port)
    except Exception:
        proc.stop()
        raise
    return proc


def fetch(port, name, cafile, path="/"):
    """GET over TLS with SNI `name` to 127.0.0.1:port, verifying against `cafile`: (status line, body, cert)."""
    context = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection((LOOPBACK, port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            tls.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path.encode(), name.encode()))
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
            return data.split(b"\r\n", 1)[0], data.split(b"\r\n\r\n", 1)[1], tls.getpeercert()


def wait_for_certificates(port, names, cafile, timeout=30):
    """Seconds until every name verifies under `cafile`."""
    start = time.monotonic()
    pending = set(names)
    last = None
    while pending and time.monotonic() - start < timeout:
        for name in sorted(pending):
            try:
                status, body, _ = fetch(port, name, cafile)
                assert status.startswith(b"HTTP/1.1 200") and body == b"hello from " + name.encode()
                pending.discard(name)
            except (ssl.SSLError, OSError) as error:
                last = error
        time.sleep(0.1)
    assert not pending, "no valid certificate for %s after %ds (last error: %s)" % (pending, timeout, last)
    return time.monotonic() - start


@pytest.fixture
def pebble(tmp_path):
    p = Pebble(tmp_path / "pebble")
    yield p
    p.stop()


def test_three_names_get_certificates_that_verify_under_pebbles_root(edge_bin, tmp_path, pebble):
    roots = pebble.issuing_roots()
    started = time.monotonic()
    node = start_node(edge_bin, tmp_path / "node", pebble, NAMES)
    try:
        wait_for_certificates(pebble.tls_port, NAMES, roots)
        print("three certificates valid %.2f s after `edge run`" % (time.monotonic() - started))
        # Issued by pebble (not a local CA), for the right name.
        _, _, cert = fetch(pebble.tls_port, NAMES[0], roots)
        assert ("DNS", NAMES[0]) in cert["subjectAltName"]
        assert "Pebble" in str(cert["issuer"])
        assert pebble.orders() == 3
        listed = subprocess.run([edge_bin, "certs", "list", "--storage", str(tmp_path / "node" / "storage"), "--json"],
                                capture_output=True, text=True, timeout=30)
        rows = {json.loads(line)["name"]: json.loads(line) for line in listed.stdout.splitlines()}
        assert set(rows) == set(NAMES), listed.stdout + listed.stderr
        assert rows[NAMES[0]]["issuer"] == pebble.directory
        log = node.stderr_path.read_text()
        assert log.count("certificate obtained") == 3, log
        assert "answered an ACME HTTP-01 validation" in log or "ACME TLS-ALPN-01" in log
    finally:
        node.stop()


@pytest.mark.parametrize("challenge", ["http-01", "tls-alpn-01"])
def test_each_challenge_alone(edge_bin, tmp_path, pebble, challenge):
    disable = "disable_tlsalpn_challenge" if challenge == "http-01" else "disable_http_challenge"
    issuer = "\ttls {\n\t\tissuer acme {\n\t\t\tdisable_%s\n\t\t}\n\t}\n" % (
        "tlsalpn_challenge" if challenge == "http-01" else "http_challenge")
    del disable
    node = start_node(edge_bin, tmp_path / "node", pebble, ["solo.acme.test"], issuer_block=issuer)
    try:
        wait_for_certificates(pebble.tls_port, ["solo.acme.test"], pebble.issuing_roots())
        log = node.stderr_path.read_text()
        if challenge == "http-01":
            assert "answered an ACME HTTP-01 validation" in log
        else:
            assert "answered an ACME HTTP-01 validation" not in log
    finally:
        node.stop()


def test_a_restart_serves_the_stored_certificate_without_a_new_order(edge_bin, tmp_path, pebble):
    node = start_node(edge_bin, tmp_path / "node", pebble, ["keep.acme.test"])
    try:
        wait_for_certificates(pebble.tls_port, ["keep.acme.test"], pebble.issuing_roots())
    finally:
        node.stop()
    orders = pebble.orders()
    node = start_node(edge_bin, tmp_path / "node", pebble, ["keep.acme.test"])
    try:
        wait_for_certificates(pebble.tls_port, ["keep.acme.test"], pebble.issuing_roots(), timeout=5)
        time.sleep(0.5)
        assert pebble.orders() == orders
    finally:
        node.stop()


def test_pebble_unreachable_at_start_then_up(edge_bin, tmp_path):
    """The CA is down when edge starts: edge keeps serving, retries with a short backoff, and gets the
    certificate once the CA is up (no restart)."""
    pebble = Pebble(tmp_path / "pebble")
    directory_port = pebble.port
    pebble.proc.stop()  # the CA goes away before edge starts; its ports stay as configured
    node = start_node(edge_bin, tmp_path / "node", pebble, ["late.acme.test"])
    try:
        # The first attempt fails (no CA); waited for rather than a fixed 3 s, which a loaded machine missed.
        deadline = time.monotonic() + 20
        while "could not obtain a certificate; will try again" not in node.stderr_path.read_text():
            assert time.monotonic() < deadline, "no failed attempt logged: " + node.stderr_path.read_text()[-2000:]
            time.sleep(0.1)
        restarted = ManagedProcess("pebble2", ["pebble", "-config", pebble.workdir / "pebble.json", "-dnsserver",
                                                "%s:%d" % (LOOPBACK, pebble.dns)], pebble.workdir,
                                   env=dict(__import__("os").environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0"))
        pebble.proc = restarted
        restarted.wait_for_port(directory_port)
        seconds = wait_for_certificates(pebble.tls_port, ["late.acme.test"], pebble.issuing_roots(), timeout=60)
        print("certificate %.1f s after the CA came up" % seconds)
    finally:
        node.stop()
        pebble.stop()


def test_half_the_nonces_rejected(edge_bin, tmp_path):
    pebble = Pebble(tmp_path / "pebble", env={"PEBBLE_WFE_NONCEREJECT": "50"})
    node = start_node(edge_bin, tmp_path / "node", pebble, NAMES)
    try:
        wait_for_certificates(pebble.tls_port, NAMES, pebble.issuing_roots(), timeout=60)
    finally:
        node.stop()
        pebble.stop()


def test_two_processes_sharing_storage_get_one_certificate_per_name(edge_bin, tmp_path, pebble):
    """Two nodes on one storage directory (different ports, same CA): each name is ordered once, and both
    serve it."""
    first = start_node(edge_bin, tmp_path / "a", pebble, NAMES)
    # The second node: same storage, its own listening ports (pebble validates on the first node's).
    text = (tmp_path / "a" / "Caddyfile").read_text()
    port2, http2 = free_port(), free_port()
    text = text.replace("http_port %d" % pebble.http_port, "http_port %d" % http2).replace(
        "https_port %d" % pebble.tls_port, "https_port %d" % port2)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Caddyfile").write_text(text)
    second = ManagedProcess("edge-b", [edge_bin, "run", "--config", tmp_path / "b" / "Caddyfile"], tmp_path / "b")
    try:
        second.wait_for_port(port2)
        roots = pebble.issuing_roots()
        wait_for_certificates(pebble.tls_port, NAMES, roots, timeout=60)
        wait_for_certificates(port2, NAMES, roots, timeout=60)
        assert pebble.orders() == len(NAMES)
    finally:
        second.stop()
        first.stop()


def test_a_certificate_near_expiry_is_renewed_and_swapped_with_no_dropped_request(edge_bin, tmp_path):
    """30-second certificates: renewal is due after 20 s. Requests keep flowing on fresh TLS connections
    the whole time; none fails, and the certificate served changes to the renewed one."""
    pebble = Pebble(tmp_path / "pebble", config={"certificateValidityPeriod": 30})
    node = start_node(edge_bin, tmp_path / "node", pebble, ["renew.acme.test"])
    try:
        roots = pebble.issuing_roots()
        wait_for_certificates(pebble.tls_port, ["renew.acme.test"], roots)
        serials, failures, requests = set(), [], 0
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and len(serials) < 2:
            try:
                status, _, cert = fetch(pebble.tls_port, "renew.acme.test", roots)
                assert status.startswith(b"HTTP/1.1 200")
                serials.add(cert["serialNumber"])
            except Exception as error:  # noqa: BLE001 - every failure counts
                failures.append(repr(error))
            requests += 1
            time.sleep(0.05)
        assert len(serials) == 2, "no renewal within 40 s (%d requests)" % requests
        assert failures == [], failures[:3]
        assert "certificate renewed" in node.stderr_path.read_text()
    finally:
        node.stop()
        pebble.stop()


class AskServer:
    """The operator's `ask` endpoint: 200 for names ending in `.allowed.test`, 403 otherwise; counts asks."""

    def __init__(self):
        import http.server
        import threading
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                from urllib.parse import parse_qs, urlsplit
                domain = parse_qs(urlsplit(self.path).query).get("domain", [""])[0]
                server.asked.append(domain)
                self.send_response(200 if domain.endswith(".allowed.test") else 403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.asked = []
        self.httpd = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def on_demand_node(edge_bin, workdir, pebble, ask, address, body):
    """An edge with one `tls { on_demand }` site at `address`, asking `ask`."""
    site = '%s {\n\ttls {\n\t\ton_demand\n\t}\n\trespond "%s"\n}\n' % (address, body)
    return start_node(edge_bin, workdir, pebble, [], sites=site,
                      extra_global="\ton_demand_tls {\n\t\task http://%s:%d/check\n\t}\n" % (LOOPBACK, ask.port))


def test_on_demand_with_ask_allow_and_deny(edge_bin, tmp_path, pebble):
    ask = AskServer()
    node = on_demand_node(edge_bin, tmp_path / "node", pebble, ask, "https://", "on demand {host}")
    try:
        roots = pebble.issuing_roots()
        assert pebble.orders() == 0  # nothing is ordered before a handshake asks
        status, body, cert = fetch(pebble.tls_port, "shop.allowed.test", roots)
        assert status.startswith(b"HTTP/1.1 200") and body == b"on demand shop.allowed.test"
        assert ("DNS", "shop.allowed.test") in cert["subjectAltName"]
        with pytest.raises(ssl.SSLError):
            fetch(pebble.tls_port, "evil.denied.test", roots)
        assert ask.asked == ["shop.allowed.test", "evil.denied.test"]
        assert pebble.orders() == 1
        # The second handshake for an allowed name is served from storage: no ask, no order.
        fetch(pebble.tls_port, "shop.allowed.test", roots)
        assert pebble.orders() == 1 and len(ask.asked) == 2
        # At most 10 new on-demand certificates a minute: the 11th allowed name is refused.
        for i in range(9):
            fetch(pebble.tls_port, "n%d.allowed.test" % i, roots)
        assert pebble.orders() == 10
        with pytest.raises(ssl.SSLError):
            fetch(pebble.tls_port, "eleventh.allowed.test", roots)
        assert pebble.orders() == 10
        assert "rate limit" in node.stderr_path.read_text()
    finally:
        node.stop()
        ask.stop()


def test_revoke_sets_the_certificate_aside_and_a_reload_replaces_it(edge_bin, tmp_path, pebble):
    workdir = tmp_path / "node"
    node = start_node(edge_bin, workdir, pebble, ["gone.acme.test"])
    try:
        roots = pebble.issuing_roots()
        wait_for_certificates(pebble.tls_port, ["gone.acme.test"], roots)
        _, _, first = fetch(pebble.tls_port, "gone.acme.test", roots)
        revoked = subprocess.run([edge_bin, "certs", "revoke", "gone.acme.test", "--reason", "superseded", "--config",
                                  str(workdir / "Caddyfile")], capture_output=True, text=True, timeout=60)
        assert revoked.returncode == 0, revoked.stderr
        # Pebble knows it is revoked (its management API by serial).
        serial = int(first["serialNumber"], 16)
        status = pebble._management("/cert-status-by-serial/%x" % serial)
        assert b"Revoked" in status, status
        assert not (workdir / "storage" / "certificates" / "gone.acme.test.crt").exists()
        node.signal(__import__("signal").SIGHUP)  # a reload looks at storage again
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                _, _, current = fetch(pebble.tls_port, "gone.acme.test", roots)
                if current["serialNumber"] != first["serialNumber"]:
                    break
            except (ssl.SSLError, OSError):
                pass
            time.sleep(0.2)
        assert current["serialNumber"] != first["serialNumber"]
    finally:
        node.stop()


def test_a_process_sharing_storage_answers_validations_for_the_one_that_ordered(edge_bin, tmp_path, pebble):
    """Node A is the one the CA's validations reach; it obtains nothing itself (auto_https disable_certs).
    Node B orders, but the CA cannot reach it: A answers B's HTTP-01 challenge from the shared storage,
    and then serves the certificate B stored."""
    front = start_node(edge_bin, tmp_path / "a", pebble, ["shared.acme.test"], extra_global="\tauto_https disable_certs\n")
    text = (tmp_path / "a" / "Caddyfile").read_text().replace("\tauto_https disable_certs\n", "")
    port2, http2 = free_port(), free_port()
    text = text.replace("http_port %d" % pebble.http_port, "http_port %d" % http2).replace(
        "https_port %d" % pebble.tls_port, "https_port %d" % port2)
    text = text.replace("shared.acme.test {", "shared.acme.test {\n\ttls {\n\t\tissuer acme {\n\t\t\tdisable_tlsalpn_challenge\n\t\t}\n\t}")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Caddyfile").write_text(text)
    back = ManagedProcess("edge-b", [edge_bin, "run", "--config", tmp_path / "b" / "Caddyfile"], tmp_path / "b")
    try:
        back.wait_for_port(port2)
        roots = pebble.issuing_roots()
        wait_for_certificates(pebble.tls_port, ["shared.acme.test"], roots, timeout=60)
        assert "put up by another process sharing storage" in front.stderr_path.read_text()
        assert "certificate obtained" in back.stderr_path.read_text()
        assert "certificate obtained" not in front.stderr_path.read_text()
    finally:
        back.stop()
        front.stop()


def test_dns01_through_an_exec_provider_gets_a_wildcard(edge_bin, tmp_path, pebble):
    """`tls { dns exec <program> }`: edge runs the operator's program to publish the TXT record (here a
    script that tells challtestsrv, pebble's DNS), and gets a wildcard certificate."""
    script = tmp_path / "dns-hook.sh"
    script.write_text("""#!/bin/sh
# dns-hook.sh present|cleanup <record> <value>
set -e
case "$1" in
  present) curl -sf -X POST -d "{\\"host\\":\\"$2.\\",\\"value\\":\\"$3\\"}" http://%s:%d/set-txt ;;
  cleanup) curl -sf -X POST -d "{\\"host\\":\\"$2.\\"}" http://%s:%d/clear-txt ;;
esac
echo "$1 $2" >> %s
""" % (LOOPBACK, pebble.dns_management, LOOPBACK, pebble.dns_management, tmp_path / "hook.log"))
    script.chmod(0o755)
    issuer = "\ttls {\n\t\tdns exec %s\n\t}\n" % script
    node = start_node(edge_bin, tmp_path / "node", pebble, ["*.wild.acme.test"], issuer_block=issuer)
    try:
        roots = pebble.issuing_roots()
        status, body, cert = None, None, None
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                status, body, cert = fetch(pebble.tls_port, "shop.wild.acme.test", roots)
                break
            except (ssl.SSLError, OSError):
                time.sleep(0.2)
        assert cert is not None, node.stderr_tail()
        assert ("DNS", "*.wild.acme.test") in cert["subjectAltName"]
        hooks = (tmp_path / "hook.log").read_text().split("\n")
        assert "present _acme-challenge.wild.acme.test" in hooks and "cleanup _acme-challenge.wild.acme.test" in hooks
    finally:
        node.stop()


def test_issuer_fallback_list(edge_bin, tmp_path, pebble):
    """Two issuers: the first CA is down, the second (pebble) issues; both live on this machine."""
    dead = "https://%s:%d/dir" % (LOOPBACK, free_port())
    fallback = ("\tcert_issuer acme %s\n\tcert_issuer acme %s {\n\t\ttrusted_roots %s\n\t}\n"
                % (dead, pebble.directory, pebble.ca_root))
    node = start_node(edge_bin, tmp_path / "node", pebble, ["fallback.acme.test"], extra_global=fallback)
    try:
        wait_for_certificates(pebble.tls_port, ["fallback.acme.test"], pebble.issuing_roots())
        log = node.stderr_path.read_text()
        assert "issuer failed" in log and dead in log
        metadata = json.loads((tmp_path / "node" / "storage" / "certificates" / "fallback.acme.test.json").read_text())
        assert metadata["issuer_url"] == pebble.directory
    finally:
        node.stop()


def test_external_account_binding(edge_bin, tmp_path):
    """A CA that requires EAB (as ZeroSSL does): without acme_eab the account is refused; with it, issued."""
    key = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
    pebble = Pebble(tmp_path / "pebble", config={"externalAccountBindingRequired": True,
                                                 "externalAccountMACKeys": {"kid-1": key}})
    try:
        refused = start_node(edge_bin, tmp_path / "without", pebble, ["eab.acme.test"])
        try:
            time.sleep(2)
            assert "externalAccountRequired" in refused.stderr_path.read_text() or \
                "external account" in refused.stderr_path.read_text().lower()
        finally:
            refused.stop()
        node = start_node(edge_bin, tmp_path / "with", pebble, ["eab.acme.test"],
                          extra_global="\tacme_eab {\n\t\tkey_id kid-1\n\t\tmac_key %s\n\t}\n" % key)
        try:
            wait_for_certificates(pebble.tls_port, ["eab.acme.test"], pebble.issuing_roots())
        finally:
            node.stop()
    finally:
        pebble.stop()


def test_an_on_demand_certificate_is_renewed_after_a_restart(edge_bin, tmp_path):
    """Obtained on demand, then the node restarts: the first handshake serves it from storage and the
    node keeps renewing it (30-second certificates: a renewal within 40 s)."""
    pebble = Pebble(tmp_path / "pebble", config={"certificateValidityPeriod": 30})
    ask = AskServer()
    try:
        roots = pebble.issuing_roots()
        node = on_demand_node(edge_bin, tmp_path / "node", pebble, ask, "https://", "on demand {host}")
        try:
            _, _, first = fetch(pebble.tls_port, "kept.allowed.test", roots)
        finally:
            node.stop()
        node = on_demand_node(edge_bin, tmp_path / "node", pebble, ask, "https://", "on demand {host}")
        try:
            _, _, again = fetch(pebble.tls_port, "kept.allowed.test", roots)
            assert again["serialNumber"] == first["serialNumber"]  # from storage, no new order
            deadline = time.time() + 40
            current = again
            while time.time() < deadline and current["serialNumber"] == first["serialNumber"]:
                time.sleep(0.5)
                _, _, current = fetch(pebble.tls_port, "kept.allowed.test", roots)
            assert current["serialNumber"] != first["serialNumber"], "not renewed after the restart"
        finally:
            node.stop()
    finally:
        ask.stop()
        pebble.stop()


def test_on_demand_on_a_named_site_waits_for_the_first_handshake(edge_bin, tmp_path, pebble):
    ask = AskServer()
    node = on_demand_node(edge_bin, tmp_path / "node", pebble, ask, "exact.allowed.test", "exact")
    try:
        time.sleep(1)
        assert pebble.orders() == 0 and "wildcard" not in node.stderr_path.read_text()
        status, body, _ = fetch(pebble.tls_port, "exact.allowed.test", pebble.issuing_roots())
        assert body == b"exact" and ask.asked == ["exact.allowed.test"] and pebble.orders() == 1
    finally:
        node.stop()
        ask.stop()
