"""What runs in the host namespace: Redis (loopback only), one delaying relay per region on the bridge
address, pebble-challtestsrv (the DNS every test name resolves through) and pebble (the ACME CA)."""
from __future__ import annotations

import json
import os
import random
import socket
import ssl
import statistics
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .procs import Process
from .resp import Redis
from .topology import Region

LOOPBACK = "127.0.0.1"
RELAY_SCRIPT = Path(__file__).resolve().parent / "relay.py"


def free_port(address: str = LOOPBACK, udp_too: bool = False) -> int:
    """A port free on `address` (TCP, and UDP when asked), picked by the kernel."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((address, 0))
            port = s.getsockname()[1]
        if not udp_too:
            return port
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind((address, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port on %s" % address)


def port_open(address: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(proc: Process, address: str, port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.running:
            raise RuntimeError("%s exited (%s) before it listened on %s:%d\n%s" % (
                proc.name, proc.proc.returncode, address, port, proc.describe()))
        if port_open(address, port):
            return
        time.sleep(0.05)
    raise RuntimeError("%s did not listen on %s:%d within %.0f s\n%s" % (proc.name, address, port, timeout,
                                                                        proc.describe()))


# ------------------------------------------------------------------ Redis


class RedisServer:
    """redis-server on 127.0.0.1 only: regions reach it through their relays, the harness directly.
    `stop(save=True)` + `start()` is an outage after which the same data comes back (dump.rdb)."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: Process | None = None
        self.generation = 0
        self.start()

    def start(self) -> None:
        self.generation += 1
        self.proc = Process("redis-%d" % self.generation, [
            "redis-server", "--bind", LOOPBACK, "--port", self.port, "--save", "", "--appendonly", "no",
            "--dir", self.workdir, "--dbfilename", "dump.rdb", "--protected-mode", "no", "--daemonize", "no",
            "--loglevel", "notice", "--logfile", "",
        ], self.workdir)
        wait_for_port(self.proc, LOOPBACK, self.port)

    def client(self, timeout: float = 5.0) -> Redis:
        return Redis(LOOPBACK, self.port, timeout=timeout)

    def stop(self, save: bool = False) -> None:
        if self.proc is None:
            return
        if save and self.proc.running:
            with self.client() as r:
                r.command("SAVE")
        self.proc.stop()
        self.proc = None

    def pause(self) -> None:
        self.proc.signal(19)   # SIGSTOP: connections stay, nothing answers

    def resume(self) -> None:
        self.proc.signal(18)   # SIGCONT


# ------------------------------------------------------------------ relays


