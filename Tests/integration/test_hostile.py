"""Hostile clients: slowloris, slow body and slow read (the real slowhttptest), a flood of idle TCP
connections, half-open TLS handshakes, and a node held at max_connections by busy connections.

Each attack runs a few seconds against a node with short timeouts (read_header 2 s, read_body 2 s, write
3 s, max_connections 200) while a legitimate client asks for /hello on a new connection every 50 ms. What
is checked is behaviour: the legitimate client gets every answer, the node's memory (VmRSS from /proc)
stays under a stated ceiling, and the attack's connections are closed by the node's own timeouts or by
max_connections — seen from the node's side (its open descriptors), since a socket the node has closed can
still look open to a slow reader while the kernel drains what was queued for it. Timing bounds are
generous. The longer measurements (default limits, minutes, a results table): loadtest/harden/attacks.py.
"""
from __future__ import annotations

import os
import socket
import ssl
import time

import pytest

import harness
import hostile
from harness import ProxyConfig
from rawhttp import Conn, request_bytes

pytestmark = pytest.mark.edge_only("max_connections, min_body_rate and eviction are edge's")

LIMIT = 200


def ceiling_kib(baseline_kib: int) -> int:
    """What the node may grow to under any of these attacks: its RSS before, plus the worst case per
    connection (320 KiB, ConnectionBudget.worstCaseBytesPerConnection) for every connection it may hold,
    plus 48 MiB for TLS sessions, allocator slack and the legitimate client. Sanitizer builds (`make asan`,
    `make tsan`) get 8 times the growth: shadow memory and ASan's quarantine grow with every allocation."""
    growth = LIMIT * 320 + 48 * 1024
    if os.environ.get("ASAN_OPTIONS") or os.environ.get("TSAN_OPTIONS"):
        growth *= 8
    return baseline_kib + growth


@pytest.fixture(scope="module", autouse=True)
def more_files():
    hostile.raise_open_files()


@pytest.fixture(scope="module")
def node(upstream, tmp_path_factory, request):
    from conftest import _start_proxy
    config = ProxyConfig(upstreams=[upstream.address], read_header_s=2, read_body_s=2, write_s=3, idle_s=5,
                         server_lines=["max_connections %d" % LIMIT])
    return _start_proxy(config, tmp_path_factory.mktemp("hostile"), request)


def edge_pid(proxy) -> int:
    return proxy.proc.pid


