"""Bodies, keep-alive, pipelining and back-pressure through edge's TLS layer.

The site is `https://127.0.0.1:<port>`: clients send no SNI for an IP address, so this also checks that
edge picks the certificate by the address the client connected to (a local-CA leaf with an IP SAN).
"""
import email.utils
import hashlib
import http.client
import json
import random
import socket
import ssl
import time

import pytest

from harness import LOOPBACK, ManagedProcess, free_port

pytestmark = pytest.mark.edge_only("TLS termination")

SIZE = 10 * 1024 * 1024


def expected(n, seed):
    return random.Random(str(seed)).randbytes(n)


class TLSEdge:
    def __init__(self, edge_bin, workdir, upstream):
        self.port = free_port()
        self.http_port = free_port()
        self.storage = workdir / "storage"
        caddyfile = workdir / "Caddyfile"
        caddyfile.write_text("\n".join([
            "{",
            "\tworkers 2",
            "\thttp_port %d" % self.http_port,
            "\thttps_port %d" % self.port,
            "\tstorage file_system %s" % self.storage,
            "\tgrace_period 2s",
            "}",
            "https://%s:%d {" % (LOOPBACK, self.port),
            '\trespond /hello "hello over tls" 200',
            "\treverse_proxy %s" % upstream.address,
            "}",
            "",
        ]))
        self.proc = ManagedProcess("edge-tls", [edge_bin, "run", "--config", caddyfile], workdir)
        self.proc.wait_for_port(self.port)
        self.root = self.storage / "pki" / "authorities" / "local" / "root.crt"
        self.context = ssl.create_default_context(cafile=str(self.root))

    def connection(self, timeout=30):
        return http.client.HTTPSConnection(LOOPBACK, self.port, timeout=timeout, context=self.context)

    def tls_socket(self, timeout=30):
        raw = socket.create_connection((LOOPBACK, self.port), timeout=timeout)
        # suppress_ragged_eofs=False: a stream that ends without close_notify raises SSLEOFError.
        return self.context.wrap_socket(raw, server_hostname=LOOPBACK, suppress_ragged_eofs=False)

    def stop(self):
        self.proc.stop()


@pytest.fixture(scope="module")
def edge(edge_bin, upstream, tmp_path_factory):
    e = TLSEdge(edge_bin, tmp_path_factory.mktemp("edge-tls-bodies"), upstream)
    yield e
    e.stop()


def test_ip_site_certificate_verifies_without_sni(edge):
    with edge.tls_socket() as s:
        cert = s.getpeercert()
        assert ("IP Address", LOOPBACK) in cert["subjectAltName"], cert
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"hello over tls"), data
    # edge answers as the origin here, so it sends Date (RFC 9110 §6.6.1), in IMF-fixdate form.
    date = [line for line in data.split(b"\r\n") if line.lower().startswith(b"date: ")]
    assert len(date) == 1, data
    sent = email.utils.parsedate_to_datetime(date[0][6:].decode())
    assert abs(sent.timestamp() - time.time()) < 5, date


def test_download_and_upload_10mb(edge):
    c = edge.connection()
    c.request("GET", "/bytes?n=%d&seed=21" % SIZE)
    r = c.getresponse()
    body = r.read()
    assert r.status == 200 and len(body) == SIZE
    assert hashlib.sha256(body).digest() == hashlib.sha256(expected(SIZE, 21)).digest()
    data = expected(SIZE, 22)
    c.request("POST", "/upload", body=data, headers={"Content-Type": "application/octet-stream"})
    r = c.getresponse()
    assert r.status == 200
    assert json.loads(r.read()) == {"length": SIZE, "sha256": hashlib.sha256(data).hexdigest()}
    c.close()


def test_chunked_download_then_keep_alive(edge):
    c = edge.connection()
    c.request("GET", "/chunked?n=%d&seed=23" % SIZE)
    r = c.getresponse()
    body = r.read()
    assert r.status == 200 and r.getheader("Transfer-Encoding", "").lower() == "chunked"
    assert hashlib.sha256(body).digest() == hashlib.sha256(expected(SIZE, 23)).digest()
    for _ in range(50):
        c.request("GET", "/echo")
        r = c.getresponse()
        echoed = json.loads(r.read())
        assert r.status == 200
        assert echoed["headers"] and dict((k.lower(), v) for k, v in echoed["headers"])["x-forwarded-proto"] == "https"
    c.close()


def test_pipelined_requests_answer_in_order(edge):
    with edge.tls_socket() as s:
        requests = b"".join(b"GET /echo?i=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % i for i in range(20))
        s.sendall(requests + b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    order = [int(part.split(b'"', 1)[0]) for part in data.split(b"/echo?i=")[1:]]
    assert order == list(range(20)), data[:500]
    assert data.endswith(b"hello over tls")


def test_slow_reader_gets_every_byte(edge):
    # The client reads 10 MB slowly: edge must stop reading the upstream (back-pressure through the TLS
    # layer) and still deliver every byte once the client catches up.
    with edge.tls_socket(timeout=60) as s:
        s.sendall(b"GET /bytes?n=%d&seed=24 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % SIZE)
        time.sleep(1.5)  # let every buffer on the way fill up
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert hashlib.sha256(body).digest() == hashlib.sha256(expected(SIZE, 24)).digest()


def test_close_notify_is_sent_on_connection_close(edge):
    # A response with Connection: close ends with close_notify, so the client sees a clean TLS EOF
    # (the socket raises SSLEOFError on an EOF that is not preceded by close_notify).
    with edge.tls_socket() as s:
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)  # raises ssl.SSLEOFError if the stream was cut without close_notify
            if not chunk:
                break
            data += chunk
    assert data.endswith(b"hello over tls")


def test_session_tickets_resume_on_any_worker(edge):
    # Tickets are sealed with the node's key ring, shared by every worker: a client resumes wherever the
    # kernel hands its next connection. TLS 1.3 tickets arrive after the handshake, so read a response
    # before taking the session.
    def fetch(session=None):
        raw = socket.create_connection((LOOPBACK, edge.port), timeout=10)
        s = edge.context.wrap_socket(raw, server_hostname=LOOPBACK, session=session)
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        assert data.endswith(b"hello over tls")
        reused, session = s.session_reused, s.session
        s.close()
        return reused, session

    reused, session = fetch()
    assert not reused
    resumed = 0
    for _ in range(8):
        reused, next_session = fetch(session)
        resumed += reused
        session = next_session or session
    assert resumed == 8
