"""encode: text responses compressed for clients that accept gzip or zstd, streamed (chunked, flushed per
piece) for proxied bodies, left alone for small bodies, binary types, HEAD and clients without either; the
coding follows the client's q-values, then the configured order (`prefer`); precompressed .zst sidecars."""
import gzip
import http.client
import shutil
import subprocess
import time

import pytest

import rawhttp
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


# ---------------------------------------------------------------- zstd, and the order of preference


def zstd_decompress(data, partial=False):
    """Decodes with the zstd CLI. `partial`: `data` is the start of a frame (flushed so far); the tool
    writes what it decoded, then fails on the missing end."""
    if shutil.which("zstd") is None:
        pytest.fail("the zstd command-line tool is missing; install it (apt-get install zstd, or make deps)")
    done = subprocess.run(["zstd", "-d", "-c", "-q"], input=data, capture_output=True, timeout=30)
    if not partial:
        assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def codings(edge_bin, upstream, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("edge-codings")
    static = workdir / "static"
    static.mkdir()
    (static / "app.js").write_text(TEXT)
    subprocess.run(["zstd", "-q", "-19", str(static / "app.js"), "-o", str(static / "app.js.zst")], check=True)
    (static / "app.js.gz").write_bytes(gzip.compress(TEXT.encode()))
    both, preferring, files = free_port(), free_port(), free_port()
    proc = start_edge(edge_bin, workdir, """{
	workers 1
	grace_period 1s
}
http://%(ip)s:%(both)d {
	encode zstd gzip
	respond /local "%(text)s" 200
	reverse_proxy %(up)s
}
http://%(ip)s:%(preferring)d {
	encode zstd gzip {
		prefer gzip zstd
	}
	reverse_proxy %(up)s
}
http://%(ip)s:%(files)d {
	root * %(static)s
	file_server {
		precompressed zstd gzip
	}
}
""" % {"ip": LOOPBACK, "both": both, "preferring": preferring, "files": files, "text": TEXT,
       "up": upstream.address, "static": static}, both, preferring, files)
    yield {"both": both, "preferring": preferring, "files": files}
    proc.stop()


def fetch(port, path, accept_encoding=None, method="GET"):
    headers = {} if accept_encoding is None else {"Accept-Encoding": accept_encoding}
    return http_request(port, method, path, headers)


def decoded(r, body):
    coding = r.getheader("Content-Encoding")
    if coding == "zstd":
        return zstd_decompress(body)
    if coding == "gzip":
        return gzip.decompress(body)
    assert coding is None, coding
    return body


@pytest.mark.parametrize("accept, coding", [
    ("zstd, gzip", "zstd"),
    ("gzip, deflate, br, zstd", "zstd"),  # a tie: the server's order decides
    ("gzip", "gzip"),
    ("zstd;q=0.1, gzip", "gzip"),  # the client's q-values come first
    ("gzip;q=0, *", "zstd"),
    ("identity", None),
])
def test_the_coding_follows_accept_encoding_then_the_configured_order(codings, accept, coding):
    r, body = fetch(codings["both"], "/text?n=50000", accept)
    assert r.status == 200 and r.getheader("Content-Encoding") == coding
    assert "Accept-Encoding" in r.getheader("Vary", "")
    assert decoded(r, body) == expected_text(50000)
    r, body = fetch(codings["both"], "/local", accept)
    assert r.getheader("Content-Encoding") == coding and decoded(r, body).decode() == TEXT


@pytest.mark.parametrize("accept, coding", [
    ("zstd, gzip", "gzip"), ("gzip, zstd", "gzip"), ("zstd", "zstd"), ("zstd;q=1, gzip;q=0.5", "zstd"),
])
def test_prefer_sets_the_servers_order(codings, accept, coding):
    r, body = fetch(codings["preferring"], "/text?n=50000&chunked=1", accept)
    assert r.getheader("Content-Encoding") == coding and decoded(r, body) == expected_text(50000)


def test_vary_whenever_the_response_could_have_been_compressed(codings):
    # A cache must not hand this plain copy to a client that accepts zstd, nor the reverse.
    r, body = fetch(codings["both"], "/text?n=50000")
    assert r.getheader("Content-Encoding") is None and r.getheader("Vary") == "Accept-Encoding"
    assert body == expected_text(50000)
    r, _ = fetch(codings["both"], "/text?n=50000", "zstd", method="HEAD")
    assert r.getheader("Content-Encoding") is None and r.getheader("Vary") == "Accept-Encoding"
    # Never compressed, whoever asks: nothing to vary on.
    r, _ = fetch(codings["both"], "/bytes?n=5000", "zstd")
    assert r.getheader("Content-Encoding") is None and r.getheader("Vary") is None
    r, _ = fetch(codings["both"], "/text?n=100", "zstd")
    assert r.getheader("Content-Encoding") is None and r.getheader("Vary") is None


def read_chunk(c):
    size = int(c.read_line().split(b";")[0], 16)
    data = c.read_exact(size)
    assert c.read_line() == b"", "a chunk without its CRLF"
    return data


def test_a_streamed_response_decodes_piece_by_piece_with_zstd(codings):
    # The upstream sends three 7000-byte pieces a second apart; each must be decodable on arrival, before
    # the next one is sent, so a stream or a long poll is never held back by the encoder.
    text = expected_text(21000)
    with rawhttp.Conn(codings["both"], timeout=10) as c:
        c.send(rawhttp.request_bytes("GET", "/text?n=21000&chunked=1&ms=1000", "%s:%d" % (LOOPBACK, codings["both"]),
                                     [("Accept-Encoding", "zstd")]))
        r = c.read_response(head_request=True)  # the head only; the body is read below, chunk by chunk
        assert r.status == 200 and r.header("Content-Encoding") == "zstd" and r.header("Transfer-Encoding") == "chunked"
        started = time.monotonic()
        received = b""
        for pieces in (1, 2, 3):
            while len(zstd_decompress(received, partial=True)) < 7000 * pieces:
                chunk = read_chunk(c)
                assert chunk, "the body ended before piece %d decoded" % pieces
                received += chunk
            assert time.monotonic() - started < pieces - 0.3, "piece %d decoded only after the next one came" % pieces
            assert zstd_decompress(received, partial=True) == text[:7000 * pieces]
        while chunk := read_chunk(c):  # the end of the frame, then the last chunk
            received += chunk
    assert zstd_decompress(received) == text


def test_precompressed_zstd_sidecar_is_served(codings):
    r, body = fetch(codings["files"], "/app.js", "zstd, gzip")
    assert r.status == 200 and r.getheader("Content-Encoding") == "zstd"
    assert r.getheader("Content-Type") == "text/javascript; charset=utf-8"
    assert zstd_decompress(body).decode() == TEXT
    r, body = fetch(codings["files"], "/app.js", "gzip")
    assert r.getheader("Content-Encoding") == "gzip" and gzip.decompress(body).decode() == TEXT
    r, body = fetch(codings["files"], "/app.js")
    assert r.getheader("Content-Encoding") is None and body.decode() == TEXT
