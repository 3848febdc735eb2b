"""Malformed requests on raw sockets (the framing tricks of request smuggling: test_smuggling.py).

Each must get the expected 4xx/5xx status line, the connection must then be closed by the server, the
upstream must not have seen a request where the head itself is invalid, and the proxy keeps serving
others (a normal request on a new connection works).
"""
import json

import pytest

from rawhttp import Conn, ProtocolError, request_bytes

H = "{host}"  # replaced by the proxy's Host value


def case(name, raw, status, upstream_untouched=True, close_within=3.0, nginx=None):
    marks = [pytest.mark.nginx_differs(nginx)] if nginx else []
    return pytest.param(raw, status, upstream_untouched, close_within, id=name, marks=marks)


CASES = [
    # Framing (Content-Length, Transfer-Encoding, chunked bodies), obs-fold, bare CR/LF and NUL are in
    # test_smuggling.py, checked against a recording upstream.
    case("space-before-colon",
         "GET /echo HTTP/1.1\r\nHost: {host}\r\nX-Space : b\r\n\r\n", 400),
    case("invalid-method-chars",
         "G@T /echo HTTP/1.1\r\nHost: {host}\r\n\r\n", 400),
    case("http11-without-host",
         "GET /echo HTTP/1.1\r\nX-A: b\r\n\r\n", 400),
    case("two-hosts",
         "GET /echo HTTP/1.1\r\nHost: {host}\r\nHost: other.example\r\n\r\n", 400),
    case("oversized-header",
         "GET /echo HTTP/1.1\r\nHost: {host}\r\nX-Big: " + "a" * (20 * 1024) + "\r\n\r\n", 431,
         nginx="nginx answers 400 (Request Header Or Cookie Too Large)"),
    case("oversized-uri",
         "GET /echo?" + "u" * (10 * 1024) + " HTTP/1.1\r\nHost: {host}\r\n\r\n", 414),
    case("http-2.0-on-the-wire",
         "GET /echo HTTP/2.0\r\nHost: {host}\r\n\r\n", 505),
    case("body-over-max-size",
         "POST /limited/up HTTP/1.1\r\nHost: {host}\r\nContent-Length: 2000000\r\n\r\n" + "b" * 65536, 413,
         # a short lingering close (reading what the client still sends, as nginx does for up to
         # lingering_timeout 5 s) is allowed before the close
         close_within=8.0),
]


def assert_still_serving(proxy):
    with Conn(proxy.port) as conn:
        conn.send(request_bytes("GET", "/echo?after=1", proxy.host_header))
        r = conn.read_response()
        assert r.status == 200
        assert json.loads(r.body)["path"] == "/echo?after=1"


@pytest.mark.parametrize("raw,status,upstream_untouched,close_within", CASES)
def test_malformed_request(proxy, upstream, raw, status, upstream_untouched, close_within):
    before = upstream.stats()["requests"]
    with Conn(proxy.port, timeout=10) as conn:
        try:
            conn.send(raw.replace("{host}", proxy.host_header).encode("latin-1"))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it has read everything
        r = conn.read_response()
        allowed = status if isinstance(status, tuple) else (status,)
        assert r.status in allowed, "expected %s, got %d %s" % (allowed, r.status, r.reason)
        try:
            extra = conn.wait_closed(timeout=close_within)
        except ProtocolError as e:
            pytest.fail("server did not close the connection after %d: %s" % (r.status, e))
        assert b"HTTP/1." not in extra, "a second response followed the error: %r" % extra[:200]
    after = upstream.stats()["requests"]
    if upstream_untouched:
        assert after - before == 1, "the upstream saw %d request(s)" % (after - before - 1)
    assert_still_serving(proxy)


def test_limited_body_under_max_size_passes(proxy):
    body = b"c" * 500_000
    with Conn(proxy.port) as conn:
        conn.send(request_bytes("POST", "/limited/echo", proxy.host_header, body=body))
        r = conn.read_response()
        assert r.status == 200


def test_chunked_body_over_max_size(proxy):
    chunk = b"d" * 65536
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(40))  # 2.5 MB
    with Conn(proxy.port) as conn:
        try:
            conn.send(request_bytes("POST", "/limited/up", proxy.host_header,
                                    [("Transfer-Encoding", "chunked")]) + body + b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = conn.read_response()
        assert r.status == 413
        conn.wait_closed(timeout=8)
    assert_still_serving(proxy)
