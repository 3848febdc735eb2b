"""Hostile clients and what to measure while they attack, shared by test_hostile.py (short, with behaviour
assertions) and loadtest/harden/attacks.py (longer, a results table).

- `LegitClient`: a well-behaved client in a thread, one request per new connection, recording latency and
  failures while an attack runs.
- `RssSampler`: the node's resident memory from /proc, sampled in a thread.
- `Slowhttptest`: the real slowhttptest (Debian package) in slowloris (-H), slow body (-B) or slow read
  (-X) mode, with its CSV statistics read back.
- `open_connections`: a flood of TCP connections that send nothing, or a few bytes (half a TLS handshake).
Everything talks to 127.0.0.1.
"""
from __future__ import annotations

import csv
import dataclasses
import os
import resource
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

LOOPBACK = "127.0.0.1"


def raise_open_files() -> int:
    """Raises this process's open-file soft limit to its hard limit (20,000 on the test machines)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid: int) -> int:
    """Resident memory of `pid` in KiB (VmRSS), 0 once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


class Background:
    """A loop (`_run`, until `_stop` is set) on a thread of its own, for the length of a `with` block."""

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


class RssSampler(Background):
    """Samples a process's RSS every `interval` seconds in a thread, until `stop()`."""

    def __init__(self, pid: int, interval: float = 0.25):
        self.pid, self.interval = pid, interval
        self.samples: list[int] = []
        super().__init__()


    def _run(self):
        while not self._stop.is_set():
            self.samples.append(rss_kib(self.pid))
            self._stop.wait(self.interval)


    @property
    def peak(self) -> int:
        return max(self.samples, default=0)


@dataclasses.dataclass
class LatencySummary:
    requests: int
    failures: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: list[str]


class LegitClient(Background):
    """A client that keeps asking, one GET per new connection every `interval` seconds, while an attack
    runs; each request must complete (status 200) within `timeout` seconds or counts as a failure."""

    def __init__(self, port: int, host: str, path: str = "/hello", interval: float = 0.05, timeout: float = 5.0,
                 tls_context: ssl.SSLContext | None = None, server_name: str | None = None):
        self.port, self.host, self.path = port, host, path
        self.interval, self.timeout = interval, timeout
        self.tls_context, self.server_name = tls_context, server_name
        self.latencies: list[float] = []
        self.errors: list[str] = []
        super().__init__()



    def one(self) -> float:
        t0 = time.monotonic()
        with socket.create_connection((LOOPBACK, self.port), timeout=self.timeout) as raw:
            sock = self.tls_context.wrap_socket(raw, server_hostname=self.server_name) if self.tls_context else raw
            sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (self.path, self.host)).encode())
            data = bytearray()
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        line = bytes(data).split(b"\r\n", 1)[0]
        if not line.startswith(b"HTTP/1.1 200"):
            raise AssertionError("status line %r" % line[:80])
        return time.monotonic() - t0

    def _run(self):
        while not self._stop.is_set():
            try:
                self.latencies.append(self.one())
            except Exception as e:  # noqa: BLE001 - every failure is counted and kept
                self.errors.append("%s: %s" % (type(e).__name__, e))
            self._stop.wait(self.interval)

    def summary(self) -> LatencySummary:
        ms = sorted(x * 1000 for x in self.latencies)

        def pct(p):
            return ms[min(len(ms) - 1, int(round(p / 100 * (len(ms) - 1))))] if ms else float("nan")
        return LatencySummary(len(ms) + len(self.errors), len(self.errors), pct(50), pct(99),
                              ms[-1] if ms else float("nan"), self.errors[:5])


def open_connections(port: int, count: int, payload: bytes = b"", rate: float = 0.0,
                     stop_after: float | None = None) -> list[socket.socket]:
    """Opens up to `count` TCP connections to `port` (at `rate` per second, 0: as fast as possible) and sends
    `payload` on each; returns them open. Stops early at this process's open-file limit or after
    `stop_after` seconds."""
    socks = []
    t0 = time.monotonic()
    for i in range(count):
        if stop_after is not None and time.monotonic() - t0 > stop_after:
            break
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError:
            break
        s.setblocking(True)
        s.settimeout(5)
        try:
            s.connect((LOOPBACK, port))
            if payload:
                s.sendall(payload)
        except OSError:
            s.close()
            continue
        s.setblocking(False)
        socks.append(s)
        if rate:
            time.sleep(max(0.0, t0 + (i + 1) / rate - time.monotonic()))
    return socks


def closed_by_peer(socks: list[socket.socket]) -> int:
    """How many of `socks` the server has closed (EOF or reset seen without blocking)."""
    closed = 0
    for s in socks:
        try:
            data = s.recv(65536)
            if not data:
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return closed


def close_all(socks: list[socket.socket]):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def client_hello(server_name: str) -> bytes:
    """A real TLS ClientHello for `server_name`, captured from Python's ssl with memory BIOs."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=server_name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


@dataclasses.dataclass
class SlowStats:
    """slowhttptest's CSV, one row per second: how many of its connections were closed, pending, open."""
    rows: list[dict]

    @property
    def peak_connected(self) -> int:
        return max((r["connected"] for r in self.rows), default=0)

    @property
    def final(self) -> dict:
        return self.rows[-1] if self.rows else {"closed": 0, "pending": 0, "connected": 0, "available": 0}

    @property
    def max_closed(self) -> int:
        return max((r["closed"] for r in self.rows), default=0)


class Slowhttptest:
    """The slowhttptest command (Debian `slowhttptest`): `mode` is "H" (slowloris), "B" (slow body) or "X"
    (slow read). Its per-second CSV goes to `workdir`."""

    def __init__(self, mode: str, url: str, workdir: Path, connections: int, rate: int, seconds: int,
                 interval: int = 1, extra: list[str] = ()):
        self.prefix = workdir / ("slowhttptest-%s" % mode)
        workdir.mkdir(parents=True, exist_ok=True)
        self.argv = ["slowhttptest", "-" + mode, "-c", str(connections), "-r", str(rate), "-l", str(seconds),
                     "-i", str(interval), "-u", url, "-g", "-o", str(self.prefix), "-p", "3", *extra]
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Slowhttptest":
        def limits():
            raise_open_files()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=limits, start_new_session=True)
        return self

    def wait(self, timeout: float) -> str:
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            out, _ = self.proc.communicate()
        return out.decode(errors="replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stats(self) -> SlowStats:
        rows = []
        path = Path(str(self.prefix) + ".csv")
        if not path.exists():
            return SlowStats(rows)
        with open(path) as f:
            for row in csv.DictReader(f):
                norm = {k.strip().lower(): v.strip() for k, v in row.items() if k}
                rows.append({"seconds": int(norm.get("seconds", 0)), "closed": int(norm.get("closed", 0)),
                             "pending": int(norm.get("pending", 0)), "connected": int(norm.get("connected", 0)),
                             "available": int(norm.get("service available", 0))})
        return SlowStats(rows)


def percentile_text(s: LatencySummary) -> str:
    return "%.1f / %.1f / %.1f ms" % (s.p50_ms, s.p99_ms, s.max_ms)


