#!/usr/bin/env python3
"""edge's load-test suite: tracker and WebSocket traffic through edge, nginx, HAProxy and Caddy side by side.

    python3 loadtest/suite/run.py [--smoke] [--proxies edge,nginx,haproxy,caddy] [--scenarios …]
                                  [--rounds N] [--report FILE.md]

Every process runs on 127.0.0.1 on free ports, is started here and stopped here by PID. The proxies run
one worker each, pinned to CPU 0 (PROXY_CPU); the upstreams and the generators share CPU 1 (LOAD_CPU).
Rounds are interleaved (each round visits every target, in a rotated order) and the tables give medians
with ratios to nginx. README.md beside this file describes each scenario and how to read the numbers.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LOADTEST = os.path.dirname(HERE)
ROOT = os.path.dirname(LOADTEST)
PROXY_CPU = os.environ.get("PROXY_CPU", "0")
LOAD_CPU = os.environ.get("LOAD_CPU", "1")
HZ = os.sysconf("SC_CLK_TCK")
ALL_PROXIES = ["edge", "nginx", "haproxy", "caddy"]
ALL_SCENARIOS = ["announce", "ws-idle", "ws-chatter", "tls-storm", "h2", "reload", "failover"]

# Sizes: the full run and the smoke run (make loadtest, under 3 minutes).
FULL = dict(rounds=5, announce_s=10, announce_conns=64, idle_conns=9800, idle_hold_s=10, chatter_conns=1000,
            chatter_rate=20000, chatter_s=10, tls_s=8, tls_conns=32, reload_s=10, reloads=4, failover_s=10,
            h2_s=8, h2_conns=32, h2_streams=32)
SMOKE = dict(rounds=1, announce_s=3, announce_conns=32, idle_conns=500, idle_hold_s=3, chatter_conns=100,
             chatter_rate=2000, chatter_s=3, tls_s=2, tls_conns=16, reload_s=6, reloads=2, failover_s=6,
             h2_s=2, h2_conns=8, h2_streams=16)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, name, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("%s exited (status %s) before listening on %d" % (name, proc.returncode, port))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("%s did not listen on 127.0.0.1:%d within %d s" % (name, port, seconds))


def process_tree(pid):
    """pid and its descendants, from /proc (nginx and HAProxy masters have worker children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, task)) as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def cpu_seconds(pid):
    total = 0
    for p in process_tree(pid):
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total / HZ


