"""The edge nodes: `edge join` (a cluster member) or `edge run` (a single node) inside a region's namespace,
their admin API (port 2019 on the region's address), the shared Caddyfile and the cluster's view in Redis."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
from pathlib import Path

from .procs import Fatal, Process, wait_until
from .resp import Redis
from .services import Pebble, port_open
from .tls import http_get
from .topology import Region

ADMIN_PORT = 2019


def edge_bin() -> str:
    path = os.environ.get("EDGE_BIN")
    if not path:
        repo = Path(__file__).resolve().parent.parent.parent   # cluster/testbed -> cluster -> repo
        path = str(repo / ".build/release/edge")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError("edge binary %s is not there: build it (`make build`) or set EDGE_BIN" % path)
    return path


def caddyfile(pebble: Pebble, names: list[str], extra_global: str = "", body: str | None = None) -> str:
    """The shared configuration: admin on every address of the node, certificates from pebble, one site per
    name answering "hello from <host>" (edge has no per-node placeholder; the client knows which node it
    asked)."""
    site = body or '\trespond "hello from {host}"\n'
    sites = "".join("%s {\n%s}\n" % (name, site) for name in names)
    return ("{\n"
            "\tadmin 0.0.0.0:%d\n"
            "\tacme_ca %s\n"
            "\tacme_ca_root %s\n"
            "\temail ops@cluster.test\n"
            "\tgrace_period 1s\n"
            "%s"
            "}\n%s" % (ADMIN_PORT, pebble.directory, pebble.ca_root, extra_global, sites))


class ClusterSecret:
    """The shared secret file and the event signing key edge derives from it (HKDF-SHA256, empty salt)."""

    def __init__(self, path: Path):
        self.path = path
        if not path.exists():
            path.write_text(os.urandom(48).hex() + "\n")
            path.chmod(0o600)
        raw = path.read_text().strip().encode()
        prk = hmac.new(b"\0" * 32, raw, hashlib.sha256).digest()
        self.signing_key = hmac.new(prk, b"edge cluster v1: signing events\x01", hashlib.sha256).digest()

    def verify(self, payload: bytes) -> dict:
        """The event in a pub/sub message, after checking its signature (ValueError if it does not verify)."""
        body, _, signature = payload.rpartition(b"\n")
        expected = hmac.new(self.signing_key, body, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(expected, signature.strip()):
            raise ValueError("event signature does not verify: %r" % payload[:200])
        return json.loads(body)


class Node:
    """One edge process in a region. `join()` / `run()` start it; `stop()` / `kill9()` end it."""

    def __init__(self, region: Region, workdir: Path, node_id: str | None = None):
        self.region = region
        self.id = node_id or region.letter
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.storage = workdir / "storage"
        self.proc: Process | None = None
        self.starts = 0

    @property
    def address(self) -> str:
        return self.region.address

    def join(self, redis_url: str, cluster: str, secret: ClusterSecret, config: str | None = None,
             extra: list | None = None) -> "Node":
        argv = [edge_bin(), "join", "--redis", redis_url, "--cluster", cluster, "--secret-file", secret.path,
                "--node-id", self.id, "--region", self.region.name, "--storage", self.storage]
        if config is not None:
            path = self.workdir / "seed.Caddyfile"
            path.write_text(config)
            argv += ["--config", path]
        return self._start(argv + list(extra or []))

    def run(self, config: str) -> "Node":
        path = self.workdir / "Caddyfile"
        path.write_text(config)
        return self._start([edge_bin(), "run", "--config", path])

    def _start(self, argv: list) -> "Node":
        self.starts += 1
        self.proc = self.region.start("edge-%s-%d" % (self.id, self.starts), argv, self.workdir)
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.running

    def log(self) -> str:
        return self.proc.log() if self.proc else ""

    def wait_admin(self, timeout: float = 30) -> None:
        """Until the admin API answers on the region's address (the node has a configuration)."""
        def up():
            if not self.running:
                raise Fatal("edge %s exited (%s)\n%s" % (self.id, self.proc.proc.returncode, self.proc.describe()))
            return port_open(self.address, ADMIN_PORT)
        wait_until(up, timeout, 0.1, "admin API of node %s on %s:%d" % (self.id, self.address, ADMIN_PORT))

    def wait_port(self, port: int, timeout: float = 30) -> None:
        def up():
            if not self.running:
                raise Fatal("edge %s exited (%s)\n%s" % (self.id, self.proc.proc.returncode, self.proc.describe()))
            return port_open(self.address, port)
        wait_until(up, timeout, 0.1, "node %s listening on %s:%d" % (self.id, self.address, port))

    # -------------------------------------------------- admin API

    def admin(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
              timeout: float = 10) -> tuple[int, bytes]:
        headers = {"Content-Type": content_type} if content_type else {}
        return http_get(self.address, ADMIN_PORT, path, method=method, body=body, headers=headers, timeout=timeout)

    def load(self, caddyfile_text: str) -> bytes:
        status, body = self.admin("POST", "/load", caddyfile_text.encode(), "text/caddyfile", timeout=30)
        if status != 200:
            raise AssertionError("POST /load on node %s: HTTP %d %s" % (self.id, status, body[:500]))
        return body

    def cluster(self, timeout: float = 5) -> dict:
        status, body = self.admin("GET", "/cluster", timeout=timeout)
        if status != 200:
            raise AssertionError("GET /cluster on node %s: HTTP %d %s" % (self.id, status, body[:300]))
        return json.loads(body)

    def stop(self, timeout: float = 8) -> None:
        if self.proc is not None:
            self.proc.stop(timeout=timeout)
            # Test traffic stays on this machine: a node that tried a public CA fails the test.
            log = self.log()
            if "letsencrypt.org" in log or "zerossl.com" in log:
                raise AssertionError("edge %s tried to reach a public ACME CA:\n%s" % (self.id, self.proc.stderr_tail()))

    def kill9(self) -> None:
        if self.proc is not None:
            self.proc.kill9()

    def describe(self, lines: int = 60) -> str:
        return self.proc.describe(lines) if self.proc else "node %s (not started)" % self.id


def cluster_status(redis_url: str, cluster: str, secret: ClusterSecret, timeout: float = 20) -> str:
    """`edge cluster status` output (stdout + stderr), from the host namespace."""
    p = subprocess.run([edge_bin(), "cluster", "status", "--redis", redis_url, "--cluster", cluster,
                        "--secret-file", str(secret.path)], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("edge cluster status exited %d:\n%s%s" % (p.returncode, p.stdout, p.stderr))
    return p.stdout + p.stderr


class ClusterKeys:
    """The Redis layout of one cluster (prefix edge:<cluster>:)."""

    def __init__(self, cluster: str):
        self.prefix = "edge:%s:" % cluster
        self.config = self.prefix + "config"
        self.events = self.prefix + "events"

    def node(self, node_id: str) -> str:
        return self.prefix + "node:" + node_id

    def certificate(self, name: str) -> str:
        return self.prefix + "s:certificates/%s.crt" % name

    def lock(self, name: str) -> str:
        return self.prefix + "lock:certificate:" + name

    def lock_pattern(self) -> str:
        return self.prefix + "lock:certificate:*"

    def certificate_pattern(self) -> str:
        return self.prefix + "s:certificates/*"


def config_version(r: Redis, keys: ClusterKeys) -> int | None:
    v = r.command("HGET", keys.config, "version")
    return int(v) if v is not None else None
