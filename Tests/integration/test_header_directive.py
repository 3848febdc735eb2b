"""The `header` directive: response fields set, added, removed or defaulted on edge's own responses and
on proxied ones (after the upstream's), per path matcher; request placeholders in header values,
`header_up` and `respond` bodies."""
import http.client

import pytest

from harness import LOOPBACK, free_port, http_request, start_edge

pytestmark = pytest.mark.edge_only("the header directive")


@pytest.fixture(scope="module")
def edge(edge_bin, upstream, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("edge-header")
    port = free_port()
    proc = start_edge(edge_bin, workdir, """{
	workers 1
	grace_period 1s
}
http://%s:%d {
	header Strict-Transport-Security "max-age=31536000"
	header /api/* {
		-X-Upstream-Id
		+X-Api one
		+X-Api two
		?Cache-Control no-store
		?Content-Type text/html
	}
	header /echo X-Seen "{method} {host} {remote_host}"
	respond /hello "hi" 200
	respond /whoami "{method} {uri} from {remote_host} via {scheme}; agent {header.User-Agent}" 200
	respond /json `{"ok": true, "x": {unknown}}` 200
	reverse_proxy %s {
		header_up Host {upstream_hostport}
		header_up X-Original-Host {hostport}
	}
}
""" % (LOOPBACK, port, upstream.address), port)
    yield port
    proc.stop()


def get(port, path):
    return http_request(port, "GET", path, timeout=10)[0]


def test_site_wide_field_on_local_and_proxied_responses(edge):
    local = get(edge, "/hello")
    assert local.status == 200
    assert local.getheader("Strict-Transport-Security") == "max-age=31536000"
    assert local.getheader("X-Api") is None
    proxied = get(edge, "/other")
    assert proxied.getheader("Strict-Transport-Security") == "max-age=31536000"
    assert proxied.getheader("X-Upstream-Id") == "main"  # untouched outside /api/*


def test_path_scoped_operations_on_a_proxied_response(edge):
    r = get(edge, "/api/echo")
    assert r.status == 200
    assert r.getheader("X-Upstream-Id") is None, r.getheaders()  # removed
    assert r.headers.get_all("X-Api") == ["one", "two"]  # added twice
    assert r.getheader("Cache-Control") == "no-store"  # absent upstream: the default applies
    assert r.getheader("Content-Type") == "text/plain"  # present upstream: the default does not apply
    assert r.getheader("Strict-Transport-Security") == "max-age=31536000"


def test_framing_fields_are_refused(edge_bin, tmp_path):
    f = tmp_path / "Caddyfile"
    f.write_text("http://127.0.0.1:9 {\n\theader Content-Length 5\n\trespond x\n}\n")
    import subprocess
    p = subprocess.run([edge_bin, "validate", "--config", str(f)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "cannot change 'Content-Length'" in p.stderr, p.stderr


def test_placeholders_in_bodies_and_fields(edge):
    c = http.client.HTTPConnection(LOOPBACK, edge, timeout=10)
    c.request("GET", "/whoami?x=1", headers={"User-Agent": "probe/1"})
    assert c.getresponse().read() == b"GET /whoami?x=1 from 127.0.0.1 via http; agent probe/1"
    c.request("GET", "/json")
    assert c.getresponse().read() == b'{"ok": true, "x": {unknown}}'  # unknown placeholders stay as written
    c.close()


def test_placeholders_upstream(edge, upstream):
    import json
    c = http.client.HTTPConnection(LOOPBACK, edge, timeout=10)
    c.request("GET", "/echo", headers={"Host": "%s:%d" % (LOOPBACK, edge)})
    r = c.getresponse()
    echoed = json.loads(r.read())
    headers = {k.lower(): v for k, v in echoed["headers"]}
    assert headers["host"] == upstream.address  # header_up Host {upstream_hostport}
    assert headers["x-original-host"] == "%s:%d" % (LOOPBACK, edge)
    assert r.getheader("X-Seen") == "GET %s 127.0.0.1" % LOOPBACK
    c.close()
