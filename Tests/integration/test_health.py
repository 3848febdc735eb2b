"""Health checks and retries through edge to real upstreams: an active check takes a dead or failing
upstream out of rotation within two intervals and puts it back once it recovers (started again on the
same port), passive checks skip an upstream for fail_duration after max_fails failures, lb_try_duration
holds a request until its upstream comes up (or answers 502/503 after it), /reverse_proxy/upstreams and
edge_upstream_healthy show the state, and a reload keeps it (one checker per upstream, no more)."""
import collections
import http.client
import subprocess
import threading
import time

import pytest

from balancing import Node, start_upstream_on
from harness import LOOPBACK, closed_port
from recording import FixedResponder

pytestmark = pytest.mark.edge_only("health checks and the admin endpoint")

INTERVAL = 0.2  # health_interval in these tests


def active_lines(*extra):
    return ["health_uri /_stats", "health_interval %dms" % (INTERVAL * 1000), "health_timeout 1s", *extra]


@pytest.fixture
def nodes():
    """Nodes and upstream processes a test started, stopped after it whatever happened."""
    started = []
    yield started
    for n in started:
        n.stop()


def test_a_failing_upstream_gets_no_client_request(edge_bin, tmp_path, start_upstream, nodes):
    # b answers, but its /_stats names it, which the body check refuses: alive and never used.
    a, b, c = (start_upstream(x) for x in "abc")
    n = Node(edge_bin, tmp_path, [a.address, b.address, c.address],
             active_lines('health_body "\\"id\\": \\"[ac]\\""'))
    nodes.append(n)
    n.wait_for(lambda u: u[b.address]["active_health"] == "unhealthy" and u[a.address]["active_health"] == "healthy",
               3, "b found unhealthy")
    before = b.stats()["requests"]
    t0 = time.monotonic()
    seen = n.count(300)
    elapsed = time.monotonic() - t0
    assert seen["b"] == 0 and seen["a"] + seen["c"] == 300, seen
    # b heard only the probes meanwhile: about one per interval (its own /_stats call adds one).
    probes = b.stats()["requests"] - before - 1
    assert probes <= elapsed / INTERVAL + 3, (probes, elapsed)
    listed = n.upstream_status()
    assert listed[b.address]["healthy"] is False and listed[b.address]["requests_total"] == 0
    assert listed[a.address]["healthy"] is True and listed[a.address]["fails"] == 0
    status, metrics = n.admin_get("/metrics")
    text = metrics.decode()
    assert 'edge_upstream_healthy{upstream="%s"} 0' % b.address in text
    assert 'edge_upstream_healthy{upstream="%s"} 1' % a.address in text
    subprocess.run(["promtool", "check", "metrics"], input=metrics, check=True, capture_output=True)


def test_a_dead_upstream_is_taken_out_and_put_back(edge_bin, tmp_path, start_upstream, nodes):
    a, c = start_upstream("a"), start_upstream("c")
    b_port = closed_port()
    b = start_upstream_on(tmp_path / "b1", b_port, "b")
    nodes.append(b)
    b_address = "%s:%d" % (LOOPBACK, b_port)
    n = Node(edge_bin, tmp_path / "edge", [a.address, b_address, c.address], active_lines())
    nodes.append(n)
    n.wait_for(lambda u: all(x["active_health"] == "healthy" for x in u.values()), 3, "all healthy")
    assert n.count(30) == {"a": 10, "b": 10, "c": 10}
    b.stop()
    took = n.wait_for(lambda u: u[b_address]["active_health"] == "unhealthy", 3, "b taken out")
    assert took < 2 * INTERVAL + 0.3, "taken out after %.2fs" % took
    statuses = collections.Counter()
    ids = collections.Counter()
    for i in range(300):
        status, ident, _ = n.get("/echo?i=%d" % i)
        statuses[status] += 1
        ids[ident] += 1
    assert statuses == {200: 300} and ids["b"] == 0, (statuses, ids)
    # Started again on the same port: back within two intervals, and it gets requests.
    nodes.append(start_upstream_on(tmp_path / "b2", b_port, "b"))
    took = n.wait_for(lambda u: u[b_address]["active_health"] == "healthy", 3, "b back")
    assert took < 2 * INTERVAL + 0.3, "back after %.2fs" % took
    assert n.count(30) == {"a": 10, "b": 10, "c": 10}


