"""file_server behind handle_path, as seed 003 (TriviaFlow) writes it: static files and media from disk,
everything else proxied. Validators, ranges, traversal, dotfiles, big files and slow readers."""
import hashlib
import http.client
import os
import socket
import time

import pytest

from harness import LOOPBACK, free_port, http_request, start_edge

pytestmark = pytest.mark.edge_only("file_server")

BIG = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def site(edge_bin, upstream, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("edge-files")
    static, media = workdir / "static", workdir / "media"
    (static / "css").mkdir(parents=True)
    media.mkdir()
    (static / "css" / "app.css").write_text("body { color: red; }\n")
    (static / "index.html").write_text("<h1>static</h1>\n")
    (static / ".env").write_text("SECRET=1\n")
    (workdir / "secret.txt").write_text("outside the root\n")
    (media / "big.bin").write_bytes(os.urandom(BIG))
    (media / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    port = free_port()
    proc = start_edge(edge_bin, workdir, """{
	workers 1
	grace_period 1s
	servers {
		timeouts {
			write 5s
		}
	}
}
http://%s:%d {
	handle_path /static/* {
		root * %s
		file_server
	}
	handle_path /media/* {
		root * %s
		file_server
	}
	reverse_proxy %s
}
""" % (LOOPBACK, port, static, media, upstream.address), port)
    yield {"port": port, "static": static, "media": media, "proc": proc}
    proc.stop()


def request(site, method, target, headers=None, conn=None):
    return http_request(site["port"], method, target, headers, conn=conn)


def test_static_file_with_type_and_validators(site):
    r, body = request(site, "GET", "/static/css/app.css")
    assert r.status == 200 and body == b"body { color: red; }\n"
    assert r.getheader("Content-Type") == "text/css; charset=utf-8"
    assert r.getheader("ETag") and r.getheader("Last-Modified") and r.getheader("Accept-Ranges") == "bytes"
    r2, body2 = request(site, "GET", "/static/css/app.css", {"If-None-Match": r.getheader("ETag")})
    assert r2.status == 304 and body2 == b""
    r3, _ = request(site, "GET", "/static/css/app.css", {"If-Modified-Since": r.getheader("Last-Modified")})
    assert r3.status == 304


def test_index_and_directory_redirect(site):
    r, body = request(site, "GET", "/static/")
    assert r.status == 200 and body == b"<h1>static</h1>\n"
    r, _ = request(site, "GET", "/static/css")
    # the redirect names the path the client asked for, not the one handle_path stripped
    assert r.status == 308 and r.getheader("Location") == "/static/css/"
    r, _ = request(site, "GET", "/static/css?v=2")
    assert r.status == 308 and r.getheader("Location") == "/static/css/?v=2"


def test_ranges_and_head(site):
    r, body = request(site, "GET", "/media/big.bin", {"Range": "bytes=100-199"})
    assert r.status == 206 and r.getheader("Content-Range") == "bytes 100-199/%d" % BIG
    assert body == (site["media"] / "big.bin").read_bytes()[100:200]
    r, body = request(site, "HEAD", "/media/big.bin")
    assert r.status == 200 and body == b"" and r.getheader("Content-Length") == str(BIG)
    r, _ = request(site, "GET", "/media/big.bin", {"Range": "bytes=%d-" % (BIG + 10)})
    assert r.status == 416


@pytest.mark.parametrize("target", [
    "/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt", "/static/.env",
    "/static/css/../../secret.txt", "/static/%00",
])
def test_traversal_and_dotfiles_are_not_served(site, target):
    """Refused by the file server, or (once the dot segments are resolved for matching, as Caddy does) not
    under /static/ at all and answered by the app; never the file outside the root."""
    r, body = request(site, "GET", target)
    assert r.status in (400, 404) or (r.status == 200 and r.getheader("X-Upstream-Id") == "main"), (r.status, body)
    assert b"outside the root" not in body and b"SECRET" not in body


def test_big_file_on_keep_alive_then_proxy(site):
    c = http.client.HTTPConnection(LOOPBACK, site["port"], timeout=30)
    r, body = request(site, "GET", "/media/big.bin", conn=c)
    assert r.status == 200
    assert hashlib.sha256(body).digest() == hashlib.sha256((site["media"] / "big.bin").read_bytes()).digest()
    r, body = request(site, "GET", "/media/logo.png", conn=c)
    assert r.status == 200 and r.getheader("Content-Type") == "image/png"
    r, body = request(site, "GET", "/echo", conn=c)  # not under a handle_path: proxied
    assert r.status == 200 and r.getheader("X-Upstream-Id") == "main"
    c.close()


def test_slow_reader_gets_the_whole_file(site):
    with socket.create_connection((LOOPBACK, site["port"]), timeout=30) as s:
        s.sendall(b"GET /media/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        time.sleep(1.0)  # edge must stop reading the file while the socket is full, then go on
        data = b""
        while chunk := s.recv(1 << 16):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert hashlib.sha256(body).digest() == hashlib.sha256((site["media"] / "big.bin").read_bytes()).digest()


def test_requests_pipelined_behind_a_big_file_are_answered(site):
    """The file needs many drains; the requests queued behind it are already buffered when it ends."""
    with socket.create_connection((LOOPBACK, site["port"]), timeout=10) as s:
        s.sendall(b"GET /media/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                  b"GET /static/css/app.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                  b"GET /media/logo.png HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        time.sleep(0.5)
        data = b""
        while chunk := s.recv(1 << 16):
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK\r\n") == 3
    assert data.endswith(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    assert b"body { color: red; }" in data


def test_no_descriptor_leak(site):
    pid = site["proc"].pid
    before = len(os.listdir("/proc/%d/fd" % pid))
    for _ in range(50):
        request(site, "GET", "/media/logo.png")
        request(site, "GET", "/static/missing.css")
        request(site, "GET", "/media/big.bin", {"Range": "bytes=0-10"})
    time.sleep(0.3)
    assert len(os.listdir("/proc/%d/fd" % pid)) <= before + 2


def test_try_files_serves_an_app_shell_for_unknown_paths(edge_bin, tmp_path):
    site_root = tmp_path / "spa"
    (site_root / "assets").mkdir(parents=True)
    (site_root / "index.html").write_text("<app/>\n")
    (site_root / "assets" / "app.js").write_text("run()\n")
    port = free_port()
    proc = start_edge(edge_bin, tmp_path, """{
	workers 1
	grace_period 1s
}
http://%s:%d {
	root * %s
	try_files {path} /index.html
	file_server
}
""" % (LOOPBACK, port, site_root), port)
    try:
        site = {"port": port}
        r, body = request(site, "GET", "/assets/app.js")
        assert (r.status, body) == (200, b"run()\n")  # an existing file is served as is
        r, body = request(site, "GET", "/deep/client/route?tab=2")
        assert (r.status, body) == (200, b"<app/>\n")  # anything else gets the app shell
        assert r.getheader("Content-Type") == "text/html; charset=utf-8"
        r, body = request(site, "GET", "/../../etc/passwd")
        assert b"root:" not in body
    finally:
        proc.stop()
