"""The PROXY protocol both ways.

To upstreams (`transport http { proxy_protocol v1|v2 }`): a raw-socket upstream (transportupstreams.py)
reads the header with its own parser; the client address and port in it must be the client socket's, and
a connection carrying one client's header never serves another client.

From load balancers (`servers { listener_wrappers { proxy_protocol { … } } }`): a client writing a v1 or v2
header gets its claimed address in X-Forwarded-For at a recording upstream and in the access log, a peer
outside `allow` cannot spoof, a malformed header closes only that connection, and the header works in
front of TLS too.
"""
from __future__ import annotations

import ipaddress
import json
import os
import socket
import ssl
import struct
import time

import pytest

from harness import LOOPBACK, free_port, start_edge
from rawhttp import Conn, request_bytes
from recording import RecordingUpstream
from tlsutil import TestCA
from transportupstreams import ProxyHeaderUpstream

pytestmark = pytest.mark.edge_only("PROXY protocol")


def v1(src: str, dst: str, sport: int, dport: int) -> bytes:
    family = "TCP6" if ":" in src else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (family, src, dst, sport, dport)).encode()


def v2(src: str, dst: str, sport: int, dport: int, command: int = 1) -> bytes:
    a, b = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    family = 0x21 if a.version == 6 else 0x11
    body = a.packed + b.packed + struct.pack("!HH", sport, dport)
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x20 | command, family]) + struct.pack("!H", len(body)) + body


# ---------------------------------------------------------------- to upstreams


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_header_to_upstream_names_the_client_socket(edge_bin, tmp_path, version):
    up = ProxyHeaderUpstream()
    port = free_port()
    proc = start_edge(edge_bin, tmp_path, """{
	workers 1
	grace_period 1s
}
http://%s:%d {
	reverse_proxy %s {
		transport http {
			proxy_protocol %s
		}
	}
}
""" % (LOOPBACK, port, up.address, version), port)
    try:
        clients = []
        for _ in range(2):
            conn = Conn(port)
            clients.append(conn)
            for i in range(3):  # keep-alive: three requests on each client connection
                conn.send(request_bytes("GET", "/r%d" % i, "%s:%d" % (LOOPBACK, port)))
                r = conn.read_response()
                assert r.status == 200
                seen = json.loads(r.body)
                header = seen["proxy"]
                assert header["version"] == (1 if version == "v1" else 2)
                assert header["command"] == "PROXY"
                assert header["src"] == LOOPBACK
                assert header["sport"] == conn.sock.getsockname()[1]
                assert header["dst"] == LOOPBACK
                assert header["dport"] == port
        # One upstream connection per client connection: reused for its own requests, never the other's.
        seen = up.headers_seen()
        assert len(seen) == 2, seen
        assert sorted(h["sport"] for h, _ in seen) == sorted(c.sock.getsockname()[1] for c in clients)
        assert [n for _, n in seen] == [3, 3]
        for c in clients:
            c.close()
        # A new client connection gets a new upstream connection with its own header.
        with Conn(port) as conn:
            conn.send(request_bytes("GET", "/", "%s:%d" % (LOOPBACK, port)))
            r = conn.read_response()
            assert json.loads(r.body)["proxy"]["sport"] == conn.sock.getsockname()[1]
        assert len(up.headers_seen()) == 3
    finally:
        proc.stop()
        up.stop()


def test_header_to_upstream_repeats_what_the_balancer_said(edge_bin, tmp_path):
    """Both wrappers: the client a load balancer named is the one edge names to its upstream."""
    up = ProxyHeaderUpstream()
    port = free_port()
    proc = start_edge(edge_bin, tmp_path, """{
	workers 1
	grace_period 1s
	servers {
		listener_wrappers {
			proxy_protocol {
				allow 127.0.0.0/8
			}
		}
	}
}
http://%s:%d {
	reverse_proxy %s {
		transport http {
			proxy_protocol v2
		}
	}
}
""" % (LOOPBACK, port, up.address), port)
    try:
        with Conn(port) as conn:
            conn.send(v1("2001:db8::7", "2001:db8::1", 40000, 443) + request_bytes("GET", "/", LOOPBACK))
            header = json.loads(conn.read_response().body)["proxy"]
            assert (header["src"], header["sport"], header["dst"], header["dport"]) == ("2001:db8::7", 40000, "2001:db8::1", 443)
            assert header["family"] == 0x21
    finally:
        proc.stop()
        up.stop()


