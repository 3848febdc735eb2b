"""Client traffic against the nodes: a steady request load that counts failures, and a prober that times
when each node first serves a name's new certificate."""
from __future__ import annotations

import collections
import statistics
import threading
import time
from pathlib import Path

from . import tls
from .topology import enter_namespace


class Load:
    """Threads that each request https://<name>/ from one node (a new connection, so a new handshake, per
    request) round robin over `names`, at most `rate` requests a second per target, until `stop()`.
    A request fails unless the chain verifies under `cafile`, the certificate is the name's, the status
    is 200 and the body is the site's. `targets`: (label, address, namespace or None to run from the host)."""

    def __init__(self, targets: list[tuple[str, str, str | None]], names: list[str], cafile: Path,
                 rate: float = 20.0, expect_body=None):
        self.names = list(names)
        self.cafile = cafile
        self.interval = 1.0 / rate
        self.expect_body = expect_body or (lambda name: b"hello from " + name.encode())
        self.ok = collections.Counter()
        self.failed = collections.Counter()
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=t, name="load-" + t[0], daemon=True) for t in targets]
        for t in self.threads:
            t.start()

    def _loop(self, label: str, address: str, ns: str | None) -> None:
        if ns:
            enter_namespace(ns)
        i = 0
        next_at = time.monotonic()
        while not self.stopping.is_set():
            name = self.names[i % len(self.names)]
            i += 1
            try:
                status, body, served = tls.get(address, name, self.cafile, timeout=5)
                if status != 200 or body != self.expect_body(name):
                    raise AssertionError("HTTP %d %r" % (status, body[:100]))
                with self.lock:
                    self.ok[label] += 1
            except Exception as e:  # noqa: BLE001 - every failure is counted and kept
                with self.lock:
                    self.failed[label] += 1
                    if len(self.failures) < 50:
                        self.failures.append("%.3f %s %s %s: %r" % (time.time(), label, address, name, e))
            next_at += self.interval
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stopping.wait(delay)
            else:
                next_at = time.monotonic()

    def stop(self) -> "Load":
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=10)
        return self

    def summary(self) -> str:
        labels = sorted(set(self.ok) | set(self.failed))
        return ", ".join("%s %d ok/%d failed" % (label, self.ok[label], self.failed[label]) for label in labels)


class Prober:
    """Hammers handshakes: `expect(name)` starts, for each node, a thread of its own that tries handshakes
    with SNI `name` back to back until the node serves a certificate for the name that verifies under
    `cafile`; the wall-clock time (comparable with an event's ts) at which that first successful handshake
    completed is recorded per (node, name). One thread per (node, name), so a handshake that a node holds
    (while it loads a certificate) never delays the probing of another name."""

    def __init__(self, nodes: list[tuple[str, str]], cafile: Path, timeout: float = 5.0):
        self.cafile = cafile
        self.addresses = dict(nodes)  # label -> address
        self.timeout = timeout
        self.first_ok: dict[tuple[str, str], float] = {}
        self.fingerprints: dict[tuple[str, str], str] = {}
        self.expected_at: dict[tuple[str, str], float] = {}
        self.first_try: dict[tuple[str, str], float] = {}
        self.tries: collections.Counter = collections.Counter()
        self.attempts: collections.Counter = collections.Counter()
        self.trace: list[tuple] = []   # (node, name, start, end, ok, error)
        self.cond = threading.Condition()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def expect(self, name: str, nodes: list[str] | None = None) -> None:
        for label in nodes or list(self.addresses):
            with self.cond:
                if (label, name) in self.expected_at:
                    continue
                self.expected_at[(label, name)] = time.time()
            t = threading.Thread(target=self._probe, args=(label, name), name="probe-%s-%s" % (label, name),
                                 daemon=True)
            t.start()
            self.threads.append(t)

    def _probe(self, label: str, name: str) -> None:
        address = self.addresses[label]
        while not self.stopping.is_set():
            started = time.time()
            error = None
            try:
                served = tls.handshake(address, name, self.cafile, timeout=self.timeout)
                ok = name in served.sans
            except Exception as e:  # noqa: BLE001 - not yet
                ok, error = False, e
            now = time.time()
            with self.cond:
                self.trace.append((label, name, started, now, ok, repr(error)[:100] if error else None))
                self.attempts[label] += 1
                self.tries[(label, name)] += 1
                self.first_try.setdefault((label, name), started)
                if ok:
                    self.first_ok[(label, name)] = now
                    self.fingerprints[(label, name)] = served.fingerprint
                    self.cond.notify_all()
                    return
            self.stopping.wait(0.005)

    def wait(self, pairs: list[tuple[str, str]], timeout: float) -> list[tuple[str, str]]:
        """Waits until every (node, name) pair succeeded; returns those that did not in time."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                missing = [p for p in pairs if p not in self.first_ok]
                left = deadline - time.monotonic()
                if not missing or left <= 0:
                    return missing
                self.cond.wait(min(left, 0.5))

    def stop(self) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=self.timeout + 1)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def describe(values: list[float]) -> dict:
    return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99),
            "max": max(values) if values else float("nan"),
            "mean": statistics.mean(values) if values else float("nan")}
