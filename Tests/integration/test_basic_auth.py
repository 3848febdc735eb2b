"""basic_auth: bcrypt accounts from `edge hash-password`; 401 with a challenge, through handle_errors; the
hashing runs off the event loop, so a slow check never holds other requests."""
import base64
import subprocess
import threading

import pytest

from harness import LOOPBACK, free_port, http_request, start_edge

pytestmark = pytest.mark.edge_only("Caddyfile basic_auth")


def hash_password(edge_bin, password, cost):
    out = subprocess.run([edge_bin, "hash-password", "--cost", str(cost)], input=password.encode(),
                         capture_output=True, check=True)
    return out.stdout.decode().strip()


@pytest.fixture(scope="module")
def edge(edge_bin, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("edge-auth")
    fast = hash_password(edge_bin, "s3cret", 5)
    slow = hash_password(edge_bin, "slow pw", 13)
    b64 = base64.b64encode(fast.encode()).decode()
    port = free_port()
    proc = start_edge(edge_bin, workdir, """{
	workers 1
	grace_period 1s
}
http://%s:%d {
	basic_auth /admin/* bcrypt "Staff area" {
		alice %s
		bob %s
	}
	basic_auth /slow/* {
		carol %s
	}
	handle_errors 401 {
		respond "who are you?"
	}
	respond "hello {http.request.uri}"
}
""" % (LOOPBACK, port, fast, b64, slow), port)
    yield port
    proc.stop()


def auth(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def get(port, target, headers=None):
    return http_request(port, "GET", target, headers=headers, timeout=20)


def test_unprotected_paths_need_nothing(edge):
    r, body = get(edge, "/public")
    assert (r.status, body) == (200, b"hello /public")


def test_no_credentials_get_a_challenge_and_the_error_page(edge):
    r, body = get(edge, "/admin/x")
    assert (r.status, body) == (401, b"who are you?")
    assert r.getheader("WWW-Authenticate") == 'Basic realm="Staff area", charset="UTF-8"'


@pytest.mark.parametrize("user,password", [("alice", "wrong"), ("mallory", "s3cret"), ("alice", ""), ("", "")])
def test_wrong_credentials_are_refused(edge, user, password):
    r, _ = get(edge, "/admin/x", auth(user, password))
    assert r.status == 401


def test_malformed_authorization_is_refused(edge):
    for value in ["Basic", "Basic !!!", "Bearer abc", "Basic " + base64.b64encode(b"no-colon").decode()]:
        r, _ = get(edge, "/admin/x", {"Authorization": value})
        assert r.status == 401, value


def test_right_credentials_pass_every_time(edge):
    for _ in range(3):
        r, body = get(edge, "/admin/x", auth("alice", "s3cret"))
        assert (r.status, body) == (200, b"hello /admin/x")
    # The account written as base64 of its hash works too; scheme name is case-insensitive.
    value = "bAsIc " + base64.b64encode(b"bob:s3cret").decode()
    r, _ = get(edge, "/admin/y", {"Authorization": value})
    assert r.status == 200


def test_slow_hashing_does_not_hold_the_loop(edge):
    """Four cost-13 checks (hundreds of ms each, one core each at most) are under way when a public
    request arrives on the same single-worker node: it is answered before they finish."""
    results = {}

    def slow(i):
        results[i] = get(edge, "/slow/%d" % i, auth("carol", "wrong %d" % i))[0].status

    threads = [threading.Thread(target=slow, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    import time
    time.sleep(0.05)
    r, body = get(edge, "/public")
    answered_while_pending = len(results) < 4
    for t in threads:
        t.join()
    assert (r.status, body) == (200, b"hello /public")
    assert answered_while_pending, "the public request waited for the bcrypt checks"
    assert sorted(results.values()) == [401] * 4


def test_pipelined_requests_behind_a_check_keep_their_order(edge):
    import socket
    creds = base64.b64encode(b"alice:s3cret").decode()
    wrong = base64.b64encode(b"alice:nope").decode()
    s = socket.create_connection((LOOPBACK, edge), timeout=10)
    s.sendall((f"GET /admin/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {wrong}\r\n\r\n"
               f"GET /admin/2 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {creds}\r\n\r\n"
               "GET /public HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    import re
    statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]
    assert statuses == [401, 200, 200]
    assert data.index(b"who are you?") < data.index(b"hello /admin/2") < data.index(b"hello /public")
