"""The seed Caddyfiles, run byte for byte unchanged by the edge binary, checked the way their operators did.

seeds/000.Caddyfile (Torrust Tracker): three HTTPS sites proxying to tracker:1212 (REST API),
tracker:7070 (HTTP tracker) and grafana:3000 (Grafana with Grafana Live WebSockets), and the admin
endpoint on 0.0.0.0:2019. seeds/003.Caddyfile (TriviaFlow): static files and media from /srv, everything
else (pages, WebSockets) to web:8000.

Each seed runs in a network namespace of its own (netns.py): only `lo`, no route, so ports 80, 443 and
2019 are free and private and no packet can leave the machine; the upstream and site names answer
127.0.0.1 through the namespace's hosts file. Stand-ins listen there on the seeds' ports: the harness
HTTP upstream as the tracker API, a real opentracker (whitelist mode) as the HTTP tracker, WebSocket
echoes that also serve a page as Grafana and as the Django app. The site names' certificates come from a
throw-away test CA and sit in edge's storage ($XDG_DATA_HOME/edge/certificates/<name>.crt + .key), where
ACME would put them. Seed 003's /srv is a temp dir bind-mounted in a mount namespace of edge's own.
Clients run inside the namespace (curl through `ip netns exec`, Python sockets opened in it) and trust
only the test CA.

Needs root (namespaces, mounts; CI runs as root) and Debian's `opentracker`.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect as ws_connect

import tlsutil
from harness import UPSTREAMS
import netns
from netns import Namespace

pytestmark = pytest.mark.edge_only("seed Caddyfiles")

SEEDS = Path(__file__).resolve().parent / "seeds"
SITES_000 = ["api.torrust-tracker.com", "http1.torrust-tracker.com", "grafana.torrust-tracker.com"]
SITE_003 = "quiz.your-domain.com"
INFO_HASH = bytes.fromhex("0123456789abcdef0123456789abcdef01234567")  # on opentracker's whitelist


# ---------------------------------------------------------------- adapt and validate (no namespace)


@pytest.mark.parametrize("seed,sites", [("000", SITES_000), ("003", [SITE_003])])
def test_seed_adapts_and_validates(edge_bin, tmp_path, seed, sites):
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    path = SEEDS / ("%s.Caddyfile" % seed)
    adapted = subprocess.run([edge_bin, "adapt", "--config", path], capture_output=True, text=True, env=env, timeout=30)
    assert adapted.returncode == 0, adapted.stderr
    config = json.loads(adapted.stdout)
    assert [a["host"] for s in config["sites"] for a in s["addresses"]] == sites
    if seed == "000":
        assert config["global"]["admin"] == "0.0.0.0:2019"
        assert config["global"]["email"] == "admin@torrust.com"
    checked = subprocess.run([edge_bin, "validate", "--config", path], capture_output=True, text=True, env=env, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "valid configuration (%d site(s))" % len(sites) in checked.stdout + checked.stderr


# ---------------------------------------------------------------- the seeds running


def client_env() -> dict:
    """This environment without proxy settings: clients must go straight to the namespace's edge."""
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def __repr__(self) -> str:
        return "<%d %r %r>" % (self.status, self.headers, self.body[:200])


class InNamespaceHTTPS(http.client.HTTPSConnection):
    """Made with a socket from the namespace; never dials again (from here it would leave the machine)."""

    def connect(self):
        raise ConnectionError("the connection to edge was closed; not reconnecting outside the namespace")


