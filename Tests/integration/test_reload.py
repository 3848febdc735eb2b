"""SIGHUP reloads the configuration without dropping anything: requests under load, keep-alive
connections and WebSocket tunnels go on; new ports open, removed ones close; a bad file is refused and
the running configuration keeps serving; certificates are not looked up again."""
import asyncio
import http.client
import signal
import socket
import threading
import time

import pytest
from websockets.asyncio.client import connect

import tlsutil
from harness import LOOPBACK, ManagedProcess, free_port

pytestmark = pytest.mark.edge_only("reload")


class Node:
    def __init__(self, edge_bin, workdir):
        self.workdir = workdir
        self.port, self.extra_port, self.tls_port, self.http_port = free_port(), free_port(), free_port(), free_port()
        self.caddyfile = workdir / "Caddyfile"
        self.edge_bin = edge_bin
        self.proc = None
        self.reloads = 0

    def write(self, body, extra=False, upstream=None, ws=None, broken=False):
        text = ["{", "\tworkers 2", "\tgrace_period 1s", "\thttp_port %d" % self.http_port,
                "\thttps_port %d" % self.tls_port, "\tstorage file_system %s" % (self.workdir / "storage"), "}",
                "http://%s:%d {" % (LOOPBACK, self.port), '\trespond /body "%s"' % body]
        if ws:
            text.append("\treverse_proxy /ws %s" % ws)
        if upstream:
            text.append("\treverse_proxy %s" % upstream)
        text.append("}")
        text += ["localhost {", '\trespond "tls %s"' % body, "}"]
        if extra:
            text += ["http://%s:%d {" % (LOOPBACK, self.extra_port), '\trespond "extra"', "}"]
        if broken:
            text += ["http://%s:%d {" % (LOOPBACK, self.port + 0), "\trespnd oops", "}"]
        self.caddyfile.write_text("\n".join(text) + "\n")

    def start(self):
        self.proc = ManagedProcess("edge", [self.edge_bin, "run", "--config", self.caddyfile], self.workdir)
        self.proc.wait_for_port(self.port)

    def log(self):
        return self.proc.stderr_path.read_text(errors="replace")

    def reload(self, expect="configuration reloaded"):
        """SIGHUP, then wait until the log shows the outcome (reloaded or refused) once more."""
        count = self.log().count(expect)
        self.proc.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.log().count(expect) > count:
                return
            time.sleep(0.02)
        raise AssertionError("no '%s' after SIGHUP\n%s" % (expect, self.proc.stderr_tail()))


def body(port, path="/body"):
    c = http.client.HTTPConnection(LOOPBACK, port, timeout=5)
    c.request("GET", path)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


@pytest.fixture
def node(edge_bin, tmp_path):
    n = Node(edge_bin, tmp_path)
    yield n
    if n.proc:
        n.proc.stop()


def test_reload_swaps_routes_opens_and_closes_ports(node):
    node.write("one")
    node.start()
    assert body(node.port) == (200, b"one")
    keep = http.client.HTTPConnection(LOOPBACK, node.port, timeout=5)
    keep.request("GET", "/body")
    assert keep.getresponse().read() == b"one"

    node.write("two", extra=True)
    node.reload()
    assert body(node.port) == (200, b"two")
    assert body(node.extra_port, "/") == (200, b"extra")
    keep.request("GET", "/body")  # the keep-alive connection opened before the reload goes on
    assert keep.getresponse().read() == b"two"

    node.write("three", extra=False)
    node.reload()
    assert body(node.port) == (200, b"three")
    with pytest.raises(OSError):
        socket.create_connection((LOOPBACK, node.extra_port), timeout=1).close()
    keep.close()


def test_bad_config_is_refused_and_the_running_one_keeps_serving(node):
    node.write("good")
    node.start()
    node.write("bad", broken=True)
    node.reload(expect="reload refused")
    assert "Caddyfile:" in node.log().split("reload refused")[-1].splitlines()[0]
    assert body(node.port) == (200, b"good")
    assert node.proc.proc.poll() is None


def test_requests_under_load_see_no_error_across_50_reloads(node, upstream):
    node.write("a", upstream=upstream.address)
    node.start()
    stop = threading.Event()
    errors, done = [], [0]

    def load():
        c = None
        while not stop.is_set():
            try:
                if c is None:
                    c = http.client.HTTPConnection(LOOPBACK, node.port, timeout=5)
                c.request("GET", "/echo")
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(r.status)
                done[0] += 1
            except Exception as e:  # noqa: BLE001 - any failure is what this test counts
                errors.append(repr(e))
                c = None

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(50):
            node.write("a" if i % 2 else "b", upstream=upstream.address, extra=bool(i % 2))
            node.reload()
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    print("requests answered during 50 reloads: %d, errors: %d" % (done[0], len(errors)))
    assert done[0] > 100
    assert errors == [], errors[:5]


def test_websocket_survives_reloads(node, ws_upstream):
    node.write("w", ws=ws_upstream.address)
    node.start()

    async def session():
        async with connect("ws://%s:%d/ws" % (LOOPBACK, node.port), open_timeout=5) as ws:
            for i in range(20):
                node.write("w%d" % i, ws=ws_upstream.address, extra=bool(i % 2))
                node.reload()
                await ws.send("message %d" % i)
                assert await asyncio.wait_for(ws.recv(), timeout=5) == "message %d" % i

    asyncio.run(session())


def test_certificates_survive_reloads(node):
    node.write("c")
    node.start()
    root = node.workdir / "storage" / "pki" / "authorities" / "local" / "root.crt"
    node.proc.wait_for_port(node.tls_port)
    first = tlsutil.handshake(node.tls_port, "localhost", cafile=root)
    for i in range(3):
        node.write("c%d" % i)
        node.reload()
    again = tlsutil.handshake(node.tls_port, "localhost", cafile=root)
    assert again.fingerprint == first.fingerprint
    assert node.log().count("certificate lookup name=localhost") == 1
