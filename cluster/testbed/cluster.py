"""One cluster under test: N `edge join` nodes (one per region) sharing a cluster name, a secret, the
Redis behind their relays and one pebble. Each test gets its own cluster name, so nothing of an earlier
test is seen in Redis."""
from __future__ import annotations

import json
import time
from pathlib import Path

from . import tls
from .edge import ClusterKeys, ClusterSecret, Node, caddyfile, cluster_status, config_version
from .procs import Fatal, wait_until
from .resp import Subscriber


class Cluster:
    def __init__(self, testbed, pebble, name: str, workdir: Path):
        self.tb = testbed
        self.pebble = pebble
        self.name = name
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.secret = ClusterSecret(workdir / "cluster.secret")
        self.keys = ClusterKeys(name)
        self.nodes = [Node(r, workdir / ("node-" + r.letter)) for r in testbed.regions]
        self.names: list[str] = []          # the sites of the current configuration
        self.subscriber: Subscriber | None = None
        self.dns_names: list[str] = []

    # -------------------------------------------------- configuration and names

    def config(self, names: list[str] | None = None) -> str:
        return caddyfile(self.pebble, self.names if names is None else names)

    def publish_dns(self, names: list[str], only: list[Node] | None = None, first: Node | None = None) -> None:
        """Every name answers with every node's address (or `only` those), the order rotated per name so
        that the CA's first choice (pebble dials the first address: the node that answers its validation)
        differs between names; `first` puts that node first for every name."""
        addresses = [n.address for n in (only or self.nodes)]
        for i, name in enumerate(names):
            k = addresses.index(first.address) if first else (len(self.dns_names) + i) % len(addresses)
            self.tb.dns.add_a(name, addresses[k:] + addresses[:k])
        self.dns_names.extend(n for n in names if n not in self.dns_names)

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def relay_url(self, node: Node) -> str:
        return self.tb.relay(node.region).url

    # -------------------------------------------------- lifecycle

    def start(self, names: list[str], seed: int = 0, timeout: float = 40) -> None:
        """Node `seed` joins with the configuration (seeding the cluster); the others join without one and
        take the cluster's. Returns when every node's admin API answers and reports Redis connected."""
        self.names = list(names)
        self.publish_dns(names)
        self.subscribe()
        first = self.nodes[seed]
        first.join(self.relay_url(first), self.name, self.secret, config=self.config())
        first.wait_admin(timeout)
        for n in self.nodes:
            if n is not first:
                n.join(self.relay_url(n), self.name, self.secret)
        for n in self.nodes:
            n.wait_admin(timeout)
        self.wait_connected(self.nodes, timeout)

    def subscribe(self) -> Subscriber:
        if self.subscriber is None:
            self.subscriber = Subscriber("127.0.0.1", self.tb.redis.port, self.keys.events)
        return self.subscriber

    def events(self, kind: str | None = None, name: str | None = None) -> list[tuple[float, dict]]:
        """Events seen so far (receive time, event), signature checked, optionally filtered."""
        out = []
        for received, _, payload in list(self.subscriber.messages if self.subscriber else []):
            event = self.secret.verify(payload)
            if (kind is None or event.get("type") == kind) and (name is None or event.get("name") == name):
                out.append((received, event))
        return out

    def wait_event(self, kind: str, name: str | None = None, timeout: float = 30) -> dict:
        def match(payload):
            e = self.secret.verify(payload)
            return e.get("type") == kind and (name is None or e.get("name") == name)
        m = self.subscriber.wait_for(match, timeout)
        if m is None:
            raise AssertionError("no %s event%s within %.0f s; events seen: %s" % (
                kind, " for " + name if name else "", timeout, [e for _, e in self.events()][-20:]))
        return self.secret.verify(m[2])

    def wait_connected(self, nodes: list[Node], timeout: float = 30) -> None:
        for n in nodes:
            wait_until(lambda: self._alive(n) and self.status(n).get("redis") == "connected", timeout, 0.2,
                       "node %s reporting redis connected" % n.id)

    def _alive(self, n: Node) -> bool:
        if not n.running:
            raise Fatal("edge %s exited (%s)\n%s" % (n.id, n.proc.proc.returncode, n.describe()))
        return True

    def status(self, n: Node, timeout: float = 5) -> dict:
        """GET /cluster, from inside the node's region when that region is cut off from the host."""
        if n.region.partitioned:
            return n.region.inside(lambda: n.cluster(timeout))
        return n.cluster(timeout)

    def redis_version(self) -> int | None:
        with self.tb.redis.client() as r:
            return config_version(r, self.keys)

    def wait_version(self, nodes: list[Node], version: int, timeout: float = 30) -> float:
        """Seconds until every node reports config_version >= version."""
        start = time.monotonic()
        for n in nodes:
            wait_until(lambda: self._alive(n) and (self.status(n).get("config_version") or 0) >= version,
                       max(0.5, timeout - (time.monotonic() - start)), 0.1,
                       "node %s at configuration version %d" % (n.id, version))
        return time.monotonic() - start

    def load(self, node: Node, names: list[str]) -> None:
        """POST /load of the configuration with `names` through `node`'s admin API."""
        self.publish_dns([n for n in names if n not in self.dns_names])
        self.names = list(names)
        node.load(self.config())

    # -------------------------------------------------- certificates as served

    def served(self, node: Node, name: str) -> tls.Served:
        """A verified handshake with `node` for `name` (inside the region when it is cut off)."""
        if node.region.partitioned:
            return node.region.inside(lambda: tls.handshake(node.address, name, self.pebble.issuing_root))
        return tls.handshake(node.address, name, self.pebble.issuing_root)

    def fetch(self, node: Node, name: str) -> tuple[int, bytes, tls.Served]:
        if node.region.partitioned:
            return node.region.inside(lambda: tls.get(node.address, name, self.pebble.issuing_root))
        return tls.get(node.address, name, self.pebble.issuing_root)

    def wait_served(self, nodes: list[Node], names: list[str], timeout: float = 60) -> dict:
        """Waits until every node serves every name with a certificate for it that verifies under pebble's
        issuing root and answers the site; returns {(node id, name): Served}."""
        found = {}
        deadline = time.monotonic() + timeout
        last: dict = {}
        while time.monotonic() < deadline:
            for n in nodes:
                self._alive(n)
                for name in names:
                    if (n.id, name) in found:
                        continue
                    try:
                        status, body, served = self.fetch(n, name)
                        assert name in served.sans, served.sans
                        assert status == 200 and body == b"hello from " + name.encode(), (status, body)
                        found[(n.id, name)] = served
                    except Exception as e:  # noqa: BLE001
                        last[(n.id, name)] = e
            if len(found) == len(nodes) * len(names):
                return found
            time.sleep(0.1)
        missing = sorted({(n.id, name) for n in nodes for name in names} - set(found))
        raise AssertionError("not served with a valid certificate within %.0f s: %s\nlast errors: %s" % (
            timeout, missing[:10], {k: repr(v) for k, v in list(last.items()) if k in missing[:10]}))

    # -------------------------------------------------- Redis views

    def lock_holder(self, name: str) -> str | None:
        with self.tb.redis.client() as r:
            value = r.command("GET", self.keys.lock(name))
        return value.decode().split(" ", 1)[0] if value else None

    def stored_certificate(self, name: str) -> bytes | None:
        with self.tb.redis.client() as r:
            return r.command("HGET", self.keys.certificate(name), "v")

    def members(self) -> list[str]:
        with self.tb.redis.client() as r:
            return [k[len(self.keys.prefix) + len("node:"):] for k in r.keys(self.keys.prefix + "node:*")]

    def status_table(self) -> str:
        return cluster_status("redis://127.0.0.1:%d" % self.tb.redis.port, self.name, self.secret)

    # -------------------------------------------------- teardown

    def close(self) -> None:
        errors = []
        for n in self.nodes:
            try:
                n.stop()
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        if self.subscriber:
            self.subscriber.close()
        for name in self.dns_names:
            try:
                self.tb.dns.clear_a(name)
            except Exception:  # noqa: BLE001 - challtestsrv may be gone at session end
                pass
        if errors:
            raise errors[0]

    def describe(self) -> str:
        parts = [n.describe() for n in self.nodes]
        try:
            parts.append("events: " + json.dumps([e for _, e in self.events()][-30:]))
        except Exception:  # noqa: BLE001
            pass
        return "\n\n".join(parts)