def test_passive_failures_skip_an_upstream_for_fail_duration(edge_bin, tmp_path, start_upstream, nodes):
    good = start_upstream("good")
    bad = FixedResponder(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    try:
        n = Node(edge_bin, tmp_path, [bad.address, good.address],
                 ["lb_policy round_robin", "fail_duration 2s", "max_fails 2", "unhealthy_status 5xx"], workers=1)
        nodes.append(n)
        statuses = collections.Counter(n.get("/echo?i=%d" % i)[0] for i in range(4))
        # Round robin: two of the four met the bad upstream (and got its 500); then it is out.
        assert statuses == {500: 2, 200: 2}, statuses
        assert bad.requests == 2
        listed = n.upstream_status()
        assert listed[bad.address]["fails"] == 2 and listed[bad.address]["healthy"] is False
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.5:
            assert n.get("/echo")[:2] == (200, "good")
        assert bad.requests == 2
        # After fail_duration the failures are forgotten and it is tried again.
        time.sleep(max(0, 2.2 - (time.monotonic() - t0)))
        statuses = collections.Counter(n.get("/echo?j=%d" % i)[0] for i in range(4))
        assert bad.requests > 2 and statuses[500] >= 1, (bad.requests, statuses)
    finally:
        bad.stop()


def test_passive_dial_failures_stop_the_dials(edge_bin, tmp_path, start_upstream, nodes):
    # An upstream that takes each request and hangs up: with max_fails 1 one failure keeps it out, and
    # every request is answered by the live one.
    live, dropping = start_upstream("live"), FixedResponder()
    try:
        n = Node(edge_bin, tmp_path, [dropping.address, live.address], ["fail_duration 5s"], workers=1)
        nodes.append(n)
        assert n.count(40) == {"live": 40}
        assert dropping.requests == 1
    finally:
        dropping.stop()


def test_unhealthy_latency_counts_as_a_failure(edge_bin, tmp_path, start_upstream, nodes):
    a, b = start_upstream("a"), start_upstream("b")
    n = Node(edge_bin, tmp_path, [a.address, b.address],
             ["lb_policy first", "fail_duration 3s", "unhealthy_latency 300ms"], workers=1)
    nodes.append(n)
    assert n.get("/slow?delay=0.5")[:2] == (200, "a")  # slow, but answered: it counts against a
    assert n.count(20) == {"b": 20}


def test_try_duration_waits_for_the_upstream_to_come_up(edge_bin, tmp_path, nodes):
    port = closed_port()
    n = Node(edge_bin, tmp_path / "edge", ["%s:%d" % (LOOPBACK, port)],
             ["lb_try_duration 5s", "lb_try_interval 100ms"], workers=1)
    nodes.append(n)
    result = {}

    def request():
        t0 = time.monotonic()
        result["answer"] = n.get("/echo")[:2]
        result["elapsed"] = time.monotonic() - t0

    t = threading.Thread(target=request)
    t.start()
    time.sleep(1.0)
    nodes.append(start_upstream_on(tmp_path / "up", port, "late"))
    t.join(10)
    assert result["answer"] == (200, "late"), result
    assert 0.9 < result["elapsed"] < 3, result


def test_try_duration_ends_in_502_when_dials_keep_failing(edge_bin, tmp_path, nodes):
    n = Node(edge_bin, tmp_path, ["%s:%d" % (LOOPBACK, closed_port())], ["lb_try_duration 1500ms", "lb_try_interval 100ms"],
             workers=1)
    nodes.append(n)
    t0 = time.monotonic()
    status = n.get("/echo")[0]
    elapsed = time.monotonic() - t0
    assert status == 502 and 1.4 < elapsed < 2.5, (status, elapsed)
    # Without lb_try_duration the same answer comes at once.
    n.load([])
    t0 = time.monotonic()
    assert n.get("/echo")[0] == 502 and time.monotonic() - t0 < 1


def test_no_upstream_available_is_503(edge_bin, tmp_path, nodes):
    # The only upstream is refused by its health check: 503 at once without lb_try_duration, after it
    # with one.
    dead = "%s:%d" % (LOOPBACK, closed_port())
    n = Node(edge_bin, tmp_path, [dead], active_lines(), workers=1)
    nodes.append(n)
    n.wait_for(lambda u: u[dead]["active_health"] == "unhealthy", 3, "dead upstream found")
    t0 = time.monotonic()
    status, _, r = n.get("/echo")
    assert status == 503 and time.monotonic() - t0 < 1
    n.load(active_lines("lb_try_duration 1s", "lb_try_interval 100ms"))
    n.wait_for(lambda u: u[dead]["active_health"] == "unhealthy", 3, "still unhealthy after the reload")
    t0 = time.monotonic()
    status = n.get("/echo")[0]
    elapsed = time.monotonic() - t0
    assert status == 503 and 0.9 < elapsed < 2, (status, elapsed)


def test_a_reload_keeps_health_and_runs_one_checker_per_upstream(edge_bin, tmp_path, start_upstream, nodes):
    a, b = start_upstream("a"), start_upstream("b")
    # b fails the body check, and keeps failing it across reloads of the same settings.
    lines = active_lines('health_body "\\"id\\": \\"a\\""')
    n = Node(edge_bin, tmp_path, [a.address, b.address], lines)
    nodes.append(n)
    n.wait_for(lambda u: u[b.address]["active_health"] == "unhealthy", 3, "b unhealthy")
    for _ in range(3):
        n.load(lines)
        # Straight after the reload b is still known to be unhealthy (not unchecked).
        assert n.upstream_status()[b.address]["active_health"] == "unhealthy"
        assert n.count(10) == {"a": 10}
    # One probe per interval reaches a, not one per reload or per worker.
    before = a.stats()["requests"]
    time.sleep(2.0)
    probes = a.stats()["requests"] - before - 1
    assert 2.0 / INTERVAL - 3 <= probes <= 2.0 / INTERVAL + 2, probes
    # A reload that drops the checks stops the checkers: no more probes.
    n.load([])
    time.sleep(0.3)
    before = a.stats()["requests"]
    time.sleep(1.0)
    assert a.stats()["requests"] - before == 1
    listed = n.upstream_status()
    assert listed[b.address]["active_health"] == "unchecked" and listed[b.address]["healthy"] is True


def test_lb_retries_caps_the_tries(edge_bin, tmp_path, nodes):
    # The only upstream takes each request and hangs up: a GET may run again, lb_retries times, each round
    # lb_try_interval apart; then 502.
    dropping = FixedResponder()
    try:
        n = Node(edge_bin, tmp_path, [dropping.address], ["lb_retries 2", "lb_try_interval 200ms"], workers=1)
        nodes.append(n)
        t0 = time.monotonic()
        assert n.get("/echo")[0] == 502
        elapsed = time.monotonic() - t0
        assert dropping.requests == 3 and 0.35 < elapsed < 1.5, (dropping.requests, elapsed)
        # Without it, one try.
        n.load([])
        assert n.get("/echo")[0] == 502
        assert dropping.requests == 4
    finally:
        dropping.stop()
