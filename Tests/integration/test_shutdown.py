"""Graceful stop: in-flight downloads finish, new connections are refused, the process exits 0.

edge stops gracefully on SIGTERM; the nginx stand-in does so on SIGQUIT (its SIGTERM is a fast stop),
so the test sends `proxy.graceful_signal`.
"""
import hashlib
import http.client
import random
import socket
import threading
import time

from harness import LOOPBACK, ProxyConfig
from rawhttp import Conn, ProtocolError, request_bytes

N = 3_000_000


def test_graceful_stop_during_download(start_upstream, start_proxy):
    up = start_upstream("drip")
    proxy = start_proxy(ProxyConfig(upstreams=[up.address], grace_period_s=10))
    result = {}
    got_head = threading.Event()

    def download():
        try:
            c = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=20)
            c.request("GET", "/drip?n=%d&chunks=30&ms=100&seed=5" % N, headers={"Host": proxy.host_header})
            r = c.getresponse()
            result["status"] = r.status
            got_head.set()
            result["body"] = r.read()
            c.close()
        except Exception as e:  # reported by the main thread
            result["error"] = repr(e)
        finally:
            got_head.set()

    t = threading.Thread(target=download)
    t.start()
    assert got_head.wait(10), "no response head for the download"
    time.sleep(0.3)
    t_signal = time.monotonic()
    proxy.proc.signal(proxy.graceful_signal)
    time.sleep(0.5)

    # a new connection after the signal is refused, or closed without being served
    try:
        with Conn(proxy.port, timeout=3) as conn:
            try:
                conn.send(request_bytes("GET", "/echo?late=1", proxy.host_header))
                r = conn.read_response()
                raise AssertionError("a new connection was served after the stop signal: %d" % r.status)
            except (ProtocolError, ConnectionResetError, BrokenPipeError, socket.timeout):
                pass
    except (ConnectionRefusedError, ConnectionResetError):
        pass

    t.join(20)
    assert not t.is_alive(), "download did not finish"
    assert "error" not in result, result.get("error")
    assert result["status"] == 200
    body = result["body"]
    assert len(body) == N
    assert hashlib.sha256(body).digest() == hashlib.sha256(random.Random("5").randbytes(N)).digest()
    assert time.monotonic() - t_signal > 1.5, "the download ended too early to have been in flight"

    code = proxy.proc.proc.wait(timeout=proxy.config.grace_period_s + 2)
    assert code == 0, "exit status %d after the graceful stop" % code
    assert time.monotonic() - t_signal < proxy.config.grace_period_s + 2


def test_idle_keepalive_connection_does_not_delay_stop(start_upstream, start_proxy):
    """An idle keep-alive client must not hold the process until grace_period ends."""
    up = start_upstream("idle")
    proxy = start_proxy(ProxyConfig(upstreams=[up.address], grace_period_s=10))
    with Conn(proxy.port) as conn:
        conn.send(request_bytes("GET", "/echo", proxy.host_header))
        assert conn.read_response().status == 200
        t0 = time.monotonic()
        proxy.proc.signal(proxy.graceful_signal)
        code = proxy.proc.proc.wait(timeout=12)
        assert code == 0
        assert time.monotonic() - t0 < 3, "idle connection delayed the stop by %.1fs" % (time.monotonic() - t0)
