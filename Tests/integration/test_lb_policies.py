"""Each lb_policy through edge to three real upstreams, counting which one answered (X-Upstream-Id):
round robin and weighted round robin exactly, random within a chi-square bound, the hash policies stable
per key and spread over keys, first, sticky cookies that move when their upstream dies, and least_conn
steering around slow requests in flight."""
import collections
import http.client
import threading
import time

import pytest

from balancing import Node, chi_square
from harness import LOOPBACK

pytestmark = pytest.mark.edge_only("load-balancing policies and the admin endpoint")


@pytest.fixture
def three(start_upstream):
    return [start_upstream(name) for name in ("a", "b", "c")]


@pytest.fixture
def node(edge_bin, tmp_path, three):
    started = []

    def start(*lines, workers=2):
        n = Node(edge_bin, tmp_path / ("edge%d" % len(started)), [u.address for u in three], list(lines), workers=workers)
        started.append(n)
        return n
    yield start
    for n in started:
        n.stop()


def test_round_robin_gives_exact_thirds(node):
    seen = node("lb_policy round_robin").count(999)
    assert seen == {"a": 333, "b": 333, "c": 333}, seen


def test_weighted_round_robin_is_exact_and_interleaved(node):
    n = node("lb_policy weighted_round_robin 3 1 1")
    seen = n.count(1000)
    assert seen == {"a": 600, "b": 200, "c": 200}, seen
    # Smooth: a never answers three times in a row (the cycle is a b a c a).
    order = [n.get("/")[1] for _ in range(20)]
    assert not any(order[i] == order[i + 1] == order[i + 2] == "a" for i in range(18)), order


def test_random_is_roughly_even(node):
    seen = node("lb_policy random").count(1000)
    counts = [seen[x] for x in "abc"]
    # 2 degrees of freedom: 13.8 is the 0.1% tail of an even split.
    assert chi_square(counts) < 13.8, seen


def test_random_choose_uses_every_upstream(node):
    seen = node("lb_policy random_choose 2").count(300)
    assert set(seen) == {"a", "b", "c"} and min(seen.values()) > 30, seen


def test_first_sends_everything_to_the_first(node):
    assert node("lb_policy first").count(1000) == {"a": 1000}


@pytest.mark.parametrize("policy", ["ip_hash", "client_ip_hash"])
def test_ip_hash_keeps_a_client_and_spreads_clients(node, policy):
    n = node("lb_policy " + policy)
    # One client: one upstream.
    one = n.count(200)
    assert len(one) == 1, one
    # Many clients (loopback source addresses 127.0.0.2…): every upstream gets some, and each client
    # keeps its own across connections.
    owner = {}
    for i in range(2, 42):
        source = "127.0.0.%d" % i
        answers = set()
        for _ in range(2):
            c = http.client.HTTPConnection(LOOPBACK, n.port, timeout=10, source_address=(source, 0))
            for _ in range(10):
                status, ident, _ = n.get("/echo", conn=c)
                assert status == 200
                answers.add(ident)
            c.close()
        assert len(answers) == 1, (source, answers)
        owner[source] = answers.pop()
    spread = collections.Counter(owner.values())
    assert set(spread) == {"a", "b", "c"}, spread


def test_uri_hash_keeps_a_uri_and_spreads_uris(node):
    n = node("lb_policy uri_hash")
    for uri in ("/x", "/y?q=1", "/z/w"):
        seen = n.count(100, target=lambda i: uri)
        assert len(seen) == 1, (uri, seen)
    by_uri = collections.defaultdict(set)
    for i in range(700):
        by_uri[i % 70].add(n.get("/item/%d" % (i % 70))[1])
    assert all(len(owners) == 1 for owners in by_uri.values())
    assert set().union(*by_uri.values()) == {"a", "b", "c"}


def test_header_hash_keeps_a_value_and_falls_back_when_absent(node):
    n = node("lb_policy header X-User")
    owners = {}
    for i in range(1000):
        user = "user-%d" % (i % 50)
        status, ident, _ = n.get("/echo", headers={"X-User": user})
        assert status == 200
        assert owners.setdefault(user, ident) == ident, (user, owners[user], ident)
    assert set(owners.values()) == {"a", "b", "c"}
    # Without the field: the fallback (random) spreads requests.
    assert set(n.count(90)) == {"a", "b", "c"}


def test_query_hash_keeps_a_value(node):
    n = node("lb_policy query shard {", "\tfallback first", "}")
    owners = {}
    for i in range(1000):
        shard = "s%d" % (i % 40)
        status, ident, _ = n.get("/echo?x=%d&shard=%s" % (i, shard))
        assert status == 200
        assert owners.setdefault(shard, ident) == ident
    assert set(owners.values()) == {"a", "b", "c"}
    assert n.count(50, target=lambda i: "/echo?other=%d" % i) == {"a": 50}


def cookie_from(response, name="lb"):
    for header, value in response.getheaders():
        if header.lower() == "set-cookie" and value.startswith(name + "="):
            return value.split(";")[0].split("=", 1)[1], value
    return None, None


def test_cookie_is_sticky_and_moves_when_its_upstream_dies(node, three):
    n = node("lb_policy cookie lb s3cret")
    status, first, r = n.get("/echo")
    value, field = cookie_from(r)
    assert status == 200 and value and len(value) == 64, r.getheaders()
    assert "Path=/" in field and "HttpOnly" in field
    # The cookie keeps every request on its upstream, and is not set again.
    for _ in range(200):
        status, ident, r = n.get("/echo", headers={"Cookie": "other=1; lb=%s" % value})
        assert (status, ident) == (200, first)
        assert cookie_from(r)[0] is None
    # Its upstream dies: the next request goes elsewhere and gets a cookie naming the new one.
    next(u for u in three if u.id == first).stop()
    status, moved, r = n.get("/echo", headers={"Cookie": "lb=%s" % value})
    new_value, _ = cookie_from(r)
    assert status == 200 and moved != first and new_value and new_value != value
    for _ in range(100):
        assert n.get("/echo", headers={"Cookie": "lb=%s" % new_value})[:2] == (200, moved)
    # A cookie naming no upstream is replaced.
    status, _, r = n.get("/echo", headers={"Cookie": "lb=forged"})
    assert status == 200 and cookie_from(r)[0] not in (None, "forged")


def test_least_conn_sends_new_requests_to_the_idle_upstream(node):
    n = node("lb_policy least_conn")
    slow = []

    def slow_request():
        status, ident, _ = n.get("/slow?delay=2.5")
        slow.append((status, ident))

    threads = [threading.Thread(target=slow_request) for _ in range(2)]
    for started, t in enumerate(threads, 1):
        t.start()
        # The second slow request must find the first in flight.
        n.wait_for(lambda listed: sum(u["num_requests"] for u in listed.values()) == started, 5, "slow requests in flight")
    busy = {address for address, u in n.upstream_status().items() if u["num_requests"] == 1}
    assert len(busy) == 2
    seen = n.count(50)
    for t in threads:
        t.join()
    slow_ids = {ident for _, ident in slow}
    assert len(slow_ids) == 2 and all(status == 200 for status, _ in slow), slow
    (idle,) = {"a", "b", "c"} - slow_ids
    assert seen == {idle: 50}, (seen, slow)
