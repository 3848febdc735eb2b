"""`servers { trusted_proxies static … client_ip_headers … }`: a trusted peer's X-Forwarded-For names the
client (read right to left, skipping trusted addresses) for the `client_ip` matcher, `{client_ip}` and the
access log, and its X-Forwarded-* are kept (the peer appended to X-Forwarded-For); an untrusted peer's are
replaced, and `remote_ip` always sees the peer.
"""
from __future__ import annotations

import json
import os
import time

import pytest

from harness import LOOPBACK, free_port, start_edge
from rawhttp import Conn, request_bytes
from recording import RecordingUpstream

pytestmark = pytest.mark.edge_only("trusted_proxies")


@pytest.fixture(scope="module")
def recorder():
    up = RecordingUpstream()
    yield up
    up.stop()


def node(edge_bin, workdir, recorder, trusted: str):
    port = free_port()
    log = workdir / "access.log"
    proc = start_edge(edge_bin, workdir, """{
	workers 1
	grace_period 1s
	servers {
		%s
	}
}
http://%s:%d {
	log {
		output file %s
	}
	@docs client_ip 198.51.100.0/24
	respond @docs "blocked {client_ip} via {remote_host}" 403
	@peer remote_ip 127.0.0.1
	reverse_proxy @peer %s {
		header_up X-Client {client_ip}
	}
}
""" % (trusted, LOOPBACK, port, log, recorder.address), port)
    return proc, port, log


@pytest.fixture(scope="module")
def trusting(edge_bin, tmp_path_factory, recorder):
    proc, port, log = node(edge_bin, tmp_path_factory.mktemp("trusting"), recorder,
                           "trusted_proxies static 127.0.0.1/32 10.0.0.0/8\n\t\ttrusted_proxies_strict")
    yield {"port": port, "log": log}
    proc.stop()


@pytest.fixture(scope="module")
def untrusting(edge_bin, tmp_path_factory, recorder):
    proc, port, log = node(edge_bin, tmp_path_factory.mktemp("untrusting"), recorder, "trusted_proxies static 10.0.0.0/8")
    yield {"port": port, "log": log}
    proc.stop()


def exchange(port, headers, target=None):
    target = target or "/t?id=%s" % os.urandom(6).hex()
    with Conn(port) as conn:
        conn.send(request_bytes("GET", target, LOOPBACK, headers))
        return conn.read_response(), target


def fields(recorder, target) -> dict:
    found = [r for r in recorder.requests() if r["target"] == target]
    assert len(found) == 1, (target, len(found))
    out: dict = {}
    for k, v in found[0]["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def last_log(path, target, timeout=5.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip() and json.loads(line)["request"]["uri"] == target:
                    return json.loads(line)
        time.sleep(0.05)
    raise AssertionError("no access line for %s" % target)


def test_trusted_peer_forwards_the_client(trusting, recorder):
    r, target = exchange(trusting["port"], [
        ("X-Forwarded-For", "6.6.6.6, 192.0.2.44, 10.1.1.1"), ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "shop.example")])
    assert r.status == 200
    seen = fields(recorder, target)
    # The chain goes on with the peer; Proto and Host are the trusted proxy's.
    assert seen["x-forwarded-for"] == ["6.6.6.6, 192.0.2.44, 10.1.1.1, 127.0.0.1"]
    assert seen["x-forwarded-proto"] == ["https"]
    assert seen["x-forwarded-host"] == ["shop.example"]
    # The client is the rightmost address no trusted proxy holds — not what the client wrote first.
    assert seen["x-client"] == ["192.0.2.44"]
    line = last_log(trusting["log"], target)
    assert line["request"]["client_ip"] == "192.0.2.44"
    assert line["request"]["remote_ip"] == LOOPBACK


def test_trusted_peer_without_forwarding_fields(trusting, recorder):
    r, target = exchange(trusting["port"], [])
    assert r.status == 200
    seen = fields(recorder, target)
    assert seen["x-forwarded-for"] == [LOOPBACK]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-client"] == [LOOPBACK]


def test_client_ip_matcher_sees_the_forwarded_client(trusting):
    r, _ = exchange(trusting["port"], [("X-Forwarded-For", "198.51.100.9")])
    assert r.status == 403
    assert r.body == b"blocked 198.51.100.9 via 127.0.0.1"


def test_untrusted_peer_is_replaced(untrusting, recorder):
    r, target = exchange(untrusting["port"], [
        ("X-Forwarded-For", "192.0.2.44"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "shop.example")])
    assert r.status == 200
    seen = fields(recorder, target)
    assert seen["x-forwarded-for"] == [LOOPBACK]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-host"] == [LOOPBACK]
    assert seen["x-client"] == [LOOPBACK]
    line = last_log(untrusting["log"], target)
    assert line["request"]["client_ip"] == LOOPBACK
    # Spoofing the matcher does not work either.
    r, _ = exchange(untrusting["port"], [("X-Forwarded-For", "198.51.100.9")])
    assert r.status == 200