class SeedNode:
    """One seed's edge in its namespace, and clients that reach it from inside."""

    def __init__(self, ns: Namespace, workdir: Path, cafile: Path, srv: Path | None = None, srv_before=None):
        self.ns, self.workdir, self.cafile = ns, workdir, cafile
        self.srv, self.srv_before = srv, srv_before  # seed 003: the temp dir edge sees as /srv; the host's /srv
        self._count = 0

    def curl(self, url: str, *args: str) -> Response:
        """One request with curl inside the namespace, names resolved by its hosts file, the test CA trusted."""
        self._count += 1
        body = self.workdir / ("curl-%d.body" % self._count)
        p = self.ns.run(["curl", "-sS", "--max-time", "10", "--cacert", self.cafile, "-D", "-", "-o", body,
                         *args, url], env=client_env())
        assert p.returncode == 0, "curl %s failed (%d): %s\n%s" % (
            url, p.returncode, p.stderr.decode(errors="replace"), self.ns.describe())
        head = p.stdout.decode("latin-1").split("\r\n")
        headers = {}
        for line in head[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        return Response(int(head[0].split()[1]), headers, body.read_bytes() if body.exists() else b"")

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile))

    def https(self, host: str) -> http.client.HTTPSConnection:
        """A keep-alive HTTPS connection to `host` on port 443 inside the namespace."""
        ctx = self.tls_context()
        conn = InNamespaceHTTPS(host, 443, context=ctx, timeout=10)
        conn.sock = ctx.wrap_socket(self.ns.connect(443), server_hostname=host)
        return conn

    def websocket(self, url: str, origin: str | None = None):
        host = url.split("/")[2]
        return ws_connect(url, sock=self.ns.connect(443), ssl=self.tls_context(), server_hostname=host,
                          origin=origin, proxy=None, compression=None, open_timeout=10, close_timeout=2)


def logged_errors(workdir: Path) -> list[str]:
    """edge's error lines (its log is on stderr)."""
    lines = (workdir / "edge.stderr").read_text(errors="replace").splitlines()
    return [line for line in lines if " error " in line or " critical " in line]


def need_root_and(*tools: tuple[str, str]) -> None:
    if os.geteuid() != 0:
        pytest.skip("the seeds run in network and mount namespaces, which need root (CI runs as root)")
    for tool, package in tools:
        if shutil.which(tool) is None:
            pytest.fail("%s not found: apt-get install %s (make deps)" % (tool, package), pytrace=False)


def store_certificates(workdir: Path, names: list[str]) -> tuple[Path, Path]:
    """A test CA's leaves for `names` in edge's storage layout. Returns (XDG_DATA_HOME, CA root)."""
    ca = tlsutil.TestCA(workdir / "ca", label="Edge Seeds")
    data = workdir / "data"
    certificates = data / "edge" / "certificates"
    certificates.mkdir(parents=True)
    for name in names:
        leaf = ca.issue([name])
        tlsutil.write_atomically(certificates / (name + ".key"), leaf.key.read_bytes())
        tlsutil.write_atomically(certificates / (name + ".crt"), leaf.chain.read_bytes())
    return data, ca.root


def namespace_name(seed: str) -> str:
    netns.sweep_stale("edge-seed-")
    return "edge-seed-%d-%s" % (os.getpid(), seed)


def ws_page(ns: Namespace, workdir: Path, name: str, port: int) -> None:
    ns.start(name, [sys.executable, UPSTREAMS / "ws_echo.py", "--port", port, "--page", name], workdir, ports=(port,))


def edge_env(data: Path) -> dict:
    return dict(client_env(), XDG_DATA_HOME=str(data))


# ---------------------------------------------------------------- seed 000: Torrust Tracker


def quote(raw: bytes) -> str:
    """Every byte percent-encoded, as BitTorrent clients send info_hash."""
    return "".join("%%%02x" % b for b in raw)


