#!/usr/bin/env python3
"""Hostile clients against a node with its default limits, each attack for a minute or so, and a Markdown
table of what it cost: the attackers' connections, the node's RSS before / at its peak / after, and a
legitimate client's latency (one GET of /hello on a new connection every 100 ms) and failures meanwhile.

    EDGE_BIN=.build/release/edge python3 loadtest/harden/attacks.py [--seconds 60] [--only slowloris,...]

Attacks: slowloris, slowloris-over-limit, slow-body, slow-read (slowhttptest -H/-B/-X), idle-flood (TCP
connections that send nothing), tls-hello (a ClientHello, then nothing), tls-silent (TCP connect to the TLS
port, nothing), and slow-read-again (a second round, to tell retained heap from a leak). The node runs `workers 2` and the defaults (read_header 10 s, read_body 60 s, write 60 s,
idle 5 min, min_body_rate 1 kB/s, max_connections from the open-file limit); a Python upstream
(Tests/integration/upstreams/http_upstream.py) sits behind it. Everything listens on 127.0.0.1, ports
30280-30283; every process started is stopped by PID. The table goes to
loadtest/results/<date>-hostile.md (and stdout).
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "Tests" / "integration"))
import hostile  # noqa: E402

EDGE = os.environ.get("EDGE_BIN") or str(ROOT / ".build/release/edge")
HTTP_PORT, UPSTREAM_PORT, REDIRECT_PORT, TLS_PORT = 30280, 30281, 30282, 30283

CADDYFILE = """{{
	workers 2
	admin off
	http_port {redirect}
	https_port {tls}
	local_certs
	auto_https disable_redirects
	storage file_system {storage}
	log {{
		level warn
	}}
}}
http://127.0.0.1:{http} {{
	respond /hello "hello" 200
	reverse_proxy 127.0.0.1:{upstream}
}}
https://a.test:{tls} {{
	tls internal
	respond /hello "hello" 200
}}
"""


class Node:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []

    def start(self):
        up = subprocess.Popen([sys.executable, str(ROOT / "Tests/integration/upstreams/http_upstream.py"),
                               "--port", str(UPSTREAM_PORT), "--id", "attacks"],
                              stdout=subprocess.DEVNULL, stderr=open(self.workdir / "upstream.log", "wb"))
        self.procs.append(up)
        config = self.workdir / "Caddyfile"
        config.write_text(CADDYFILE.format(redirect=REDIRECT_PORT, tls=TLS_PORT, http=HTTP_PORT, upstream=UPSTREAM_PORT,
                                           storage=self.workdir / "storage"))
        self.edge = subprocess.Popen([EDGE, "run", "--config", str(config)], stdout=subprocess.DEVNULL,
                                     stderr=open(self.workdir / "edge.log", "wb"))
        self.procs.append(self.edge)
        self.root = self.workdir / "storage/pki/authorities/local/root.crt"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.root.is_file() and all(_accepts(p) for p in (HTTP_PORT, TLS_PORT, UPSTREAM_PORT)):
                return
            if self.edge.poll() is not None:
                raise SystemExit("edge exited:\n" + (self.workdir / "edge.log").read_text())
            time.sleep(0.1)
        raise SystemExit("edge did not start:\n" + (self.workdir / "edge.log").read_text())

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    def max_connections(self) -> str:
        for line in (self.workdir / "edge.log").read_text().splitlines():
            if "max_connections=" in line:
                return line.split("max_connections=")[1].split()[0]
        return "?"


def _accepts(port: int) -> bool:
    import socket
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


def settle(pid: int, seconds: float = 3.0) -> int:
    time.sleep(seconds)
    return hostile.rss_kib(pid)


def run_attack(name: str, node: Node, seconds: int, workdir: Path) -> dict:
    pid = node.edge.pid
    tls = name.startswith("tls")
    ctx = ssl.create_default_context(cafile=str(node.root)) if tls else None
    legit = (hostile.LegitClient(TLS_PORT, "a.test", interval=0.1, tls_context=ctx, server_name="a.test") if tls
             else hostile.LegitClient(HTTP_PORT, "127.0.0.1:%d" % HTTP_PORT, interval=0.1))
    before = settle(pid, 2)
    fds_before = hostile.open_fds(pid)
    peak_fds = 0
    attackers = ""
    note = ""
    url = "http://127.0.0.1:%d" % HTTP_PORT
    with hostile.RssSampler(pid, 0.5) as rss, legit:
        t0 = time.monotonic()
        if name in ("slowloris", "slowloris-over-limit", "slow-body", "slow-read", "slow-read-again"):
            spec = {  # mode, path, connections, per second, seconds between follow-up bytes, extra flags
                "slowloris": ("H", "/echo", 4000, 500, 5, []),
                "slowloris-over-limit": ("H", "/echo", 14000, 2000, 5, []),
                "slow-body": ("B", "/echo", 4000, 500, 5, ["-s", "1000000"]),
                "slow-read": ("X", "/bytes?n=4000000", 2000, 500, 1,
                              ["-k", "2", "-n", "1", "-w", "512", "-y", "1024", "-z", "32"]),
            }[name.removesuffix("-again")]
            mode, path, conns, rate, interval, extra = spec
            # A slow body is cut by min_body_rate only after the first read_body (60 s): run past it.
            length = max(seconds, 100) if name == "slow-body" else seconds
            attack = hostile.Slowhttptest(mode, url + path, workdir / name, conns, rate, length, interval, extra)
            attack.start()
            while attack.proc.poll() is None and time.monotonic() - t0 < length + 30:
                peak_fds = max(peak_fds, hostile.open_fds(pid))
                time.sleep(0.5)
            attack.wait(timeout=10)
            stats = attack.stats()
            attackers = "%d asked, %d connected at peak (slowhttptest)" % (conns, stats.peak_connected)
            note = "slowhttptest ran %d s, last: %d closed, %d connected" % (
                stats.rows[-1]["seconds"] if stats.rows else 0, stats.final["closed"], stats.final["connected"])
        else:
            count = {"idle-flood": 15000, "tls-hello": 5000, "tls-silent": 5000}[name]
            payload = hostile.client_hello("a.test") if name == "tls-hello" else b""
            port = TLS_PORT if tls else HTTP_PORT
            socks = hostile.open_connections(port, count, payload, rate=2000)
            opened = time.monotonic() - t0
            closed_at = None
            while time.monotonic() - t0 < seconds:
                peak_fds = max(peak_fds, hostile.open_fds(pid))
                if closed_at is None and hostile.closed_by_peer(socks) >= len(socks):
                    closed_at = time.monotonic() - t0
                time.sleep(0.5)
            closed = hostile.closed_by_peer(socks)
            hostile.close_all(socks)
            attackers = "%d opened in %.1f s" % (len(socks), opened)
            note = ("all closed by the node within %.0f s" % closed_at if closed_at is not None
                    else "%d of %d closed by the node after %d s" % (closed, len(socks), seconds))
        during = rss.peak
    after = settle(pid, 5)
    s = legit.summary()
    return {"attack": name, "attackers": attackers, "held": max(0, peak_fds - fds_before), "before": before,
            "peak": during, "after": after, "legit": s, "note": note}


def table(rows: list[dict], node: Node, seconds: int) -> str:
    out = [
        "# Hostile clients against edge (loadtest/harden/attacks.py), %s" % datetime.date.today().isoformat(),
        "",
        "One node (`workers 2`, default limits: read_header 10 s, read_body 60 s, write 60 s, idle 5 min,",
        "min_body_rate 1 kB/s, max_connections %s from the open-file limit of 20,000) in front of a Python" % node.max_connections(),
        "upstream; attacks from the same 2-core machine (%s), shared with other benchmarks." % platform.platform(),
        "A legitimate client asked for /hello on a new connection every 100 ms during each attack (HTTPS with",
        "SNI a.test for the TLS attacks); attacks ran about %d s each (slow body 100 s, to pass the first" % seconds,
        "read_body). RSS is the node's VmRSS; \"held\" counts the node's extra open sockets (client and upstream).",
        "",
        "| attack | attacker connections | held by the node at peak | RSS before / peak / after (MiB) | legit p50 / p99 / max (ms) | legit failures | notes |",
        "| --- | --- | ---: | --- | --- | ---: | --- |",
    ]
    for r in rows:
        s = r["legit"]
        out.append("| %s | %s | %d | %.1f / %.1f / %.1f | %.1f / %.1f / %.1f | %d of %d | %s |" % (
            r["attack"], r["attackers"], r["held"], r["before"] / 1024, r["peak"] / 1024, r["after"] / 1024,
            s.p50_ms, s.p99_ms, s.max_ms, s.failures, s.requests, r["note"]))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default=str(ROOT / ("loadtest/results/%s-hostile.md" % datetime.date.today().isoformat())))
    args = ap.parse_args()
    # Slow read last, twice: the heap it grows stays with the process (glibc keeps freed memory), which
    # would hide the other attacks' growth; a second round that does not grow it shows it is reused.
    names = ["slowloris", "slowloris-over-limit", "slow-body", "idle-flood", "tls-hello", "tls-silent", "slow-read",
             "slow-read-again"]
    if args.only:
        names = [n for n in args.only.split(",") if n]
    hostile.raise_open_files()
    with tempfile.TemporaryDirectory(prefix="edge-attacks-") as tmp:
        node = Node(Path(tmp))
        node.start()
        rows = []
        try:
            for name in names:
                print("== %s" % name, flush=True)
                rows.append(run_attack(name, node, args.seconds, Path(tmp)))
                r = rows[-1]
                print("   %s; held %d; RSS %d/%d/%d KiB; legit %s, %d failures; %s" % (
                    r["attackers"], r["held"], r["before"], r["peak"], r["after"],
                    hostile.percentile_text(r["legit"]), r["legit"].failures, r["note"]), flush=True)
        finally:
            node.stop()
        text = table(rows, node, args.seconds)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
