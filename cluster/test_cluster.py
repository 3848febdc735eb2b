"""Cluster scenarios: three `edge join` nodes, one per region, 50 ms RTT from each region to Redis.

(a) seed 004: a site added through one node is served with a valid certificate by every node, without a
    restart, from exactly one ACME order; then the propagation figure for 50 names.
(b) the node holding a certificate's lock is killed (SIGKILL) mid-order: another completes it after the
    lock's TTL and every surviving node serves it.
(c) Redis stopped for 30 s under load: no failed request; when it is back, every node reconnects and
    the cluster converges.
(d) one region partitioned: it keeps serving; a configuration change made meanwhile reaches it by itself
    within a few seconds of the heal.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import threading
import time

import pytest

from conftest import partition_mode
from testbed.edge import edge_bin
from testbed.load import Load, Prober, describe
from testbed.procs import wait_until

SEED_NAME = "a.test"
PROPAGATION_NAMES = int(os.environ.get("CLUSTER_PROPAGATION_NAMES", "50"))
PARTITION_S = float(os.environ.get("CLUSTER_PARTITION_S", "20"))


def served_everywhere(cluster, nodes, names, timeout=60):
    """Every node serves each name with the same verified certificate; returns {name: fingerprint}."""
    found = cluster.wait_served(nodes, names, timeout)
    prints = {}
    for name in names:
        per_node = {n.id: found[(n.id, name)].fingerprint for n in nodes}
        assert len(set(per_node.values())) == 1, "nodes serve different certificates for %s: %s" % (name, per_node)
        assert found[(nodes[0].id, name)].sans == [name]
        prints[name] = per_node[nodes[0].id]
    return prints


def validations(cluster, name):
    """Node ids that answered the CA's HTTP-01 validation for `name` from their own pending order, and
    those that answered it from the cluster (a token another node put up)."""
    own, from_cluster = set(), set()
    for n in cluster.nodes:
        for line in n.log().splitlines():
            if "HTTP-01" in line and ("host=%s:" % name in line or "host=%s " % name in line):
                (from_cluster if "another node" in line else own).add(n.id)
    return sorted(own), sorted(from_cluster)


# ---------------------------------------------------------------------------------------------- (a)


def test_a_seed_004_every_node_serves_a_new_site_and_propagation(cluster, pebble, results_dir):
    c = cluster
    c.start([])
    a = c.nodes[0]
    version = c.redis_version()
    pids = {n.id: n.proc.pid for n in c.nodes}

    # --- one site, added through node A's admin API; DNS sends the CA to node B first
    c.publish_dns([SEED_NAME], first=c.nodes[1])
    added = time.time()
    c.load(a, [SEED_NAME])
    event = c.wait_event("cert.issued", SEED_NAME, timeout=60)
    prints = served_everywhere(c, c.nodes, [SEED_NAME], timeout=30)
    everywhere = time.time()
    assert {n.id: n.proc.pid for n in c.nodes} == pids and all(n.running for n in c.nodes), "a node restarted"
    assert pebble.orders() == 1, "expected one ACME order for %s, pebble has %d" % (SEED_NAME, pebble.orders())
    assert len(c.events("cert.issued", SEED_NAME)) == 1
    new_version = c.redis_version()
    assert new_version is not None and new_version > (version or 0)
    c.wait_version(c.nodes, new_version, timeout=5)
    own, from_cluster = validations(c, SEED_NAME)
    print("\n%s: ordered by node %s; the CA's validation answered by %s from its own order, by %s from the "
          "cluster; served by all %d nodes %.2f s after POST /load; certificate sha256 %s…" % (
              SEED_NAME, event["node"], own or "-", from_cluster or "-", len(c.nodes), everywhere - added,
              prints[SEED_NAME][:16]))
    if event["node"] != c.nodes[1].id:
        assert from_cluster == [c.nodes[1].id], "node %s (first in DNS) did not answer the validation of node " \
            "%s's order from the cluster (own: %s, from cluster: %s)" % (c.nodes[1].id, event["node"], own, from_cluster)
        assert "answered from the cluster" in c.nodes[1].log()

    # --- the propagation figure: 50 names in one POST /load
    names = ["p%02d.prop.test" % i for i in range(PROPAGATION_NAMES)]
    issued: dict[str, dict] = {}
    prober = Prober([(n.id, n.address) for n in c.nodes], pebble.issuing_root)
    lock = threading.Lock()

    def on_message(received, channel, payload):
        e = c.secret.verify(payload)
        e["_received"] = received
        if e.get("type") == "cert.issued" and e.get("name") in names:
            with lock:
                if e["name"] in issued:
                    issued[e["name"] + "#dup%d" % len(issued)] = e   # a second issuance: counted below
                    return
                issued[e["name"]] = e
            prober.expect(e["name"], [n.id for n in c.nodes if n.id != e["node"]])

    c.subscriber.listeners.append(on_message)
    orders_before = pebble.orders()
    try:
        started = time.time()
        c.load(c.nodes[1], [SEED_NAME] + names)
        wait_until(lambda: all(name in issued for name in names), 180, 0.2,
                   "cert.issued events for all %d names" % len(names))
        all_issued = time.time()
        pairs = [(n.id, name) for name in names for n in c.nodes if n.id != issued[name]["node"]]
        missing = prober.wait(pairs, 30)
        assert not missing, "not served by the other nodes within 30 s of cert.issued: %s" % missing[:10]
        done = time.time()
    finally:
        c.subscriber.listeners.remove(on_message)
        prober.stop()

    delays = [prober.first_ok[(node, name)] - issued[name]["ts"] for node, name in pairs]
    stats = describe(delays)
    # The prober itself must not be what is measured: events reach us ~one relay delay after ts, and the
    # first handshake for a pair starts right then.
    event_lag = describe([issued[name]["_received"] - issued[name]["ts"] for name in names])
    first_try_lag = describe([prober.first_try[p] - issued[p[1]]["ts"] for p in pairs])
    (c.workdir / "propagation-trace.json").write_text(json.dumps({"issued": issued, "trace": prober.trace}))
    orders = pebble.orders() - orders_before
    duplicates = [k for k in issued if "#dup" in k]
    issuers = {}
    for name in names:
        issuers[issued[name]["node"]] = issuers.get(issued[name]["node"], 0) + 1
    answered_cluster = sum(len(validations(c, name)[1]) for name in names)
    summary = {
        "names": len(names), "nodes": len(c.nodes), "pairs": len(pairs), "p50_ms": stats["p50"] * 1000,
        "p99_ms": stats["p99"] * 1000, "max_ms": stats["max"] * 1000, "orders": orders,
        "orders_per_name": orders / len(names), "issue_all_s": all_issued - started, "served_all_s": done - started,
        "issuers": issuers, "names_validated_from_cluster": answered_cluster,
        "handshake_attempts": dict(prober.attempts),
        "event_seen_p50_ms": event_lag["p50"] * 1000, "first_attempt_p99_ms": first_try_lag["p99"] * 1000,
    }
    print("propagation: %s" % summary)
    if results_dir is not None:
        write_propagation(results_dir, c, summary, delays)
    assert not duplicates, "names issued twice: %s" % duplicates
    assert orders == len(names), "%d ACME orders for %d names (want one each)" % (orders, len(names))
    # Every node (the issuer too) serves the same certificate for every name, and nodes answered
    # validations for orders they did not place.
    fingerprints = served_everywhere(c, c.nodes, names, timeout=10)
    for node, name in pairs:
        assert prober.fingerprints[(node, name)] == fingerprints[name], (node, name)
    assert answered_cluster >= 1, "no node answered a validation for another node's order although DNS sent " \
                                  "the CA to every node in turn"


def write_propagation(directory, c, summary, delays) -> None:
    version = subprocess.run([edge_bin(), "version"], capture_output=True, text=True).stdout.strip()
    rev = os.environ.get("CLUSTER_EDGE_REV") or subprocess.run(
        ["git", "-C", str(directory.parent.parent), "rev-parse", "--short", "HEAD"], capture_output=True,
        text=True).stdout.strip()
    if rev:
        version += " at %s" % rev
    day = datetime.date.today().isoformat()
    path = directory / ("%s-propagation.md" % day)
    hist = sorted(delays)
    deciles = ", ".join("%.0f" % (hist[min(len(hist) - 1, int(len(hist) * q / 10))] * 1000) for q in range(11))
    path.write_text(
        "# Certificate propagation across the cluster (%s)\n\n"
        "edge `%s`; %d nodes, one per region (network namespace), each %.0f ms RTT from Redis (userspace relay); "
        "pebble with PEBBLE_VA_NOSLEEP=1; 2-core machine; `cluster/test_cluster.py::test_a_*`.\n\n"
        "%d names added in one `POST /load` through one node. For each name and each node that did not order it: "
        "from the `ts` of the name's `cert.issued` event to that node's first TLS handshake serving the new "
        "certificate (verified under pebble's root, SAN = the name), probed continuously.\n\n"
        "| measure | value |\n|---|---|\n"
        "| (node, name) pairs | %d |\n| p50 | %.0f ms |\n| p99 | %.0f ms |\n| max | %.0f ms |\n"
        "| ACME orders per name | %.2f (%d orders) |\n| all names issued after POST /load | %.1f s |\n"
        "| served by every node after POST /load | %.1f s |\n| orders placed per node | %s |\n"
        "| names whose validation a non-ordering node answered | %d |\n"
        "| harness: event seen by our SUBSCRIBE after ts (p50) / first probe after ts (p99) | %.0f ms / %.0f ms |\n\n"
        "Deciles (ms, min to max): %s\n" % (
            day, version, summary["nodes"], 2 * c.tb.delay_ms, summary["names"], summary["pairs"],
            summary["p50_ms"], summary["p99_ms"], summary["max_ms"], summary["orders_per_name"], summary["orders"],
            summary["issue_all_s"], summary["served_all_s"], summary["issuers"],
            summary["names_validated_from_cluster"], summary["event_seen_p50_ms"], summary["first_attempt_p99_ms"],
            deciles))
    print("wrote %s" % path)


# ---------------------------------------------------------------------------------------------- (b)


@pytest.mark.pebble_env(PEBBLE_VA_NOSLEEP=None, PEBBLE_VA_SLEEPTIME="8")
def test_b_issuer_killed_mid_order_another_node_completes(cluster, pebble, testbed):
    """Pebble sleeps 0-7 s before each validation, so an order stays open for a while. As soon as the
    lock's holder has placed its order (pebble logged it) and no certificate is stored yet, it is
    SIGKILLed. Another node must take over once the lock's TTL has passed."""
    c = cluster
    c.start(["b-seed.test"])   # ports 80/443 open from the start (see test_load_opens_a_port_...)
    c.wait_served(c.nodes, ["b-seed.test"], timeout=30)
    for attempt in range(3):
        name = "killed%d.test" % attempt
        orders = pebble.orders()
        c.load(c.nodes[attempt % len(c.nodes)], c.names + [name])
        owner = wait_until(lambda: c.lock_holder(name), 30, 0.01, "a lock on %s in Redis" % name)
        wait_until(lambda: pebble.orders() > orders or c.stored_certificate(name), 20, 0.02,
                   "an ACME order for %s" % name)
        victims = [n for n in c.nodes if owner.startswith(n.id)]
        assert len(victims) == 1, "lock owner %r matches nodes %s" % (owner, [n.id for n in victims])
        victim = victims[0]
        if c.stored_certificate(name) is None and c.lock_holder(name) == owner:
            victim.kill9()
            killed = time.time()
            break
        print("\nattempt %d: %s was done before the kill; trying another name" % (attempt, name))
    else:
        pytest.fail("three orders completed before the lock holder could be killed")
    survivors = [n for n in c.nodes if n is not victim]
    # The dead node leaves DNS, as a health check would take it out: pebble (like a real CA) validates
    # against one address only, so a dead node first in DNS fails every validation for the name.
    c.publish_dns([name], only=survivors)
    assert victim.address not in testbed.dns.query_a(name)
    print("\nkilled node %s (lock owner %r) while it ordered %s" % (victim.id, owner, name))
    event = c.wait_event("cert.issued", name, timeout=60)
    took = event["ts"] - killed
    assert event["node"] != victim.id
    served_everywhere(c, survivors, [name], timeout=20)
    print("node %s completed %s %.1f s after the kill; %d orders for it in total" % (
        event["node"], name, took, pebble.orders() - orders))
    assert took < 60
    assert c.lock_holder(name) is None or not c.lock_holder(name).startswith(victim.id)


