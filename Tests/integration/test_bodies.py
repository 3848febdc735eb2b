"""10 MB bodies through the proxy in both directions, Content-Length and chunked, checked by sha256."""
import hashlib
import http.client
import json
import random

from harness import LOOPBACK

SIZE = 10 * 1024 * 1024


def expected(n, seed):
    return random.Random(str(seed)).randbytes(n)


def client(proxy):
    return http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=30)


def test_download_content_length(proxy):
    c = client(proxy)
    c.request("GET", "/bytes?n=%d&seed=7" % SIZE, headers={"Host": proxy.host_header})
    r = c.getresponse()
    body = r.read()
    assert r.status == 200
    assert r.getheader("Content-Length") == str(SIZE)
    assert len(body) == SIZE
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(expected(SIZE, 7)).hexdigest()
    c.close()


def test_download_chunked(proxy):
    c = client(proxy)
    c.request("GET", "/chunked?n=%d&seed=8" % SIZE, headers={"Host": proxy.host_header})
    r = c.getresponse()
    assert r.status == 200
    assert r.getheader("Transfer-Encoding", "").lower() == "chunked", r.getheaders()
    assert r.getheader("Content-Length") is None
    body = r.read()
    assert len(body) == SIZE
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(expected(SIZE, 8)).hexdigest()
    # the connection stays usable after a chunked body
    c.request("GET", "/echo", headers={"Host": proxy.host_header})
    r = c.getresponse()
    assert r.status == 200 and json.loads(r.read())["method"] == "GET"
    c.close()


def test_upload_content_length(proxy):
    data = expected(SIZE, 9)
    c = client(proxy)
    c.request("POST", "/upload", body=data, headers={"Host": proxy.host_header,
                                                     "Content-Type": "application/octet-stream"})
    r = c.getresponse()
    assert r.status == 200
    got = json.loads(r.read())
    assert got == {"length": SIZE, "sha256": hashlib.sha256(data).hexdigest()}
    c.close()


def test_upload_chunked(proxy):
    data = expected(SIZE, 10)
    rng = random.Random(1)

    def pieces():
        pos = 0
        while pos < len(data):
            step = rng.choice([1, 100, 8192, 65536, 1 << 20])
            yield data[pos:pos + step]
            pos += step

    c = client(proxy)
    c.request("POST", "/upload", body=pieces(), encode_chunked=True,
              headers={"Host": proxy.host_header, "Transfer-Encoding": "chunked"})
    r = c.getresponse()
    assert r.status == 200
    got = json.loads(r.read())
    assert got == {"length": SIZE, "sha256": hashlib.sha256(data).hexdigest()}
    # and the next request on the same client connection works
    c.request("POST", "/upload", body=b"abc", headers={"Host": proxy.host_header})
    r = c.getresponse()
    assert json.loads(r.read())["length"] == 3
    c.close()


def test_post_echo_both_directions(proxy):
    """A 10 MB request body and a 10 MB response body on one keep-alive connection."""
    up = expected(SIZE, 11)
    c = client(proxy)
    c.request("POST", "/upload", body=up, headers={"Host": proxy.host_header})
    r = c.getresponse()
    assert json.loads(r.read())["sha256"] == hashlib.sha256(up).hexdigest()
    c.request("GET", "/bytes?n=%d&seed=12" % SIZE, headers={"Host": proxy.host_header})
    r = c.getresponse()
    assert hashlib.sha256(r.read()).digest() == hashlib.sha256(expected(SIZE, 12)).digest()
    c.close()