def start_opentracker(ns: Namespace, workdir: Path) -> None:
    """opentracker on tracker:7070 (TCP and UDP), chrooted in its own directory with INFO_HASH whitelisted;
    ready once it takes an announce of that hash (straight, not through edge; `stopped` adds no peer)."""
    root = workdir / "opentracker"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)  # it drops to `nobody` inside the chroot
    (root / "whitelist.txt").write_text(INFO_HASH.hex() + "\n")
    os.chmod(root / "whitelist.txt", 0o644)
    proc = ns.start("opentracker", ["opentracker", "-i", "127.0.0.1", "-p", 7070, "-P", 7070, "-d", root,
                                    "-w", "/whitelist.txt"], workdir, ports=(7070,))
    stopped = ("http://tracker:7070/announce?info_hash=%s&peer_id=-ED0001-000000000000&port=6880&uploaded=0"
               "&downloaded=0&left=0&event=stopped&compact=1" % quote(INFO_HASH))
    deadline = time.monotonic() + 5
    while True:
        p = ns.run(["curl", "-sS", "--max-time", "2", stopped], env=client_env())
        if p.stdout.startswith(b"d") and b"failure reason" not in p.stdout:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("opentracker did not load its whitelist: %r\n%s" % (p.stdout, proc.describe()))
        time.sleep(0.1)


@pytest.fixture(scope="module")
def seed000(edge_bin, tmp_path_factory):
    need_root_and(("opentracker", "opentracker"), ("curl", "curl"))
    workdir = tmp_path_factory.mktemp("seed000")
    data, cafile = store_certificates(workdir, SITES_000)
    with Namespace(namespace_name("000"), ["tracker", "grafana", *SITES_000]) as ns:
        ns.start("tracker-api", [sys.executable, UPSTREAMS / "http_upstream.py", "--port", 1212, "--id", "tracker-api"],
                 workdir, ports=(1212,))
        start_opentracker(ns, workdir)
        ws_page(ns, workdir, "grafana", 3000)
        ns.start("edge", [edge_bin, "run", "--config", SEEDS / "000.Caddyfile"], workdir, env=edge_env(data),
                 ports=(80, 443, 2019))
        yield SeedNode(ns, workdir, cafile)
        assert logged_errors(workdir) == []


def test_000_tracker_api_over_https(seed000):
    r = seed000.curl("https://api.torrust-tracker.com/api/health_check")
    assert r.status == 200 and r.header("X-Upstream-Id") == "tracker-api", r
    r = seed000.curl("https://api.torrust-tracker.com/echo?token=%2FYGz%3D&format=prometheus")
    assert r.status == 200, r
    seen = json.loads(r.body)
    headers = {k.lower(): v for k, v in seen["headers"]}
    assert seen["path"] == "/echo?token=%2FYGz%3D&format=prometheus"
    assert headers["host"] == "api.torrust-tracker.com"
    assert headers["x-forwarded-proto"] == "https"


def bdecode(data: bytes):
    """Bencode (BitTorrent) to Python: dict keys and strings stay bytes."""
    def value(i):
        c = data[i:i + 1]
        if c == b"i":
            end = data.index(b"e", i)
            return int(data[i + 1:end]), end + 1
        if c in (b"l", b"d"):
            items, i = [], i + 1
            while data[i:i + 1] != b"e":
                item, i = value(i)
                items.append(item)
            return (items if c == b"l" else dict(zip(items[::2], items[1::2]))), i + 1
        colon = data.index(b":", i)
        start = colon + 1
        end = start + int(data[i:colon])
        return data[start:end], end
    decoded, end = value(0)
    assert end == len(data), "trailing bytes after bencoded value: %r" % data[end:]
    return decoded


def compact_peers(blob: bytes) -> set[tuple[str, int]]:
    return {(".".join(str(b) for b in blob[i:i + 4]), int.from_bytes(blob[i + 4:i + 6], "big"))
            for i in range(0, len(blob), 6)}


