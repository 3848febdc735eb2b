"""Quick checks of the testbed itself (no `edge join`): the network is sealed, each relay adds the latency
it is set to and can cut its region off, DNS answers with every node, and a single `edge run` in one
region gets a certificate from pebble over HTTP-01 through that DNS."""
from __future__ import annotations

import socket
import time

import pytest

from conftest import partition_mode
from testbed import tls
from testbed.edge import Node, caddyfile
from testbed.resp import Redis
from testbed.services import dns_query_a


def test_network_is_sealed(testbed):
    testbed.topology.check(expect_idle=False)
    for r in testbed.regions:
        # No route beyond the bridge's /24: the kernel refuses before any packet is sent.
        p = r.run(["ip", "-4", "route", "get", "192.0.2.77"])
        assert p.returncode != 0 and "unreachable" in p.stderr.lower(), (p.stdout, p.stderr)
        # The regions reach each other through the bridge.
        for other in testbed.regions:
            assert r.ping(other.address) < 0.5


def test_relays_add_the_configured_latency(testbed):
    """Each region's relay adds 2 x CLUSTER_DELAY_MS to a round trip to Redis (PING loop from inside the
    region's namespace, compared with the relay at 0 ms)."""
    added = 2 * testbed.delay_ms / 1000
    report = []
    for relay in testbed.relays:
        rtt = relay.measure_rtt(samples=20)
        relay.set_delay(0)
        try:
            base = relay.measure_rtt(samples=20)
        finally:
            relay.set_delay(testbed.delay_ms)
        report.append("%s: %.1f ms RTT through the relay (%.2f ms at 0 delay)" % (
            relay.region.name, rtt["median"] * 1000, base["median"] * 1000))
        assert added <= rtt["min"] and rtt["median"] <= added + 0.015, (relay.region.name, rtt)
    print("\n" + "\n".join(report))


def test_relay_blackhole_hangs_then_heals_and_resets(testbed):
    relay = testbed.relays[0]
    region = relay.region

    def connect():  # the socket is made in the region's namespace and stays there; used from here
        return region.inside(lambda: Redis(*relay.listen, timeout=1.5))

    r = connect()
    try:
        assert r.command("PING") == "PONG"
        relay.blackhole("hang")
        try:
            with pytest.raises(socket.timeout):
                r.command("PING")
        finally:
            relay.heal()
        # What waited was delivered when the link came back: the stream is intact.
        assert r.read() == "PONG"
        assert r.command("PING") == "PONG"
        relay.blackhole("reset")
        try:
            with pytest.raises((ConnectionError, OSError)):
                r.command("PING")
            with pytest.raises((ConnectionError, OSError)):
                connect().command("PING")
        finally:
            relay.heal()
        r2 = connect()
        assert r2.command("PING") == "PONG"
        r2.close()
    finally:
        r.close()


def test_partition_cuts_a_region_off_and_heals(testbed):
    region = testbed.regions[-1]
    relay = testbed.relay(region)
    mode = partition_mode()
    if mode == "iptables":
        region.partition()
        try:
            with pytest.raises(OSError):
                region.ping(testbed.topology.host_address, timeout=0.5)
            with pytest.raises(OSError):
                region.inside(lambda: Redis(*relay.listen, timeout=0.5).command("PING"))
            assert region.ping(region.address) < 0.5   # its own address still answers inside the region
        finally:
            region.heal()
        assert region.ping(testbed.topology.host_address) < 0.5
    else:
        relay.blackhole("hang")
        try:
            with pytest.raises(OSError):
                region.inside(lambda: Redis(*relay.listen, timeout=0.5).command("PING"))
        finally:
            relay.heal()
    assert region.inside(lambda: Redis(*relay.listen, timeout=2).command("PING")) == "PONG"
    print("\npartition mechanism: %s" % mode)


def test_dns_answers_every_node_and_nothing_else(testbed):
    testbed.dns.add_a("rr.infra.test", testbed.addresses)
    try:
        assert testbed.dns.query_a("rr.infra.test") == testbed.addresses
        assert dns_query_a((testbed.dns.address, testbed.dns.dns_port), "not-added.infra.test") == []
    finally:
        testbed.dns.clear_a("rr.infra.test")


def test_single_edge_gets_a_certificate_over_http01(testbed, pebble):
    """`edge run` in region a; DNS sends the CA to region a; the certificate verifies under pebble's root."""
    region = testbed.regions[0]
    name = "a.infra.test"
    testbed.dns.add_a(name, [region.address])
    node = Node(region, testbed.workdir / "infra-single")
    issuer = "\ttls {\n\t\tissuer acme {\n\t\t\tdisable_tlsalpn_challenge\n\t\t}\n\t}\n"
    config = caddyfile(pebble, [name], extra_global="\tstorage file_system %s\n" % node.storage,
                       body='\trespond "hello from {host}"\n' + issuer)
    started = time.monotonic()
    node.run(config)
    try:
        node.wait_port(443)
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body, served = tls.get(region.address, name, pebble.issuing_root)
                break
            except (OSError, ValueError) as e:
                if time.monotonic() > deadline or not node.running:
                    raise AssertionError("no valid certificate for %s: %r\n%s" % (name, e, node.describe()))
                time.sleep(0.1)
        print("\ncertificate for %s valid %.2f s after `edge run`" % (name, time.monotonic() - started))
        assert status == 200 and body == b"hello from " + name.encode()
        assert served.sans == [name]
        assert "Pebble" in served.issuer.get("commonName", "")
        assert pebble.orders() == 1
        assert "answered an ACME HTTP-01 validation" in node.log()
    finally:
        node.stop()
        testbed.dns.clear_a(name)
