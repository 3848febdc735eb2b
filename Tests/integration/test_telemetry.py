"""The `telemetry` option: TLS handshakes counted by what clients offer (versions, ciphers, groups, ALPN, SNI
present or not, the JA4 fingerprint), what was negotiated and why handshakes failed; `GET /telemetry`,
`edge telemetry`, and in a cluster the totals of every node in Redis.

Clients are curl and `openssl s_client`. Each client command is also run once against a plain Python TCP
server that captures its ClientHello: the JA4 computed from those bytes by ja4ref.py (Python, written from
FoxIO's specification) must be exactly what edge counted. Every port is in 21000-21999."""
from __future__ import annotations

import collections
import json
import random
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

import ja4ref
from harness import LOOPBACK, ManagedProcess
from test_cluster_node import SECRET, Redis

pytestmark = pytest.mark.edge_only("TLS telemetry")

_taken: set[int] = set()


def port() -> int:
    """A free loopback port in 21000-21999 (this suite's range), not handed out before in this run."""
    start = random.randrange(21000, 22000)
    for offset in range(1000):
        candidate = 21000 + (start - 21000 + offset) % 1000
        if candidate in _taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((LOOPBACK, candidate))
            except OSError:
                continue
        _taken.add(candidate)
        return candidate
    raise RuntimeError("no free port in 21000-21999")


def poll(predicate, timeout: float, describe):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(describe())


def admin(admin_port: int) -> dict:
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d/telemetry" % admin_port, timeout=5) as response:
        return json.loads(response.read())


def caddyfile(admin_port, http_port, https_port, storage, telemetry=True) -> str:
    return "\n".join([
        "{", "\tworkers 2", "\tgrace_period 1s", "\tadmin 127.0.0.1:%d" % admin_port, "\thttp_port %d" % http_port,
        "\thttps_port %d" % https_port, "\tstorage file_system %s" % storage if storage else "", "\tauto_https disable_redirects",
        "\ttelemetry" if telemetry else "", "}", "localhost {", "\ttls internal", "\trespond \"hi\"", "}", ""])


class Node:
    def __init__(self, edge_bin, workdir: Path, telemetry=True):
        self.edge_bin = edge_bin
        self.admin_port, self.http_port, self.https_port = port(), port(), port()
        self.storage = workdir / "storage"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "Caddyfile").write_text(caddyfile(self.admin_port, self.http_port, self.https_port, self.storage, telemetry))
        self.proc = ManagedProcess("edge", [edge_bin, "run", "--config", workdir / "Caddyfile"], workdir)
        self.proc.wait_for_port(self.https_port)
        self.root = self.storage / "pki" / "authorities" / "local" / "root.crt"
        poll(self.root.is_file, 10, lambda: "no local CA root\n" + self.proc.describe())

    def cli(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run([self.edge_bin, "telemetry", "--address", "127.0.0.1:%d" % self.admin_port, *args],
                              capture_output=True, text=True, timeout=20)


@pytest.fixture
def other_ca(tmp_path) -> Path:
    """A CA that did not sign edge's certificate: a client trusting only it refuses edge (unknown_ca)."""
    key, cert = tmp_path / "other.key", tmp_path / "other.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-subj", "/CN=other test CA", "-days", "1"],
                   check=True, capture_output=True)
    return cert


