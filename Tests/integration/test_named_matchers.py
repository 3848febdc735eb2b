"""Named matchers at request time: method, header (presence, value, prefix), query, client_ip, protocol and
not, combined with paths; named routes keep their written order."""
import http.client

import pytest

from harness import LOOPBACK, free_port, http_request, start_edge

pytestmark = pytest.mark.edge_only("named matchers")


@pytest.fixture(scope="module")
def edge(edge_bin, tmp_path_factory):
    port = free_port()
    proc = start_edge(edge_bin, tmp_path_factory.mktemp("edge-matchers"), """{
	workers 1
	grace_period 1s
}
http://%s:%d {
	@post_api {
		path /api/*
		method POST
	}
	@debug query debug=1
	@tagged header X-Tag beta*
	@authorized header Authorization
	@outsider not client_ip 127.0.0.0/8 ::1
	@plain protocol http
	header @plain X-Plain yes
	respond @outsider "outsider" 403
	respond @post_api "api post"
	respond @debug "debug"
	respond @tagged "tagged"
	respond @authorized "authorized"
	respond "default"
}
""" % (LOOPBACK, port), port)
    yield port
    proc.stop()


def call(port, method, target, headers=None):
    return http_request(port, method, target, headers, timeout=10)


def test_method_and_path_together(edge):
    assert call(edge, "POST", "/api/x")[1] == b"api post"
    assert call(edge, "GET", "/api/x")[1] == b"default"
    assert call(edge, "POST", "/other")[1] == b"default"


def test_query_and_headers(edge):
    assert call(edge, "GET", "/x?a=2&debug=1")[1] == b"debug"
    assert call(edge, "GET", "/x?debug=0")[1] == b"default"
    assert call(edge, "GET", "/x", {"X-Tag": "beta-3"})[1] == b"tagged"
    assert call(edge, "GET", "/x", {"X-Tag": "alpha"})[1] == b"default"
    assert call(edge, "GET", "/x", {"Authorization": "Bearer t"})[1] == b"authorized"


def test_not_client_ip_and_protocol(edge):
    r, body = call(edge, "GET", "/x")
    assert body == b"default"  # the client is on loopback, so `not client_ip 127.0.0.0/8` does not match
    assert r.getheader("X-Plain") == "yes"
