"""Observability: GET /metrics on the admin endpoint (exact counts after known traffic, `promtool check
metrics`, a real Prometheus scraping it), the `metrics` handler on a listener of its own, `metrics off`,
TLS handshake series, tunnels, and GET /health and /ready."""
import asyncio
import http.client
import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
from websockets.asyncio.client import connect

from harness import LOOPBACK, REPO_ROOT, ManagedProcess, free_port, start_edge, start_http_upstream, start_ws_upstream

pytestmark = pytest.mark.edge_only("metrics")

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels.items())): value} for every sample of an exposition."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def value(samples, metric, **labels):
    return samples.get((metric, frozenset(labels.items())))


def scrape(port, path="/metrics"):
    c = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    assert r.status == 200, body
    assert r.getheader("Content-Type").startswith("text/plain; version=0.0.4"), r.getheader("Content-Type")
    return body


def request(port, method, path, body=None, host=None):
    c = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    c.request(method, path, body=body, headers={"Host": host} if host else {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


@pytest.fixture
def upstream(tmp_path):
    u = start_http_upstream(tmp_path, "m1")
    yield u
    u.stop()


def test_request_series_count_exactly_what_was_sent(edge_bin, tmp_path, upstream):
    port, admin = free_port(), free_port()
    site = "http://%s:%d" % (LOOPBACK, port)
    proc = start_edge(edge_bin, tmp_path, """{
\tadmin 127.0.0.1:%d
\tworkers 2
}
%s {
\trespond /ok "fine"
\terror /gone "gone" 410
\treverse_proxy /up* %s
}
""" % (admin, site, upstream.address), port, admin)
    try:
        # The baseline: start_edge's readiness probe was a connection too (the admin listener is not counted).
        accepted = value(parse(scrape(admin)), "edge_connections_accepted_total")
        for _ in range(7):
            assert request(port, "GET", "/ok") == (200, b"fine")
        for _ in range(3):
            assert request(port, "POST", "/ok", body=b"12345") == (200, b"fine")
        for _ in range(2):
            assert request(port, "GET", "/gone")[0] == 410
        assert request(port, "PROPFIND", "/ok")[0] == 200
        for _ in range(4):
            assert request(port, "GET", "/up/x")[0] == 200
        assert request(port, "GET", "/", host="nobody.example")[0] == 404
        text = scrape(admin)
        subprocess.run(["promtool", "check", "metrics"], input=text.encode(), check=True, capture_output=True)
        s = parse(text)
        name = "edge_http_requests_total"
        assert value(s, name, site=site, handler="static_response", method="GET", code="200") == 7
        assert value(s, name, site=site, handler="static_response", method="POST", code="200") == 3
        assert value(s, name, site=site, handler="error", method="GET", code="410") == 2
        # A method outside the registered ones cannot make up a series of its own.
        assert value(s, name, site=site, handler="static_response", method="OTHER", code="200") == 1
        assert value(s, name, site=site, handler="reverse_proxy", method="GET", code="200") == 4
        assert value(s, name, site="unmatched", handler="other", method="GET", code="404") == 1
        assert value(s, "edge_http_request_duration_seconds_count", site=site, handler="static_response",
                     method="GET", code="200") == 7
        assert value(s, "edge_http_request_duration_seconds_bucket", site=site, handler="static_response",
                     method="GET", code="200", le="+Inf") == 7
        assert value(s, "edge_http_request_body_bytes_total", site=site) == 15
        assert value(s, "edge_upstream_requests_total", upstream=upstream.address) == 4
        assert value(s, "edge_upstream_requests_active", upstream=upstream.address) == 0
        assert value(s, "edge_upstream_response_header_seconds_count", upstream=upstream.address) == 4
        assert value(s, "edge_upstream_failures_total", upstream=upstream.address) == 0
        assert value(s, "edge_connections_accepted_total") == accepted + 18
        assert value(s, "edge_config_reloads_total", result="applied") == 0
        assert value(s, "process_resident_memory_bytes") > 1_000_000
        assert value(s, "edge_build_info", version=subprocess.check_output([edge_bin, "version"]).decode().split()[1]) == 1
        start = value(s, "process_start_time_seconds")
        assert time.time() - 600 < start <= time.time()

        # A dead upstream is counted as a failure of that upstream.
        upstream.stop()
        assert request(port, "GET", "/up/x")[0] == 502
        s = parse(scrape(admin))
        assert value(s, "edge_upstream_failures_total", upstream=upstream.address) == 1
        assert value(s, "edge_http_requests_total", site=site, handler="reverse_proxy", method="GET", code="502") == 1

        # A reload through the admin endpoint is counted; a refused one too.
        c = http.client.HTTPConnection(LOOPBACK, admin, timeout=10)
        c.request("POST", "/load", body=b"{\n\tadmin 127.0.0.1:%d\n}\n%s {\n\trespond \"x\"\n}\n" % (admin, site.encode()),
                  headers={"Content-Type": "text/caddyfile"})
        assert c.getresponse().status == 200
        c.close()
        c = http.client.HTTPConnection(LOOPBACK, admin, timeout=10)
        c.request("POST", "/load", body=b"{\n\tadmin 127.0.0.1:%d\n}\n%s {\n\trespond \"x\" 99999\n}\n" % (admin, site.encode()),
                  headers={"Content-Type": "text/caddyfile"})
        assert c.getresponse().status == 400
        c.close()
        s = parse(scrape(admin))
        assert value(s, "edge_config_reloads_total", result="applied") == 1
        assert value(s, "edge_config_reloads_total", result="refused") == 1
    finally:
        proc.stop()


def test_a_real_prometheus_scrapes_the_admin_endpoint(edge_bin, tmp_path):
    port, admin, prom_port = free_port(), free_port(), free_port()
    site = "http://%s:%d" % (LOOPBACK, port)
    proc = start_edge(edge_bin, tmp_path, "{\n\tadmin 127.0.0.1:%d\n}\n%s {\n\trespond \"hi\"\n}\n" % (admin, site),
                      port, admin)
    prom = None
    try:
        for _ in range(5):
            assert request(port, "GET", "/")[0] == 200
        config = tmp_path / "prometheus.yml"
        config.write_text("""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: edge
    static_configs:
      - targets: ['127.0.0.1:%d']
""" % admin)
        subprocess.run(["promtool", "check", "config", str(config)], check=True, capture_output=True)
        prom = ManagedProcess("prometheus", [
            shutil.which("prometheus"), "--config.file=%s" % config, "--storage.tsdb.path=%s" % (tmp_path / "tsdb"),
            "--web.listen-address=127.0.0.1:%d" % prom_port], tmp_path)
        prom.wait_for_port(prom_port, timeout=30)
        deadline = time.time() + 30
        while True:  # listening comes before ready (its storage opens): /-/ready says 200 then
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % prom_port, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.time() < deadline, "Prometheus never became ready:\n" + prom.stderr_tail()
            time.sleep(0.2)

        def query(q):
            url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (prom_port, urllib.parse.quote(q))
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.loads(r.read())["data"]["result"]

        deadline = time.time() + 30
        result = []
        while time.time() < deadline:
            result = query('edge_http_requests_total{site="%s",code="200"}' % site)
            if result and query('up{job="edge"}'):
                break
            time.sleep(0.5)
        assert result, "Prometheus never stored edge_http_requests_total; its log:\n" + prom.stderr_tail()
        assert float(result[0]["value"][1]) == 5
        assert query('up{job="edge"}')[0]["value"][1] == "1"

        # Every query of the shipped Grafana dashboard is PromQL this Prometheus accepts, and the ones on
        # series this node has return data.
        dashboard = json.loads((REPO_ROOT / "deploy" / "grafana" / "dashboards" / "edge.json").read_text())
        exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
        assert len(exprs) >= 20
        time.sleep(3)  # rate() needs two scrapes in its window
        answered = 0
        for expr in exprs:
            concrete = (expr.replace("$__rate_interval", "1m").replace('"$instance"', '".*"')
                        .replace('"$site"', '".*"'))
            url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (prom_port, urllib.parse.quote(concrete))
            with urllib.request.urlopen(url, timeout=5) as r:
                reply = json.loads(r.read())
            assert reply["status"] == "success", (expr, reply)
            answered += bool(reply["data"]["result"])
        assert answered >= 10, "only %d of %d dashboard queries found data" % (answered, len(exprs))
        subprocess.run(["promtool", "check", "config", str(REPO_ROOT / "deploy" / "grafana" / "prometheus.yml")],
                       check=True, capture_output=True)
    finally:
        if prom:
            prom.stop()
        proc.stop()


def test_metrics_handler_on_its_own_listener_and_metrics_off(edge_bin, tmp_path):
    port, metrics_port, admin = free_port(), free_port(), free_port()
    site = "http://%s:%d" % (LOOPBACK, port)
    proc = start_edge(edge_bin, tmp_path, """{
\tadmin 127.0.0.1:%d
\tmetrics off
}
%s {
\trespond "hi"
}
http://%s:%d {
\thandle /metrics {
\t\tmetrics
\t}
\trespond "only /metrics here" 404
}
""" % (admin, site, LOOPBACK, metrics_port), port, metrics_port, admin)
    try:
        assert request(port, "GET", "/")[0] == 200
        text = scrape(metrics_port)
        subprocess.run(["promtool", "check", "metrics"], input=text.encode(), check=True, capture_output=True)
        s = parse(text)
        # metrics off: no request series, the rest is there.
        assert not [k for k in s if k[0].startswith("edge_http_")]
        assert value(s, "edge_connections_accepted_total") >= 2
        assert value(s, "process_open_fds") > 0
        assert request(metrics_port, "GET", "/other") == (404, b"only /metrics here")
    finally:
        proc.stop()


def test_tls_handshakes_by_version_and_failures_by_alert(edge_bin, tmp_path):
    https_port, admin = free_port(), free_port()
    proc = start_edge(edge_bin, tmp_path, """{
\tadmin 127.0.0.1:%d
\thttps_port %d
\tauto_https disable_redirects
\tstorage file_system %s
}
https://localhost:%d {
\ttls internal
\trespond "secure"
}
""" % (admin, https_port, tmp_path / "storage", https_port), https_port, admin)
    try:
        url = "https://localhost:%d/" % https_port
        for extra in ([], [], ["--tlsv1.2", "--tls-max", "1.2"]):
            out = subprocess.run(["curl", "-sk", "--http1.1", "--resolve", "localhost:%d:127.0.0.1" % https_port,
                                  *extra, url], capture_output=True, timeout=20)
            assert out.stdout == b"secure", out
        # A name edge has no certificate for: unrecognized_name.
        subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % https_port, "-servername", "other.test"],
                       input=b"", capture_output=True, timeout=20)
        # Plain HTTP to the TLS port.
        assert request(https_port, "GET", "/")[0] == 400
        s = parse(scrape(admin))
        v13 = sum(v for (n, labels), v in s.items()
                  if n == "edge_tls_handshakes_total" and ("version", "TLSv1.3") in labels and ("alpn", "http/1.1") in labels)
        v12 = sum(v for (n, labels), v in s.items()
                  if n == "edge_tls_handshakes_total" and ("version", "TLSv1.2") in labels)
        assert (v13, v12) == (2, 1)
        assert value(s, "edge_tls_handshake_failures_total", alert="unrecognized_name") == 1
        assert value(s, "edge_tls_handshake_failures_total", alert="none") == 1
        expiry = value(s, "edge_tls_certificate_expiry_timestamp_seconds", name="localhost")
        assert expiry and time.time() < expiry < time.time() + 8 * 86400
        assert value(s, "edge_tls_certificates") >= 1
    finally:
        proc.stop()