def test_000_announce_and_scrape_reach_opentracker(seed000):
    """A seeder, a leecher, a scrape and an unknown torrent on one keep-alive client connection; opentracker
    closes its side after every reply, so edge dials it anew each time."""
    conn = seed000.https("http1.torrust-tracker.com")

    def get(target):
        conn.request("GET", target)
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200, (target, r.status, body)
        return bdecode(body)

    announce = "/announce?info_hash=%s&peer_id=%s&port=%d&uploaded=0&downloaded=0&left=%d&compact=1"
    seeder = get(announce % (quote(INFO_HASH), "-ED0001-000000000001", 6881, 0))
    assert seeder[b"complete"] == 1 and seeder[b"incomplete"] == 0, seeder
    leecher = get(announce % (quote(INFO_HASH), "-ED0001-000000000002", 6882, 1000))
    assert leecher[b"complete"] == 1 and leecher[b"incomplete"] == 1, leecher
    assert ("127.0.0.1", 6881) in compact_peers(leecher[b"peers"]), leecher
    scrape = get("/scrape?info_hash=" + quote(INFO_HASH))
    assert scrape[b"files"][INFO_HASH][b"complete"] == 1, scrape
    unknown = get(announce % (quote(b"\xee" * 20), "-ED0001-000000000003", 6883, 0))
    assert b"not authorized" in unknown[b"failure reason"], unknown
    conn.close()


def test_000_grafana_page_and_live_websocket(seed000):
    r = seed000.curl("https://grafana.torrust-tracker.com/")
    assert r.status == 200 and r.header("X-Upstream-Id") == "grafana", r
    assert r.header("X-Seen-Host") == "grafana.torrust-tracker.com" and r.header("X-Seen-Proto") == "https", r
    with seed000.websocket("wss://grafana.torrust-tracker.com/api/live/ws",
                           origin="https://grafana.torrust-tracker.com") as ws:
        assert ws.response.status_code == 101
        assert ws.response.headers["Upgrade"].lower() == "websocket"
        for i in range(50):
            ws.send('{"id": %d, "subscribe": {"channel": "grafana/dashboard/uid/x"}}' % i)
            assert ws.recv(timeout=5) == '{"id": %d, "subscribe": {"channel": "grafana/dashboard/uid/x"}}' % i
        blob = hashlib.sha256(b"live").digest() * 2048  # 64 KiB binary
        ws.send(blob)
        assert ws.recv(timeout=5) == blob


@pytest.mark.parametrize("name", SITES_000)
def test_000_http_redirects_to_https(seed000, name):
    r = seed000.curl("http://%s/announce?info_hash=x&port=1" % name)
    assert r.status == 308, r
    assert r.header("Location") == "https://%s/announce?info_hash=x&port=1" % name


@pytest.mark.parametrize("address", ["localhost:2019", "127.0.0.1:2019"])
def test_000_admin_endpoint_answers(seed000, address):
    r = seed000.curl("http://%s/config/" % address)
    assert r.status == 200, r
    config = json.loads(r.body)
    assert config["global"]["admin"] == "0.0.0.0:2019"
    assert [a["host"] for s in config["sites"] for a in s["addresses"]] == SITES_000


def test_000_admin_endpoint_by_server_name(seed000):
    """What the seed's operator does from elsewhere: the admin port by the server's public name."""
    r = seed000.curl("http://grafana.torrust-tracker.com:2019/config/")
    assert r.status == 200, r


# ---------------------------------------------------------------- seed 003: TriviaFlow


def srv_state() -> tuple[list[str], list[str]]:
    """The host's /srv as this process sees it: its entries and the mounts on it."""
    with open("/proc/self/mountinfo") as f:
        mounts = [line for line in f if line.split()[4] == "/srv"]
    return sorted(os.listdir("/srv")), mounts


