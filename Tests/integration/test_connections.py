"""HTTP/1.1 pipelining on the client side and keep-alive reuse on the upstream side."""
import http.client
import json

from harness import LOOPBACK, ProxyConfig
from rawhttp import Conn, request_bytes


def test_pipelining_ten_requests_one_write(proxy):
    reqs = []
    for i in range(10):
        if i % 3 == 1:  # some carry a body, so the proxy must frame each request exactly
            body = (b"body-%d-" % i) * (i + 1)
            reqs.append(request_bytes("POST", "/echo?i=%d" % i, proxy.host_header, body=body))
        else:
            reqs.append(request_bytes("GET", "/echo?i=%d" % i, proxy.host_header))
    with Conn(proxy.port) as conn:
        conn.send(b"".join(reqs))
        for i in range(10):
            r = conn.read_response()
            assert r.status == 200, (i, r)
            got = json.loads(r.body)
            assert got["path"] == "/echo?i=%d" % i, "response %d out of order: %r" % (i, got["path"])
            if i % 3 == 1:
                assert got["method"] == "POST"
                assert got["body_length"] == len((b"body-%d-" % i) * (i + 1))
            else:
                assert got["method"] == "GET" and got["body_length"] == 0
        # the connection is still open and usable after the pipelined batch
        conn.send(request_bytes("GET", "/hello", proxy.host_header))
        r = conn.read_response()
        assert r.status == 200 and r.body == b"hello"


def test_pipelining_mixed_local_and_proxied(proxy):
    """Responses answered by the proxy itself (/hello) and by the upstream keep request order."""
    paths = ["/hello", "/echo?i=1", "/hello", "/echo?i=3", "/bytes?n=70000&seed=1", "/hello"]
    with Conn(proxy.port) as conn:
        conn.send(b"".join(request_bytes("GET", p, proxy.host_header) for p in paths))
        for p in paths:
            r = conn.read_response()
            assert r.status == 200
            if p == "/hello":
                assert r.body == b"hello"
            elif p.startswith("/echo"):
                assert json.loads(r.body)["path"] == p
            else:
                assert len(r.body) == 70000


def test_upstream_keepalive_reuse(start_upstream, start_proxy):
    up = start_upstream("ka")
    proxy = start_proxy(ProxyConfig(upstreams=[up.address]))
    before = up.stats()
    clients = [http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=10) for _ in range(4)]
    for i in range(200):
        c = clients[i % 4]
        c.request("GET", "/echo?n=%d" % i, headers={"Host": proxy.host_header})
        r = c.getresponse()
        assert r.status == 200
        r.read()
    for c in clients:
        c.close()
    after = up.stats()
    requests = after["requests"] - before["requests"] - 1  # minus this /_stats
    connections = after["connections"] - before["connections"] - 1  # minus this /_stats connection
    assert requests == 200
    assert connections <= 8, "upstream accepted %d connections for 200 proxied requests" % connections
