"""HTTPS upstreams (`reverse_proxy https://…`, `transport http { tls_* }`): verification against a test CA,
refusals (unknown CA, wrong name) as 502 with a log line, skip-verify, the SNI the upstream sees, a
WebSocket through a TLS upstream, and `max_conns_per_host` holding back concurrent requests.

The upstreams are Python ssl servers (transportupstreams.py, upstreams/ws_echo.py --tls-cert) with
certificates from a TestCA made with the openssl CLI in a temporary directory.
"""
from __future__ import annotations

import base64
import concurrent.futures
import http.client
import json
import os
import sys
import time

import pytest

import harness
from harness import LOOPBACK, ManagedProcess, free_port, start_edge
from rawhttp import Conn, request_bytes
from tlsutil import TestCA
from transportupstreams import HTTPSUpstream

pytestmark = pytest.mark.edge_only("upstream TLS")


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("upstream-ca"), label="Upstream Test")


@pytest.fixture(scope="module")
def app(ca):
    leaf = ca.issue(["app.test", "127.0.0.1"])
    up = HTTPSUpstream(leaf.chain, leaf.key)
    yield up
    up.stop()


def run_edge(edge_bin, tmp_path, proxy_block: str, workers: int = 1):
    port = free_port()
    proc = start_edge(edge_bin, tmp_path, """{
	workers %d
	grace_period 1s
	log {
		level debug
	}
}
http://%s:%d {
	%s
}
""" % (workers, LOOPBACK, port, proxy_block), port)
    return proc, port


def get(port, path="/", timeout=15):
    c = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        c.request("GET", path, headers={"Host": "%s:%d" % (LOOPBACK, port)})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def stderr(proc) -> str:
    return proc.stderr_path.read_text(errors="replace")


def test_verified_with_trusted_ca_and_server_name(edge_bin, tmp_path, app, ca):
    app.reset()
    proc, port = run_edge(edge_bin, tmp_path, """reverse_proxy https://%s {
		transport http {
			tls_trusted_ca_certs %s
			tls_server_name app.test
		}
	}""" % (app.address, ca.root))
    try:
        for _ in range(3):
            status, body = get(port, "/hello")
            assert status == 200, body
            seen = json.loads(body)
            assert seen["path"] == "/hello"
            assert seen["sni"] == "app.test"
        # Keep-alive to the TLS upstream: three requests, one connection.
        assert app.snis() == ["app.test"]
    finally:
        proc.stop()


def test_ip_upstream_verifies_the_ip_san_and_sends_no_sni(edge_bin, tmp_path, app, ca):
    app.reset()
    proc, port = run_edge(edge_bin, tmp_path, """reverse_proxy https://%s {
		transport http {
			tls_trusted_ca_certs %s
		}
	}""" % (app.address, ca.root))
    try:
        status, body = get(port)
        assert status == 200, body
        assert json.loads(body)["sni"] is None  # RFC 6066: no IP literals in SNI
    finally:
        proc.stop()


def test_unknown_ca_is_502_with_a_clear_log_line(edge_bin, tmp_path, app):
    app.reset()
    # The system's roots do not know the test CA.
    proc, port = run_edge(edge_bin, tmp_path, "reverse_proxy https://%s" % app.address)
    try:
        t0 = time.monotonic()
        status, _ = get(port)
        assert status == 502
        assert time.monotonic() - t0 < 5
        assert "upstream TLS handshake failed" in stderr(proc)
        assert "certificate verification failed" in stderr(proc)
        # One handshake per request, no retry loop.
        assert len(app.snis()) == 1
        status, _ = get(port)
        assert status == 502
        assert len(app.snis()) == 2
    finally:
        proc.stop()


def test_wrong_server_name_is_502(edge_bin, tmp_path, app, ca):
    app.reset()
    proc, port = run_edge(edge_bin, tmp_path, """reverse_proxy https://%s {
		transport http {
			tls_trusted_ca_certs %s
			tls_server_name other.test
		}
	}""" % (app.address, ca.root))
    try:
        status, _ = get(port)
        assert status == 502
        assert "certificate verification failed for other.test" in stderr(proc)
        assert app.snis() == ["other.test"]
    finally:
        proc.stop()


