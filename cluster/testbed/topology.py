"""The network: one bridge in the host namespace, one network namespace per region.

    host namespace                          namespace edgecl-a        edgecl-b ...
    edgecl0 10.231.7.1/24  <-- veth -->     eth0 10.231.7.11/24       eth0 10.231.7.12/24
      Redis (127.0.0.1 only), relays, pebble, challtestsrv on 10.231.7.1

Nothing here has a default route: a namespace knows only lo and its connected /24, and the host reaches
the /24 through the bridge made here. `check()` proves that (links, addresses, routes, `ip route get` on
the host, an ICMP echo from every namespace to the bridge) before anything else talks to it.

Only one testbed runs at a time on a machine: `Topology` holds an flock on LOCK for its lifetime; whatever
exists under our names while we hold the lock is a leftover of a killed run and is removed first.
"""
from __future__ import annotations

import ctypes
import fcntl
import ipaddress
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

from .procs import Process, ledger_sweep

LOCK = Path("/run/edge-cluster-testbed.lock")
BRIDGE = "edgecl0"
NS_PREFIX = "edgecl-"
VETH_PREFIX = "edgecl-v"
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class SetupError(RuntimeError):
    pass


def require_root() -> None:
    if os.geteuid() != 0:
        raise SetupError("the cluster testbed needs root (it creates a bridge, network namespaces and veth "
                         "pairs, and runs nodes on ports 80/443 inside them); run it as root, e.g. `sudo %s`"
                         % " ".join(os.sys.argv))
    for tool in ("ip", "redis-server", "pebble", "pebble-challtestsrv", "openssl"):
        if shutil.which(tool) is None:
            raise SetupError("`%s` is not installed (Debian: iproute2, redis-server, pebble, openssl)" % tool)


def sh(argv: list, what: str = "", timeout: float = 15, check: bool = True) -> str:
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise SetupError("%s`%s` exited %d: %s" % (what + ": " if what else "", " ".join(map(str, argv)),
                                                    p.returncode, (p.stderr or p.stdout).strip()))
    return p.stdout


