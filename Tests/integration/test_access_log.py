"""The `log` directive: one JSON (or console) line per answered request — local, file, proxied, error
pages, WebSocket upgrades — with credentials redacted, size-based rolling, and a level filter."""
import base64
import json
import time

import pytest

from harness import LOOPBACK, free_port, http_request, start_edge

pytestmark = pytest.mark.edge_only("Caddyfile log")


def lines(path, count, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists():
            found = [l for l in path.read_text().splitlines() if l.strip()]
            if len(found) >= count:
                return found
        time.sleep(0.05)
    return [l for l in path.read_text().splitlines() if l.strip()] if path.exists() else []


@pytest.fixture(scope="module")
def edge(edge_bin, upstream, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("edge-log")
    (workdir / "www").mkdir()
    (workdir / "www" / "page.html").write_text("x" * 5000)
    port = free_port()
    log = workdir / "logs" / "access.log"
    proc = start_edge(edge_bin, workdir, """{
	workers 1
	grace_period 1s
}
http://%s:%d {
	log {
		output file %s {
			roll_size 4KiB
			roll_keep 2
		}
		format json
	}
	root * %s
	respond /hello "hi there"
	handle /files/* {
		uri strip_prefix /files
		file_server
	}
	reverse_proxy /echo* %s
	error /broken 503
}
""" % (LOOPBACK, port, log, workdir / "www", upstream.address), port)
    yield {"port": port, "log": log}
    proc.stop()


def test_a_local_answer_is_one_json_line_with_caddy_fields(edge):
    edge["log"].parent.mkdir(exist_ok=True)
    before = len(lines(edge["log"], 0, timeout=0))
    http_request(edge["port"], "GET", "/hello?x=1", {"Authorization": "Basic " + base64.b64encode(b"a:b").decode(),
                                                      "Cookie": "session=secret", "User-Agent": "probe/1"})
    entry = json.loads(lines(edge["log"], before + 1)[-1])
    assert entry["logger"] == "http.log.access" and entry["msg"] == "handled request" and entry["level"] == "info"
    request = entry["request"]
    assert (request["method"], request["uri"], request["proto"]) == ("GET", "/hello?x=1", "HTTP/1.1")
    assert request["remote_ip"] == "127.0.0.1" and request["host"] == "%s:%d" % (LOOPBACK, edge["port"])
    assert request["headers"]["Authorization"] == ["REDACTED"] and request["headers"]["Cookie"] == ["REDACTED"]
    assert request["headers"]["User-Agent"] == ["probe/1"]
    assert (entry["status"], entry["size"]) == (200, len(b"hi there"))
    assert 0 <= entry["duration"] < 5 and entry["ts"] > 1.7e9


def test_proxied_file_and_error_answers(edge):
    # Lines reach the file in batches (within 50 ms): wait for one more than there were.
    def next_entry(method, target, **kw):
        before = len(lines(edge["log"], 0))
        http_request(edge["port"], method, target, **kw)
        return json.loads(lines(edge["log"], before + 1)[-1])

    entry = next_entry("POST", "/echo", body=b"0123456789")
    assert entry["upstream"].startswith("127.0.0.1:") and entry["status"] == 200
    assert entry["bytes_read"] == 10 and entry["size"] > 0
    entry = next_entry("GET", "/files/page.html")
    assert (entry["status"], entry["size"], entry["request"]["uri"]) == (200, 5000, "/files/page.html")
    entry = next_entry("GET", "/broken")
    assert (entry["status"], entry["level"]) == (503, "error")


def test_files_roll_by_size_and_only_roll_keep_stay(edge):
    for i in range(40):
        http_request(edge["port"], "GET", "/hello?n=%d" % i, {"User-Agent": "x" * 100})
    time.sleep(0.2)
    rolled = sorted(p.name for p in edge["log"].parent.iterdir() if p.name.startswith("access-"))
    assert 1 <= len(rolled) <= 2, rolled
    assert edge["log"].stat().st_size <= 4096
    for line in lines(edge["log"], 1):
        json.loads(line)  # every line whole


def test_console_format_and_level_filter(edge_bin, tmp_path):
    port = free_port()
    log = tmp_path / "console.log"
    errors = tmp_path / "errors.log"
    proc = start_edge(edge_bin, tmp_path, """{
	workers 1
	grace_period 1s
}
http://%s:%d {
	log {
		output file %s
		format console
	}
	respond "ok"
}
http://localhost:%d {
	log {
		output file %s
		level error
	}
	error /fail 500
	respond "fine"
}
""" % (LOOPBACK, port, log, port, errors), port)
    try:
        http_request(port, "GET", "/a%20b?q=1")
        line = lines(log, 1)[0]
        assert '"GET /a%20b?q=1 HTTP/1.1" 200 2 ' in line and line.startswith("20")
        http_request(port, "GET", "/", {"Host": "localhost:%d" % port})
        http_request(port, "GET", "/fail", {"Host": "localhost:%d" % port})
        found = lines(errors, 1)
        assert len(found) == 1 and json.loads(found[0])["status"] == 500
    finally:
        proc.stop()