# ---------------------------------------------------------------------------------------------- (c)


def test_c_redis_stopped_30s_under_load(cluster, testbed):
    """Redis is stopped (SAVE, then SIGTERM) for 30 s and started again on the same port with the same data
    (its dump), while clients keep requesting the cached names from every node."""
    c = cluster
    names = ["c%d.outage.test" % i for i in range(1, 4)]
    c.start(names)
    served_everywhere(c, c.nodes, names, timeout=60)
    version = c.redis_version()
    load = Load([(n.id, n.address, None) for n in c.nodes], names, c.pebble.issuing_root, rate=15)
    try:
        time.sleep(2)
        testbed.redis.stop(save=True)
        down = time.monotonic()
        noticed = {}
        for n in c.nodes:
            wait_until(lambda: c.status(n).get("redis") == "disconnected", 25, 0.2,
                       "node %s reporting redis disconnected" % n.id)
            noticed[n.id] = round(time.monotonic() - down, 1)
        time.sleep(max(0.0, 30 - (time.monotonic() - down)))
        testbed.redis.start()
        up = time.monotonic()
        c.wait_connected(c.nodes, timeout=30)
        reconnected = time.monotonic() - up
        c.wait_version(c.nodes, version, timeout=10)
        versions = {n.id: c.status(n).get("config_version") for n in c.nodes}
        assert set(versions.values()) == {version}, versions
        wait_until(lambda: set(c.members()) >= {n.id for n in c.nodes}, 30, 0.5, "every node's heartbeat in Redis")
        converged = time.monotonic() - up
        table = c.status_table()
        for n in c.nodes:
            assert re.search(r"\b%s\b" % re.escape(n.id), table), "node %s missing from:\n%s" % (n.id, table)
        time.sleep(2)
    finally:
        load.stop()
    print("\nnoticed the outage after %s s; reconnected %.1f s after Redis was back, converged after %.1f s; "
          "load: %s\n%s" % (noticed, reconnected, converged, load.summary(), table))
    assert sum(load.failed.values()) == 0, "failed requests: %s\n%s" % (load.summary(), "\n".join(load.failures))
    assert sum(load.ok.values()) > 30 * len(c.nodes)


