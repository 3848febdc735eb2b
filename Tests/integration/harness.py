"""Processes, ports and the proxy-under-test abstraction shared by the integration tests.

Everything listens on 127.0.0.1 on ports picked at runtime. Every process started here is stopped by its
PID (and the PIDs of its children, e.g. nginx workers) when its fixture is torn down.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent  # Tests/integration -> Tests -> repo
UPSTREAMS = HERE / "upstreams"
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A free TCP port on 127.0.0.1: bind port 0, read the port back, release it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def closed_port() -> int:
    """A port with nothing listening (picked free, then left unbound)."""
    return free_port()


def port_accepts(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout) as s:
            # Connecting to a port nobody listens on can pick that very port as the source: the socket
            # then connects to itself (TCP simultaneous open), which is no server.
            return s.getsockname()[1] != port
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    """Direct and indirect child PIDs of pid, read from /proc (empty if it is gone)."""
    found = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return found
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                for child in f.read().split():
                    found.append(int(child))
        except OSError:
            pass
    for child in list(found):
        found.extend(_children(child))
    return found


class ManagedProcess:
    """A subprocess with stdout/stderr captured to files, stopped by PID at teardown."""

    def __init__(self, name: str, argv: list[str], workdir: Path, env: dict | None = None):
        self.name = name
        self.argv = [str(a) for a in argv]
        workdir.mkdir(parents=True, exist_ok=True)
        self.stdout_path = workdir / ("%s.stdout" % name)
        self.stderr_path = workdir / ("%s.stderr" % name)
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            self.argv, stdout=self._out, stderr=self._err, stdin=subprocess.DEVNULL,
            cwd=str(workdir), env=env, start_new_session=True,
        )
        self.pid = self.proc.pid

    def stderr_tail(self, lines: int = 40) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return "(no stderr)"
        tail = "\n".join(text.splitlines()[-lines:])
        return tail or "(stderr empty)"

    def describe(self) -> str:
        return "%s (pid %d): %s\n--- stderr tail ---\n%s" % (
            self.name, self.pid, " ".join(self.argv), self.stderr_tail())

    def wait_for_port(self, port: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with status %s before it listened on 127.0.0.1:%d\n%s" % (
                    self.name, self.proc.returncode, port, self.describe()))
            if port_accepts(port):
                return
            time.sleep(0.05)
        raise RuntimeError("%s did not listen on 127.0.0.1:%d within %.0fs\n%s" % (
            self.name, port, timeout, self.describe()))

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM to the process, SIGKILL to it and its children if it has not exited in time."""
        try:
            if self.proc.poll() is None:
                kids = _children(self.pid)
                os.kill(self.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    kids += _children(self.pid)
                    os.kill(self.pid, signal.SIGKILL)
                    self.proc.wait(timeout=5)
                for kid in kids:  # e.g. an nginx worker orphaned by a killed master
                    try:
                        os.kill(kid, signal.SIGKILL)
                    except OSError:
                        pass
        finally:
            self._out.close()
            self._err.close()
        # Test traffic never leaves this machine: an edge that tried to reach a public ACME CA (a test
        # config without a local acme_ca or `auto_https disable_certs`) fails the test that ran it.
        if self.name.startswith("edge"):
            log = self.stderr_path.read_text(errors="replace")
            if "letsencrypt.org" in log or "zerossl.com" in log:
                raise AssertionError("edge tried to reach a public ACME CA; give the test config a local acme_ca "
                                     "or 'auto_https disable_certs'\n" + self.stderr_tail())


# ---------------------------------------------------------------- upstreams


class Upstream:
    def __init__(self, proc: ManagedProcess, port: int, ident: str):
        self.proc, self.port, self.id = proc, port, ident
        self.address = "%s:%d" % (LOOPBACK, port)

    def stats(self) -> dict:
        """GET /_stats straight from the upstream (not through the proxy), on a fresh connection."""
        import http.client
        import json
        c = http.client.HTTPConnection(LOOPBACK, self.port, timeout=5)
        try:
            c.request("GET", "/_stats", headers={"Connection": "close"})
            return json.loads(c.getresponse().read())
        finally:
            c.close()

    def stop(self):
        self.proc.stop()


def start_http_upstream(workdir: Path, ident: str) -> Upstream:
    port = free_port()
    proc = ManagedProcess("upstream-" + ident, [sys.executable, UPSTREAMS / "http_upstream.py",
                                                "--port", port, "--id", ident], workdir)
    try:
        proc.wait_for_port(port)
    except BaseException:
        proc.stop()
        raise
    return Upstream(proc, port, ident)


def start_ws_upstream(workdir: Path) -> Upstream:
    port = free_port()
    proc = ManagedProcess("ws-echo", [sys.executable, UPSTREAMS / "ws_echo.py", "--port", port], workdir)
    try:
        proc.wait_for_port(port)
    except BaseException:
        proc.stop()
        raise
    return Upstream(proc, port, "ws")


# ---------------------------------------------------------------- proxies


@dataclasses.dataclass
class ProxyConfig:
    """What a test needs from the proxy; each implementation renders it into its own config file."""
    upstreams: list[str]
    workers: int = 2
    grace_period_s: int = 5
    read_header_s: int = 2
    idle_s: int = 5
    read_body_s: int | None = None  # None: the proxy's default
    write_s: int | None = None  # None: the proxy's default
    # Extra lines inside edge's global `servers { }` block (edge-only tests), e.g. "max_connections 100".
    server_lines: list[str] = dataclasses.field(default_factory=list)
    max_header_kb: int = 16
    limited_max_mb: int = 1  # request_body max_size for /limited/*
    dial_timeout_s: int = 2
    response_header_timeout_s: int = 2
    stream_idle_timeout_s: int = 30
    # Extra lines inside edge's reverse_proxy block (edge-only tests), e.g. "header_up X-A b".
    proxy_lines: list[str] = dataclasses.field(default_factory=list)


class Proxy:
    kind = "?"
    # The signal that asks for a graceful stop (drain in-flight requests, then exit 0).
    graceful_signal = signal.SIGTERM

    def __init__(self, config: ProxyConfig, workdir: Path):
        self.config = config
        self.workdir = workdir
        self.port = free_port()
        self.host_header = "%s:%d" % (LOOPBACK, self.port)
        self.base_url = "http://" + self.host_header
        self.proc: ManagedProcess | None = None

    def start(self) -> "Proxy":
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = self.write_config()
        self.proc = ManagedProcess(self.kind, argv, self.workdir)
        try:
            self.proc.wait_for_port(self.port)
        except BaseException:
            self.stop()
            raise
        return self

    def write_config(self) -> list[str]:
        raise NotImplementedError

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(timeout=self.config.grace_period_s + 3)

    def describe(self) -> str:
        return self.proc.describe() if self.proc else "(not started)"


class EdgeProxy(Proxy):
    kind = "edge"

    def __init__(self, config: ProxyConfig, workdir: Path, edge_bin: str):
        super().__init__(config, workdir)
        self.edge_bin = edge_bin

    def caddyfile(self) -> str:
        c = self.config
        return "\n".join([
            "{",
            "\tworkers %d" % c.workers,
            "\tgrace_period %ds" % c.grace_period_s,
            "\tservers {",
            "\t\ttimeouts {",
            "\t\t\tread_header %ds" % c.read_header_s,
            "\t\t\tidle %ds" % c.idle_s,
            *(["\t\t\tread_body %ds" % c.read_body_s] if c.read_body_s else []),
            *(["\t\t\twrite %ds" % c.write_s] if c.write_s else []),
            "\t\t}",
            "\t\tmax_header_size %dKB" % c.max_header_kb,
            *["\t\t" + line for line in c.server_lines],
            "\t}",
            "}",
            "http://%s:%d {" % (LOOPBACK, self.port),
            '\trespond /hello "hello" 200',
            "\trequest_body /limited/* {",
            "\t\tmax_size %dMB" % c.limited_max_mb,
            "\t}",
            "\treverse_proxy %s {" % " ".join(c.upstreams),
            "\t\tstream_idle_timeout %ds" % c.stream_idle_timeout_s,
            *["\t\t" + line for line in c.proxy_lines],
            "\t\ttransport http {",
            "\t\t\tdial_timeout %ds" % c.dial_timeout_s,
            "\t\t\tresponse_header_timeout %ds" % c.response_header_timeout_s,
            "\t\t}",
            "\t}",
            "}",
            "",
        ])

    def write_config(self) -> list[str]:
        path = self.workdir / "Caddyfile"
        path.write_text(self.caddyfile())
        return [self.edge_bin, "run", "--config", str(path)]


class NginxProxy(Proxy):
    """nginx configured as the closest equivalent of the edge Caddyfile above (a stand-in for the suite)."""
    kind = "nginx"
    graceful_signal = signal.SIGQUIT  # nginx: SIGTERM is a fast stop; SIGQUIT is the graceful one

    def nginx_conf(self) -> str:
        c = self.config
        p = self.workdir
        servers = "\n".join("        server %s max_fails=0;" % u for u in c.upstreams)
        return f"""
worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/error.log info;
worker_shutdown_timeout {c.grace_period_s}s;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {p}/tmp_body;
    proxy_temp_path {p}/tmp_proxy;
    fastcgi_temp_path {p}/tmp_fastcgi;
    uwsgi_temp_path {p}/tmp_uwsgi;
    scgi_temp_path {p}/tmp_scgi;

    client_header_timeout {c.read_header_s}s;
    {"client_body_timeout %ds;" % c.read_body_s if c.read_body_s else ""}
    {"send_timeout %ds;" % c.write_s if c.write_s else ""}
    keepalive_timeout {c.idle_s}s;
    keepalive_requests 100000;
    # the request line must fit one buffer (-> 414); a header line too (-> 400, edge gives 431)
    large_client_header_buffers 4 8k;
    client_max_body_size 0;

    # Upgrade is forwarded only when it is an upgrade (Connection names it); otherwise the upstream
    # connection is a keep-alive one (empty Connection).
    map $http_connection $edge_upgrade {{
        "~*(^|[\\s,])upgrade($|[\\s,])" $http_upgrade;
        default "";
    }}
    map $edge_upgrade $edge_connection {{
        "" "";
        default "upgrade";
    }}

    upstream backend {{
{servers}
        keepalive 32;
        keepalive_timeout 60s;
        keepalive_requests 100000;
    }}

    server {{
        listen {LOOPBACK}:{self.port};

        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header Connection $edge_connection;
        proxy_set_header Upgrade $edge_upgrade;
        proxy_set_header Proxy-Connection "";
        proxy_set_header Trailer "";
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_connect_timeout {c.dial_timeout_s}s;
        proxy_read_timeout {c.response_header_timeout_s}s;
        proxy_buffering off;
        proxy_request_buffering off;
        proxy_next_upstream off;

        location = /hello {{
            default_type text/plain;
            return 200 "hello";
        }}
        location /limited/ {{
            client_max_body_size {c.limited_max_mb}m;
            proxy_pass http://backend;
        }}
        location / {{
            proxy_pass http://backend;
        }}
    }}
}}
"""

    def write_config(self) -> list[str]:
        path = self.workdir / "nginx.conf"
        path.write_text(self.nginx_conf())
        return ["nginx", "-c", str(path), "-p", str(self.workdir), "-e", str(self.workdir / "error.log"),
                "-g", "daemon off;"]

    def describe(self) -> str:
        text = super().describe()
        try:
            log = (self.workdir / "error.log").read_text(errors="replace").splitlines()[-20:]
            text += "\n--- nginx error.log tail ---\n" + "\n".join(log)
        except OSError:
            pass
        return text


def start_edge(edge_bin: str, workdir: Path, caddyfile: str, *ports: int) -> ManagedProcess:
    """Writes `caddyfile` to workdir/Caddyfile, runs `edge run --config` on it and waits for `ports`.
    The caller stops the returned process (it is stopped here if a port never opens)."""
    path = workdir / "Caddyfile"
    path.write_text(caddyfile)
    proc = ManagedProcess("edge", [edge_bin, "run", "--config", path], workdir)
    try:
        for port in ports:
            proc.wait_for_port(port)
    except BaseException:
        proc.stop()
        raise
    return proc


def http_request(port: int, method: str, target: str, headers: dict | None = None, body: bytes | None = None,
                 conn=None, timeout: float = 30):
    """One request to 127.0.0.1:port (on `conn` when given, which stays open): (response, body)."""
    import http.client
    c = conn or http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    if body is None and method in ("POST", "PUT", "PATCH"):
        body = b""
    c.request(method, target, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    return r, data