def test_tunnels_are_counted_while_open(edge_bin, tmp_path):
    ws = start_ws_upstream(tmp_path)
    port, admin = free_port(), free_port()
    proc = start_edge(edge_bin, tmp_path, "{\n\tadmin 127.0.0.1:%d\n}\nhttp://%s:%d {\n\treverse_proxy %s\n}\n" % (
        admin, LOOPBACK, port, ws.address), port, admin)
    try:
        async def hold():
            async with connect("ws://%s:%d/" % (LOOPBACK, port)) as a, connect("ws://%s:%d/" % (LOOPBACK, port)) as b:
                await a.send("x")
                assert await a.recv() == "x"
                await b.send("y")
                assert await b.recv() == "y"
                return parse(scrape(admin))

        during = asyncio.run(hold())
        assert value(during, "edge_tunnels_active") == 2
        assert value(during, "edge_http_requests_total", site="http://%s:%d" % (LOOPBACK, port),
                     handler="reverse_proxy", method="GET", code="101") == 2
        deadline = time.time() + 5
        while time.time() < deadline and value(parse(scrape(admin)), "edge_tunnels_active") != 0:
            time.sleep(0.05)
        after = parse(scrape(admin))
        assert value(after, "edge_tunnels_active") == 0
        assert value(after, "edge_tunnels_opened_total") == 2
    finally:
        proc.stop()
        ws.stop()


def test_health_and_ready(edge_bin, tmp_path):
    port, admin = free_port(), free_port()
    storage = tmp_path / "storage"
    proc = start_edge(edge_bin, tmp_path, "{\n\tadmin 127.0.0.1:%d\n\tstorage file_system %s\n}\nhttp://%s:%d {\n\trespond \"hi\"\n}\n" % (
        admin, storage, LOOPBACK, port), port, admin)
    try:
        status, body = request(admin, "GET", "/health")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        status, body = request(admin, "GET", "/ready")
        report = json.loads(body)
        assert status == 200 and report["ready"] is True, report
        assert set(report["checks"]) == {"listeners", "config", "storage"}
        assert str(port) in report["checks"]["listeners"]["detail"]
        # Storage gone (an unmounted volume): not ready, and it says why; back: ready again.
        moved = tmp_path / "moved"
        storage.rename(moved)
        status, body = request(admin, "GET", "/ready")
        report = json.loads(body)
        assert status == 503 and report["checks"]["storage"]["ok"] is False, report
        assert "not writable" in report["checks"]["storage"]["detail"]
        moved.rename(storage)
        assert request(admin, "GET", "/ready")[0] == 200
        assert request(admin, "POST", "/ready")[0] == 405
    finally:
        proc.stop()