# ---------------------------------------------------------------------------------------------- (d)


def test_d_partitioned_region_keeps_serving_and_catches_up(cluster, testbed):
    c = cluster
    names = ["d1.part.test", "d2.part.test"]
    c.start(names)
    served_everywhere(c, c.nodes, names, timeout=60)
    cut = c.nodes[-1]
    others = c.nodes[:-1]
    mode = partition_mode()
    if mode == "iptables":
        cut.region.partition()
    else:
        testbed.relay(cut.region).blackhole("hang")
    cut_at = time.monotonic()
    healed = False
    load = None
    try:
        # Clients inside the cut region (they still reach it), and elsewhere on the others.
        load = Load([(cut.id + "-local", cut.address, cut.region.ns)] + [(n.id, n.address, None) for n in others],
                    names, c.pebble.issuing_root, rate=15)
        new = "d3.part.test"
        c.publish_dns([new], only=others)      # the CA, like any client, is sent to reachable regions only
        c.load(others[0], names + [new])
        new_version = c.redis_version()
        served_everywhere(c, others, [new], timeout=60)
        c.wait_version(others, new_version, timeout=10)
        # Hold the partition long enough for the cut node's heartbeat to expire (15 s) and for TCP to
        # back off, as a real cut would: sample what the cut node says about itself meanwhile.
        samples = []   # (seconds into the partition, redis state the cut node reports, seconds GET /cluster took)
        while time.monotonic() - cut_at < PARTITION_S:
            asked = time.monotonic()
            state = c.status(cut, timeout=15).get("redis")
            samples.append((round(asked - cut_at, 1), state, round(time.monotonic() - asked, 1)))
            time.sleep(1)
        members_during = c.members()
        during = c.status(cut, timeout=15)
        assert (during.get("config_version") or 0) < new_version, "the cut node got the new version: %s" % during
        with pytest.raises(Exception):
            c.served(cut, new)
        if mode == "iptables":
            cut.region.heal()
        else:
            testbed.relay(cut.region).heal()
        healed = True
        heal = time.monotonic()
        applied = c.wait_version([cut], new_version, timeout=30)
        served_everywhere(c, [cut], [new], timeout=30)
        serving = time.monotonic() - heal
        after = c.status(cut)
    finally:
        if load:
            load.stop()
        if not healed:
            cut.region.heal()
            testbed.relay(cut.region).heal()
    print("\npartition by %s for %.0f s; GET /cluster on node %s (at s, redis, took s): %s; heartbeats in Redis "
          "at its end: %s" % (mode, PARTITION_S, cut.id, samples, members_during))
    print("during it node %s reported %s; after the heal it applied configuration %d in %.1f s "
          "and served %s in %.1f s (now %s); load: %s" % (
              cut.id, {k: during.get(k) for k in ("redis", "config_version")}, new_version, applied, new,
              serving, {k: after.get(k) for k in ("redis", "config_version")}, load.summary()))
    assert sum(load.failed.values()) == 0, "failed requests: %s\n%s" % (load.summary(), "\n".join(load.failures))
    assert serving <= 10, "the healed node took %.1f s to serve the new name" % serving


