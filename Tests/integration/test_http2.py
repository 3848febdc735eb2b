"""HTTP/2: h2c with prior knowledge and h2 by ALPN, streams proxied to HTTP/1.1 upstreams with their bodies
checked, flow control, RFC 8441 WebSockets, GOAWAY on shutdown, and the defences: rapid reset,
CONTINUATION floods, oversized header lists. Clients: curl, h2load and Python h2."""
from __future__ import annotations

import hashlib
import json
import random
import re
import signal
import socket
import subprocess
import threading
import time

import h2.errors
import hpack
import hyperframe.frame
import pytest
from wsproto.frame_protocol import FrameProtocol, Opcode

import harness
from h2client import H2Client
from harness import LOOPBACK, ProxyConfig
from test_tls import EdgeNode, curl, edge_node  # noqa: F401  (edge_node is a fixture)

H2C = ["protocols h1 h2 h2c"]


def h2c_proxy(start_proxy, upstream, **kw) -> harness.Proxy:
    return start_proxy(ProxyConfig(upstreams=[upstream.address], server_lines=H2C, **kw))


def test_h2c_prior_knowledge_with_curl(start_upstream, start_proxy):
    up = start_upstream("a")
    proxy = h2c_proxy(start_proxy, up)
    r = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-w", "\n%{http_version}",
                        proxy.base_url + "/echo?x=1", "-H", "X-Test: yes"], capture_output=True, text=True, timeout=20)
    body, version = r.stdout.rsplit("\n", 1)
    assert version == "2", r
    echo = json.loads(body)
    headers = {k.lower(): v for k, v in echo["headers"]}
    # The upstream hears HTTP/1.1 with edge's forwarding fields and the client's own.
    assert echo["version"] == "HTTP/1.1" and echo["path"] == "/echo?x=1"
    assert headers["host"] == proxy.host_header
    assert headers["x-test"] == "yes"
    assert headers["x-forwarded-for"] == LOOPBACK and headers["x-forwarded-proto"] == "http"
    assert "connection" not in headers or headers["connection"].lower() != "upgrade"
    # A local response over h2 as well.
    r = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", proxy.base_url + "/hello"],
                       capture_output=True, text=True, timeout=20)
    assert r.stdout == "hello"


def test_h2c_is_off_unless_listed(start_upstream, start_proxy):
    up = start_upstream("a")
    proxy = start_proxy(ProxyConfig(upstreams=[up.address]))
    r = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "--max-time", "5", proxy.base_url + "/hello"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0 and r.stdout != "hello", r
    # HTTP/1.1 still works on that listener.
    r = subprocess.run(["curl", "-sS", proxy.base_url + "/hello"], capture_output=True, text=True, timeout=20)
    assert r.stdout == "hello"


def test_h2_by_alpn_over_tls_and_h1_when_protocols_says_so(edge_node, start_upstream):
    up = start_upstream("a")
    sites = "https://h2.test {\n\ttls internal\n\treverse_proxy %s\n}\n" % up.address
    node = edge_node().start(sites)
    args = ["--resolve", "h2.test:%d:127.0.0.1" % node.https_port, "--cacert", node.root,
            "-w", "\n%{http_version}", "https://h2.test:%d/echo" % node.https_port]
    r = curl("--http2", *args)
    body, version = r.stdout.rsplit("\n", 1)
    assert version == "2", r
    headers = {k.lower(): v for k, v in json.loads(body)["headers"]}
    assert headers["x-forwarded-proto"] == "https"
    node.stop()
    node2 = edge_node().start(sites, options="servers {\n\tprotocols h1\n}")
    args[1] = "h2.test:%d:127.0.0.1" % node2.https_port
    args[3] = node2.root
    args[-1] = "https://h2.test:%d/echo" % node2.https_port
    r = curl("--http2", *args)
    assert r.stdout.rsplit("\n", 1)[1] == "1.1", r


def test_100_concurrent_streams_with_checked_bodies(start_upstream, start_proxy):
    up = start_upstream("a")
    proxy = h2c_proxy(start_proxy, up)
    rng = random.Random(7)
    with H2Client(proxy.port) as c:
        c.wait(lambda: 3 in c.remote_settings)  # MAX_CONCURRENT_STREAMS
        assert c.remote_settings[3] >= 100
        expected = {}
        uploads = {}
        for i in range(100):
            if i % 2 == 0:
                n = rng.randrange(1, 300_000)
                sid = c.request("GET", "/bytes?n=%d&seed=%d" % (n, i) if i % 4 else "/chunked?n=%d&seed=%d" % (n, i))
                expected[sid] = random.Random(str(i)).randbytes(n)
            else:
                body = rng.randbytes(rng.randrange(0, 200_000))
                # Half without content-length: edge forwards those chunked.
                sid = c.request("POST", "/upload", body=body, content_length=i % 4 == 1)
                uploads[sid] = body
        for sid, want in expected.items():
            s = c.response(sid)
            assert s.status == 200 and s.reset_code is None, (sid, s.status, s.reset_code)
            assert hashlib.sha256(s.data).hexdigest() == hashlib.sha256(want).hexdigest(), sid
        for sid, body in uploads.items():
            s = c.response(sid)
            assert s.status == 200, (sid, s.status, s.reset_code)
            got = json.loads(s.data)
            assert got["length"] == len(body) and got["sha256"] == hashlib.sha256(body).hexdigest(), sid
        assert c.goaway is None