@pytest.fixture(scope="module")
def seed003(edge_bin, tmp_path_factory):
    need_root_and(("curl", "curl"), ("unshare", "util-linux"))
    if not Path("/srv").is_dir():
        pytest.skip("the host has no /srv directory to mount the seed's static root over")
    workdir = tmp_path_factory.mktemp("seed003")
    data, cafile = store_certificates(workdir, [SITE_003])
    srv = workdir / "srv"
    (srv / "static" / "css").mkdir(parents=True)
    (srv / "media" / "quiz").mkdir(parents=True)
    (srv / "static" / "css" / "app.css").write_text("body { background: #123; }\n")
    (srv / "media" / "quiz" / "q1.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (srv / "secret.txt").write_text("outside both roots\n")
    before = srv_state()
    with Namespace(namespace_name("003"), ["web", SITE_003]) as ns:
        ws_page(ns, workdir, "web", 8000)
        # edge in a mount namespace of its own (private propagation: nothing reaches the host) where the
        # temp dir is /srv; the seed's `root * /srv/static` and `/srv/media` then point into it
        mount_then_exec = 'mount --bind "$0" /srv && exec "$@"'
        ns.start("edge", ["unshare", "--mount", "--propagation", "private", "sh", "-c", mount_then_exec, srv,
                          edge_bin, "run", "--config", SEEDS / "003.Caddyfile"],
                 workdir, env=edge_env(data), ports=(80, 443))
        node = SeedNode(ns, workdir, cafile, srv, before)
        yield node
        assert logged_errors(workdir) == []


@pytest.mark.parametrize("target,file,content_type", [
    ("/static/css/app.css", "static/css/app.css", "text/css"),
    ("/media/quiz/q1.png", "media/quiz/q1.png", "image/png"),
])
def test_003_files_from_srv_with_validators(seed003, target, file, content_type):
    url = "https://%s%s" % (SITE_003, target)
    r = seed003.curl(url)
    assert r.status == 200, r
    assert r.body == (seed003.srv / file).read_bytes()
    assert (r.header("Content-Type") or "").split(";")[0] == content_type, r
    assert r.header("X-Upstream-Id") is None, r  # served from disk, not by the app
    etag, modified = r.header("ETag"), r.header("Last-Modified")
    assert etag and modified, r
    again = seed003.curl(url, "-H", "If-None-Match: " + etag)
    assert again.status == 304 and again.body == b"" and again.header("ETag") == etag, again
    again = seed003.curl(url, "-H", "If-Modified-Since: " + modified)
    assert again.status == 304 and again.body == b"", again


@pytest.mark.parametrize("target", [
    "/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt",
    "/media/../../secret.txt", "/static/css/../../secret.txt",
])
def test_003_traversal_out_of_the_roots_is_refused(seed003, target):
    r = seed003.curl("https://%s%s" % (SITE_003, target), "--path-as-is")
    assert b"outside both roots" not in r.body, r
    # refused, or (the path cleaned to /secret.txt, outside /static/*) handed to the app as Caddy does
    assert r.status in (400, 403, 404) or r.header("X-Upstream-Id") == "web", r


def test_003_dot_segments_are_resolved_before_matching(seed003):
    r = seed003.curl("https://%s/static/../quiz/1/" % SITE_003, "--path-as-is")
    assert r.status == 200 and r.header("X-Upstream-Id") == "web", r


@pytest.mark.parametrize("target", ["/", "/quiz/42/?lang=en", "/staticfiles/app.css", "/static", "/admin/login/"])
def test_003_everything_else_goes_to_the_app(seed003, target):
    r = seed003.curl("https://%s%s" % (SITE_003, target))
    assert r.status == 200 and r.header("X-Upstream-Id") == "web", r
    assert r.header("X-Seen-Path") == target, r
    assert r.header("X-Seen-Host") == SITE_003 and r.header("X-Seen-Proto") == "https", r
    assert r.header("Content-Type") == "text/html; charset=utf-8", r


def test_003_websocket_to_the_app(seed003):
    with seed003.websocket("wss://%s/ws/quiz/7/" % SITE_003, origin="https://" + SITE_003) as ws:
        assert ws.response.status_code == 101
        for i in range(20):
            ws.send('{"type": "answer", "question": %d, "choice": "b"}' % i)
            assert ws.recv(timeout=5) == '{"type": "answer", "question": %d, "choice": "b"}' % i


def test_003_http_redirects_to_https(seed003):
    r = seed003.curl("http://%s/static/css/app.css" % SITE_003)
    assert r.status == 308 and r.header("Location") == "https://%s/static/css/app.css" % SITE_003, r


def test_003_host_srv_is_untouched(seed003):
    """The bind mount lives in edge's mount namespace only."""
    assert srv_state() == seed003.srv_before