# ---------------------------------------------------------------------------------------------- regressions


def test_load_opens_a_port_that_has_time_wait_connections(cluster):
    """A configuration that opens port 80 must load even when that port has connections in TIME_WAIT in the
    node's namespace (here: left by the CA's validations of an earlier node, which edge closed first).
    edge's pre-check `TCPListener.canBind` binds without SO_REUSEADDR, so it refused such a POST /load with
    "port 80 cannot be bound (in use?)" although the listener itself (SO_REUSEADDR) would bind."""
    c = cluster
    first = c.nodes[0]
    c.publish_dns(["tw1.test"], first=first)
    first.join(c.relay_url(first), c.name, c.secret, config=c.config(["tw1.test"]))
    c.names = ["tw1.test"]
    first.wait_admin()
    c.wait_served([first], ["tw1.test"], timeout=30)
    first.stop()
    waiting = [line for line in first.region.run(["ss", "-Htan", "state", "time-wait"]).stdout.splitlines()
               if re.search(r"%s\]?:80\s" % re.escape(first.address), line)]
    assert waiting, "no TIME_WAIT connection on port 80 to set up the case:\n%s" % first.region.run(
        ["ss", "-Htan"]).stdout
    first.join(c.relay_url(first), c.name + "-2", c.secret, config=c.config([]))
    first.wait_admin()
    c.load(first, ["tw2.test"])