def test_insecure_skip_verify_connects_and_warns(edge_bin, tmp_path, app):
    app.reset()
    proc, port = run_edge(edge_bin, tmp_path, """reverse_proxy %s {
		transport http {
			tls_insecure_skip_verify
		}
	}""" % app.address)
    try:
        status, body = get(port)
        assert status == 200, body
        assert "tls_insecure_skip_verify" in stderr(proc)
        assert "not verified" in stderr(proc)
    finally:
        proc.stop()


def test_missing_ca_file_is_refused_at_load(edge_bin, tmp_path, app):
    path = tmp_path / "Caddyfile"
    path.write_text("http://127.0.0.1:%d {\n\treverse_proxy https://%s {\n\t\ttransport http {\n"
                    "\t\t\ttls_trusted_ca_certs %s\n\t\t}\n\t}\n}\n" % (free_port(), app.address, tmp_path / "nope.pem"))
    import subprocess
    p = subprocess.run([edge_bin, "validate", "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "Caddyfile:2:2" in p.stderr and "nope.pem" in p.stderr, p.stderr


def test_websocket_through_a_tls_upstream(edge_bin, tmp_path, ca):
    leaf = ca.issue(["ws.test"])
    ws_port = free_port()
    ws = ManagedProcess("ws-echo-tls", [sys.executable, harness.UPSTREAMS / "ws_echo.py", "--port", ws_port,
                                         "--tls-cert", leaf.chain, "--tls-key", leaf.key], tmp_path / "ws")
    try:
        ws.wait_for_port(ws_port)
        proc, port = run_edge(edge_bin, tmp_path, """reverse_proxy https://127.0.0.1:%d {
		transport http {
			tls_trusted_ca_certs %s
			tls_server_name ws.test
		}
	}""" % (ws_port, ca.root))
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            with Conn(port) as conn:
                conn.send(request_bytes("GET", "/chat", "%s:%d" % (LOOPBACK, port), [
                    ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")]))
                r = conn.read_response()
                assert r.status == 101, r
                for i in range(50):
                    payload = ("message %d " % i).encode() * (1 + i * 40)  # up to ~24 KiB: several TLS records
                    mask = os.urandom(4)
                    masked = bytes(b ^ mask[j % 4] for j, b in enumerate(payload))
                    n = len(payload)
                    if n < 126:
                        frame = bytes([0x82, 0x80 | n])
                    else:
                        frame = bytes([0x82, 0x80 | 126]) + n.to_bytes(2, "big")
                    conn.send(frame + mask + masked)
                    head = conn.read_exact(2)
                    assert head[0] == 0x82
                    length = head[1] & 0x7F
                    if length == 126:
                        length = int.from_bytes(conn.read_exact(2), "big")
                    assert conn.read_exact(length) == payload, i
        finally:
            proc.stop()
    finally:
        ws.stop()


def test_max_conns_per_host_holds_requests_back(edge_bin, tmp_path, app, ca):
    app.reset()
    proc, port = run_edge(edge_bin, tmp_path, """reverse_proxy https://%s {
		transport http {
			tls_trusted_ca_certs %s
			tls_server_name app.test
			max_conns_per_host 2
			dial_timeout 10s
		}
	}""" % (app.address, ca.root))
    try:
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            results = list(pool.map(lambda i: get(port, "/slow?ms=300&i=%d" % i, timeout=30), range(10)))
        assert [status for status, _ in results] == [200] * 10, results
        assert app.open_max <= 2, "the upstream saw %d connections at once" % app.open_max
        assert app.open_max == 2
        assert len(app.snis()) <= 2  # the two connections were reused by the waiting requests
    finally:
        proc.stop()


def test_waiting_beyond_the_dial_timeout_is_502(edge_bin, tmp_path, app, ca):
    app.reset()
    proc, port = run_edge(edge_bin, tmp_path, """reverse_proxy https://%s {
		transport http {
			tls_trusted_ca_certs %s
			tls_server_name app.test
			max_conns_per_host 1
			dial_timeout 1s
		}
	}""" % (app.address, ca.root))
    try:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            slow = pool.submit(get, port, "/slow?ms=3000")
            time.sleep(0.3)
            t0 = time.monotonic()
            status, _ = get(port, "/")
            waited = time.monotonic() - t0
            assert status == 502
            assert 0.8 < waited < 2.5, waited
            assert slow.result()[0] == 200
        assert "max_conns_per_host 1" in stderr(proc)
        # Once the slow request is done, its connection serves the next one.
        assert get(port, "/")[0] == 200
    finally:
        proc.stop()