def test_small_client_window_gets_a_large_body_in_full(start_upstream, start_proxy):
    up = start_upstream("a")
    proxy = h2c_proxy(start_proxy, up)
    n = 8 * 1024 * 1024
    with H2Client(proxy.port, window=16_384) as c:
        sid = c.request("GET", "/bytes?n=%d&seed=3" % n)
        s = c.response(sid, timeout=60)
        assert s.status == 200 and len(s.data) == n
        assert s.data == random.Random("3").randbytes(n)


def test_h2load_many_streams(start_upstream, start_proxy):
    up = start_upstream("a")
    proxy = h2c_proxy(start_proxy, up)
    r = subprocess.run(["h2load", "-n", "3000", "-c", "4", "-m", "50", proxy.base_url + "/hello"],
                       capture_output=True, text=True, timeout=120)
    assert re.search(r"requests: 3000 total, 3000 started, 3000 done, 3000 succeeded, 0 failed", r.stdout), r.stdout
    assert "3000 2xx" in r.stdout, r.stdout


def test_websocket_over_h2_rfc8441(ws_upstream, start_proxy):
    proxy = start_proxy(ProxyConfig(upstreams=[ws_upstream.address], server_lines=H2C))
    with H2Client(proxy.port) as c:
        c.wait(lambda: 8 in c.remote_settings)
        assert c.remote_settings[8] == 1  # SETTINGS_ENABLE_CONNECT_PROTOCOL
        sid = c.request("CONNECT", "/", headers=[(":protocol", "websocket"), ("sec-websocket-version", "13")], end=False)
        # :protocol must follow the other pseudo-fields; h2 puts the extra ones after :authority.
        c.wait(lambda: c.streams[sid].status is not None)
        s = c.streams[sid]
        assert s.status == 200, s.headers
        assert s.header("sec-websocket-accept") is None
        ws = FrameProtocol(client=True, extensions=[])
        for i in range(5):
            text = "hello over h2 %d " % i + "x" * (i * 1000)
            c.conn.send_data(sid, ws.send_data(text, fin=True))
            c.flush()
            got = ""
            deadline = time.monotonic() + 10
            while not got:
                assert time.monotonic() < deadline
                data = bytes(s.data)
                s.data.clear()
                ws.receive_bytes(data)
                for frame in ws.received_frames():
                    if frame.opcode == Opcode.TEXT:
                        got += frame.payload
                if not got:
                    c.read_some()
            assert got == text
        c.conn.send_data(sid, ws.close(code=1000), end_stream=True)
        c.flush()
        c.wait(lambda: s.ended, 10)


def test_rapid_reset_is_cut_off_and_others_are_served(start_upstream, start_proxy):
    up = start_upstream("a")
    proxy = h2c_proxy(start_proxy, up)
    served, failures, stop = [], [], threading.Event()

    def legit():
        while not stop.is_set():
            try:
                with H2Client(proxy.port, timeout=10) as c:
                    t0 = time.monotonic()
                    s = c.response(c.request("GET", "/echo"), timeout=10)
                    if s.status == 200:
                        served.append(time.monotonic() - t0)
                    else:
                        failures.append(s.status)
            except Exception as e:  # noqa: BLE001
                failures.append(repr(e))
            time.sleep(0.02)

    t = threading.Thread(target=legit)
    t.start()
    try:
        attacker = H2Client(proxy.port)
        sent = 0
        encoder = hpack.Encoder()
        # Raw frames, as an attacker writes them: HEADERS then RST_STREAM, 5,000 times, no reading.
        try:
            for i in range(5000):
                sid = 2 * i + 1
                block = encoder.encode([(":method", "GET"), (":path", "/slow?delay=1"), (":scheme", "http"),
                                        (":authority", proxy.host_header)])
                frames = hyperframe.frame.HeadersFrame(sid, block, flags=["END_HEADERS", "END_STREAM"]).serialize()
                frames += hyperframe.frame.RstStreamFrame(sid, error_code=8).serialize()
                attacker.sock.sendall(frames)
                sent += 1
        except OSError:
            pass  # edge closed the connection: the expected end
        # Edge ends the connection with GOAWAY(ENHANCE_YOUR_CALM) well before all 5,000.
        attacker.sock.settimeout(10)
        raw = b""
        try:
            while True:
                chunk = attacker.sock.recv(65536)
                if not chunk:
                    break
                raw += chunk
        except OSError:
            pass
        attacker.close()
        assert find_goaway(raw) == 11, "no GOAWAY(ENHANCE_YOUR_CALM) after %d resets" % sent
        time.sleep(1.5)
    finally:
        stop.set()
        t.join()
    assert not failures, failures[:5]
    assert len(served) >= 10
    # The reset streams never reached the upstream en masse: each one that did was cancelled.
    assert up.stats()["requests"] < 2500


