"""A private network namespace for tests that need fixed ports (80, 443, 2019) and fixed names.

The namespace has only `lo` and no route at all in its main table, so nothing started in it can reach
beyond this machine. Names resolve through its own hosts file: `ip netns exec` bind-mounts
/etc/netns/<name>/hosts over /etc/hosts for the command it runs. Every check of the setup runs before any
traffic does; teardown kills every process in the namespace by PID, deletes it and removes /etc/netns/<name>.

Clients run inside it with `ip netns exec` (curl), or as sockets opened here from a thread that joined the
namespace (`connect`); a socket keeps the namespace it was made in.
"""
from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from harness import ManagedProcess

NETNS_ETC = Path("/etc/netns")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _check(argv: list[str], what: str) -> str:
    p = subprocess.run(argv, capture_output=True, text=True, timeout=15)
    if p.returncode != 0:
        raise RuntimeError("%s: `%s` exited %d: %s" % (what, " ".join(argv), p.returncode, p.stderr.strip()))
    return p.stdout


class Namespace:
    """`ip netns add name`, with `names` answering 127.0.0.1 inside it. Use as a context manager."""

    def __init__(self, name: str, names: list[str]):
        self.name = name
        self.names = list(names)
        self.etc = NETNS_ETC / name
        self.processes: list[ManagedProcess] = []
        self._created = False  # what to undo: the namespace, /etc/netns/<name>, /etc/netns itself
        self._created_etc = False
        self._created_etc_root = False

    def __enter__(self) -> "Namespace":
        try:
            self.create()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.destroy()

    # ------------------------------------------------------------ setup

    def create(self) -> None:
        _check(["ip", "netns", "add", self.name], "creating network namespace %s" % self.name)
        self._created = True
        _check(["ip", "-n", self.name, "link", "set", "lo", "up"], "bringing up lo in %s" % self.name)
        if not NETNS_ETC.exists():
            NETNS_ETC.mkdir(mode=0o755)
            self._created_etc_root = True
        self.etc.mkdir(mode=0o755)
        self._created_etc = True
        (self.etc / "hosts").write_text("127.0.0.1 localhost\n127.0.0.1 %s\n" % " ".join(self.names))
        self.check()

    def check(self) -> None:
        """Raises unless the namespace is sealed (only lo, no route) and every name answers 127.0.0.1."""
        links = _check(["ip", "-n", self.name, "-o", "link", "show"], "listing links").splitlines()
        names = [line.split(":")[1].strip() for line in links if line.strip()]
        if names != ["lo"]:
            raise RuntimeError("namespace %s has links %s; expected only lo" % (self.name, names))
        for family in ("-4", "-6"):
            routes = _check(["ip", "-n", self.name, family, "route", "show", "table", "main"], "listing routes")
            if routes.strip():
                raise RuntimeError("namespace %s has %s routes, expected none:\n%s" % (self.name, family, routes))
        for host in self.names:
            out = _check(self.exec_argv(["getent", "hosts", host]), "resolving %s in %s" % (host, self.name))
            if out.split()[:1] != ["127.0.0.1"]:
                raise RuntimeError("%s resolves to %r in %s, not 127.0.0.1" % (host, out, self.name))

    # ------------------------------------------------------------ running things inside

    def exec_argv(self, argv: list) -> list[str]:
        return ["ip", "netns", "exec", self.name, *[str(a) for a in argv]]

    def run(self, argv: list, timeout: float = 20, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(self.exec_argv(argv), capture_output=True, timeout=timeout, **kw)

    def start(self, label: str, argv: list, workdir: Path, env: dict | None = None,
              ports: tuple[int, ...] = (), timeout: float = 15) -> ManagedProcess:
        """Starts argv inside the namespace (stopped at teardown) and waits until it listens on `ports`."""
        proc = ManagedProcess(label, self.exec_argv(argv), workdir, env=env)
        self.processes.append(proc)
        for port in ports:
            self.wait_for_port(proc, port, timeout)
        return proc

    def wait_for_port(self, proc: ManagedProcess, port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.proc.poll() is not None:
                raise RuntimeError("%s exited with status %s before it listened on %d in %s\n%s" % (
                    proc.name, proc.proc.returncode, port, self.name, proc.describe()))
            try:
                self.connect(port, timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("%s did not listen on 127.0.0.1:%d in %s within %.0fs\n%s" % (
            proc.name, port, self.name, timeout, proc.describe()))

    def inside(self, fn):
        """fn() run on a thread that has joined this network namespace (sockets it makes stay in it)."""
        outcome: dict = {}

        def body():
            try:
                fd = os.open("/run/netns/%s" % self.name, os.O_RDONLY)
                try:
                    if _libc.setns(fd, CLONE_NEWNET) != 0:
                        err = ctypes.get_errno()
                        raise OSError(err, "setns(%s): %s" % (self.name, os.strerror(err)))
                finally:
                    os.close(fd)
                outcome["value"] = fn()
            except BaseException as e:  # handed to the caller's thread
                outcome["error"] = e

        thread = threading.Thread(target=body, name="in-" + self.name)
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def connect(self, port: int, timeout: float = 10.0):
        """A TCP socket connected to 127.0.0.1:port inside the namespace."""
        import socket
        return self.inside(lambda: socket.create_connection(("127.0.0.1", port), timeout=timeout))

    # ------------------------------------------------------------ teardown

    def pids(self) -> list[int]:
        p = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True, timeout=10)
        return [int(x) for x in p.stdout.split()] if p.returncode == 0 else []

    def destroy(self) -> None:
        """Stops what was started (SIGTERM, then SIGKILL), kills anything else left inside by PID, deletes
        the namespace and its /etc/netns directory."""
        for proc in reversed(self.processes):
            try:
                proc.stop(timeout=3)
            except Exception:
                pass
        if self._created:
            deadline = time.monotonic() + 5
            while (left := self.pids()) and time.monotonic() < deadline:
                for pid in left:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.05)
            subprocess.run(["ip", "netns", "delete", self.name], capture_output=True, timeout=10)
        if self._created_etc:
            shutil.rmtree(self.etc, ignore_errors=True)
        if self._created_etc_root:
            try:
                NETNS_ETC.rmdir()  # only if no other namespace put its files there meanwhile
            except OSError:
                pass

    def describe(self) -> str:
        return "\n\n".join(p.describe() for p in self.processes) or "(nothing started)"


def sweep_stale(prefix: str) -> None:
    """Deletes namespaces `<prefix><pid>-…` left by a test run that was killed (its pid is gone) once nothing
    runs in them any more, with their /etc/netns directories. Kills nothing."""
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    for line in listing.splitlines():
        name = line.split()[0] if line.split() else ""
        match = re.fullmatch(re.escape(prefix) + r"(\d+)-.*", name)
        if not match or os.path.exists("/proc/%s" % match.group(1)):
            continue
        stale = Namespace(name, [])
        if stale.pids():
            continue
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=10)
        shutil.rmtree(stale.etc, ignore_errors=True)
