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


def json_admin(node, method, path, value=None, headers=None):
    body = b"" if value is None else json.dumps(value).encode()
    fields = {"Content-Type": "application/json"}
    fields.update(headers or {})
    return admin(node, method, path, body, fields)


def test_config_paths_change_the_running_configuration(node):
    route = "/config/sites/0/routes/0/handler/respond/body"
    assert json_admin(node, "PATCH", route, "patched")[0] == 200
    assert served(node) == b"patched"
    # POST on an array appends; the new route sorts after the existing catch-all, so it changes nothing
    # served, but it is there.
    extra = {"handler": {"respond": {"body": "never", "status": 418}}, "matcher": {"paths": ["/never"]}}
    assert json_admin(node, "POST", "/config/sites/0/routes", extra)[0] == 200
    status, data = admin(node, "GET", "/config/sites/0/routes")
    assert len(json.loads(data)) == 2
    assert json_admin(node, "DELETE", "/config/sites/0/routes/1")[0] == 200
    assert len(json.loads(admin(node, "GET", "/config/sites/0/routes")[1])) == 1
    # PUT inserts at an index.
    first = {"handler": {"respond": {"body": "teapot", "status": 418}}, "matcher": {"paths": ["/tea"]}}
    assert json_admin(node, "PUT", "/config/sites/0/routes/0", first)[0] == 200
    c = http.client.HTTPConnection(LOOPBACK, node["port"], timeout=5)
    c.request("GET", "/tea")
    r = c.getresponse()
    assert (r.status, r.read()) == (418, b"teapot")
    c.close()


def test_config_changes_are_checked_and_refused_whole(node):
    status, data = json_admin(node, "PUT", "/config/sites/0/routes/0/handler/respond/status", 42)
    assert status == 400 and b"respond status 42" in data, data
    status, data = json_admin(node, "PATCH", "/config/sitez/0", {})
    assert status == 404 and b"did you mean 'sites'" in data, data
    assert json_admin(node, "DELETE", "/config/")[0] == 400
    assert admin(node, "PATCH", "/config/global/workers", b"2", {"Content-Type": "text/plain"})[0] == 415
    assert served(node) == b"one"


def test_if_match_guards_against_lost_updates(node):
    c = http.client.HTTPConnection(LOOPBACK, node["admin"], timeout=10)
    c.request("GET", "/config/")
    r = c.getresponse()
    r.read()
    etag = r.getheader("ETag")
    c.close()
    assert etag and etag.startswith('"')
    route = "/config/sites/0/routes/0/handler/respond/body"
    assert json_admin(node, "PATCH", route, "first", {"If-Match": etag})[0] == 200
    # The ETag is now stale: a second writer working from it is refused.
    assert json_admin(node, "PATCH", route, "second", {"If-Match": etag})[0] == 412
    assert served(node) == b"first"


def test_an_unchanged_load_is_not_a_reload_unless_forced(node):
    text = caddyfile(node["port"], node["admin"], "one").encode()
    assert admin(node, "POST", "/load", text, {"Content-Type": "text/caddyfile"})[0] == 200
    log = node["proc"].stderr_path.read_text()
    assert "configuration is unchanged; not reloaded" in log
    assert "configuration loaded through the admin endpoint" not in log
    p = subprocess.run([node["bin"], "reload", "--force", "--config", str(node["file"])], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    assert "configuration loaded through the admin endpoint" in node["proc"].stderr_path.read_text()


def test_upstreams_show_requests_in_flight(edge_bin, tmp_path, upstream):
    port, admin_port = free_port(), free_port()
    text = ("{\n\tadmin 127.0.0.1:%d\n\tworkers 1\n\tgrace_period 1s\n}\nhttp://%s:%d {\n"
            "\treverse_proxy %s 127.0.0.1:1\n}\n" % (admin_port, LOOPBACK, port, upstream.address))
    proc = start_edge(edge_bin, tmp_path, text, port, admin_port)
    try:
        import threading
        node = {"admin": admin_port}
        # Round robin: the first request goes to the live upstream and waits there.
        t = threading.Thread(target=lambda: http_get(port, "/slow?delay=1.5"))
        t.start()
        deadline = time.time() + 5
        while True:
            status, data = admin(node, "GET", "/reverse_proxy/upstreams")
            listed = {u["address"]: u for u in json.loads(data)}
            if listed[upstream.address]["num_requests"] == 1 or time.time() > deadline:
                break
            time.sleep(0.05)
        assert status == 200
        assert set(listed) == {upstream.address, "127.0.0.1:1"}
        assert listed[upstream.address]["num_requests"] == 1
        assert listed[upstream.address]["fails"] == 0
        t.join()
        listed = {u["address"]: u for u in json.loads(admin(node, "GET", "/reverse_proxy/upstreams")[1])}
        assert listed[upstream.address]["num_requests"] == 0
        assert listed[upstream.address]["requests_total"] >= 1
    finally:
        proc.stop()


def http_get(port, target):
    c = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    c.request("GET", target)
    c.getresponse().read()
    c.close()


def test_unix_socket_admin_with_reload_and_stop(edge_bin, tmp_path):
    import os
    import socket
    import stat
    port = free_port()
    sock = tmp_path / "admin.sock"
    path = tmp_path / "Caddyfile"

    def text(body):
        return "{\n\tadmin unix/%s\n\tworkers 1\n\tgrace_period 1s\n}\nhttp://%s:%d {\n\trespond \"%s\"\n}\n" % (
            sock, LOOPBACK, port, body)

    proc = start_edge(edge_bin, tmp_path, text("one"), port)
    try:
        deadline = time.time() + 5
        while not sock.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert stat.S_ISSOCK(os.stat(sock).st_mode)
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        s = socket.socket(socket.AF_UNIX)
        s.connect(str(sock))
        s.sendall(b"GET /config/global/admin HTTP/1.1\r\nHost: anything\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        s.close()
        assert data.startswith(b"HTTP/1.1 200 ") and ("unix/%s" % sock).encode() in data, data
        path.write_text(text("two"))
        p = subprocess.run([edge_bin, "reload", "--config", str(path)], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        assert served({"port": port}) == b"two"
        p = subprocess.run([edge_bin, "stop", "--address", "unix/%s" % sock], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        assert proc.proc.wait(timeout=10) == 0
        assert not sock.exists()
    finally:
        proc.stop()


def test_origins_and_enforce_origin(edge_bin, tmp_path):
    port, admin_port = free_port(), free_port()
    text = ("{\n\tadmin 127.0.0.1:%d {\n\t\torigins ops.example:%d https://console.example\n\t\tenforce_origin\n\t}\n"
            "\tworkers 1\n\tgrace_period 1s\n}\nhttp://%s:%d {\n\trespond x\n}\n" % (admin_port, admin_port, LOOPBACK, port))
    proc = start_edge(edge_bin, tmp_path, text, port, admin_port)
    try:
        node = {"admin": admin_port}
        assert admin(node, "GET", "/config/")[0] == 403  # no Origin: refused under enforce_origin
        ok = {"Origin": "https://console.example"}
        assert admin(node, "GET", "/config/", headers=ok)[0] == 200
        assert admin(node, "GET", "/config/", headers={"Host": "ops.example:%d" % admin_port, **ok})[0] == 200
        assert admin(node, "GET", "/config/", headers={"Origin": "https://evil.example"})[0] == 403
    finally:
        proc.stop()
