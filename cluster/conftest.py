"""Fixtures of the cluster scenarios (see README.md).

testbed   (session)  bridge + namespaces + Redis + relays + challtestsrv; fails (never skips) without root
pebble    (test)     a fresh pebble (own issuing root); `@pytest.mark.pebble_env(VAR=value, ...)` changes
                     its environment (None removes a variable)
cluster   (test)     a Cluster of one edge node per region (not started), under a cluster name of its own;
                     afterwards every node is stopped, Redis is running again, relays and partitions healed

Environment: EDGE_BIN, CLUSTER_NODES (3), CLUSTER_DELAY_MS (25, one way), CLUSTER_NET (10.231.7),
CLUSTER_PARTITION (auto | iptables | relay), CLUSTER_RESULTS=1 (write results/<date>-*.md),
CLUSTER_KEEP=1 (keep the work directory).
"""
from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from testbed import Testbed  # noqa: E402
from testbed.cluster import Cluster  # noqa: E402
from testbed.topology import SetupError  # noqa: E402

_live: list = []  # objects with describe(), reported when a test fails


def pytest_configure(config):
    config.addinivalue_line("markers", "pebble_env(**env): environment of this test's pebble")
    # A SIGTERM (CI timeout, `kill`) unwinds like Ctrl-C, so every fixture's teardown runs.
    def on_term(signum, frame):
        raise KeyboardInterrupt("SIGTERM")
    signal.signal(signal.SIGTERM, on_term)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for obj in list(_live):
            try:
                report.sections.append(("cluster state", obj.describe()))
            except Exception:  # noqa: BLE001 - reporting must not break the run
                pass


@pytest.fixture(scope="session")
def testbed():
    if os.geteuid() != 0:
        pytest.fail("the cluster testbed must run as root: it creates a bridge, network namespaces and veth "
                    "pairs and runs edge on ports 80/443 inside them (run `sudo python3 -m pytest cluster`)",
                    pytrace=False)
    try:
        tb = Testbed(int(os.environ.get("CLUSTER_NODES", "3")))
    except SetupError as e:
        pytest.fail("cluster testbed setup failed: %s" % e, pytrace=False)
    print("\ntestbed: %s (work directory %s)" % (tb.topology.describe().replace("\n", "; "), tb.workdir))
    try:
        yield tb
    finally:
        try:
            tb.close()
        finally:
            if not os.environ.get("CLUSTER_KEEP"):
                tb.remove_workdir()


def _test_id(request) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:40].lower()


@pytest.fixture
def pebble(testbed, request):
    env = {}
    for m in request.node.iter_markers("pebble_env"):
        env.update(m.kwargs)
    p = testbed.new_pebble("pebble-" + _test_id(request), env=env)
    _live.append(p.proc)
    try:
        yield p
    finally:
        _live.remove(p.proc)
        p.stop()
        testbed.pebbles.remove(p)


@pytest.fixture
def cluster(testbed, pebble, request):
    name = "t-" + _test_id(request)
    c = Cluster(testbed, pebble, name, testbed.workdir / name)
    _live.append(c)
    try:
        yield c
    finally:
        _live.remove(c)
        errors = []
        for step in [c.close] + [r.heal for r in testbed.regions] + [x.heal for x in testbed.relays]:
            try:
                step()
            except Exception as e:  # noqa: BLE001 - every step runs
                errors.append(e)
        if testbed.redis.proc is None:
            testbed.redis.start()
        elif not testbed.redis.proc.running:
            testbed.redis.proc.stop()
            testbed.redis.proc = None
            testbed.redis.start()
        else:
            testbed.redis.resume()
        if errors:
            raise errors[0]


def partition_mode() -> str:
    import shutil
    mode = os.environ.get("CLUSTER_PARTITION", "auto")
    if mode == "auto":
        return "iptables" if shutil.which("iptables") else "relay"
    if mode not in ("iptables", "relay"):
        raise pytest.UsageError("CLUSTER_PARTITION must be auto, iptables or relay")
    return mode


@pytest.fixture
def results_dir():
    """cluster/results when CLUSTER_RESULTS=1, else None."""
    if not os.environ.get("CLUSTER_RESULTS"):
        return None
    d = Path(__file__).resolve().parent / "results"
    d.mkdir(exist_ok=True)
    return d
