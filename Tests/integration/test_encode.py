"""encode gzip: text responses compressed for clients that accept gzip, streamed (chunked, flushed per
piece) for proxied bodies, left alone for small bodies, binary types, HEAD and clients without gzip."""
import gzip
import http.client

import pytest

from harness import LOOPBACK, free_port, http_request, start_edge

pytestmark = pytest.mark.edge_only("encode")

TEXT = "edge " * 400  # 2000 bytes


@pytest.fixture(scope="module")
def edge(edge_bin, upstream, tmp_path_factory):
    port = free_port()
    proc = start_edge(edge_bin, tmp_path_factory.mktemp("edge-encode"), """{
	workers 1
	grace_period 1s
}
http://%s:%d {
	encode gzip
	respond /local "%s" 200
	respond /small "tiny" 200
	reverse_proxy %s
}
""" % (LOOPBACK, port, TEXT, upstream.address), port)
    yield port
    proc.stop()


def get(port, path, method="GET", gzip_ok=True, conn=None):
    return http_request(port, method, path, {"Accept-Encoding": "gzip, deflate"} if gzip_ok else {}, conn=conn)


def expected_text(n):
    line = b"the quick brown fox jumps over the lazy dog %d\n"
    return b"".join(line % i for i in range(n // 30 + 1))[:n]


def test_local_response_is_compressed_only_when_accepted_and_big_enough(edge):
    r, body = get(edge, "/local")
    assert r.getheader("Content-Encoding") == "gzip" and "Accept-Encoding" in r.getheader("Vary", "")
    assert gzip.decompress(body).decode() == TEXT and len(body) < 200
    r, body = get(edge, "/local", gzip_ok=False)
    assert r.getheader("Content-Encoding") is None and body.decode() == TEXT
    r, body = get(edge, "/small")
    assert r.getheader("Content-Encoding") is None and body == b"tiny"


@pytest.mark.parametrize("chunked", ["0", "1"])
def test_proxied_text_is_streamed_compressed_on_keep_alive(edge, chunked):
    c = http.client.HTTPConnection(LOOPBACK, edge, timeout=30)
    for _ in range(2):  # the connection stays usable after a compressed body
        r, body = get(edge, "/text?n=300000&chunked=" + chunked, conn=c)
        assert r.status == 200 and r.getheader("Content-Encoding") == "gzip"
        assert r.getheader("Content-Length") is None and r.getheader("Transfer-Encoding") == "chunked"
        assert r.getheader("ETag") == 'W/"t1"'  # the bytes differ from the resource's: a weak validator
        assert gzip.decompress(body) == expected_text(300000)
    c.close()


def test_binary_head_and_small_upstream_bodies_pass_through(edge):
    r, body = get(edge, "/bytes?n=5000")  # application/octet-stream
    assert r.getheader("Content-Encoding") is None and len(body) == 5000
    r, body = get(edge, "/text?n=100")  # below minimum_length
    assert r.getheader("Content-Encoding") is None and body == expected_text(100)
    r, body = get(edge, "/text?n=5000", method="HEAD")
    assert r.getheader("Content-Encoding") is None and r.getheader("Content-Length") == "5000"
