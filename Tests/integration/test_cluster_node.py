"""One `edge join` node against a real redis-server and pebble, on loopback: the shared configuration
(seeded, signed, versioned, applied when another writer changes it), certificates and keys in Redis
(keys sealed, a local copy kept), authenticated events, and what the node does while Redis is away.

Several nodes, each in its own network namespace, are in cluster/ (the multi-region scenarios)."""
import hashlib
import hmac
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from harness import LOOPBACK, ManagedProcess, free_port
from pebble import Pebble
from test_acme import fetch, wait_for_certificates

pytestmark = pytest.mark.edge_only("cluster")

SECRET = b"integration-test cluster secret, long enough to pass"
CLUSTER = "it"


def hkdf(secret: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 with an empty salt, 32 bytes: how edge derives its keys from the cluster secret."""
    prk = hmac.new(b"\0" * 32, secret, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


SIGNING_KEY = hkdf(SECRET, b"edge cluster v1: signing events")


def sign(data: bytes) -> bytes:
    return hmac.new(SIGNING_KEY, data, hashlib.sha256).hexdigest().encode()


class Redis:
    """redis-server on a free loopback port (no persistence), and a tiny blocking RESP client."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.port = free_port()
        self.proc = None
        self.start()

    def start(self):
        self.proc = ManagedProcess("redis", ["redis-server", "--port", str(self.port), "--bind", LOOPBACK,
                                             "--save", "", "--appendonly", "no"], self.workdir)
        self.proc.wait_for_port(self.port)

    def stop(self):
        self.proc.stop()

    @property
    def url(self):
        return "redis://%s:%d" % (LOOPBACK, self.port)

    def call(self, *args):
        with socket.create_connection((LOOPBACK, self.port), timeout=5) as s:
            out = b"*%d\r\n" % len(args)
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            s.sendall(out)
            reader = s.makefile("rb")
            return self._read(reader)

    def _read(self, reader):
        line = reader.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = reader.read(n + 2)[:-2]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read(reader) for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)


@pytest.fixture
def redis(tmp_path):
    r = Redis(tmp_path)
    yield r
    r.stop()


@pytest.fixture
def pebble(tmp_path):
    p = Pebble(tmp_path / "pebble")
    yield p
    p.stop()


def caddyfile(http_port, https_port, admin_port, sites, pebble=None):
    acme = ""
    if pebble:
        acme = "\temail ops@cluster.test\n\tacme_ca %s\n\tacme_ca_root %s\n" % (pebble.directory, pebble.ca_root)
    return "{\n\tworkers 1\n\tgrace_period 1s\n\tadmin 127.0.0.1:%d\n\thttp_port %d\n\thttps_port %d\n%s}\n%s" % (
        admin_port, http_port, https_port, acme, sites)


def join(edge_bin, workdir, redis, node_id, config=None, wait_port=None):
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "secret").write_bytes(SECRET + b"\n")
    argv = [edge_bin, "join", "--redis", redis.url, "--cluster", CLUSTER, "--secret-file", workdir / "secret",
            "--node-id", node_id, "--region", "r-" + node_id, "--storage", workdir / "storage"]
    if config:
        (workdir / "Caddyfile").write_text(config)
        argv += ["--config", workdir / "Caddyfile"]
    proc = ManagedProcess("edge-" + node_id, argv, workdir)
    if wait_port:
        try:
            proc.wait_for_port(wait_port)
        except Exception:
            proc.stop()
            raise
    return proc


def get(port, host, path="/"):
    request = urllib.request.Request("http://%s:%d%s" % (LOOPBACK, port, path), headers={"Host": host})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()


def admin_text(admin_port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (admin_port, path), timeout=5) as response:
        return response.read().decode()