def rss_kib(pid):
    total = 0
    for p in process_tree(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Procs:
    """Every process started, stopped by PID (SIGTERM, then SIGKILL to it and its children)."""

    def __init__(self, work):
        self.work = work
        self.procs = []

    def start(self, name, argv, cpu, env=None):
        logf = open(os.path.join(self.work, name + ".log"), "ab")
        proc = subprocess.Popen(["taskset", "-c", cpu] + argv, stdout=logf, stderr=subprocess.STDOUT,
                                env=env, cwd=self.work, start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop(self, proc, sig=signal.SIGTERM):
        if proc.poll() is not None:
            return
        kids = process_tree(proc.pid)[1:]
        proc.send_signal(sig)
        try:
            proc.wait(8)
        except subprocess.TimeoutExpired:
            kids += process_tree(proc.pid)[1:]
            proc.kill()
            proc.wait()
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except OSError:
                pass

    def stop_all(self):
        for proc in reversed(self.procs):
            self.stop(proc)


class Bed:
    """The upstreams, the generator binary and the proxies of one run."""

    def __init__(self, work, procs, proxies):
        self.work, self.procs, self.names = work, procs, proxies
        self.edgeload = os.path.join(work, "edgeload")
        cc = subprocess.run(["cc", "-O2", "-Wall", "-o", self.edgeload, os.path.join(LOADTEST, "gen/edgeload.c"),
                             "-lcrypto"], capture_output=True, text=True)
        if cc.returncode != 0:
            raise SystemExit("compiling edgeload.c failed (libssl-dev installed?):\n" + cc.stderr)
        self.hsbench = os.path.join(work, "hsbench")
        cc = subprocess.run(["cc", "-O2", "-Wall", "-o", self.hsbench, os.path.join(LOADTEST, "tls/hsbench.c"),
                             "-lssl", "-lcrypto"], capture_output=True, text=True)
        if cc.returncode != 0:
            raise SystemExit("compiling hsbench.c failed:\n" + cc.stderr)
        make_certificate(work)
        with open(os.path.join(work, "hashes.txt"), "w") as f:  # the trackers' whitelist
            f.write("\n".join(os.urandom(20).hex() for _ in range(1000)) + "\n")
        self.generation = 1
        self.port, self.admin, self.tls_port, self.proc = {}, {}, {}, {}

    def start_tracker(self, name):
        port = free_port()
        proc = self.procs.start(name, ["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P", str(port),
                                       "-d", self.work, "-w", "hashes.txt"], LOAD_CPU)
        wait_port(port, proc, name)
        return port, proc

    def start_upstreams(self):
        self.tracker, _ = self.start_tracker("tracker")
        self.fo_port = {}
        self.fo_proc = {}
        for side in ("a", "b"):
            self.fo_port[side], self.fo_proc[side] = self.start_tracker("tracker-fo-" + side)
        self.origin, self.ws = free_port(), free_port()
        config = self.render("origin")
        proc = self.procs.start("origin", ["nginx", "-c", config, "-p", self.work, "-e",
                                           os.path.join(self.work, "origin-error.log"), "-g", "daemon off;"], LOAD_CPU)
        wait_port(self.origin, proc, "origin")
        proc = self.procs.start("ws-upstream", [self.edgeload, "ws-serve", str(self.ws), "1000", "64"], LOAD_CPU)
        wait_port(self.ws, proc, "ws-upstream")

    def restart_fo_b(self):
        port = self.fo_port["b"]
        proc = self.procs.start("tracker-fo-b", ["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P",
                                                 str(port), "-d", self.work, "-w", "hashes.txt"], LOAD_CPU)
        wait_port(port, proc, "tracker-fo-b")
        self.fo_proc["b"] = proc

    def render(self, name):
        template = {"edge": "edge.Caddyfile", "caddy": "caddy.Caddyfile", "nginx": "nginx.conf",
                    "haproxy": "haproxy.cfg", "origin": "origin.conf"}[name]
        with open(os.path.join(HERE, template)) as f:
            text = f.read()
        values = {"PORT": self.port.get(name), "ADMIN": self.admin.get(name), "TLS_PORT": self.tls_port.get(name),
                  "ORIGIN": "127.0.0.1:%d" % self.origin, "ORIGIN_PORT": self.origin,
                  "TRACKER": "127.0.0.1:%d" % self.tracker,
                  "WS": "127.0.0.1:%d" % self.ws, "FO_A": "127.0.0.1:%d" % self.fo_port["a"],
                  "FO_B": "127.0.0.1:%d" % self.fo_port["b"], "DIR": self.work, "GEN": self.generation}
        for key, value in values.items():
            text = text.replace("@%s@" % key, str(value))
        path = os.path.join(self.work, name + "." + template.split(".")[-1])
        with open(path, "w") as f:
            f.write(text)
        return path

    def start_proxy(self, name):
        self.port[name], self.admin[name], self.tls_port[name] = free_port(), free_port(), free_port()
        config = self.render(name)
        if name == "edge":
            argv = [find_edge(), "run", "--config", config]
            env = dict(os.environ, HOME=self.work)
        elif name == "nginx":
            argv = ["nginx", "-c", config, "-p", self.work, "-e", os.path.join(self.work, "nginx-error.log"),
                    "-g", "daemon off;"]
            env = None
        elif name == "haproxy":
            argv = ["haproxy", "-W", "-f", config]
            env = None
        else:
            home = os.path.join(self.work, "caddy-home")
            os.makedirs(home, exist_ok=True)
            argv = [shutil.which("caddy"), "run", "--config", config, "--adapter", "caddyfile"]
            env = dict(os.environ, HOME=home, XDG_DATA_HOME=home, XDG_CONFIG_HOME=home, GOMAXPROCS="1")
        self.proc[name] = self.procs.start(name, argv, PROXY_CPU, env)
        wait_port(self.port[name], self.proc[name], name)
        wait_port(self.tls_port[name], self.proc[name], name)

    def reload(self, name):
        """Swaps in a configuration that differs (X-Config-Generation) the way each proxy's operators do."""
        self.generation += 1
        config = self.render(name)
        pid = self.proc[name].pid
        if name == "edge":
            os.kill(pid, signal.SIGHUP)
        elif name == "nginx":
            os.kill(pid, signal.SIGHUP)
        elif name == "haproxy":
            os.kill(pid, signal.SIGUSR2)  # the master re-execs and starts a new worker
        else:
            r = subprocess.run([shutil.which("caddy"), "reload", "--config", config, "--adapter", "caddyfile",
                                "--address", "127.0.0.1:%d" % self.admin[name]], capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit("caddy reload failed: " + r.stderr)

    def target_port(self, name):
        return self.tracker if name == "direct" else self.port[name]

    def ws_port(self, name):
        return self.ws if name == "direct" else self.port[name]

    # --- generators -------------------------------------------------------------------------------------
    def announce(self, port, seconds, conns, host="127.0.0.1", timeline=None, samples=None):
        argv = [self.edgeload, "announce", "-k", os.path.join(self.work, "hashes.txt"), "-c", str(conns),
                "-d", str(seconds), "-w", "1", "-H", host]
        if timeline:
            argv += ["-t", timeline]
        if samples:
            argv += ["-o", samples]
        return subprocess.Popen(["taskset", "-c", LOAD_CPU] + argv + ["127.0.0.1", str(port)],
                                stdout=subprocess.PIPE, text=True)

    def ws_client(self, port, conns, seconds, rate=0, path="/ws", ramp=0, samples=None):
        argv = [self.edgeload, "ws", "-c", str(conns), "-d", str(seconds), "-w", "1", "-m", str(rate), "-p", path,
                "-r", str(ramp)]
        if samples:
            argv += ["-o", samples]
        return subprocess.Popen(["taskset", "-c", LOAD_CPU] + argv + ["127.0.0.1", str(port)],
                                stdout=subprocess.PIPE, text=True)


def make_certificate(work):
    """A P-256 CA and a leaf for bench.test (leaf.pem, leaf.key; leaf.combined.pem for HAProxy)."""
    steps = [
        "openssl ecparam -name prime256v1 -genkey -noout -out ca.key",
        "openssl req -x509 -new -key ca.key -sha256 -days 2 -subj /CN=edge-suite-CA -out ca.pem",
        "openssl ecparam -name prime256v1 -genkey -noout -out leaf.ec.key",
        "openssl pkcs8 -topk8 -nocrypt -in leaf.ec.key -out leaf.key",
        "openssl req -new -key leaf.key -subj /CN=bench.test -out leaf.csr",
        "openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days 2 "
        "-extfile leaf.ext -out leaf.pem",
    ]
    with open(os.path.join(work, "leaf.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:bench.test\n")
    for step in steps:
        r = subprocess.run(step.split(), cwd=work, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("%s failed: %s" % (step, r.stderr))
    with open(os.path.join(work, "leaf.combined.pem"), "w") as out:
        for part in ("leaf.pem", "leaf.key"):
            with open(os.path.join(work, part)) as f:
                out.write(f.read())


def find_edge():
    edge = os.environ.get("EDGE_BIN") or os.path.join(ROOT, ".build/release/edge")
    if not os.access(edge, os.X_OK):
        raise SystemExit("no edge binary: build it (make build) or set EDGE_BIN")
    return edge


def finish(proc, what):
    out, _ = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise SystemExit("%s failed (status %d): %s" % (what, proc.returncode, out))
    return json.loads(out.strip().splitlines()[-1])


def rotated(items, r):
    k = r % len(items)
    return items[k:] + items[:k]


# --- scenarios ------------------------------------------------------------------------------------------
def check_routes(bed, names):
    """Before measuring: an announce, a scrape and a WebSocket echo through every target work."""
    for name in names:
        r = finish(bed.announce(bed.target_port(name), 1, 2), "announce check through " + name)
        if r["ok"] == 0 or r["failed"] > 0:
            raise SystemExit("announces through %s do not work: %s" % (name, r))
        w = finish(bed.ws_client(bed.ws_port(name), 2, 1, rate=100), "WebSocket check through " + name)
        if w["connected"] != 2 or w["echoed"] == 0:
            raise SystemExit("WebSockets through %s do not work: %s" % (name, w))


def scenario_announce(bed, names, size, rows, samples_dir):
    targets = ["direct"] + names
    for r in range(size["rounds"]):
        for name in rotated(targets, r):
            pid = bed.proc[name].pid if name != "direct" else None
            c0 = cpu_seconds(pid) if pid else 0
            keep = os.path.join(samples_dir, "announce-%s.txt" % name) if r == 0 else None
            res = finish(bed.announce(bed.target_port(name), size["announce_s"], size["announce_conns"],
                                      samples=keep), "announce through " + name)
            cpu = cpu_seconds(pid) - c0 if pid else None
            rows.append(dict(scenario="announce", round=r + 1, proxy=name, req_s=res["req_per_s"],
                             p50_ms=res["latency"]["p50_ms"], p99_ms=res["latency"]["p99_ms"],
                             failed=res["failed"], retried=res["retried"], cpu_s=cpu,
                             req_per_cpu_s=(res["ok"] / cpu) if cpu else None))
            log("announce r%d %-8s %8.0f req/s p99 %6.2f ms failed %d cpu %s" % (
                r + 1, name, res["req_per_s"], res["latency"]["p99_ms"], res["failed"],
                "%.2f s" % cpu if cpu else "-"))


def scenario_ws_idle(bed, names, size, rows, samples_dir):
    n = size["idle_conns"]
    for name in ["direct"] + names:
        pid = bed.proc[name].pid if name != "direct" else None
        before = rss_kib(pid) if pid else 0
        client = bed.ws_client(bed.ws_port(name), n, size["idle_hold_s"], path="/ws?subscribe", ramp=0,
                               samples=os.path.join(samples_dir, "idle-%s.txt" % name))
        ready = client.stdout.readline().split()
        time.sleep(1)
        held = rss_kib(pid) if pid else 0
        res = finish(client, "WebSocket idle hold through " + name)
        time.sleep(1)
        after = rss_kib(pid) if pid else 0
        per_conn = (held - before) / max(1, int(ready[1])) if pid else None
        rows.append(dict(scenario="ws-idle", round=1, proxy=name, connections=res["connected"],
                         failed=res["failed"] + res["dropped"], ramp_s=res["ramp_s"],
                         handshake_p99_ms=res["handshake"]["p99_ms"], rss_before_kib=before, rss_held_kib=held,
                         rss_after_kib=after, kib_per_conn=per_conn, fanout_p50_ms=res["broadcast"]["p50_ms"],
                         fanout_p99_ms=res["broadcast"]["p99_ms"], broadcasts=res["broadcasts"]))
        log("ws-idle %-8s %d connected (%d failed, %d dropped) in %.2f s; RSS %d -> %d KiB (%s KiB/conn); "
            "fan-out p99 %.1f ms" % (name, res["connected"], res["failed"], res["dropped"], res["ramp_s"], before,
                                     held, "%.1f" % per_conn if per_conn is not None else "-",
                                     res["broadcast"]["p99_ms"]))


def scenario_ws_chatter(bed, names, size, rows, samples_dir):
    targets = ["direct"] + names
    for r in range(size["rounds"]):
        for name in rotated(targets, r):
            pid = bed.proc[name].pid if name != "direct" else None
            keep = os.path.join(samples_dir, "chatter-%s.txt" % name) if r == 0 else None
            client = bed.ws_client(bed.ws_port(name), size["chatter_conns"], size["chatter_s"],
                                   rate=size["chatter_rate"], samples=keep)
            client.stdout.readline()  # ready: count CPU from here, without the connection ramp
            c0 = cpu_seconds(pid) if pid else 0
            res = finish(client, "WebSocket chatter through " + name)
            cpu = cpu_seconds(pid) - c0 if pid else None
            rows.append(dict(scenario="ws-chatter", round=r + 1, proxy=name, msgs_s=res["sent_per_s"],
                             echoed=res["echoed"], sent=res["sent"], p50_ms=res["echo"]["p50_ms"],
                             p99_ms=res["echo"]["p99_ms"], p999_ms=res["echo"]["p999_ms"],
                             failed=res["failed"] + res["dropped"] + (res["sent"] - res["echoed"]),
                             cpu_us_per_msg=(cpu * 1e6 / res["echoed"]) if cpu and res["echoed"] else None))
            log("ws-chatter r%d %-8s %6.0f msg/s echo p50 %.3f p99 %.3f ms lost %d cpu %s" % (
                r + 1, name, res["sent_per_s"], res["echo"]["p50_ms"], res["echo"]["p99_ms"],
                res["sent"] - res["echoed"], "%.2f s" % cpu if cpu else "-"))


def hsbench(bed, name, port, seconds, conns):
    r = subprocess.run(["taskset", "-c", LOAD_CPU, bed.hsbench, "-m", "raw", "-c", str(conns), "-d", str(seconds),
                        "-n", "bench.test", "127.0.0.1", str(port)], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("hsbench against %s failed: %s %s" % (name, r.stdout, r.stderr))
    return dict(kv.split("=", 1) for kv in r.stdout.split())


def scenario_tls_storm(bed, names, size, rows, samples_dir):
    """Full TLS 1.3 handshakes (X25519, no resumption offered), one GET each, as fast as the client can."""
    for name in names:
        if hsbench(bed, name, bed.tls_port[name], 1, 4)["errors"] != "0":
            raise SystemExit("TLS handshakes against %s fail" % name)
    for r in range(size["rounds"]):
        for name in rotated(names, r):
            pid = bed.proc[name].pid
            c0 = cpu_seconds(pid)
            res = hsbench(bed, name, bed.tls_port[name], size["tls_s"], size["tls_conns"])
            cpu = cpu_seconds(pid) - c0
            n = int(res["handshakes"])
            rows.append(dict(scenario="tls-storm", round=r + 1, proxy=name, hs_s=float(res["rate"]),
                             failed=int(res["errors"]), hs_per_cpu_s=n / cpu if cpu else None,
                             tickets=float(res.get("tickets_per_handshake", 0))))
            log("tls-storm r%d %-8s %7.0f handshakes/s errors %s cpu %.2f s" % (
                r + 1, name, float(res["rate"]), res["errors"], cpu))


def h2load(bed, name, path, seconds, conns, streams):
    """h2load over TLS (ALPN h2) to bench.test on the proxy's TLS port; its summary as numbers."""
    url = "https://bench.test:%d%s" % (bed.tls_port[name], path)
    r = subprocess.run(["taskset", "-c", LOAD_CPU, "h2load", "-D", str(seconds), "-c", str(conns), "-m", str(streams),
                        "-t", "1", "--connect-to", "127.0.0.1:%d" % bed.tls_port[name], url],
                       capture_output=True, text=True, timeout=seconds + 120)
    out = r.stdout
    done = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                     r"(\d+) errored, (\d+) timeout", out)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    rate = re.search(r"finished in [\d.]+s, ([\d.]+) req/s", out)
    latency = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", out)
    proto = re.search(r"Application protocol: (\S+)", out)
    if r.returncode != 0 or not (done and codes and rate and latency):
        raise SystemExit("h2load against %s failed: %s %s" % (name, out[-2000:], r.stderr[-1000:]))

    def ms(text):
        for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
            if text.endswith(unit):
                return float(text[:-len(unit)]) * scale
        return float(text)
    # Failed: requests not answered, or answered 4xx/5xx (h2load's "failed" counts neither alone).
    failed = int(done.group(5)) + int(done.group(6)) + int(done.group(7)) + int(codes.group(3)) + int(codes.group(4))
    return dict(req_s=float(rate.group(1)), ok=int(codes.group(1)), failed=failed, mean_ms=ms(latency.group(3)),
                max_ms=ms(latency.group(2)), proto=proto.group(1) if proto else "?")


def scenario_h2(bed, names, size, rows, samples_dir):
    """HTTP/2 over TLS with h2load: many streams per connection, to a local response and to a keep-alive
    HTTP/1.1 origin behind /api/."""
    for name in names:
        check = h2load(bed, name, "/api/check", 1, 1, 1)
        if check["proto"] != "h2" or check["ok"] == 0:
            raise SystemExit("HTTP/2 through %s does not work: %s" % (name, check))
    for r in range(size["rounds"]):
        for path, kind in (("/", "h2-local"), ("/api/x", "h2-proxy")):
            for name in rotated(names, r):
                pid = bed.proc[name].pid
                c0 = cpu_seconds(pid)
                res = h2load(bed, name, path, size["h2_s"], size["h2_conns"], size["h2_streams"])
                cpu = cpu_seconds(pid) - c0
                rows.append(dict(scenario=kind, round=r + 1, proxy=name, req_s=res["req_s"], mean_ms=res["mean_ms"],
                                 max_ms=res["max_ms"], failed=res["failed"], cpu_s=cpu,
                                 req_per_cpu_s=res["ok"] / cpu if cpu else None))
                log("%s r%d %-8s %8.0f req/s mean %.2f ms failed %d cpu %.2f s" % (
                    kind, r + 1, name, res["req_s"], res["mean_ms"], res["failed"], cpu))


def scenario_reload(bed, names, size, rows, samples_dir):
    """Announces and 200 chatting WebSockets while the proxy reloads its configuration `reloads` times."""
    for name in names:
        timeline = os.path.join(samples_dir, "reload-%s.timeline" % name)
        load = bed.announce(bed.port[name], size["reload_s"], size["announce_conns"], timeline=timeline)
        ws = bed.ws_client(bed.port[name], 200, size["reload_s"] + 1, rate=1000)
        ws.stdout.readline()
        gap = size["reload_s"] / (size["reloads"] + 1)
        for _ in range(size["reloads"]):
            time.sleep(gap)
            bed.reload(name)
        res = finish(load, "announce during reloads of " + name)
        w = finish(ws, "WebSockets during reloads of " + name)
        rows.append(dict(scenario="reload", round=1, proxy=name, reloads=size["reloads"], ok=res["ok"],
                         failed=res["failed"], retried=res["retried"], idle_closes=res["idle_closes"],
                         connect_errors=res["connect_errors"], ws_dropped=w["dropped"],
                         ws_lost=w["sent"] - w["echoed"], p99_ms=res["latency"]["p99_ms"],
                         max_ms=res["latency"]["max_ms"]))
        log("reload %-8s ok %d failed %d retried %d idle-closed %d connect errors %d; WebSockets dropped %d" % (
            name, res["ok"], res["failed"], res["retried"], res["idle_closes"], res["connect_errors"],
            w["dropped"]))


def scenario_failover(bed, names, size, rows, samples_dir):
    """fo.test balanced over two trackers; one is killed (SIGKILL) 2 s into the measurement."""
    for name in names:
        timeline = os.path.join(samples_dir, "failover-%s.timeline" % name)
        load = bed.announce(bed.port[name], size["failover_s"], size["announce_conns"], host="fo.test",
                            timeline=timeline)
        time.sleep(3)  # 1 s warm-up + 2 s
        bed.fo_proc["b"].kill()
        bed.fo_proc["b"].wait()
        res = finish(load, "announce through %s while a tracker dies" % name)
        bed.restart_fo_b()
        with open(timeline) as f:
            buckets = [tuple(float(x) for x in line.split()) for line in f]
        bad = [t for t, _, failed in buckets if failed > 0 and t >= 2.5]
        rows.append(dict(scenario="failover", round=1, proxy=name, ok=res["ok"], failed=res["failed"],
                         retried=res["retried"], req_s=res["req_per_s"], p99_ms=res["latency"]["p99_ms"],
                         max_ms=res["latency"]["max_ms"],
                         last_failure_s=(max(bad) - 3.0 + 0.1) if bad else None))
        log("failover %-8s ok %d failed %d retried %d p99 %.2f ms (a tracker killed 2 s in)" % (
            name, res["ok"], res["failed"], res["retried"], res["latency"]["p99_ms"]))


SCENARIOS = {"announce": scenario_announce, "ws-idle": scenario_ws_idle, "ws-chatter": scenario_ws_chatter,
             "tls-storm": scenario_tls_storm, "h2": scenario_h2, "reload": scenario_reload,
             "failover": scenario_failover}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="short sizes (make loadtest)")
    ap.add_argument("--proxies", default=",".join(ALL_PROXIES))
    ap.add_argument("--scenarios", default=",".join(ALL_SCENARIOS))
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--report", help="write the Markdown report (and its plots beside it) here")
    ap.add_argument("--json", help="write every row as JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (configs, logs, samples)")
    args = ap.parse_args()
    size = dict(SMOKE if args.smoke else FULL)
    if args.rounds:
        size["rounds"] = args.rounds
    names = [p for p in args.proxies.split(",") if p]
    scenarios = [s for s in args.scenarios.split(",") if s]
    for p in names:
        if p not in ALL_PROXIES:
            raise SystemExit("unknown proxy %s (one of %s)" % (p, ", ".join(ALL_PROXIES)))
        if p != "edge" and not shutil.which(p):
            raise SystemExit("%s is not installed (make deps-bench)" % p)
    for s in scenarios:
        if s not in SCENARIOS:
            raise SystemExit("unknown scenario %s (one of %s)" % (s, ", ".join(ALL_SCENARIOS)))
    for tool in ("opentracker", "taskset", "cc"):
        if not shutil.which(tool):
            raise SystemExit("%s is required (make deps-bench)" % tool)

    work = tempfile.mkdtemp(prefix="edge-suite.")
    os.chmod(work, 0o755)  # opentracker drops its privileges before it reads the whitelist
    procs = Procs(work)
    rows = []
    started = time.monotonic()
    try:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        bed = Bed(work, procs, names)
        bed.start_upstreams()
        for p in names:
            bed.start_proxy(p)
        check_routes(bed, ["direct"] + names)
        samples_dir = os.path.join(work, "samples")
        os.makedirs(samples_dir)
        for s in scenarios:
            SCENARIOS[s](bed, names, size, rows, samples_dir)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(rows, f, indent=1)
        meta = dict(date=datetime.date.today().isoformat(), size=size, names=names, scenarios=scenarios,
                    seconds=time.monotonic() - started, versions=versions(names), cpus=os.cpu_count(),
                    smoke=args.smoke)
        import report
        text = report.markdown(rows, meta, samples_dir, args.report)
        if args.report:
            with open(args.report, "w") as f:
                f.write(text)
            log("wrote", args.report)
        print(text)
        return report.problems(rows, names)
    except SystemExit:
        for name in os.listdir(work):
            if name.endswith(".log") and os.path.getsize(os.path.join(work, name)) > 0:
                with open(os.path.join(work, name), errors="replace") as f:
                    log("--- %s (last lines)\n%s" % (name, "".join(f.readlines()[-8:])))
        raise
    finally:
        procs.stop_all()
        if args.keep:
            log("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def versions(names):
    out = {}
    probes = {"edge": [find_edge(), "version"], "nginx": ["nginx", "-v"], "haproxy": ["haproxy", "-v"],
              "caddy": ["caddy", "version"], "opentracker": None}
    for n in names:
        try:
            r = subprocess.run(probes[n], capture_output=True, text=True, timeout=10)
            out[n] = (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            out[n] = "?"
    return out


if __name__ == "__main__":
    sys.exit(main())
