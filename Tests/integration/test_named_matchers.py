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


@pytest.fixture(scope="module")
def regex_edge(edge_bin, upstream, tmp_path_factory):
    port = free_port()
    proc = start_edge(edge_bin, tmp_path_factory.mktemp("edge-regexp"), """{
	workers 1
	grace_period 1s
}
http://%s:%d {
	@user path_regexp ^/users/(?<id>[0-9]+)(/(?<tab>[a-z]+))?$
	@legacy path_regexp old ^/v1/(e.*)$
	@session header_regexp Cookie "session=([a-f0-9]{8})"
	@admin {
		path_regexp ^/admin/
		not header_regexp X-Role ^admin$
	}
	respond @admin "forbidden" 403
	rewrite @legacy /{re.old.1}
	respond @user "user {re.user.id} tab {re.user.tab}"
	respond @session "session {re.session.1}"
	handle /echo {
		reverse_proxy %s {
			header_up X-Legacy-Path {re.old.1}
		}
	}
	respond "default"
}
""" % (LOOPBACK, port, upstream.address), port)
    yield port
    proc.stop()


def test_path_regexp_groups_by_name(regex_edge):
    assert call(regex_edge, "GET", "/users/42")[1] == b"user 42 tab "
    assert call(regex_edge, "GET", "/users/42/posts")[1] == b"user 42 tab posts"
    assert call(regex_edge, "GET", "/users/x42")[1] == b"default"
    # Matched against the decoded path.
    assert call(regex_edge, "GET", "/users/%34%32")[1] == b"user 42 tab "


def test_header_regexp_group(regex_edge):
    assert call(regex_edge, "GET", "/x", {"Cookie": "a=1; session=deadbeef; b=2"})[1] == b"session deadbeef"
    assert call(regex_edge, "GET", "/x", {"Cookie": "session=nothex!!"})[1] == b"default"


def test_not_header_regexp(regex_edge):
    assert call(regex_edge, "GET", "/admin/panel")[0].status == 403
    assert call(regex_edge, "GET", "/admin/panel", {"X-Role": "admin"})[1] == b"default"


def test_groups_reach_rewrite_and_the_upstream(regex_edge):
    import json
    r, body = call(regex_edge, "GET", "/v1/echo?full=1")
    assert r.status == 200
    echoed = json.loads(body)
    assert echoed["path"] == "/echo?full=1"
    assert dict(echoed["headers"]).get("X-Legacy-Path") == "echo"
