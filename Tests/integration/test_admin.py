"""The admin endpoint: GET /config/, POST /load (Caddyfile or JSON) with zero-downtime swap or a refusal
that names file:line:column, POST /stop, Host/Origin checks, loopback only by default; `edge reload` and
`edge stop` drive it."""
import http.client
import json
import subprocess
import time

import pytest

from harness import LOOPBACK, ManagedProcess, free_port, start_edge

pytestmark = pytest.mark.edge_only("admin API")


def caddyfile(port, admin_port, body):
    return "{\n\tadmin 127.0.0.1:%d\n\tworkers 1\n\tgrace_period 1s\n}\nhttp://%s:%d {\n\trespond \"%s\"\n}\n" % (
        admin_port, LOOPBACK, port, body)


@pytest.fixture
def node(edge_bin, tmp_path):
    port, admin_port = free_port(), free_port()
    proc = start_edge(edge_bin, tmp_path, caddyfile(port, admin_port, "one"), port, admin_port)
    yield {"port": port, "admin": admin_port, "file": tmp_path / "Caddyfile", "proc": proc, "bin": edge_bin}
    proc.stop()


def admin(node, method, path, body=b"", headers=None):
    c = http.client.HTTPConnection(LOOPBACK, node["admin"], timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def served(node):
    c = http.client.HTTPConnection(LOOPBACK, node["port"], timeout=5)
    c.request("GET", "/")
    data = c.getresponse().read()
    c.close()
    return data


def test_config_is_readable_whole_and_by_path(node):
    status, data = admin(node, "GET", "/config/")
    assert status == 200
    assert json.loads(data)["sites"][0]["addresses"][0]["port"] == node["port"]
    status, data = admin(node, "GET", "/config/global/workers")
    assert (status, json.loads(data)) == (200, 1)
    assert admin(node, "GET", "/config/nothing/here")[0] == 404


def test_load_caddyfile_swaps_and_a_broken_one_is_refused(node):
    status, _ = admin(node, "POST", "/load", caddyfile(node["port"], node["admin"], "two").encode(),
                      {"Content-Type": "text/caddyfile"})
    assert status == 200 and served(node) == b"two"
    status, data = admin(node, "POST", "/load", b"http://127.0.0.1:1 {\n\trespnd x\n}\n", {"Content-Type": "text/caddyfile"})
    assert status == 400
    assert b"POST /load:2:2: unknown directive 'respnd'" in data, data
    assert served(node) == b"two"


def test_foreign_host_and_origin_are_refused(node):
    assert admin(node, "GET", "/config/", headers={"Host": "evil.example:2019"})[0] == 403
    assert admin(node, "POST", "/load", b"{}", {"Origin": "http://evil.example", "Content-Type": "application/json"})[0] == 403
    assert admin(node, "GET", "/config/", headers={"Origin": "http://127.0.0.1:%d" % node["admin"]})[0] == 200


def test_admin_listens_on_loopback_only_by_default(edge_bin, tmp_path):
    port = free_port()
    proc = start_edge(edge_bin, tmp_path, "{\n\tworkers 1\n}\nhttp://%s:%d {\n\trespond x\n}\n" % (LOOPBACK, port), port)
    try:
        time.sleep(0.2)
        log = proc.stderr_path.read_text()
        if "admin endpoint unavailable" in log:
            pytest.skip("port 2019 is taken on this machine; the default address cannot be checked")
        listening = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in open(table).read().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if state == "0A" and int(local.split(":")[1], 16) == 2019:
                    listening.add(local.split(":")[0])
        assert listening == {"0100007F"}, listening  # 127.0.0.1 only
    finally:
        proc.stop()


def test_edge_reload_and_stop_commands(node):
    node["file"].write_text(caddyfile(node["port"], node["admin"], "three"))
    p = subprocess.run([node["bin"], "reload", "--config", str(node["file"])], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert served(node) == b"three"
    node["file"].write_text(caddyfile(node["port"], node["admin"], "four") + "http://127.0.0.1:1 {\n\trespnd x\n}\n")
    p = subprocess.run([node["bin"], "reload", "--config", str(node["file"])], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "Caddyfile:10:2: unknown directive 'respnd'" in p.stderr, p.stderr
    assert served(node) == b"three"
    p = subprocess.run([node["bin"], "stop", "--address", "127.0.0.1:%d" % node["admin"]], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert node["proc"].proc.wait(timeout=10) == 0


def test_resume_starts_from_the_last_loaded_configuration(edge_bin, tmp_path):
    port, admin_port = free_port(), free_port()
    storage = tmp_path / "storage"

    def text(body):
        return ("{\n\tadmin 127.0.0.1:%d\n\tworkers 1\n\tgrace_period 1s\n\tstorage file_system %s\n}\n"
                "http://%s:%d {\n\trespond \"%s\"\n}\n" % (admin_port, storage, LOOPBACK, port, body))

    proc = start_edge(edge_bin, tmp_path, text("from file"), port, admin_port)
    try:
        node = {"admin": admin_port, "port": port}
        assert admin(node, "POST", "/load", text("loaded").encode(), {"Content-Type": "text/caddyfile"})[0] == 200
        saved = json.loads((storage / "autosave.json").read_text())
        assert saved["sites"][0]["routes"][0]["handler"]["respond"]["body"] == "loaded"
    finally:
        proc.stop()
    resumed = ManagedProcess("edge", [edge_bin, "run", "--config", tmp_path / "Caddyfile", "--resume"], tmp_path)
    try:
        resumed.wait_for_port(port)
        assert served({"port": port}) == b"loaded"
    finally:
        resumed.stop()