def clients(root: Path, other_ca: Path):
    """(name, argv for a port, outcome) of every client command the counting test runs."""
    def curl(*extra):
        return lambda p: ["curl", "-s", "-o", "/dev/null", "--max-time", "5", "--cacert", root,
                          "--resolve", "localhost:%d:127.0.0.1" % p, *extra, "https://localhost:%d/" % p]

    def s_client(*extra):
        return lambda p: ["openssl", "s_client", "-connect", "127.0.0.1:%d" % p, *extra]

    return [
        ("curl", curl(), "TLSv1.3"),
        ("curl --http1.1", curl("--http1.1"), "TLSv1.3"),
        ("curl --tls-max 1.2", curl("--tls-max", "1.2"), "TLSv1.2"),
        ("s_client -alpn", s_client("-servername", "localhost", "-alpn", "h2,http/1.1"), "TLSv1.3"),
        ("s_client without SNI", s_client("-noservername"), "TLSv1.3"),
        ("s_client, unknown CA", s_client("-servername", "localhost", "-verify_return_error", "-CAfile", other_ca),
         "received:unknown_ca(48)"),
        ("s_client -tls1_1", s_client("-servername", "localhost", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"),
         "sent:protocol_version(70)"),
    ]


VERSION_NAMES = {0x0304: "TLSv1.3", 0x0303: "TLSv1.2", 0x0302: "TLSv1.1", 0x0301: "TLSv1.0"}


def test_counts_match_the_handshakes_made(edge_bin, tmp_path, other_ca):
    node = Node(edge_bin, tmp_path / "edge")
    commands = clients(node.root, other_ca)
    # Each client's ClientHello, as a plain TCP server sees it.
    captured = {}
    for name, argv, _ in commands:
        capture_port = port()
        captured[name] = ja4ref.capture([str(a) for a in argv(capture_port)], capture_port)
    hellos = {name: ja4ref.parse(message) for name, message in captured.items()}
    for name, argv, outcome in commands:
        done = subprocess.run([str(a) for a in argv(node.https_port)], stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        assert (done.returncode == 0) == outcome.startswith("TLS"), (name, done.returncode, done.stderr[-500:])
    # Half a ClientHello, then the client hangs up.
    message = captured["curl"]
    record = b"\x16\x03\x01" + len(message).to_bytes(2, "big") + message
    with socket.create_connection((LOOPBACK, node.https_port)) as s:
        s.sendall(record[:60])
    expected_hellos = len(commands) + 1
    poll(lambda: admin(node.admin_port)["counters"]["summary"].get("client_hellos") == expected_hellos
         and sum(admin(node.admin_port)["counters"]["failures"].values()) == 3, 10,
         lambda: "counters never reached %d hellos, 3 failures: %s" % (expected_hellos, admin(node.admin_port)))

    body = admin(node.admin_port)
    counters = body["counters"]
    assert body["enabled"] is True
    assert counters["summary"] == {"client_hellos": 8, "unparsed": 1, "completed": 5, "failed": 3}
    assert counters["failures"] == {"received:unknown_ca(48)": 1, "sent:protocol_version(70)": 1,
                                    "closed_during_handshake": 1}
    assert counters["versions"] == {"TLSv1.3": 4, "TLSv1.2": 1}
    assert counters["resumption"] == {"full": 5}
    assert counters["sni"] == {"present": 6, "absent": 1}
    # edge prefers h2, then http/1.1: the three completed handshakes that offered h2 (curl and
    # `s_client -alpn h2,http/1.1`) chose it, the one offering http/1.1 alone got that, and
    # `s_client -noservername` offers none.
    assert counters["alpn"] == {"h2": 3, "http/1.1": 1, "none": 1}
    assert counters["groups"] == {"x25519": 5}
    assert counters["ciphers"] == {"TLS_AES_128_GCM_SHA256": 4, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": 1}

    # What was offered, from the captured bytes.
    expected_ja4 = collections.Counter(ja4ref.ja4(h) for h in hellos.values())
    assert counters["ja4"] == dict(expected_ja4), "edge %s\npython %s" % (counters["ja4"], expected_ja4)
    assert len(expected_ja4) >= 5  # the commands really differ
    versions, alpn = collections.Counter(), collections.Counter()
    for h in hellos.values():
        offered = [v for v in h["versions"] if v not in ja4ref.GREASE] or [h["legacy"]]
        versions.update(VERSION_NAMES[v] for v in set(offered))
        alpn.update(name.decode() for name in set(h["alpn"]))
    assert counters["offered_versions"] == dict(versions)
    assert counters["offered_alpn"] == dict(alpn)
    assert counters["offered_ciphers"]["TLS_AES_128_GCM_SHA256"] == sum(0x1301 in h["ciphers"] for h in hellos.values())
    assert counters["offered_groups"]["x25519"] == sum(0x001d in h["groups"] for h in hellos.values())
    # Nothing about the clients beyond counts: no address, no server name.
    text = json.dumps(body)
    assert "127.0.0.1" not in text and "localhost" not in text

    # The CLI: the same counters as JSON, and tables.
    cli = node.cli("--json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["counters"] == counters
    cli = node.cli("--top", "3")
    assert cli.returncode == 0, cli.stderr
    assert "client hellos 8 (unparsed 1), completed 5, failed 3" in cli.stdout
    # The largest count first, ties by fingerprint.
    top_ja4, top_count = sorted(expected_ja4.items(), key=lambda item: (-item[1], item[0]))[0]
    assert any(line.split()[:2] == [top_ja4, str(top_count)] for line in cli.stdout.splitlines()), cli.stdout
    assert "received:unknown_ca(48)" in cli.stdout and "sent:protocol_version(70)" in cli.stdout
    print(cli.stdout)
    node.proc.stop()


def test_off_counts_nothing(edge_bin, tmp_path):
    node = Node(edge_bin, tmp_path / "edge", telemetry=False)
    done = subprocess.run(["curl", "-s", "--cacert", node.root, "--resolve", "localhost:%d:127.0.0.1" % node.https_port,
                           "https://localhost:%d/" % node.https_port], capture_output=True, timeout=10)
    assert done.stdout == b"hi"
    body = admin(node.admin_port)
    assert body["enabled"] is False
    assert all(not keys for keys in body["counters"].values()), body
    cli = node.cli()
    assert cli.returncode == 0 and "telemetry is off on this node" in cli.stdout, cli.stdout + cli.stderr
    assert "client hellos 0 (unparsed 0), completed 0, failed 0" in cli.stdout
    node.proc.stop()


def test_cluster_totals_in_redis(edge_bin, tmp_path):
    """Two `edge join` nodes on loopback sharing one Redis and, through SO_REUSEPORT, the same HTTPS port (the
    kernel spreads connections over both). Every 10 s and at shutdown each adds its delta to the cluster's
    hashes, which then hold the sum of both nodes."""
    redis = Redis.__new__(Redis)
    redis.workdir, redis.port, redis.proc = tmp_path, port(), None
    redis.start()
    nodes = []
    try:
        admin_port, http_port, https_port = port(), port(), port()
        config = caddyfile(admin_port, http_port, https_port, None, telemetry=True)
        for index in (1, 2):
            workdir = tmp_path / ("n%d" % index)
            workdir.mkdir()
            (workdir / "secret").write_bytes(SECRET + b"\n")
            argv = [edge_bin, "join", "--redis", redis.url, "--cluster", "tele", "--secret-file", workdir / "secret",
                    "--node-id", "n%d" % index, "--storage", workdir / "storage"]
            if index == 1:
                (workdir / "Caddyfile").write_text(config)
                argv += ["--config", workdir / "Caddyfile"]
            node = ManagedProcess("edge-n%d" % index, argv, workdir)
            nodes.append(node)
            node.wait_for_port(https_port)
            # The second node binds the same ports; its admin endpoint (not shared) stays with the first.
            poll(lambda: "edge is serving" in node.stderr_path.read_text(errors="replace"), 10, node.describe)

        def handshakes(count, *extra):
            for _ in range(count):
                subprocess.run(["curl", "-sk", "-o", "/dev/null", "--max-time", "5", *extra, "--resolve",
                                "localhost:%d:127.0.0.1" % https_port, "https://localhost:%d/" % https_port],
                               capture_output=True, timeout=10)

        def totals(dimension):
            flat = redis.call("HGETALL", "edge:tele:telemetry:" + dimension) or []
            return {flat[i].decode(): int(flat[i + 1]) for i in range(0, len(flat), 2)}

        handshakes(30)
        handshakes(2, "--tls-max", "1.2")
        # The periodic flush (every 10 s) brings both nodes' counts.
        poll(lambda: totals("summary").get("completed") == 32, 25, lambda: "redis has %s" % totals("summary"))
        first_node = admin(admin_port)["counters"]["summary"]["completed"]
        print("node n1 counted %d of 32 handshakes, n2 the rest" % first_node)
        assert 0 < first_node < 32, "the kernel gave every connection to one node (%d on n1)" % first_node
        assert totals("versions") == {"TLSv1.3": 30, "TLSv1.2": 2}

        # At shutdown each node adds what it counted since its last flush.
        handshakes(5)
        subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % https_port, "-tls1_1", "-cipher",
                        "DEFAULT@SECLEVEL=0"], stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        time.sleep(0.3)
        for node in nodes:
            node.signal(signal.SIGTERM)
        for node in nodes:
            node.proc.wait(timeout=10)
        assert totals("summary") == {"client_hellos": 38, "completed": 37, "failed": 1}
        assert totals("failures") == {"sent:protocol_version(70)": 1}
        assert totals("sni") == {"present": 37, "absent": 1}
        assert sum(totals("ja4").values()) == 38

        cli = subprocess.run([edge_bin, "telemetry", "--redis", redis.url, "--cluster", "tele", "--json"],
                             capture_output=True, text=True, timeout=20)
        assert cli.returncode == 0, cli.stderr
        report = json.loads(cli.stdout)
        assert report["source"] == "cluster" and report["counters"]["summary"]["completed"] == 37
        cli = subprocess.run([edge_bin, "telemetry", "--redis", redis.url, "--cluster", "tele"],
                             capture_output=True, text=True, timeout=20)
        assert "client hellos 38 (unparsed 0), completed 37, failed 1" in cli.stdout, cli.stdout + cli.stderr
        print(cli.stdout)
    finally:
        for node in nodes:
            node.stop()
        redis.stop()
