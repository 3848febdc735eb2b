"""What the load-balancing and health-check tests share: an edge node in front of real upstreams with an
admin endpoint of its own, counting which upstream answered (X-Upstream-Id), and upstreams that can be
stopped and started again on the same port."""
from __future__ import annotations

import collections
import http.client
import json
import sys
import time
from pathlib import Path

from harness import LOOPBACK, UPSTREAMS, ManagedProcess, free_port, start_edge


def start_upstream_on(workdir: Path, port: int, ident: str) -> ManagedProcess:
    """http_upstream.py with id `ident` on `port` (e.g. again on the port of one that was stopped)."""
    proc = ManagedProcess("upstream-%s-%d" % (ident, time.monotonic_ns()),
                          [sys.executable, UPSTREAMS / "http_upstream.py", "--port", port, "--id", ident], workdir)
    try:
        proc.wait_for_port(port)
    except BaseException:
        proc.stop()
        raise
    return proc


class Node:
    """edge with one site proxying to `upstreams`, the reverse_proxy block's extra `lines`, and an admin
    endpoint on a free port."""

    def __init__(self, edge_bin: str, workdir: Path, upstreams: list[str], lines: list[str], workers: int = 2):
        self.port, self.admin = free_port(), free_port()
        self.workdir = workdir
        self.upstreams = upstreams
        self.workers = workers
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc = start_edge(edge_bin, workdir, self.caddyfile(lines), self.port, self.admin)

    def caddyfile(self, lines: list[str]) -> str:
        return "\n".join([
            "{", "\tadmin 127.0.0.1:%d" % self.admin, "\tworkers %d" % self.workers, "\tgrace_period 1s", "}",
            "http://%s:%d {" % (LOOPBACK, self.port),
            "\treverse_proxy %s {" % " ".join(self.upstreams),
            *["\t\t" + line for line in lines],
            "\t\ttransport http {", "\t\t\tdial_timeout 2s", "\t\t\tresponse_header_timeout 10s", "\t\t}",
            "\t}", "}", ""])

    def stop(self):
        self.proc.stop()

    def get(self, target: str = "/", headers: dict | None = None, conn=None, timeout: float = 30):
        """(status, upstream id or None, response) for one GET; on `conn` when given (kept open)."""
        c = conn or http.client.HTTPConnection(LOOPBACK, self.port, timeout=timeout)
        c.request("GET", target, headers=headers or {})
        r = c.getresponse()
        r.read()
        if conn is None:
            c.close()
        return r.status, r.getheader("X-Upstream-Id"), r

    def count(self, n: int, target=lambda i: "/echo?i=%d" % i, headers=lambda i: {}) -> collections.Counter:
        """Which upstream answered each of `n` requests on one keep-alive connection (every one must be 200)."""
        seen = collections.Counter()
        c = http.client.HTTPConnection(LOOPBACK, self.port, timeout=30)
        try:
            for i in range(n):
                status, ident, r = self.get(target(i), headers(i), conn=c)
                assert status == 200, (i, status)
                seen[ident] += 1
                if (r.getheader("Connection") or "").lower() == "close":
                    c.close()
                    c = http.client.HTTPConnection(LOOPBACK, self.port, timeout=30)
        finally:
            c.close()
        return seen

    def admin_get(self, path: str):
        c = http.client.HTTPConnection(LOOPBACK, self.admin, timeout=10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def upstream_status(self) -> dict:
        status, data = self.admin_get("/reverse_proxy/upstreams")
        assert status == 200, data
        return {u["address"]: u for u in json.loads(data)}

    def wait_for(self, predicate, timeout: float, what: str) -> float:
        """Polls `predicate(upstream_status())` every 20 ms; the seconds it took. Fails after `timeout`."""
        start = time.monotonic()
        while True:
            listed = self.upstream_status()
            if predicate(listed):
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise AssertionError("%s: not within %.1fs; upstreams: %s\n%s" % (
                    what, timeout, json.dumps(listed, indent=1), self.proc.stderr_tail()))
            time.sleep(0.02)

    def load(self, lines: list[str], force: bool = True):
        """POST /load of the same site with `lines` (a reload; forced even when unchanged)."""
        c = http.client.HTTPConnection(LOOPBACK, self.admin, timeout=10)
        try:
            headers = {"Content-Type": "text/caddyfile"}
            if force:
                headers["Cache-Control"] = "must-revalidate"
            c.request("POST", "/load", body=self.caddyfile(lines).encode(), headers=headers)
            r = c.getresponse()
            body = r.read()
            assert r.status == 200, body
        finally:
            c.close()


def chi_square(counts: list[int]) -> float:
    """Pearson's statistic against an even split."""
    expected = sum(counts) / len(counts)
    return sum((c - expected) ** 2 / expected for c in counts)
