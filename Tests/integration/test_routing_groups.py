"""handle, handle_path and redir: mutually exclusive route groups, prefix stripping (also upstream), and
redirects with placeholders."""
import http.client
import json

import pytest

from harness import LOOPBACK, free_port, start_edge

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
    c = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    c.request("GET", target)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


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