# ---------------------------------------------------------------- from load balancers


@pytest.fixture(scope="module")
def recorder():
    up = RecordingUpstream()
    yield up
    up.stop()


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("pp-ca"), label="PROXY Test")


@pytest.fixture(scope="module")
def balanced(edge_bin, tmp_path_factory, recorder, ca):
    """An edge that takes PROXY headers from 127.0.0.1, on a plain and a TLS port, with an access log."""
    workdir = tmp_path_factory.mktemp("edge-pp")
    port, tls_port = free_port(), free_port()
    leaf = ca.issue(["pp.test"])
    log = workdir / "access.log"
    proc = start_edge(edge_bin, workdir, """{
	workers 2
	grace_period 1s
	https_port %d
	auto_https disable_redirects
	log {
		level debug
	}
	servers {
		listener_wrappers {
			proxy_protocol {
				timeout 1s
				allow 127.0.0.1/32
			}
			tls
		}
	}
}
http://%s:%d {
	log {
		output file %s
	}
	@fromdocs remote_ip 192.0.2.0/24
	respond @fromdocs "documentation range" 403
	reverse_proxy %s
}
https://pp.test:%d {
	tls %s %s
	reverse_proxy %s
}
""" % (tls_port, LOOPBACK, port, log, recorder.address, tls_port, leaf.chain, leaf.key, recorder.address),
        port, tls_port)
    yield {"port": port, "tls_port": tls_port, "log": log, "proc": proc, "root": ca.root}
    proc.stop()


def forwarded_for(recorder) -> list[str]:
    return [v for r in recorder.requests() for k, v in r["headers"] if k.lower() == "x-forwarded-for"]


def unique(path: str) -> str:
    return "%s?id=%s" % (path, os.urandom(6).hex())


def field(recorder, target: str, name: str) -> list[str]:
    """The values of `name` in the one request the upstream received for `target` (edge keeps upstream
    connections alive across tests, so requests are found by their unique target, not by order)."""
    found = [r for r in recorder.requests() if r["target"] == target]
    assert len(found) == 1, (target, len(found))
    return [v for k, v in found[0]["headers"] if k.lower() == name.lower()]


def access_lines(path, count, timeout=5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            lines = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
            if len(lines) >= count:
                return lines
        time.sleep(0.05)
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()] if path.exists() else []


@pytest.mark.parametrize("header", [
    v1("203.0.113.7", "198.51.100.1", 51000, 80),
    v2("203.0.113.7", "198.51.100.1", 51000, 80),
    v2("2001:db8::42", "2001:db8::1", 51000, 80),
], ids=["v1", "v2", "v2-ipv6"])
def test_balancer_header_becomes_the_client(balanced, recorder, header):
    before = len(access_lines(balanced["log"], 0, timeout=0))
    claimed = "2001:db8::42" if header.startswith(b"\r\n") and header[13] == 0x21 else "203.0.113.7"
    targets = [unique("/pp"), unique("/pp2")]
    with Conn(balanced["port"]) as conn:
        conn.send(header + request_bytes("GET", targets[0], LOOPBACK))
        assert conn.read_response().status == 200
        # Keep-alive: the next request on the connection is the same client.
        conn.send(request_bytes("GET", targets[1], LOOPBACK))
        assert conn.read_response().status == 200
    assert [field(recorder, t, "X-Forwarded-For") for t in targets] == [[claimed], [claimed]]
    lines = access_lines(balanced["log"], before + 2)[before:]
    assert [l["request"]["remote_ip"] for l in lines] == [claimed, claimed]
    assert [l["request"]["client_ip"] for l in lines] == [claimed, claimed]


def test_balancer_address_feeds_remote_ip_matcher(balanced, recorder):
    with Conn(balanced["port"]) as conn:
        conn.send(v1("192.0.2.10", "198.51.100.1", 1, 80) + request_bytes("GET", "/", LOOPBACK))
        r = conn.read_response()
        assert r.status == 403 and r.body == b"documentation range"


def test_local_command_keeps_the_peer(balanced, recorder):
    target = unique("/local")
    with Conn(balanced["port"]) as conn:
        conn.send(v2("203.0.113.9", "198.51.100.1", 1, 80, command=0) + request_bytes("GET", target, LOOPBACK))
        assert conn.read_response().status == 200
    assert field(recorder, target, "X-Forwarded-For") == [LOOPBACK]


