"""handle_errors: error pages for `error`, missing files and unreachable upstreams, chosen by status, with
{err.*} placeholders; respond and file_server answer with the error's status."""
import pytest

from harness import LOOPBACK, closed_port, free_port, http_request, start_edge

pytestmark = pytest.mark.edge_only("Caddyfile handle_errors")


@pytest.fixture(scope="module")
def edge(edge_bin, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("edge-errors")
    site = workdir / "site"
    (site / "errors").mkdir(parents=True)
    (site / "index.html").write_text("home\n")
    (site / "errors" / "404.html").write_text("<h1>custom not found</h1>\n")
    port = free_port()
    proc = start_edge(edge_bin, workdir, """{
	workers 1
	grace_period 1s
}
http://%s:%d {
	root * %s
	error /forbidden "no entry here" 403
	error /teapot 418
	reverse_proxy /down/* 127.0.0.1:%d
	file_server
	handle_errors 404 410 {
		rewrite * /errors/{err.status_code}.html
		file_server
	}
	handle_errors 5xx {
		header X-Error-Page yes
		respond "upstream trouble: {err.status_code} {err.status_text}"
	}
	handle_errors {
		respond "{err.status_code} says: {err.message}"
	}
}
""" % (LOOPBACK, port, site, closed_port()), port)
    yield port
    proc.stop()


def get(port, target, **kw):
    return http_request(port, "GET", target, timeout=10, **kw)


def test_a_missing_file_gets_the_404_page_with_status_404(edge):
    r, body = get(edge, "/nope.txt")
    assert (r.status, body) == (404, b"<h1>custom not found</h1>\n")
    assert r.getheader("Content-Type", "").startswith("text/html")


def test_the_error_page_is_never_a_304(edge):
    r, _ = get(edge, "/nope.txt")
    r2, body = get(edge, "/gone", headers={"If-Modified-Since": r.getheader("Last-Modified") or "x",
                                             "If-None-Match": r.getheader("ETag") or "x"})
    assert (r2.status, body) == (404, b"<h1>custom not found</h1>\n")


def test_existing_files_are_untouched(edge):
    r, body = get(edge, "/")
    assert (r.status, body) == (200, b"home\n")


def test_error_directive_goes_to_the_catch_all_with_its_message(edge):
    r, body = get(edge, "/forbidden")
    assert (r.status, body) == (403, b"403 says: no entry here")
    r, body = get(edge, "/teapot")
    assert (r.status, body) == (418, b"418 says: ")


def test_an_unreachable_upstream_gets_the_5xx_block(edge):
    r, body = get(edge, "/down/x")
    assert r.status == 502
    assert body == b"upstream trouble: 502 Bad Gateway"
    assert r.getheader("X-Error-Page") == "yes"


def test_keep_alive_survives_an_error_page(edge):
    import http.client
    conn = http.client.HTTPConnection(LOOPBACK, edge, timeout=10)
    for target, status in [("/nope", 404), ("/forbidden", 403), ("/", 200), ("/nope", 404)]:
        conn.request("GET", target)
        r = conn.getresponse()
        r.read()
        assert r.status == status
    conn.close()
