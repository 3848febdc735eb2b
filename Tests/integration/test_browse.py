"""file_server browse: a directory without an index file is listed (HTML, or JSON for Accept:
application/json) without dotfiles or hidden names, hostile names escaped, in the order the query asks;
the trailing-slash redirect, index files, hidden directories and routes without browse are unchanged;
the links are relative, so a listing under handle_path works."""
import gzip
import json
import os
import urllib.parse

import pytest

from harness import LOOPBACK, free_port, http_request, start_edge

pytestmark = pytest.mark.edge_only("file_server browse")

HOSTILE = "<b>&\"x'.txt"


@pytest.fixture(scope="module")
def site(edge_bin, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("edge-browse")
    pub = workdir / "pub"
    for d in ("sub", "withindex", "private", ".git"):
        (pub / d).mkdir(parents=True)
    (pub / "a.txt").write_text("alpha\n")
    (pub / "big.bin").write_bytes(os.urandom(5000))
    (pub / "mid.txt").write_text("m" * 300)
    (pub / ".hidden").write_text("dotfile\n")
    (pub / "secret.txt").write_text("hidden by name\n")
    (pub / HOSTILE).write_text("hostile\n")
    (pub / "sub" / "inner.txt").write_text("inner\n")
    (pub / "withindex" / "index.html").write_text("<h1>index wins</h1>\n")
    (pub / "withindex" / "other.txt").write_text("other\n")
    (pub / "private" / "p.txt").write_text("private\n")
    port = free_port()
    proc = start_edge(edge_bin, workdir, """{
	workers 1
	grace_period 1s
}
http://%(ip)s:%(port)d {
	encode gzip
	handle_path /files/* {
		root * %(pub)s
		file_server browse
	}
	handle_path /plain/* {
		root * %(pub)s
		file_server
	}
	root * %(pub)s
	file_server {
		browse
		hide secret.txt private
	}
}
""" % {"ip": LOOPBACK, "port": port, "pub": pub}, port)
    yield port
    proc.stop()


def get(port, target, headers=None, method="GET"):
    return http_request(port, method, target, headers)


def listing(port, target, query=""):
    r, body = get(port, target + query, {"Accept": "application/json"})
    assert r.status == 200 and r.getheader("Content-Type").startswith("application/json"), (r.status, body[:200])
    return json.loads(body)


def test_html_listing_shows_files_not_dotfiles_or_hidden_names(site):
    r, body = get(site, "/")
    assert r.status == 200
    assert r.getheader("Content-Type") == "text/html; charset=utf-8"
    assert "Accept" in [v.strip() for v in r.getheader("Vary", "").split(",")]
    page = body.decode()
    for name in ("a.txt", "big.bin", "mid.txt", "sub/", "withindex/"):
        assert ">%s</a>" % name in page, name
    for name in (".hidden", "secret.txt", "private", ".git"):
        assert name not in page, name


def test_hostile_file_name_is_escaped_and_its_link_works(site):
    _, body = get(site, "/")
    page = body.decode()
    assert HOSTILE not in page and "<b>" not in page
    assert "&lt;b&gt;&amp;&quot;x&#39;.txt" in page
    href = "./" + urllib.parse.quote(HOSTILE, safe="")
    assert 'href="%s"' % href in page
    r, content = get(site, urllib.parse.urljoin("/", href))
    assert r.status == 200 and content == b"hostile\n"


def test_json_shape(site):
    entries = listing(site, "/")
    by_name = {e["name"]: e for e in entries}
    assert set(by_name) == {"a.txt", "big.bin", "mid.txt", HOSTILE, "sub/", "withindex/"}
    for e in entries:
        assert set(e) == {"name", "size", "url", "mod_time", "mode", "is_dir", "is_symlink"}
    assert by_name["a.txt"] == {**by_name["a.txt"], "size": 6, "url": "./a.txt", "is_dir": False, "is_symlink": False}
    assert by_name["sub/"]["is_dir"] is True and by_name["sub/"]["url"] == "./sub/"
    assert by_name["a.txt"]["mod_time"].endswith("Z")


def test_sort_by_size_descending_and_paging(site):
    files = [e for e in listing(site, "/", "?sort=size&order=desc") if not e["is_dir"]]
    assert [e["name"] for e in files][:3] == ["big.bin", "mid.txt", HOSTILE]
    assert [e["size"] for e in files] == sorted((e["size"] for e in files), reverse=True)
    page = listing(site, "/", "?sort=name&limit=2&offset=1")
    assert [e["name"] for e in page] == ["a.txt", "big.bin"]  # by name: "<" sorts before letters


def test_directory_without_slash_is_redirected_first(site):
    r, _ = get(site, "/sub")
    assert r.status == 308 and r.getheader("Location") == "/sub/"
    r, _ = get(site, "/files/sub?sort=size")
    assert r.status == 308 and r.getheader("Location") == "/files/sub/?sort=size"


def test_index_file_wins_over_a_listing(site):
    r, body = get(site, "/withindex/")
    assert r.status == 200 and body == b"<h1>index wins</h1>\n"


def test_head_has_the_fields_and_length_without_a_body(site):
    r, body = get(site, "/sub/")
    h, nothing = get(site, "/sub/", method="HEAD")
    assert h.status == 200 and nothing == b""
    assert h.getheader("Content-Length") == str(len(body))
    assert h.getheader("Content-Type") == r.getheader("Content-Type")


def test_hidden_and_dot_directories_stay_404(site):
    for target in ("/private/", "/.git/", "/nowhere/"):
        r, _ = get(site, target)
        assert r.status == 404, target


def test_a_route_without_browse_still_answers_404(site):
    r, _ = get(site, "/plain/sub/")
    assert r.status == 404
    r, body = get(site, "/plain/sub/inner.txt")
    assert r.status == 200 and body == b"inner\n"


def test_listing_under_handle_path_has_working_relative_links(site):
    r, body = get(site, "/files/sub/")
    assert r.status == 200
    page = body.decode()
    assert "<title>Index of /files/sub/</title>" in page  # the path the client asked for
    assert 'href="./inner.txt"' in page and 'href="../"' in page
    r, content = get(site, urllib.parse.urljoin("/files/sub/", "./inner.txt"))
    assert r.status == 200 and content == b"inner\n"
    entries = listing(site, "/files/")
    assert {"a.txt", "sub/"} <= {e["name"] for e in entries}


def test_encode_compresses_a_listing(site):
    plain_r, plain = get(site, "/")
    r, body = get(site, "/", {"Accept-Encoding": "gzip"})
    assert r.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == plain
    vary = [v.strip() for v in r.getheader("Vary", "").split(",")]
    assert "Accept" in vary and "Accept-Encoding" in vary
