"""What the upstream receives: hop-by-hop fields removed, X-Forwarded-* set, Host unchanged."""
import json

import pytest

from harness import ProxyConfig

from rawhttp import Conn, request_bytes

HOP_BY_HOP = ["keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]


def echo(proxy, headers, host=None, method="GET", body=b""):
    """Sends one request on a fresh raw connection; returns (response, headers the upstream saw)."""
    with Conn(proxy.port) as conn:
        conn.send(request_bytes(method, "/echo", host or proxy.host_header, headers, body))
        r = conn.read_response()
    assert r.status == 200, r
    got = json.loads(r.body)
    return r, got


def names(got):
    return [k.lower() for k, _ in got["headers"]]


def values(got, name):
    return [v for k, v in got["headers"] if k.lower() == name.lower()]


def test_hop_by_hop_removed(proxy):
    _, got = echo(proxy, [
        ("Connection", "keep-alive"),
        ("Keep-Alive", "timeout=5, max=100"),
        ("Proxy-Connection", "keep-alive"),
        ("TE", "trailers"),
        ("Trailer", "X-Checksum"),
        ("Upgrade", "h2c"),  # not an upgrade: Connection does not name it
        ("X-Kept", "yes"),
    ])
    seen = names(got)
    for h in HOP_BY_HOP:
        assert h not in seen, "%s was forwarded to the upstream: %r" % (h, got["headers"])
    # the proxy may speak its own keep-alive to the upstream, but must not forward the client's tokens
    for v in values(got, "connection"):
        assert v.lower() in ("keep-alive",), got["headers"]
    assert values(got, "x-kept") == ["yes"]


def test_transfer_encoding_not_forwarded_verbatim(proxy):
    """A chunked request body is re-framed for the upstream; the client's TE header is not copied as is."""
    body = b"4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n"
    _, got = echo(proxy, [("Transfer-Encoding", "chunked"), ("TE", "trailers")], method="POST", body=body)
    assert got["body_length"] == 9
    assert "te" not in names(got)
    te = values(got, "transfer-encoding")
    cl = values(got, "content-length")
    # exactly one framing towards the upstream: chunked (streamed) or a Content-Length of 9
    assert (te == ["chunked"] and not cl) or (cl == ["9"] and not te), got["headers"]


@pytest.mark.nginx_differs("nginx forwards fields named in Connection (it only drops Connection itself)")
def test_fields_named_in_connection_removed(proxy):
    r, got = echo(proxy, [("Connection", "close, X-Custom"), ("X-Custom", "secret"), ("X-Other", "kept")])
    assert "x-custom" not in names(got), got["headers"]
    assert values(got, "x-other") == ["kept"]
    assert "close" in r.connection_tokens()  # the client asked to close: the proxy says so too


def test_forwarded_headers_set(proxy):
    _, got = echo(proxy, [])
    assert values(got, "x-forwarded-for") == ["127.0.0.1"]
    assert values(got, "x-forwarded-proto") == ["http"]
    assert values(got, "x-forwarded-host") == [proxy.host_header]


@pytest.mark.nginx_differs("nginx's usual $proxy_add_x_forwarded_for appends to what the client claimed")
def test_forwarded_headers_from_untrusted_client_are_replaced(proxy):
    # Like Caddy without trusted_proxies: a client cannot forge the chain the upstream sees.
    _, got = echo(proxy, [("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Host", "evil.test"),
                          ("X-Forwarded-Proto", "https")])
    assert values(got, "x-forwarded-for") == ["127.0.0.1"]
    assert values(got, "x-forwarded-host") == [proxy.host_header]
    assert values(got, "x-forwarded-proto") == ["http"]


def test_host_passed_unchanged(proxy):
    _, got = echo(proxy, [])
    assert values(got, "host") == [proxy.host_header]
    assert got["version"] == "HTTP/1.1"


def test_request_line_and_body_forwarded(proxy):
    body = b"x" * 12345
    with Conn(proxy.port) as conn:
        conn.send(request_bytes("PUT", "/echo?a=1&b=%20c", proxy.host_header,
                                [("Content-Type", "text/plain")], body))
        r = conn.read_response()
    got = json.loads(r.body)
    assert got["method"] == "PUT"
    assert got["path"] == "/echo?a=1&b=%20c"
    assert got["body_length"] == len(body)
    assert r.header("x-upstream-id") == "main"


@pytest.mark.edge_only("header_up/header_down are Caddyfile directives")
def test_header_up_and_down_rules(upstream, start_proxy):
    proxy = start_proxy(ProxyConfig(upstreams=[upstream.address], proxy_lines=[
        "header_up X-Added yes", "header_up -User-Agent", "header_up +X-Multi two",
        "header_down X-Down-Added d", "header_down -X-Upstream-Id"]))
    with Conn(proxy.port) as conn:
        conn.send(request_bytes("GET", "/echo", proxy.host_header,
                                [("User-Agent", "t"), ("X-Multi", "one"), ("Connection", "keep-alive, X-Drop"),
                                 ("X-Drop", "1")], b""))
        r = conn.read_response()
    got = json.loads(r.body)
    assert values(got, "x-added") == ["yes"]
    assert values(got, "user-agent") == []
    assert values(got, "x-multi") == ["one", "two"]
    assert values(got, "x-drop") == [] and values(got, "connection") == []
    assert values(got, "x-forwarded-for") == ["127.0.0.1"]
    assert r.header("x-down-added") == "d"
    assert r.header("x-upstream-id") is None
