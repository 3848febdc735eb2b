#!/usr/bin/env python3
"""Memory per idle keep-alive TLS connection: edge and nginx side by side.

Starts each server (one worker, the same P-256 certificate for bench.test, TLS 1.3), opens N TLS
connections, sends one small request on each and reads the answer, then reads the server's RSS (all its
processes) with the connections idle, and again after they close. Prints KiB per connection.

    EDGE_BIN=.build/release/edge python3 loadtest/tls/idle_memory.py [N]

Everything listens on 127.0.0.1 (ports 29060-29062); every process started is stopped by PID.
"""
import asyncio
import os
import resource
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EDGE = os.environ.get("EDGE_BIN") or os.path.join(ROOT, ".build/release/edge")
EDGE_PORT, EDGE_HTTP_PORT, NGINX_PORT = 29060, 29061, 29062


def rss_kib(pid):
    """Resident memory of pid and its children, KiB (from /proc)."""
    total = 0
    pids = [pid]
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                pids += [int(c) for c in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


async def open_idle(port, n):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    streams = []
    for start in range(0, n, 200):
        async def one():
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="bench.test")
            writer.write(b"GET / HTTP/1.1\r\nHost: bench.test\r\n\r\n")
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
            await reader.readexactly(length)
            return reader, writer
        streams += await asyncio.gather(*(one() for _ in range(min(200, n - start))))
    return streams


def wait_port(port, proc):
    import socket
    for _ in range(100):
        if proc.poll() is not None:
            raise SystemExit("server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not listen on %d" % port)


def measure(name, argv, port, work):
    proc = subprocess.Popen(argv, stdout=open(os.path.join(work, name + ".log"), "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        wait_port(port, proc)
        loop = asyncio.new_event_loop()
        warm = loop.run_until_complete(open_idle(port, 20))
        for _, w in warm:
            w.close()
        time.sleep(0.5)
        before = rss_kib(proc.pid)
        streams = loop.run_until_complete(open_idle(port, N))
        time.sleep(1.0)
        idle = rss_kib(proc.pid)
        for _, w in streams:
            w.close()
        loop.run_until_complete(asyncio.sleep(1.0))
        after = rss_kib(proc.pid)
        loop.close()
        per = (idle - before) / N
        print("%-6s RSS before %7d KiB, with %d idle TLS connections %7d KiB (%.1f KiB each), after closing %7d KiB"
              % (name, before, N, idle, per, after))
        return per
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, N * 2 + 100)), hard))
    work = tempfile.mkdtemp(prefix="edge-idle-memory.")
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-days", "2", "-subj", "/CN=bench.test", "-addext", "subjectAltName=DNS:bench.test",
                        "-keyout", work + "/leaf.key", "-out", work + "/leaf.pem"], check=True, capture_output=True)
        with open(work + "/Caddyfile", "w") as f:
            f.write("{\n\tworkers 1\n\thttps_port %d\n\thttp_port %d\n\tauto_https disable_redirects\n"
                    "\tstorage file_system %s/storage\n\tgrace_period 1s\n}\nbench.test {\n\ttls %s/leaf.pem %s/leaf.key\n"
                    "\trespond \"ok\"\n}\n" % (EDGE_PORT, EDGE_HTTP_PORT, work, work, work))
        with open(work + "/nginx.conf", "w") as f:
            f.write("worker_processes 1;\npid %s/nginx.pid;\nerror_log %s/nginx-error.log warn;\n"
                    "events { worker_connections %d; }\nhttp {\n access_log off;\n keepalive_timeout 300s;\n"
                    " client_body_temp_path %s/b; proxy_temp_path %s/p; fastcgi_temp_path %s/f; uwsgi_temp_path %s/u; scgi_temp_path %s/s;\n"
                    " server {\n  listen 127.0.0.1:%d ssl;\n  server_name bench.test;\n  ssl_certificate %s/leaf.pem;\n"
                    "  ssl_certificate_key %s/leaf.key;\n  ssl_protocols TLSv1.2 TLSv1.3;\n  location / { return 200 \"ok\"; }\n }\n}\n"
                    % (work, work, N * 2 + 100, work, work, work, work, work, NGINX_PORT, work, work))
        results = {}
        if os.access(EDGE, os.X_OK):
            results["edge"] = measure("edge", [EDGE, "run", "--config", work + "/Caddyfile"], EDGE_PORT, work)
        results["nginx"] = measure("nginx", ["nginx", "-c", work + "/nginx.conf", "-p", work, "-e", work + "/nginx-error.log",
                                             "-g", "daemon off;"], NGINX_PORT, work)
        if "edge" in results and results["nginx"] > 0:
            print("edge/nginx memory per idle TLS connection: %.2f" % (results["edge"] / results["nginx"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
