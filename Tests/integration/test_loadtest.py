"""The load-test suite's own parts (loadtest/): the generators count what they say they count, and the
suite's smoke run through edge passes (no failed request, no WebSocket dropped by a reload)."""
import json
import os
import subprocess
import sys
import time

import pytest

from harness import REPO_ROOT, free_port, port_accepts

LOADTEST = REPO_ROOT / "loadtest"


@pytest.fixture(scope="module")
def edgeload(tmp_path_factory):
    out = tmp_path_factory.mktemp("edgeload") / "edgeload"
    subprocess.run(["cc", "-O2", "-Wall", "-o", str(out), str(LOADTEST / "gen/edgeload.c"), "-lcrypto"], check=True)
    return str(out)


def wait_for_port(port, proc):
    deadline = time.monotonic() + 10
    while not port_accepts(port):
        assert proc.poll() is None and time.monotonic() < deadline, "nothing listens on %d" % port
        time.sleep(0.05)


def hashes(path, n):
    path.write_text("\n".join(os.urandom(20).hex() for _ in range(n)) + "\n")
    return path


def run_json(argv, timeout=60):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_announce_generator_counts_refusals_as_failures(edgeload, tmp_path):
    # opentracker in whitelist mode answers an unknown info_hash with a bencoded failure: the generator
    # must count those as failed, and the whitelisted ones as ok.
    tmp_path.chmod(0o755)  # opentracker drops its privileges before it reads the whitelist
    hashes(tmp_path / "allowed.txt", 50)
    hashes(tmp_path / "unknown.txt", 50)
    port = free_port()
    tracker = subprocess.Popen(["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P", str(port), "-d", str(tmp_path),
                                "-w", "allowed.txt"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, tracker)
        good = run_json([edgeload, "announce", "-k", str(tmp_path / "allowed.txt"), "-c", "4", "-d", "1", "-w", "0",
                         "127.0.0.1", str(port)])
        assert good["ok"] > 100 and good["failed"] == 0, good
        bad = run_json([edgeload, "announce", "-k", str(tmp_path / "unknown.txt"), "-c", "4", "-d", "1", "-w", "0",
                        "-S", "0", "127.0.0.1", str(port)])
        # opentracker answers event=stopped (a tenth of the announces) without looking at the whitelist;
        # everything else must have been counted as failed
        assert bad["failed"] > 100 and bad["ok"] < 0.2 * (bad["ok"] + bad["failed"]), bad
    finally:
        tracker.kill()
        tracker.wait()


def test_ws_generator_times_echoes_and_broadcasts(edgeload):
    port = free_port()
    server = subprocess.Popen([edgeload, "ws-serve", str(port), "200", "100"])
    try:
        wait_for_port(port, server)
        r = run_json([edgeload, "ws", "-c", "20", "-m", "500", "-d", "2", "-w", "0", "-p", "/ws?subscribe",
                      "127.0.0.1", str(port)])
        assert r["connected"] == 20 and r["failed"] == 0 and r["dropped"] == 0, r
        assert r["echoed"] == r["sent"] and r["sent"] >= 900, r
        # 20 subscribers × a broadcast every 200 ms × 2 s, give or take the edges of the window
        assert 150 <= r["broadcasts"] <= 260, r
        assert 0 < r["echo"]["p50_ms"] <= r["echo"]["p99_ms"] <= r["echo"]["max_ms"], r
        assert r["broadcast"]["n"] > 0 and r["broadcast"]["p50_ms"] > 0, r
        # without "subscribe" in the target, no broadcasts
        quiet = run_json([edgeload, "ws", "-c", "5", "-d", "1", "-w", "0", "127.0.0.1", str(port)])
        assert quiet["connected"] == 5 and quiet["broadcasts"] == 0, quiet
    finally:
        server.kill()
        server.wait()


@pytest.mark.edge_only("runs the suite's smoke sizes through edge")
def test_suite_smoke_through_edge(edge_bin, tmp_path):
    rows = tmp_path / "rows.json"
    r = subprocess.run([sys.executable, str(LOADTEST / "suite/run.py"), "--smoke", "--proxies", "edge",
                        "--scenarios", "announce,ws-chatter,reload,failover", "--json", str(rows)],
                       capture_output=True, text=True, timeout=300, env=dict(os.environ, EDGE_BIN=edge_bin))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    got = {(row["scenario"], row["proxy"]): row for row in json.loads(rows.read_text())}
    assert got[("announce", "edge")]["req_s"] > 0 and got[("announce", "edge")]["failed"] == 0
    assert got[("ws-chatter", "edge")]["failed"] == 0
    reload = got[("reload", "edge")]
    assert reload["ok"] > 0 and reload["failed"] == 0 and reload["ws_dropped"] == 0 and reload["ws_lost"] == 0, reload
    failover = got[("failover", "edge")]
    assert failover["ok"] > 0 and failover["failed"] == 0, failover