class RelayHandle:
    def __init__(self, region: Region, proc: Process, listen: tuple[str, int], control: int, delay_ms: float):
        self.region, self.proc, self.listen, self.control_port, self.delay_ms = region, proc, listen, control, delay_ms

    @property
    def url(self) -> str:
        return "redis://%s:%d" % self.listen

    def control(self, line: str) -> dict:
        with socket.create_connection((LOOPBACK, self.control_port), timeout=5) as s:
            s.sendall((line + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        answer = json.loads(data)
        if not answer.get("ok"):
            raise RuntimeError("relay %s: %s" % (self.region.name, answer))
        return answer

    def blackhole(self, mode: str = "hang") -> dict:
        return self.control("blackhole " + mode)

    def heal(self) -> dict:
        return self.control("heal")

    def set_delay(self, ms: float) -> dict:
        self.delay_ms = ms
        return self.control("delay %g" % ms)

    def measure_rtt(self, samples: int = 30) -> dict:
        """PING round trips to Redis through this relay, from inside the region's namespace (seconds)."""
        def probe():
            r = Redis(*self.listen, timeout=5)
            try:
                r.command("PING")  # connection set up, not counted
                times = []
                for _ in range(samples):
                    t = time.perf_counter()
                    assert r.command("PING") == "PONG"
                    times.append(time.perf_counter() - t)
                return times
            finally:
                r.close()
        times = self.region.inside(probe)
        return {"median": statistics.median(times), "min": min(times), "max": max(times), "n": len(times)}


def start_relays(regions: list[Region], bridge_address: str, redis_port: int, workdir: Path,
                 delay_ms: float) -> list[RelayHandle]:
    relays: list[RelayHandle] = []
    try:
        for r in regions:
            port, ctl = free_port(bridge_address), free_port()
            proc = Process("relay-" + r.letter, [
                sys.executable, RELAY_SCRIPT, "--listen", "%s:%d" % (bridge_address, port),
                "--target", "%s:%d" % (LOOPBACK, redis_port), "--control", "%s:%d" % (LOOPBACK, ctl),
                "--delay-ms", delay_ms,
            ], workdir)
            relays.append(RelayHandle(r, proc, (bridge_address, port), ctl, delay_ms))
            wait_for_port(proc, LOOPBACK, ctl)
            wait_for_port(proc, bridge_address, port)
    except BaseException:
        for relay in relays:
            relay.proc.stop()
        raise
    return relays


# ------------------------------------------------------------------ DNS (pebble-challtestsrv)


class ChallTestSrv:
    """pebble-challtestsrv as DNS only: no default answers (a name not added gets no address), A records
    added per test name with every node's address (round robin)."""

    def __init__(self, workdir: Path, bridge_address: str):
        self.address = bridge_address
        self.dns_port = free_port(bridge_address, udp_too=True)
        self.management = free_port()
        self.proc = Process("challtestsrv", [
            "pebble-challtestsrv", "-defaultIPv4", "", "-defaultIPv6", "",
            "-dns01", "%s:%d" % (bridge_address, self.dns_port),
            "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", "%s:%d" % (LOOPBACK, self.management),
        ], workdir)
        wait_for_port(self.proc, LOOPBACK, self.management)
        wait_for_port(self.proc, bridge_address, self.dns_port)

    def _post(self, path: str, body: dict) -> None:
        request = urllib.request.Request("http://%s:%d%s" % (LOOPBACK, self.management, path),
                                         data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            if response.status != 200:
                raise RuntimeError("challtestsrv %s: HTTP %d" % (path, response.status))

    def add_a(self, name: str, addresses: list[str]) -> None:
        """Sets the A records of `name` (challtestsrv's add-a appends, so the old ones go first)."""
        self.clear_a(name)
        self._post("/add-a", {"host": name.rstrip(".") + ".", "addresses": list(addresses)})

    def clear_a(self, name: str) -> None:
        self._post("/clear-a", {"host": name.rstrip(".") + "."})

    def query_a(self, name: str) -> list[str]:
        return dns_query_a((self.address, self.dns_port), name)

    def stop(self) -> None:
        self.proc.stop()


def dns_query_a(server: tuple[str, int], name: str, timeout: float = 2.0) -> list[str]:
    """The A records `server` answers for `name` (a plain UDP query)."""
    ident = random.randrange(65536)
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    query = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(query, server)
        data, _ = s.recvfrom(4096)
    rid, flags, qd, an, _, _ = struct.unpack("!HHHHHH", data[:12])
    if rid != ident:
        raise RuntimeError("DNS answer for another query")
    pos = 12
    for _ in range(qd):
        pos = _skip_name(data, pos) + 4
    found = []
    for _ in range(an):
        pos = _skip_name(data, pos)
        rtype, _, _, length = struct.unpack("!HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == 1 and length == 4:
            found.append(socket.inet_ntoa(data[pos:pos + 4]))
        pos += length
    return found


def _skip_name(data: bytes, pos: int) -> int:
    while True:
        n = data[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += n + 1


# ------------------------------------------------------------------ pebble


class Pebble:
    """pebble on the bridge address, validating HTTP-01 on port 80 and TLS-ALPN-01 on 443 of whatever
    address challtestsrv gives for a name. Each instance has its own issuing root."""

    def __init__(self, workdir: Path, bridge_address: str, dns: ChallTestSrv, env: dict | None = None,
                 config: dict | None = None, label: str = "pebble"):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.address = bridge_address
        self.port = free_port(bridge_address)
        self.management = free_port(bridge_address)
        self.ca_root = workdir / "pebble-ca.pem"   # signs pebble's own HTTPS certificate: edge's acme_ca_root
        self._certificate()
        settings = {
            "listenAddress": "%s:%d" % (bridge_address, self.port),
            "managementListenAddress": "%s:%d" % (bridge_address, self.management),
            "certificate": str(workdir / "pebble.pem"), "privateKey": str(workdir / "pebble.key"),
            "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": False,
        }
        settings.update(config or {})
        (workdir / "pebble.json").write_text(json.dumps({"pebble": settings}, indent=1))
        environment = dict(os.environ)
        environment.update({"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"})
        environment.update(env or {})
        for key, value in list(environment.items()):
            if value is None:
                del environment[key]
        self.env = {k: v for k, v in environment.items() if k.startswith("PEBBLE_")}
        self.proc = Process(label, ["pebble", "-config", workdir / "pebble.json",
                                    "-dnsserver", "%s:%d" % (dns.address, dns.dns_port)], workdir, env=environment)
        try:
            wait_for_port(self.proc, bridge_address, self.port)
            wait_for_port(self.proc, bridge_address, self.management)
        except BaseException:
            self.proc.stop()
            raise
        self.issuing_root = workdir / "issuing-root.pem"
        self.issuing_root.write_bytes(self._management("/roots/0"))

    @property
    def directory(self) -> str:
        return "https://%s:%d/dir" % (self.address, self.port)

    def _certificate(self) -> None:
        w = self.workdir

        def openssl(*args):
            subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=cluster testbed pebble CA", "-keyout", w / "pebble-ca.key", "-out", self.ca_root)
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=pebble",
                "-keyout", w / "pebble.key", "-out", w / "pebble.csr")
        (w / "pebble.ext").write_text("subjectAltName=IP:%s,IP:127.0.0.1\n" % self.address)
        openssl("x509", "-req", "-in", w / "pebble.csr", "-CA", self.ca_root, "-CAkey", w / "pebble-ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", w / "pebble.ext", "-out", w / "pebble.pem")

    def _management(self, path: str) -> bytes:
        context = ssl.create_default_context(cafile=str(self.ca_root))
        with urllib.request.urlopen("https://%s:%d%s" % (self.address, self.management, path), context=context,
                                    timeout=10) as response:
            return response.read()

    def orders(self) -> int:
        """Orders created so far: pebble logs "There are now N orders in the db" for each new one."""
        counts = [int(line.split("There are now ")[1].split()[0]) for line in self.proc.log().splitlines()
                  if "There are now " in line and " orders" in line]
        return max(counts, default=0)

    def stop(self) -> None:
        self.proc.stop()
