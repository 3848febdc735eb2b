"""Round robin over two upstreams, and upstream failures: refused (502, or the next upstream when there
is one), too slow (504)."""
import collections
import http.client
import time

from harness import LOOPBACK, ProxyConfig, closed_port
from recording import FixedResponder


def test_round_robin_two_upstreams(start_upstream, start_proxy):
    a, b = start_upstream("a"), start_upstream("b")
    proxy = start_proxy(ProxyConfig(upstreams=[a.address, b.address]))
    seen = collections.Counter()
    c = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=10)
    for i in range(100):
        c.request("GET", "/echo?i=%d" % i, headers={"Host": proxy.host_header})
        r = c.getresponse()
        r.read()
        assert r.status == 200
        seen[r.getheader("X-Upstream-Id")] += 1
    c.close()
    assert set(seen) == {"a", "b"}, seen
    assert seen["a"] >= 30 and seen["b"] >= 30, seen


def test_upstream_refused_is_502(start_proxy):
    proxy = start_proxy(ProxyConfig(upstreams=["%s:%d" % (LOOPBACK, closed_port())]))
    c = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=10)
    for _ in range(2):  # the proxy keeps answering, it does not fall over
        t0 = time.monotonic()
        c.request("GET", "/echo", headers={"Host": proxy.host_header})
        r = c.getresponse()
        r.read()
        assert r.status == 502
        assert time.monotonic() - t0 < 5
        if r.getheader("Connection", "").lower() == "close":
            c.close()
            c = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=10)
    # the proxy itself is fine
    c.request("GET", "/hello", headers={"Host": proxy.host_header})
    r = c.getresponse()
    assert r.status == 200 and r.read() == b"hello"
    c.close()


def test_refused_dial_goes_to_the_next_upstream(start_upstream, start_proxy):
    # One upstream refuses connections: every request, POSTs with bodies too (nothing was sent yet when
    # the dial failed), is answered by the live one, whatever the round-robin cursor picked first.
    live = start_upstream("live")
    dead = "%s:%d" % (LOOPBACK, closed_port())
    proxy = start_proxy(ProxyConfig(upstreams=[dead, live.address, dead]))
    c = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=10)
    for i in range(30):
        method, body = ("POST", b"x" * i) if i % 3 == 0 else ("GET", None)
        c.request(method, "/echo?i=%d" % i, body=body, headers={"Host": proxy.host_header})
        r = c.getresponse()
        r.read()
        assert r.status == 200, (i, r.status)
        assert r.getheader("X-Upstream-Id") == "live"
    c.close()


def test_dropped_idempotent_request_goes_to_the_next_upstream(start_upstream, start_proxy):
    # One upstream takes each request and closes without answering. GETs go on to the live upstream;
    # a POST (not idempotent: it may have had an effect) gets the 502.
    live, dropping = start_upstream("live"), FixedResponder()
    try:
        proxy = start_proxy(ProxyConfig(upstreams=[dropping.address, live.address]))
        for i in range(10):
            c = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=10)
            c.request("GET", "/echo?i=%d" % i, headers={"Host": proxy.host_header})
            r = c.getresponse()
            r.read()
            assert r.status == 200 and r.getheader("X-Upstream-Id") == "live", (i, r.status)
            c.close()
        assert dropping.requests >= 5  # round robin sent about half of them there first
        statuses = collections.Counter()
        for i in range(6):
            c = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=10)
            c.request("POST", "/echo", body=b"once", headers={"Host": proxy.host_header})
            statuses[c.getresponse().status] += 1
            c.close()
        assert statuses[502] >= 1 and statuses[200] >= 1, statuses
    finally:
        dropping.stop()


def test_slow_upstream_is_504(proxy):
    timeout = proxy.config.response_header_timeout_s
    c = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=timeout + 10)
    t0 = time.monotonic()
    c.request("GET", "/slow?delay=%d" % (timeout + 4), headers={"Host": proxy.host_header})
    r = c.getresponse()
    r.read()
    elapsed = time.monotonic() - t0
    assert r.status == 504
    assert timeout - 0.5 <= elapsed < timeout + 3, "504 after %.2fs (response_header_timeout %ds)" % (elapsed, timeout)
    c.close()
    # the proxy keeps serving
    c = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=10)
    c.request("GET", "/slow?delay=0.2", headers={"Host": proxy.host_header})
    r = c.getresponse()
    assert r.status == 200 and r.read() == b"slow"
    c.close()