def find_goaway(raw: bytes) -> int | None:
    """The error code of the first GOAWAY frame in a server's byte stream (after the first frames)."""
    i = 0
    while i + 9 <= len(raw):
        length = int.from_bytes(raw[i:i + 3], "big")
        ftype = raw[i + 3]
        if ftype == 7 and i + 9 + 8 <= len(raw):
            return int.from_bytes(raw[i + 9 + 4:i + 9 + 8], "big")
        i += 9 + length
    return None


def test_continuation_flood_ends_the_connection(start_upstream, start_proxy):
    up = start_upstream("a")
    proxy = h2c_proxy(start_proxy, up)
    c = H2Client(proxy.port)
    encoder = hpack.Encoder()
    block = encoder.encode([(":method", "GET"), (":path", "/echo"), (":scheme", "http"), (":authority", "x")])
    c.sock.sendall(hyperframe.frame.HeadersFrame(1, block).serialize())
    sent = 0
    try:
        for i in range(10_000):
            c.sock.sendall(hyperframe.frame.ContinuationFrame(1, encoder.encode([("x-a%d" % i, "b")])).serialize())
            sent += 1
    except OSError:
        pass
    c.sock.settimeout(10)
    raw = b""
    try:
        while chunk := c.sock.recv(65536):
            raw += chunk
    except OSError:
        pass
    c.close()
    assert find_goaway(raw) is not None, "connection not ended after %d CONTINUATION frames" % sent
    assert up.stats()["requests"] == 1  # only the stats request itself
    # The node is fine.
    r = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", proxy.base_url + "/hello"],
                       capture_output=True, text=True, timeout=20)
    assert r.stdout == "hello"


def test_oversized_header_list_gets_431(start_upstream, start_proxy):
    up = start_upstream("a")
    proxy = h2c_proxy(start_proxy, up)
    with H2Client(proxy.port) as c:
        big = [("x-big-%d" % i, "v" * 1000) for i in range(20)]  # 20 KB > max_header_size 16KB
        s = c.response(c.request("GET", "/echo", headers=big))
        assert s.status == 431 or s.reset_code is not None, (s.status, s.reset_code)
        # The connection goes on.
        s = c.response(c.request("GET", "/echo"))
        assert s.status == 200
    assert up.stats()["requests"] == 2  # the good request and the stats request


def test_goaway_on_shutdown_lets_the_stream_under_way_finish(start_upstream, start_proxy):
    # nghttp prints the frames it receives; Python h2 treats any GOAWAY as the end of the connection.
    up = start_upstream("a")
    proxy = h2c_proxy(start_proxy, up, grace_period_s=10)
    client = subprocess.Popen(["nghttp", "-v", proxy.base_url + "/slow?delay=1.5"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)
    proxy.proc.proc.send_signal(signal.SIGTERM)
    out, _ = client.communicate(timeout=20)
    assert "recv GOAWAY frame" in out, out
    assert re.search(r":status: 200", out) and out.rstrip().endswith("slow") or "slow" in out, out
    assert client.returncode == 0, out
    proxy.proc.proc.wait(timeout=15)


def _reload(proxy, text: str) -> None:
    """Rewrites the proxy's Caddyfile, sends SIGHUP and waits for the log to say it was applied."""
    path = proxy.workdir / "Caddyfile"
    before = proxy.proc.stderr_path.read_text(errors="replace").count("configuration reloaded")
    path.write_text(text)
    proxy.proc.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while proxy.proc.stderr_path.read_text(errors="replace").count("configuration reloaded") == before:
        assert time.monotonic() < deadline, proxy.proc.stderr_path.read_text(errors="replace")[-2000:]
        time.sleep(0.05)


def test_reload_keeps_h2_connections_unless_it_removes_h2c(start_upstream, start_proxy):
    up = start_upstream("a")
    proxy = h2c_proxy(start_proxy, up)
    original = (proxy.workdir / "Caddyfile").read_text()
    with H2Client(proxy.port) as c:
        assert c.response(c.request("GET", "/hello")).data == b"hello"
        # A reload that changes a route: the same connection serves the new route, no GOAWAY.
        _reload(proxy, original.replace('respond /hello "hello" 200', 'respond /hello "hello again" 200'))
        assert c.response(c.request("GET", "/hello")).data == b"hello again"
        assert c.goaway is None
        # A reload that turns h2c off: GOAWAY (the shutdown notice first), and no new stream is taken.
        _reload(proxy, original.replace("protocols h1 h2 h2c", "protocols h1 h2"))
        c.wait(lambda: c.goaway is not None, 10)
        assert c.goaway.error_code == 0