def admin_status(admin_port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (admin_port, path), timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def admin_json(admin_port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (admin_port, path), timeout=5) as response:
        return json.loads(response.read())


def eventually(check, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - retried until the deadline, then reported
            last = error
        time.sleep(interval)
    raise AssertionError("not reached in %.1fs (last error: %s)" % (timeout, last))


def test_join_seeds_a_signed_configuration_and_reports_membership(edge_bin, tmp_path, redis):
    http, https, admin = free_port(), free_port(), free_port()
    config = caddyfile(http, https, admin, 'http://a.test {\n\trespond "hello a"\n}\n')
    node = join(edge_bin, tmp_path / "n1", redis, "n1", config=config, wait_port=http)
    try:
        assert get(http, "a.test") == (200, b"hello a")
        version, stored, signature = redis.call("HMGET", "edge:%s:config" % CLUSTER, "version", "json", "sig")
        assert version == b"1"
        assert signature == sign(stored), "the stored configuration is signed with the cluster secret"
        assert b"a.test" in stored and b"hello a" in stored
        status = eventually(lambda: admin_json(admin, "/cluster") if admin_json(admin, "/cluster").get("members") else None)
        assert status["redis"] == "connected" and status["config_version"] == 1 and status["node"] == "n1"
        assert [m["id"] for m in status["members"]] == ["n1"]
        assert status["members"][0]["region"] == "r-n1"
        # The same state in /metrics (the node count comes with the heartbeat, every 5 s).
        metrics = eventually(lambda: (lambda m: m if "edge_cluster_nodes 1.0" in m else None)(admin_text(admin, "/metrics")),
                             timeout=12)
        assert "edge_cluster_redis_connected 1.0" in metrics
        assert "edge_cluster_config_version 1.0" in metrics
        listed = subprocess.run([edge_bin, "cluster", "status", "--redis", redis.url, "--cluster", CLUSTER,
                                 "--secret-file", tmp_path / "n1" / "secret"], capture_output=True, text=True, timeout=20)
        assert listed.returncode == 0, listed.stderr
        assert "configuration version 1, 1 node(s)" in listed.stdout
        assert any(line.split()[:2] == ["n1", "r-n1"] for line in listed.stdout.splitlines()), listed.stdout
        # A second `--config` does not overwrite the cluster's configuration: the running version stays.
        node.stop()
        other = caddyfile(http, https, admin, 'http://a.test {\n\trespond "from a stale file"\n}\n')
        node = join(edge_bin, tmp_path / "n1b", redis, "n1", config=other, wait_port=http)
        assert get(http, "a.test") == (200, b"hello a")
        assert "is not used" in node.stderr_path.read_text()
    finally:
        node.stop()
    # A node that leaves says so: its heartbeat is gone at once, not after its TTL.
    assert redis.call("EXISTS", "edge:%s:node:n1" % CLUSTER) == 0


def test_configuration_written_by_another_member_is_applied_and_forgeries_are_not(edge_bin, tmp_path, redis):
    http, https, admin = free_port(), free_port(), free_port()
    node = join(edge_bin, tmp_path / "n1", redis, "n1",
                config=caddyfile(http, https, admin, 'http://a.test {\n\trespond "v1"\n}\n'), wait_port=http)
    try:
        key = "edge:%s:config" % CLUSTER
        stored = redis.call("HGET", key, "json").decode()
        text = stored.replace('"v1"', '"v2"')
        assert text != stored
        # Another member stores version 2 and announces it.
        redis.call("HSET", key, "json", text, "sig", sign(text.encode()), "version", 2)
        event = json.dumps({"type": "config.changed", "version": "2", "node": "other", "ts": time.time()}).encode()
        redis.call("PUBLISH", "edge:%s:events" % CLUSTER, event + b"\n" + sign(event))
        eventually(lambda: get(http, "a.test") == (200, b"v2"))
        assert admin_json(admin, "/cluster")["config_version"] == 2
        # Someone with Redis access but without the secret: a forged event is refused and counted...
        forged = json.dumps({"type": "config.changed", "version": "3", "node": "evil", "ts": time.time()}).encode()
        redis.call("PUBLISH", "edge:%s:events" % CLUSTER, forged + b"\n" + b"0" * 64)
        eventually(lambda: admin_json(admin, "/cluster")["events"]["refused"] == 1)
        # ...and an unsigned configuration is not applied even when a genuine event points at it.
        bad = text.replace('"v2"', '"owned"')
        redis.call("HSET", key, "json", bad, "sig", "00" * 32, "version", 3)
        event = json.dumps({"type": "config.changed", "version": "3", "node": "other", "ts": time.time()}).encode()
        redis.call("PUBLISH", "edge:%s:events" % CLUSTER, event + b"\n" + sign(event))
        eventually(lambda: "not signed with this cluster's secret" in node.stderr_path.read_text())
        assert get(http, "a.test") == (200, b"v2")
        # The admin API of any member stores the next version (after the rejected 3: 4) and applies it.
        new = caddyfile(http, https, admin, 'http://a.test {\n\trespond "v4"\n}\n')
        request = urllib.request.Request("http://127.0.0.1:%d/load" % admin, data=new.encode(), method="POST",
                                         headers={"Content-Type": "text/caddyfile"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        assert get(http, "a.test") == (200, b"v4")
        version, stored, signature = redis.call("HMGET", key, "version", "json", "sig")
        assert version == b"4" and signature == sign(stored) and b"v4" in stored
    finally:
        node.stop()


def join_with_certificate(edge_bin, tmp_path, redis, pebble, name):
    """A member whose one site `name` gets its certificate from pebble: (node, admin port, issuing roots),
    once the certificate verifies."""
    admin = free_port()
    sites = '%s {\n\trespond "hello from %s"\n}\n' % (name, name)
    config = caddyfile(pebble.http_port, pebble.tls_port, admin, sites, pebble=pebble)
    node = join(edge_bin, tmp_path / "n1", redis, "n1", config=config, wait_port=pebble.tls_port)
    roots = pebble.issuing_roots()
    try:
        wait_for_certificates(pebble.tls_port, [name], roots)
    except BaseException:
        node.stop()
        raise
    return node, admin, roots


def test_certificates_live_in_redis_sealed_and_survive_a_redis_outage(edge_bin, tmp_path, redis, pebble):
    name = "shared.cluster.test"
    node, admin, roots = join_with_certificate(edge_bin, tmp_path, redis, pebble, name)
    try:
        chain = redis.call("HGET", "edge:%s:s:certificates/%s.crt" % (CLUSTER, name), "v")
        assert chain.startswith(b"-----BEGIN CERTIFICATE-----")
        sealed, flag = redis.call("HMGET", "edge:%s:s:certificates/%s.key" % (CLUSTER, name), "v", "e")
        assert flag == b"1" and b"PRIVATE KEY" not in sealed, "private keys are sealed before they reach Redis"
        # The ACME account key is the cluster's too, sealed as well.
        accounts = [k for k in redis.call("KEYS", "edge:%s:s:acme/*" % CLUSTER) if k.endswith(b".key")]
        assert accounts and all(redis.call("HGET", k, "e") == b"1" for k in accounts)
        # The node's local copy, for when Redis is away.
        local = tmp_path / "n1" / "storage" / "certificates" / (name + ".key")
        assert b"PRIVATE KEY" in local.read_bytes()

        assert admin_status(admin, "/ready")[0] == 200
        redis.stop()
        eventually(lambda: admin_json(admin, "/cluster")["redis"] == "disconnected")
        # Not ready (it cannot get new certificates), yet it serves what it has.
        status, report = admin_status(admin, "/ready")
        assert status == 503 and report["checks"]["storage"]["ok"] is False, report
        assert "redis unreachable" in report["checks"]["storage"]["detail"]
        assert "edge_cluster_redis_connected 0.0" in admin_text(admin, "/metrics")
        for _ in range(20):  # every request on the cached certificate still succeeds
            assert fetch(pebble.tls_port, name, roots)[1] == b"hello from " + name.encode()
        # A restart while Redis is away starts from the local copies of configuration and certificate.
        node.stop()
        node = join(edge_bin, tmp_path / "n1", redis, "n1", wait_port=pebble.tls_port)
        assert fetch(pebble.tls_port, name, roots)[1] == b"hello from " + name.encode()
        log = node.stderr_path.read_text()
        assert "starting from this node's copy of the cluster configuration" in log

        redis.start()  # back, but empty (no persistence): the node reconnects and puts its configuration back
        eventually(lambda: admin_json(admin, "/cluster")["redis"] == "connected", timeout=15)
        eventually(lambda: redis.call("HGET", "edge:%s:config" % CLUSTER, "version") is not None, timeout=10)
        assert fetch(pebble.tls_port, name, roots)[1] == b"hello from " + name.encode()
    finally:
        node.stop()


def test_revoking_in_the_cluster_makes_the_node_drop_and_replace_the_certificate(edge_bin, tmp_path, redis, pebble):
    name = "revoked.cluster.test"
    node, _, roots = join_with_certificate(edge_bin, tmp_path, redis, pebble, name)
    try:
        first = fetch(pebble.tls_port, name, roots)[2]["serialNumber"]
        cluster = ["--redis", redis.url, "--cluster", CLUSTER, "--secret-file", tmp_path / "n1" / "secret"]
        listed = subprocess.run([edge_bin, "certs", "list", "--json"] + cluster, capture_output=True, text=True, timeout=30)
        rows = [json.loads(line) for line in listed.stdout.splitlines()]
        assert [(r["name"], r["issuer"], r["file"]) for r in rows] == [
            (name, pebble.directory, "redis certificates/%s.crt" % name)], listed.stdout + listed.stderr
        revoke = subprocess.run([edge_bin, "certs", "revoke", name, "--config", tmp_path / "n1" / "Caddyfile"] + cluster,
                                capture_output=True, text=True, timeout=60)
        assert revoke.returncode == 0, revoke.stderr
        # Set aside in the cluster, not lost; the original keys are gone.
        assert redis.call("EXISTS", "edge:%s:s:certificates/%s.crt" % (CLUSTER, name)) in (0, 1)
        assert any(b".revoked-" in k for k in redis.call("KEYS", "edge:%s:s:certificates/*" % CLUSTER))
        # The node heard it: it stops serving the revoked certificate and obtains a new one by itself.
        eventually(lambda: "no longer served" in node.stderr_path.read_text(), timeout=10)

        def replaced():
            try:
                return fetch(pebble.tls_port, name, roots)[2]["serialNumber"] != first
            except (OSError, AssertionError):
                return False
        eventually(replaced, timeout=30)
        assert pebble.orders() == 2
    finally:
        node.stop()