def enter_namespace(ns: str) -> None:
    """Moves the calling thread (only it) into network namespace `ns`."""
    fd = os.open("/run/netns/%s" % ns, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns(%s): %s" % (ns, os.strerror(err)))
    finally:
        os.close(fd)


def _in_namespace(ns: str, fn):
    """fn() on a thread that joined network namespace `ns` (sockets it makes stay in that namespace)."""
    outcome: dict = {}

    def body():
        try:
            enter_namespace(ns)
            outcome["value"] = fn()
        except BaseException as e:  # handed to the caller's thread
            outcome["error"] = e

    t = threading.Thread(target=body, name="in-" + ns, daemon=True)
    t.start()
    t.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def icmp_echo(address: str, timeout: float = 1.0) -> float:
    """One ICMP echo to `address` from the current thread's namespace: round trip in seconds."""
    ident = os.getpid() & 0xFFFF
    payload = b"edge-cluster-testbed"
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    checksum = _inet_checksum(header + payload)
    packet = struct.pack("!BBHHH", 8, 0, checksum, ident, 1) + payload
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
        s.settimeout(timeout)
        start = time.monotonic()
        s.sendto(packet, (address, 0))
        while True:
            data, peer = s.recvfrom(2048)
            ihl = (data[0] & 0x0F) * 4
            kind, _, _, rid, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if kind == 0 and rid == ident and peer[0] == address:
                return time.monotonic() - start


def _inet_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Region:
    """One network namespace with a veth into the bridge: where one node runs."""

    def __init__(self, topology: "Topology", index: int, letter: str):
        self.topology = topology
        self.letter = letter
        self.name = "region-" + letter
        self.ns = NS_PREFIX + letter
        self.veth_host = VETH_PREFIX + letter   # host side, enslaved to the bridge
        self.address = "%s.%d" % (topology.net, 10 + index)
        self.partitioned = False

    def exec_argv(self, argv: list) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *[str(a) for a in argv]]

    def run(self, argv: list, timeout: float = 20, check: bool = False) -> subprocess.CompletedProcess:
        p = subprocess.run(self.exec_argv(argv), capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise SetupError("`%s` in %s exited %d: %s" % (" ".join(map(str, argv)), self.ns, p.returncode, p.stderr))
        return p

    def start(self, label: str, argv: list, workdir: Path, env: dict | None = None) -> Process:
        return Process(label, self.exec_argv(argv), workdir, env=env)

    def inside(self, fn):
        return _in_namespace(self.ns, fn)

    def ping(self, address: str, timeout: float = 1.0) -> float:
        return self.inside(lambda: icmp_echo(address, timeout))

    def pids(self) -> list[int]:
        out = sh(["ip", "netns", "pids", self.ns], check=False)
        return [int(x) for x in out.split()]

    # -------------------------------------------------- partition (iptables inside the namespace)

    def partition(self) -> None:
        """Drops every packet between this namespace and the bridge (both ways); its own loopback and its own
        address keep working, so clients inside the region still reach its node. The rules live in the
        namespace's own tables, so they disappear with it."""
        if shutil.which("iptables") is None:
            raise SetupError("iptables is not installed (Debian: iptables); use the relay blackhole instead")
        for chain, flag in (("INPUT", "-i"), ("OUTPUT", "-o")):
            self.run(["iptables", "-w", "-I", chain, "1", flag, "eth0", "-j", "DROP"], check=True)
        self.partitioned = True

    def heal(self) -> None:
        if not self.partitioned:
            return
        for chain, flag in (("INPUT", "-i"), ("OUTPUT", "-o")):
            self.run(["iptables", "-w", "-D", chain, flag, "eth0", "-j", "DROP"], check=True)
        self.partitioned = False


class Topology:
    """The bridge and `n` regions. Use as a context manager; `destroy()` is safe to call at any point."""

    def __init__(self, n: int = 3, net: str | None = None):
        if not 1 <= n <= 26:
            raise ValueError("1..26 regions")
        self.net = net or os.environ.get("CLUSTER_NET", "10.231.7")
        self.host_address = self.net + ".1"
        self.subnet = ipaddress.ip_network(self.net + ".0/24")
        self.regions = [Region(self, i + 1, chr(ord("a") + i)) for i in range(n)]
        self._lock_fd: int | None = None
        self._bridge_made = False

    def __enter__(self) -> "Topology":
        try:
            self.create()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.destroy()

    # -------------------------------------------------- setup

    def _lock(self) -> None:
        fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 100).decode(errors="replace").strip()
            os.close(fd)
            raise SetupError("another cluster testbed is running on this machine (lock %s held by pid %s); "
                             "wait for it or stop it" % (LOCK, holder or "?"))
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def create(self) -> None:
        require_root()
        self._lock()
        sweep_leftovers()
        self._check_free()
        sh(["ip", "link", "add", BRIDGE, "type", "bridge"], "creating the bridge")
        self._bridge_made = True
        self._no_ipv6("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % BRIDGE)
        sh(["ip", "addr", "add", "%s/24" % self.host_address, "dev", BRIDGE], "addressing the bridge")
        sh(["ip", "link", "set", BRIDGE, "up"], "bringing the bridge up")
        for r in self.regions:
            sh(["ip", "netns", "add", r.ns], "creating namespace %s" % r.ns)
            r.run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"], check=True)
            r.run(["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"], check=True)
            sh(["ip", "-n", r.ns, "link", "set", "lo", "up"], "lo up in %s" % r.ns)
            sh(["ip", "link", "add", r.veth_host, "type", "veth", "peer", "name", "eth0", "netns", r.ns],
               "veth for %s" % r.ns)
            self._no_ipv6("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % r.veth_host)
            sh(["ip", "link", "set", r.veth_host, "master", BRIDGE, "up"], "attaching %s" % r.veth_host)
            sh(["ip", "-n", r.ns, "addr", "add", "%s/24" % r.address, "dev", "eth0"], "addressing %s" % r.ns)
            sh(["ip", "-n", r.ns, "link", "set", "eth0", "up"], "eth0 up in %s" % r.ns)
        self.check()

    @staticmethod
    def _no_ipv6(path: str) -> None:
        try:
            Path(path).write_text("1\n")
        except OSError:
            pass  # no IPv6 in this kernel: nothing to turn off

    def _check_free(self) -> None:
        """Refuses a subnet that something else on this machine already uses."""
        for line in sh(["ip", "-o", "-4", "addr", "show"]).splitlines():
            fields = line.split()
            cidr = fields[fields.index("inet") + 1]
            if ipaddress.ip_interface(cidr).network.overlaps(self.subnet):
                raise SetupError("%s is already in use on this machine (%s); pick another with CLUSTER_NET=10.x.y"
                                 % (self.subnet, line.strip()))
        for line in sh(["ip", "-4", "route", "show", "table", "all"]).splitlines():
            dest = line.split()[0] if line.split() else ""
            if dest in ("default", "local", "broadcast", "unreachable", "prohibit", "blackhole", "multicast"):
                continue
            try:
                if ipaddress.ip_network(dest, strict=False).overlaps(self.subnet) and \
                        ipaddress.ip_network(dest, strict=False).prefixlen > 0:
                    raise SetupError("a route already covers %s: %s" % (self.subnet, line))
            except ValueError:
                continue

    def check(self, expect_idle: bool = True) -> None:
        """Raises SetupError unless every piece is as built: run before any traffic. `expect_idle`: no
        process may run in the namespaces yet."""
        out = sh(["ip", "-o", "-4", "addr", "show", "dev", BRIDGE])
        if "inet %s/24" % self.host_address not in out or len(out.splitlines()) != 1:
            raise SetupError("bridge %s does not carry exactly %s/24: %r" % (BRIDGE, self.host_address, out))
        for r in self.regions:
            # The host reaches the region's address through our bridge, nowhere else.
            route = sh(["ip", "-4", "route", "get", r.address])
            if "dev %s" % BRIDGE not in route or " via " in route:
                raise SetupError("host route to %s is not the bridge %s: %r" % (r.address, BRIDGE, route))
            links = sh(["ip", "-n", r.ns, "-o", "link", "show"]).splitlines()
            names = sorted(line.split(":")[1].strip().split("@")[0] for line in links if line.strip())
            if names != ["eth0", "lo"]:
                raise SetupError("namespace %s has links %s; expected eth0 and lo" % (r.ns, names))
            addrs = sh(["ip", "-n", r.ns, "-o", "-4", "addr", "show", "dev", "eth0"])
            if "inet %s/24" % r.address not in addrs:
                raise SetupError("%s eth0 lacks %s/24: %r" % (r.ns, r.address, addrs))
            routes = [line.strip() for line in sh(["ip", "-n", r.ns, "-4", "route", "show", "table", "all"]).splitlines()
                      if line.strip() and not line.split()[0] in ("local", "broadcast")]
            expected_prefix = "%s dev eth0 " % self.subnet
            if len(routes) != 1 or not routes[0].startswith(expected_prefix):
                raise SetupError("namespace %s must route only %s (no default route); it has %s"
                                 % (r.ns, self.subnet, routes))
            v6 = sh(["ip", "-n", r.ns, "-6", "route", "show", "table", "main"], check=False).strip()
            if v6:
                raise SetupError("namespace %s has IPv6 routes: %r" % (r.ns, v6))
            owner = r.pids() if expect_idle else []
            if owner:
                raise SetupError("namespace %s already runs processes %s" % (r.ns, owner))
        for r in self.regions:  # traffic: only after every check above passed
            try:
                rtt = r.ping(self.host_address)
            except OSError as e:
                raise SetupError("no ICMP echo from %s to the bridge %s: %s" % (r.ns, self.host_address, e))
            if rtt > 0.5:
                raise SetupError("ICMP echo from %s to the bridge took %.0f ms" % (r.ns, rtt * 1000))

    # -------------------------------------------------- teardown

    def destroy(self) -> None:
        """Kills whatever still runs in our namespaces, deletes them, their veths and the bridge, releases
        the lock. Each step runs even when an earlier one failed."""
        if self._lock_fd is None:
            return
        try:
            for r in self.regions:
                _delete_namespace(r.ns)
                _delete_link(r.veth_host)
            if self._bridge_made:
                _delete_link(BRIDGE)
        finally:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
            except OSError:
                pass
            self._lock_fd = None

    def describe(self) -> str:
        lines = ["bridge %s %s/24 (host side: Redis relays, pebble, challtestsrv)" % (BRIDGE, self.host_address)]
        for r in self.regions:
            lines.append("%s: namespace %s, %s (veth %s)" % (r.name, r.ns, r.address, r.veth_host))
        return "\n".join(lines)


def _delete_namespace(ns: str) -> None:
    if not Path("/run/netns/%s" % ns).exists():
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pids = [int(x) for x in sh(["ip", "netns", "pids", ns], check=False).split()]
        if not pids:
            break
        for pid in pids:  # processes inside a namespace this testbed made, by PID
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        time.sleep(0.05)
    sh(["ip", "netns", "delete", ns], check=False)


def _delete_link(name: str) -> None:
    if Path("/sys/class/net/%s" % name).exists():
        sh(["ip", "link", "delete", name], check=False)


def sweep_leftovers() -> list[str]:
    """With the lock held: removes what a killed run left (processes in its ledger, namespaces, veths,
    the bridge). Returns a description of what was removed."""
    removed = ["process " + line for line in ledger_sweep()]
    for line in sh(["ip", "netns", "list"], check=False).splitlines():
        ns = line.split()[0] if line.split() else ""
        if ns.startswith(NS_PREFIX):
            _delete_namespace(ns)
            removed.append("namespace " + ns)
    for link in sorted(os.listdir("/sys/class/net")):
        if link.startswith(VETH_PREFIX) or link == BRIDGE:
            _delete_link(link)
            removed.append("link " + link)
    return removed


def cleanup() -> list[str]:
    """`python3 -m testbed cleanup`: takes the lock (fails if a run is live) and sweeps."""
    require_root()
    fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SetupError("a testbed run holds %s; stop it instead" % LOCK)
        return sweep_leftovers()
    finally:
        os.close(fd)
