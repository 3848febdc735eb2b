"""handle, handle_path and redir: mutually exclusive route groups, prefix stripping (also upstream), and
redirects with placeholders."""
import http.client
import json

import pytest

from harness import LOOPBACK, free_port, http_request, start_edge

pytestmark = pytest.mark.edge_only("Caddyfile handle/handle_path/redir")


@pytest.fixture(scope="module")
def edge(edge_bin, upstream, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("edge-groups")
    port = free_port()
    proc = start_edge(edge_bin, workdir, """{
	workers 1
	grace_period 1s
}
http://%s:%d {
	redir /old /new permanent
	redir /elsewhere https://b.test{uri}
	handle_path /up/* {
		header X-Group up
		reverse_proxy %s
	}
	handle /api/* {
		respond "api"
	}
	handle {
		respond "fallback" 404
	}
	respond "never reached: the last handle takes everything"
}
""" % (LOOPBACK, port, upstream.address), port)
    yield port
    proc.stop()


def get(port, target):
    return http_request(port, "GET", target, timeout=10)


def test_handle_path_strips_the_prefix_upstream_and_keeps_the_query(edge):
    r, body = get(edge, "/up/echo?x=1&y=%2F")
    assert r.status == 200
    echoed = json.loads(body)
    assert echoed["path"] == "/echo?x=1&y=%2F"
    assert r.getheader("X-Group") == "up"


def test_handle_groups_are_exclusive_and_ordered_by_path(edge):
    assert get(edge, "/api/v1")[1] == b"api"
    r, body = get(edge, "/anything")
    assert (r.status, body) == (404, b"fallback")


def test_redirects(edge):
    r, _ = get(edge, "/old")
    assert r.status == 301 and r.getheader("Location") == "/new"
    r, _ = get(edge, "/elsewhere?q=1")
    assert r.status == 302 and r.getheader("Location") == "https://b.test/elsewhere?q=1"


@pytest.fixture(scope="module")
def rewriting(edge_bin, upstream, tmp_path_factory):
    port = free_port()
    proc = start_edge(edge_bin, tmp_path_factory.mktemp("edge-rewrite"), """{
	workers 1
	grace_period 1s
}
http://%s:%d {
	rewrite /old/* /echo?from=old
	uri /v1/* strip_prefix /v1
	abort /secret/*
	error /gone/* "this moved away" 410
	route /r/* {
		header X-Route seen
		respond /r/stop "stopped in route"
	}
	reverse_proxy %s
}
""" % (LOOPBACK, port, upstream.address), port)
    yield port
    proc.stop()


def test_rewrite_and_uri_change_what_goes_upstream(rewriting):
    r, body = get(rewriting, "/old/page?x=1")
    assert json.loads(body)["path"] == "/echo?from=old"  # rewrite with a query replaces the query
    r, body = get(rewriting, "/v1/echo?keep=1")
    assert json.loads(body)["path"] == "/echo?keep=1"  # strip_prefix keeps the query


def test_route_is_not_exclusive(rewriting):
    r, body = get(rewriting, "/r/stop")
    assert body == b"stopped in route" and r.getheader("X-Route") == "seen"
    r, body = get(rewriting, "/r/through")  # nothing in the route answers: evaluation goes on to the proxy
    assert r.getheader("X-Route") == "seen" and r.getheader("X-Upstream-Id") == "main"


def test_abort_and_error(rewriting):
    import socket
    with socket.create_connection((LOOPBACK, rewriting), timeout=5) as s:
        s.sendall(b"GET /secret/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert s.recv(100) == b""  # closed without a response
    r, body = get(rewriting, "/gone/x")
    assert (r.status, body) == (410, b"this moved away\n")


@pytest.fixture(scope="module")
def guarded(edge_bin, upstream, tmp_path_factory):
    port = free_port()
    proc = start_edge(edge_bin, tmp_path_factory.mktemp("edge-guarded"), """{
	workers 1
	grace_period 1s
}
http://%s:%d {
	handle /admin/* {
		respond "guarded" 403
	}
	handle_path /up/* {
		reverse_proxy %s
	}
	respond "fallthrough {path}" 200
}
""" % (LOOPBACK, port, upstream.address), port)
    yield port
    proc.stop()


@pytest.mark.parametrize("target", ["/admin/x", "/public/../admin/x", "/public/%2e%2e/admin/x", "//admin/x",
                                    "/./admin/x", "/admin%2Fx", "/ADMIN/x", "/x/%2E%2E/admin/y?q=1"])
def test_dot_segments_encodings_and_slashes_cannot_bypass_a_guard(guarded, target):
    import socket
    # Raw bytes: http.client would not send some of these as written.
    with socket.create_connection((LOOPBACK, guarded), timeout=10) as s:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n" % (target.encode(), LOOPBACK.encode(), guarded))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 403 "), (target, data[:200])


def test_a_stripped_prefix_is_sent_upstream_encoded(guarded):
    r, body = get(guarded, "/up/./echo%20x/../echo?a=%20")
    assert r.status == 200
    assert json.loads(body)["path"] == "/echo?a=%20"
    r, body = get(guarded, "/up/x%20y%3F")
    assert r.status == 200 and body == b"ok"
