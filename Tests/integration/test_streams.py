"""Streaming behaviour: Expect: 100-continue, cancellation when the client leaves, tunnels (half-close,
idle timeout) and back-pressure on a slow reader. Upstreams here are small socket servers in the test,
so each test can see exactly what reached the upstream and when."""
import hashlib
import socket
import threading
import time

import pytest

from harness import LOOPBACK, ProxyConfig
from rawhttp import Conn, request_bytes


class RawUpstream:
    """A one-connection-at-a-time TCP server; `handler(sock, log)` runs per connection in a thread."""

    def __init__(self, handler):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.address = "%s:%d" % (LOOPBACK, self.port)
        self.log = []
        self.handler = handler
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(sock,), daemon=True).start()

    def _run(self, sock):
        try:
            self.handler(sock, self.log)
        except OSError as e:
            self.log.append(("error", repr(e)))
        finally:
            sock.close()

    def close(self):
        self.listener.close()


def read_head(sock) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture
def raw_upstream():
    made = []

    def make(handler):
        up = RawUpstream(handler)
        made.append(up)
        return up
    yield make
    for up in made:
        up.close()


def test_expect_100_continue(proxy):
    body = b"y" * 200_000
    with Conn(proxy.port) as conn:
        head = ("POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                % (proxy.host_header, len(body))).encode()
        conn.send(head)
        interim = conn.read_response(interim=True)
        assert interim.status == 100, "the proxy must invite the body before it is sent"
        conn.send(body)
        final = conn.read_response()
    assert final.status == 200
    assert hashlib.sha256(body).hexdigest() in final.body.decode()


@pytest.mark.edge_only("edge cancels the upstream request at once; nginx waits for proxy_ignore_client_abort rules")
def test_client_gone_cancels_upstream_request(start_proxy, raw_upstream):
    seen = threading.Event()
    closed_at = []

    def hold(sock, log):
        read_head(sock)
        seen.set()
        sock.settimeout(10)
        while sock.recv(4096):  # an upstream that never answers: wait for the proxy to hang up
            pass
        closed_at.append(time.monotonic())

    up = raw_upstream(hold)
    proxy = start_proxy(ProxyConfig(upstreams=[up.address], response_header_timeout_s=30))
    client = socket.create_connection((LOOPBACK, proxy.port))
    client.sendall(request_bytes("GET", "/hold", proxy.host_header, [], b""))
    assert seen.wait(5), "the request never reached the upstream"
    gone = time.monotonic()
    client.close()
    deadline = time.monotonic() + 5
    while not closed_at and time.monotonic() < deadline:
        time.sleep(0.05)
    assert closed_at, "the upstream connection was not closed after the client left"
    assert closed_at[0] - gone < 2


def upgrade_request(host):
    return ("GET /tunnel HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: x-test\r\n\r\n" % host).encode()


@pytest.mark.nginx_differs("nginx does not pass a client's half-close through an upgraded connection")
def test_tunnel_passes_half_close_both_ways(start_proxy, raw_upstream):
    def upgrade_then_echo_until_eof(sock, log):
        head = read_head(sock)
        log.append(("head", head))
        sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x-test\r\n\r\n")
        received = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break  # the client's FIN came through the tunnel
            received += chunk
        log.append(("received", received))
        sock.sendall(b"after-eof:" + received)  # the other direction is still open
        sock.shutdown(socket.SHUT_WR)

    up = raw_upstream(upgrade_then_echo_until_eof)
    proxy = start_proxy(ProxyConfig(upstreams=[up.address]))
    client = socket.create_connection((LOOPBACK, proxy.port))
    client.settimeout(5)
    client.sendall(upgrade_request(proxy.host_header))
    head = read_head(client)
    assert head.startswith(b"HTTP/1.1 101"), head
    assert b"upgrade: x-test" in head.lower()
    rest = head.split(b"\r\n\r\n", 1)[1]
    client.sendall(b"hello tunnel")
    client.shutdown(socket.SHUT_WR)
    while True:
        chunk = client.recv(4096)
        if not chunk:
            break
        rest += chunk
    client.close()
    assert rest == b"after-eof:hello tunnel"
    heads = [v for k, v in up.log if k == "head"]
    assert heads and b"upgrade: x-test" in heads[0].lower() and b"connection: upgrade" in heads[0].lower()


@pytest.mark.edge_only("stream_idle_timeout is an edge option")
def test_idle_tunnel_is_closed(start_proxy, raw_upstream):
    def upgrade_and_wait(sock, log):
        read_head(sock)
        sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x-test\r\n\r\n")
        sock.settimeout(10)
        start = time.monotonic()
        while sock.recv(4096):
            pass
        log.append(("closed_after", time.monotonic() - start))

    up = raw_upstream(upgrade_and_wait)
    proxy = start_proxy(ProxyConfig(upstreams=[up.address], stream_idle_timeout_s=1))
    client = socket.create_connection((LOOPBACK, proxy.port))
    client.settimeout(6)
    client.sendall(upgrade_request(proxy.host_header))
    assert read_head(client).startswith(b"HTTP/1.1 101")
    start = time.monotonic()
    assert client.recv(4096) == b"", "the idle tunnel should be closed"
    assert 0.8 < time.monotonic() - start < 4
    deadline = time.monotonic() + 3
    while not up.log and time.monotonic() < deadline:
        time.sleep(0.05)
    assert up.log and up.log[0][0] == "closed_after"


@pytest.mark.edge_only("reads the proxy's own memory use")
def test_slow_reader_does_not_buffer_the_download(proxy):
    """A 64 MB download to a client that stops reading: edge must stop reading the upstream instead
    of queueing the body in memory, then deliver every byte once the client reads again."""
    def rss_kb():
        with open("/proc/%d/status" % proxy.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    n = 64 * 1024 * 1024
    sock = socket.create_connection((LOOPBACK, proxy.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(request_bytes("GET", "/bytes?n=%d&seed=7" % n, proxy.host_header, [("Connection", "close")], b""))
    before = rss_kb()
    time.sleep(2.0)  # the client reads nothing; the upstream could send everything in this time
    during = rss_kb()
    assert during - before < 16 * 1024, "edge buffered %d KB for a client that is not reading" % (during - before)
    data = b""
    sock.settimeout(30)
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    sock.close()
    head, body = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200")
    assert len(body) == n


@pytest.mark.edge_only("the retry policy is edge's: nginx retries non-idempotent requests too (proxy_next_upstream)")
def test_stale_pooled_connection_is_retried_only_for_idempotent_requests(start_proxy, raw_upstream):
    """Each upstream connection answers its first request and then closes when the next one arrives,
    as an upstream does when its keep-alive timeout races the proxy's reuse."""
    def answer_once_then_drop(sock, log):
        head = read_head(sock)
        log.append(("served", head.split(b"\r\n")[0]))
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        second = read_head(sock)
        if second:
            log.append(("dropped", second.split(b"\r\n")[0]))

    up = raw_upstream(answer_once_then_drop)
    proxy = start_proxy(ProxyConfig(upstreams=[up.address], workers=1))
    with Conn(proxy.port) as conn:
        conn.send(request_bytes("GET", "/one", proxy.host_header, [], b""))
        assert conn.read_response().status == 200
        # The pooled connection is reused, dropped by the upstream, and the GET retried on a new one.
        conn.send(request_bytes("GET", "/two", proxy.host_header, [], b""))
        assert conn.read_response().status == 200
    assert ("dropped", b"GET /two HTTP/1.1") in up.log
    assert ("served", b"GET /two HTTP/1.1") in up.log
    with Conn(proxy.port) as conn:
        # The connection that served /two is pooled and drops its next request: a POST must not be
        # sent again, so the client gets 502 and the upstream never serves it.
        conn.send(request_bytes("POST", "/three", proxy.host_header, [("Content-Length", "0")], b""))
        assert conn.read_response().status == 502
    assert ("dropped", b"POST /three HTTP/1.1") in up.log
    assert ("served", b"POST /three HTTP/1.1") not in up.log
