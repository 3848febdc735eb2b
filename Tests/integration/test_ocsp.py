"""OCSP stapling: a certificate in storage whose AIA names an OCSP responder is served with a fresh,
verified staple to clients that ask (`openssl s_client -status`); a revoked answer is never stapled."""
import http.server
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness import LOOPBACK, free_port, start_edge

pytestmark = pytest.mark.edge_only("OCSP stapling")


def openssl(*args, cwd=None):
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, cwd=cwd)


class Responder:
    """A test CA's OCSP responder on loopback: each POST is answered by `openssl ocsp` from index.txt, read
    fresh every time (so revoking is editing the index)."""

    def __init__(self, workdir: Path, ca: Path, key: Path, index: Path):
        responder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                request = self.rfile.read(int(self.headers["Content-Length"]))
                (workdir / "req.der").write_bytes(request)
                openssl("ocsp", "-index", index, "-rsigner", ca, "-rkey", key, "-CA", ca, "-reqin", workdir / "req.der",
                        "-respout", workdir / "resp.der", "-ndays", "1")
                body = (workdir / "resp.der").read_bytes()
                responder.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.requests = 0
        self.httpd = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def pki(tmp_path):
    """A CA, a leaf for stapled.test whose AIA points at the responder, and the responder."""
    ca, key = tmp_path / "ca.crt", tmp_path / "ca.key"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=OCSP test CA", "-keyout", key, "-out", ca)
    index = tmp_path / "index.txt"
    responder = Responder(tmp_path, ca, key, index)
    storage = tmp_path / "storage" / "certificates"
    storage.mkdir(parents=True)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=stapled.test",
            "-keyout", storage / "stapled.test.key", "-out", tmp_path / "leaf.csr")
    (tmp_path / "leaf.ext").write_text("subjectAltName=DNS:stapled.test\nauthorityInfoAccess=OCSP;URI:http://%s:%d\n"
                                       % (LOOPBACK, responder.port))
    openssl("x509", "-req", "-in", tmp_path / "leaf.csr", "-CA", ca, "-CAkey", key, "-set_serial", "0x1234", "-days", "2",
            "-extfile", tmp_path / "leaf.ext", "-out", tmp_path / "leaf.crt")
    (storage / "stapled.test.crt").write_text((tmp_path / "leaf.crt").read_text() + ca.read_text())
    index.write_text("V\t301231000000Z\t\t1234\tunknown\t/CN=stapled.test\n")
    yield {"dir": tmp_path, "ca": ca, "index": index, "responder": responder}
    responder.stop()


def status(port, ca):
    out = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (LOOPBACK, port), "-servername", "stapled.test",
                          "-status", "-CAfile", str(ca)], input="", capture_output=True, text=True, timeout=20)
    return out.stdout


def test_a_good_answer_is_stapled_and_a_revoked_one_never(edge_bin, pki):
    tmp = pki["dir"]
    port, http_port = free_port(), free_port()
    proc = start_edge(edge_bin, tmp, """{
	workers 1
	grace_period 1s
	admin off
	http_port %d
	https_port %d
	storage file_system %s
	auto_https disable_certs
}
stapled.test {
	respond "ok"
}
""" % (http_port, port, tmp / "storage"), port)
    try:
        status(port, pki["ca"])  # the first handshake loads the certificate; its staple is fetched then
        deadline = time.time() + 10
        out = ""
        while time.time() < deadline:
            out = status(port, pki["ca"])
            if "Cert Status: good" in out:
                break
            time.sleep(0.2)
        assert "OCSP Response Status: successful" in out and "Cert Status: good" in out, out[:2000]
        assert pki["responder"].requests >= 1
    finally:
        proc.stop()
    # Revoked at the CA: a node starting now staples nothing and says why.
    pki["index"].write_text("R\t301231000000Z\t251121000000Z\t1234\tunknown\t/CN=stapled.test\n")
    proc = start_edge(edge_bin, tmp, (tmp / "Caddyfile").read_text(), port)
    try:
        status(port, pki["ca"])
        time.sleep(1.5)
        out = status(port, pki["ca"])
        assert "OCSP response: no response sent" in out, out[:2000]
        assert "REVOKED" in proc.stderr_path.read_text()
    finally:
        proc.stop()