def test_no_header_from_an_allowed_peer_is_served_as_it_is(balanced, recorder):
    target = unique("/plain")
    with Conn(balanced["port"]) as conn:
        conn.send(request_bytes("GET", target, LOOPBACK))
        assert conn.read_response().status == 200
    assert field(recorder, target, "X-Forwarded-For") == [LOOPBACK]


@pytest.mark.parametrize("garbage", [
    b"PROXY TCP4 203.0.113.7\r\n", b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\n", b"PROXY " + b"9" * 200,
    b"\r\n\r\n\x00\r\nQUIT\n\x11\x11\x00\x0c" + b"\x00" * 12,
])
def test_malformed_header_closes_only_that_connection(balanced, recorder, garbage):
    target = unique("/garbage")
    with Conn(balanced["port"]) as conn:
        conn.send(garbage + request_bytes("GET", target, LOOPBACK))
        assert conn.wait_closed(timeout=5) == b""
    assert [r for r in recorder.requests() if r["target"] == target] == []
    with Conn(balanced["port"]) as conn:
        conn.send(v1("203.0.113.8", "198.51.100.1", 2, 80) + request_bytes("GET", "/", LOOPBACK))
        assert conn.read_response().status == 200
    assert "malformed PROXY header" in balanced["proc"].stderr_path.read_text(errors="replace")


def test_header_must_arrive_within_the_timeout(balanced):
    with Conn(balanced["port"]) as conn:
        conn.send(b"PROXY TCP4 203.0.113.7 ")  # and nothing more
        t0 = time.monotonic()
        conn.wait_closed(timeout=5)
        assert time.monotonic() - t0 < 3


def test_header_before_tls(balanced, recorder):
    target = unique("/over-tls")
    context = ssl.create_default_context(cafile=str(balanced["root"]))
    raw = socket.create_connection((LOOPBACK, balanced["tls_port"]), timeout=10)
    raw.sendall(v2("203.0.113.77", "198.51.100.1", 3333, 443))
    with context.wrap_socket(raw, server_hostname="pp.test") as tls:
        tls.sendall(request_bytes("GET", target, "pp.test"))
        data = b""
        while b"\r\n\r\n" not in data:
            data += tls.recv(65536)
        assert data.startswith(b"HTTP/1.1 200 ")
    assert field(recorder, target, "X-Forwarded-For") == ["203.0.113.77"]
    assert field(recorder, target, "X-Forwarded-Proto") == ["https"]


def test_peer_outside_allow_cannot_spoof(edge_bin, tmp_path, recorder):
    recorder.reset()
    port = free_port()
    proc = start_edge(edge_bin, tmp_path, """{
	workers 1
	grace_period 1s
	servers {
		listener_wrappers {
			proxy_protocol {
				allow 10.0.0.0/8
			}
		}
	}
}
http://%s:%d {
	reverse_proxy %s
}
""" % (LOOPBACK, port, recorder.address), port)
    try:
        # Caddy's default for other peers (`ignore`): the header is read and dropped, the peer stays.
        with Conn(port) as conn:
            conn.send(v1("203.0.113.7", "198.51.100.1", 1, 80) + request_bytes("GET", "/", LOOPBACK))
            assert conn.read_response().status == 200
        assert forwarded_for(recorder) == [LOOPBACK]
    finally:
        proc.stop()


def test_denied_peer_sending_a_header_is_closed(edge_bin, tmp_path, recorder):
    recorder.reset()
    port = free_port()
    proc = start_edge(edge_bin, tmp_path, """{
	workers 1
	grace_period 1s
	servers {
		listener_wrappers {
			proxy_protocol {
				allow 127.0.0.0/8
				deny 127.0.0.1/32
			}
		}
	}
}
http://%s:%d {
	reverse_proxy %s
}
""" % (LOOPBACK, port, recorder.address), port)
    try:
        with Conn(port) as conn:
            conn.send(v1("203.0.113.7", "198.51.100.1", 1, 80) + request_bytes("GET", "/", LOOPBACK))
            assert conn.wait_closed(timeout=5) == b""
        with Conn(port) as conn:
            conn.send(request_bytes("GET", "/", LOOPBACK))
            assert conn.read_response().status == 200
        assert forwarded_for(recorder) == [LOOPBACK]
    finally:
        proc.stop()