def wait_for(condition, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def baseline_fds(pid: int) -> int:
    """The node's descriptors at rest (listeners, loops, pooled upstream connections), once stable."""
    last = -1
    for _ in range(20):
        now = hostile.open_fds(pid)
        if now == last:
            return now
        last = now
        time.sleep(0.1)
    return last


def assert_served(legit: hostile.LegitClient, what: str):
    s = legit.summary()
    assert s.requests >= 20, "%s: the legitimate client made only %d requests" % (what, s.requests)
    assert s.failures == 0, "%s: %d of %d legitimate requests failed: %s" % (what, s.failures, s.requests, s.errors)
    assert s.max_ms < 2000, "%s: a legitimate request took %.0f ms" % (what, s.max_ms)


def test_slowloris_is_closed_by_read_header(node, tmp_path):
    pid = edge_pid(node)
    fds = baseline_fds(pid)
    with hostile.RssSampler(pid) as rss, hostile.LegitClient(node.port, node.host_header) as legit:
        attack = hostile.Slowhttptest("H", node.base_url + "/echo", tmp_path, connections=150, rate=150,
                                      seconds=12).start()
        out = attack.wait(timeout=20)
    stats = attack.stats()
    assert stats.peak_connected >= 100, "slowhttptest never held its connections:\n" + out[-800:]
    # Every connection closed by the node (read_header 2 s) long before slowhttptest's 12 s were up.
    assert "No open connections left" in out, out[-800:]
    assert stats.rows[-1]["seconds"] <= 8, "slowloris connections lived %d s" % stats.rows[-1]["seconds"]
    assert wait_for(lambda: hostile.open_fds(pid) <= fds + 2, 5)
    assert rss.peak < ceiling_kib(rss.samples[0]), "RSS %d KiB, from %d KiB" % (rss.peak, rss.samples[0])
    assert_served(legit, "slowloris")


def test_slowloris_beyond_max_connections_gives_way(node, tmp_path):
    """2.5× max_connections slowloris connections: the oldest head still being read gives way to each new
    connection, so the legitimate client is never locked out."""
    pid = edge_pid(node)
    with hostile.RssSampler(pid) as rss, hostile.LegitClient(node.port, node.host_header) as legit:
        attack = hostile.Slowhttptest("H", node.base_url + "/echo", tmp_path, connections=500, rate=250,
                                      seconds=10).start()
        out = attack.wait(timeout=20)
        assert hostile.open_fds(pid) <= LIMIT + 64
    assert attack.stats().peak_connected >= LIMIT - 20, out[-800:]
    assert rss.peak < ceiling_kib(rss.samples[0]), "RSS %d KiB, from %d KiB" % (rss.peak, rss.samples[0])
    assert_served(legit, "slowloris beyond max_connections")


def test_slow_body_is_cut_by_min_body_rate(node, tmp_path):
    """slowhttptest -B sends a few bytes of a 100 kB body every second, inside read_body: the pause timeout
    alone would keep each connection — and its upstream connection — for over an hour. min_body_rate (1 kB/s
    after read_body) cuts them at about 2 s."""
    pid = edge_pid(node)
    fds = baseline_fds(pid)
    t0 = time.monotonic()
    with hostile.RssSampler(pid) as rss, hostile.LegitClient(node.port, node.host_header) as legit:
        attack = hostile.Slowhttptest("B", node.base_url + "/echo", tmp_path, connections=150, rate=150,
                                      seconds=12, extra=["-s", "100000"]).start()
        out = attack.wait(timeout=20)
    assert attack.stats().peak_connected >= 100, out[-800:]
    assert "No open connections left" in out, out[-800:]
    assert time.monotonic() - t0 < 10, "slow bodies were not cut: the attack ran %.1f s" % (time.monotonic() - t0)
    assert wait_for(lambda: hostile.open_fds(pid) <= fds + 2, 5)
    assert rss.peak < ceiling_kib(rss.samples[0]), "RSS %d KiB, from %d KiB" % (rss.peak, rss.samples[0])
    assert_served(legit, "slow body")


def test_slow_read_is_cut_by_the_write_timeout(node, tmp_path):
    """slowhttptest -X asks for 2 MB with a tiny receive window and reads 32 bytes a second. The node stops
    reading the upstream once 256 KiB are queued for a client, and closes the connection when the queue has
    not drained within `write` (3 s): its memory stays bounded and its sockets are released, though
    slowhttptest still reads what the kernel had already taken."""
    pid = edge_pid(node)
    fds = baseline_fds(pid)
    with hostile.RssSampler(pid) as rss, hostile.LegitClient(node.port, node.host_header) as legit:
        attack = hostile.Slowhttptest("X", node.base_url + "/bytes?n=2000000", tmp_path, connections=100,
                                      rate=100, seconds=9,
                                      extra=["-k", "2", "-n", "1", "-w", "512", "-y", "1024", "-z", "32"]).start()
        time.sleep(2)
        held = hostile.open_fds(pid) - fds
        # Connected at 1 s (all within the first second), released by 3 s + 1 s, while slowhttptest runs on.
        released = wait_for(lambda: hostile.open_fds(pid) <= fds + 4, 6)
        out = attack.wait(timeout=20)
    assert attack.stats().peak_connected >= 80, out[-800:]
    assert held >= 80, "the slow readers never held the node's sockets (%d)" % held
    assert released, "the node still holds %d sockets of slow readers" % (hostile.open_fds(pid) - fds)
    assert rss.peak < ceiling_kib(rss.samples[0]), "RSS %d KiB, from %d KiB" % (rss.peak, rss.samples[0])
    assert_served(legit, "slow read")


def test_idle_connection_flood(node):
    """1,000 TCP connections that never send a byte (5× max_connections): the oldest give way to new ones,
    the rest are closed by read_header, the legitimate client is always served."""
    pid = edge_pid(node)
    fds = baseline_fds(pid)
    with hostile.RssSampler(pid) as rss, hostile.LegitClient(node.port, node.host_header) as legit:
        socks = hostile.open_connections(node.port, 1000, rate=1000)
        try:
            assert len(socks) >= 990
            assert hostile.open_fds(pid) <= fds + LIMIT + 4, "the node holds more than max_connections"
            time.sleep(0.5)
            evicted = hostile.closed_by_peer(socks)
            assert evicted >= 1000 - LIMIT - 50, "only %d of 1,000 were made to give way" % evicted
            assert wait_for(lambda: hostile.closed_by_peer(socks) + evicted >= len(socks), 5), "read_header did not close them"
        finally:
            hostile.close_all(socks)
        time.sleep(1)
    assert rss.peak < ceiling_kib(rss.samples[0]), "RSS %d KiB, from %d KiB" % (rss.peak, rss.samples[0])
    assert_served(legit, "connection flood")


def test_busy_connections_at_the_limit_refuse_new_ones(upstream, start_proxy):
    """When every slot holds a request under way, a new connection is closed at once (no connection waits
    to give way); once they finish, new connections are served again."""
    proxy = start_proxy(ProxyConfig(upstreams=[upstream.address], response_header_timeout_s=10,
                                    server_lines=["max_connections 20"]))
    busy = []
    polls = [0]

    def upstream_requests():
        polls[0] += 1  # each /_stats request counts itself
        return upstream.stats()["requests"] - polls[0]

    before = upstream_requests()
    try:
        for _ in range(20):
            c = Conn(proxy.port, timeout=10)
            c.send(request_bytes("GET", "/slow?delay=2", proxy.host_header))
            busy.append(c)
        # All 20 are past their heads (proxied, so none waits to give way) before the 21st comes.
        assert wait_for(lambda: upstream_requests() - before >= 20, 10)
        with socket.create_connection((harness.LOOPBACK, proxy.port), timeout=5) as s:
            s.sendall(request_bytes("GET", "/hello", proxy.host_header))
            t0 = time.monotonic()
            try:
                data = s.recv(1024)
            except ConnectionResetError:
                data = b""
            assert data == b"", "a connection over max_connections was served: %r" % data[:80]
            assert time.monotonic() - t0 < 1.5
        for c in busy:
            assert c.read_response().status == 200
    finally:
        for c in busy:
            c.close()
    # Their connections are idle now (or closing): a new one is served, making one of them give way.
    with Conn(proxy.port) as c:
        c.send(request_bytes("GET", "/hello", proxy.host_header))
        assert c.read_response().status == 200
    assert "max_connections reached" in proxy.proc.stderr_path.read_text()


@pytest.fixture(scope="module")
def tls_node(edge_bin, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hostile-tls")
    https_port, http_port = harness.free_port(), harness.free_port()
    caddyfile = "\n".join([
        "{",
        "\tworkers 2",
        "\tadmin off",
        "\thttp_port %d" % http_port,
        "\thttps_port %d" % https_port,
        "\tlocal_certs",
        "\tauto_https disable_redirects",
        "\tstorage file_system %s" % (workdir / "storage"),
        "\tservers {",
        "\t\ttimeouts {",
        "\t\t\tread_header 2s",
        "\t\t}",
        "\t\tmax_connections 1000",
        "\t}",
        "}",
        "https://a.test:%d {" % https_port,
        "\ttls internal",
        '\trespond /hello "hello" 200',
        "}",
        "",
    ])
    proc = harness.start_edge(edge_bin, workdir, caddyfile, https_port)
    root = workdir / "storage" / "pki" / "authorities" / "local" / "root.crt"
    assert wait_for(root.is_file, 10), proc.describe()
    yield proc, https_port, root
    proc.stop()


def test_half_open_tls_handshakes_are_closed(tls_node):
    """300 connections that send a ClientHello and then nothing, and 300 that connect to the TLS port and
    send nothing: the handshake must finish within read_header (2 s) or the connection is closed; a real
    client completes its handshakes meanwhile."""
    proc, port, root = tls_node
    pid = proc.pid
    fds = baseline_fds(pid)
    ctx = ssl.create_default_context(cafile=str(root))
    hello = hostile.client_hello("a.test")
    with hostile.RssSampler(pid) as rss, hostile.LegitClient(port, "a.test", tls_context=ctx, server_name="a.test") as legit:
        t0 = time.monotonic()
        socks = hostile.open_connections(port, 300, hello, rate=600) + hostile.open_connections(port, 300, rate=600)
        try:
            assert len(socks) >= 590
            assert wait_for(lambda: hostile.closed_by_peer(socks) >= len(socks), 2 + 4), \
                "%d of %d half-open handshakes still open" % (len(socks) - hostile.closed_by_peer(socks), len(socks))
            elapsed = time.monotonic() - t0
        finally:
            hostile.close_all(socks)
        time.sleep(0.5)
    assert elapsed >= 1.5, "closed after %.1f s, before read_header" % elapsed
    assert wait_for(lambda: hostile.open_fds(pid) <= fds + 2, 5)
    assert rss.peak < ceiling_kib(rss.samples[0]), "RSS %d KiB, from %d KiB" % (rss.peak, rss.samples[0])
    assert_served(legit, "half-open TLS")
