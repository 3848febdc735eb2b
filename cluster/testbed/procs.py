"""Processes started by the testbed: output captured to files, stopped by PID (SIGTERM, then SIGKILL).

Every PID started here is also written to a ledger file (PID + its start time from /proc), so that
`python3 -m testbed cleanup` can stop exactly what a killed run left behind, and nothing else.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

LEDGER = Path("/run/edge-cluster-testbed.pids")


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks): with the PID, identifies one process."""
    try:
        stat = Path("/proc/%d/stat" % pid).read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def ledger_add(pid: int, label: str) -> None:
    started = _start_time(pid)
    if started is None:
        return
    with open(LEDGER, "a") as f:
        f.write("%d %s %s\n" % (pid, started, label))


def ledger_sweep() -> list[str]:
    """Kills (SIGKILL) every ledger process that still runs with the recorded start time; empties the ledger.
    Returns what it killed."""
    killed = []
    try:
        lines = LEDGER.read_text().splitlines()
    except OSError:
        return killed
    for line in lines:
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].isdigit():
            continue
        pid, started = int(parts[0]), parts[1]
        if _start_time(pid) == started:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(line)
            except OSError:
                pass
    try:
        LEDGER.unlink()
    except OSError:
        pass
    return killed


class Process:
    """A subprocess with stdout/stderr in `workdir/<name>.{stdout,stderr}`."""

    def __init__(self, name: str, argv: list, workdir: Path, env: dict | None = None):
        self.name = name
        self.argv = [str(a) for a in argv]
        workdir.mkdir(parents=True, exist_ok=True)
        self.stdout_path = workdir / ("%s.stdout" % name)
        self.stderr_path = workdir / ("%s.stderr" % name)
        self._out = open(self.stdout_path, "ab")
        self._err = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self._out, stderr=self._err, stdin=subprocess.DEVNULL,
                                     cwd=str(workdir), env=env, start_new_session=True)
        self.pid = self.proc.pid
        ledger_add(self.pid, name)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def stderr_tail(self, lines: int = 40) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return "(no stderr)"
        return "\n".join(text.splitlines()[-lines:]) or "(stderr empty)"

    def describe(self, lines: int = 40) -> str:
        state = "running" if self.running else "exited %s" % self.proc.returncode
        return "%s (pid %d, %s): %s\n--- stderr tail ---\n%s" % (
            self.name, self.pid, state, " ".join(self.argv), self.stderr_tail(lines))

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, sig)

    def kill9(self) -> None:
        self.signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (and SIGCONT, in case it was stopped), then SIGKILL if it has not exited in time."""
        try:
            if self.proc.poll() is None:
                os.kill(self.pid, signal.SIGTERM)
                try:
                    os.kill(self.pid, signal.SIGCONT)
                except OSError:
                    pass
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    os.kill(self.pid, signal.SIGKILL)
                    self.proc.wait(timeout=10)
        finally:
            self._out.close()
            self._err.close()


class Fatal(RuntimeError):
    """Raised by a wait_until predicate: stop waiting at once (e.g. the process being waited for exited)."""


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    """predicate()'s first truthy value within `timeout` seconds, else TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Fatal:
            raise
        except Exception as e:  # noqa: BLE001 - remembered for the message
            last_error = e
        if time.monotonic() >= deadline:
            raise TimeoutError("%s not reached within %.0f s%s" % (
                what, timeout, " (last error: %r)" % last_error if last_error else ""))
        time.sleep(interval)
