"""The multi-region test bed for edge clusters: see cluster/README.md."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .procs import LEDGER
from .topology import Topology


class Testbed:
    """Topology + Redis + one relay per region + challtestsrv, all stopped by `close()` (idempotent, runs
    every step even when one fails). Pebble is separate (`new_pebble`) so a test can have its own."""

    def __init__(self, n: int = 3, delay_ms: float | None = None, workdir: Path | None = None):
        from .services import ChallTestSrv, RedisServer, start_relays
        self.delay_ms = float(os.environ.get("CLUSTER_DELAY_MS", "25")) if delay_ms is None else delay_ms
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="edge-cluster-"))
        self._own_workdir = workdir is None
        self.topology = Topology(n)
        self.redis = None
        self.relays = []
        self.dns = None
        self.pebbles = []
        try:
            self.topology.create()
            self.redis = RedisServer(self.workdir / "redis")
            self.relays = start_relays(self.topology.regions, self.topology.host_address, self.redis.port,
                                       self.workdir / "relays", self.delay_ms)
            self.dns = ChallTestSrv(self.workdir / "dns", self.topology.host_address)
        except BaseException:
            self.close()
            raise

    @property
    def regions(self):
        return self.topology.regions

    @property
    def addresses(self) -> list[str]:
        return [r.address for r in self.regions]

    def relay(self, region):
        return next(x for x in self.relays if x.region is region)

    def new_pebble(self, name: str = "pebble", env: dict | None = None, config: dict | None = None):
        from .services import Pebble
        p = Pebble(self.workdir / name, self.topology.host_address, self.dns, env=env, config=config, label=name)
        self.pebbles.append(p)
        return p

    def close(self) -> None:
        errors = []
        steps = [p.stop for p in reversed(self.pebbles)]
        if self.dns:
            steps.append(self.dns.stop)
        steps += [relay.proc.stop for relay in self.relays]
        if self.redis:
            steps.append(self.redis.stop)
        steps.append(self.topology.destroy)
        for step in steps:
            try:
                step()
            except Exception as e:  # noqa: BLE001 - every step runs; the first error is raised
                errors.append(e)
        self.pebbles, self.relays, self.dns, self.redis = [], [], None, None
        if errors:
            raise errors[0]
        LEDGER.unlink(missing_ok=True)   # everything recorded there was stopped

    def remove_workdir(self) -> None:
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
