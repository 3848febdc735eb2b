"""Per-site TLS settings on one port: `protocols`, `ciphers` (CBC only when asked) and `curves`,
applied from the ClientHello before anything is negotiated."""
import subprocess

import pytest

from harness import LOOPBACK, free_port, start_edge

pytestmark = pytest.mark.edge_only("TLS termination")


@pytest.fixture(scope="module")
def edge(edge_bin, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("edge-tls-policies")
    port, http_port = free_port(), free_port()
    proc = start_edge(edge_bin, workdir, """{
	workers 1
	http_port %d
	https_port %d
	storage file_system %s
	auto_https disable_certs
	grace_period 1s
}
strong.test {
	tls internal
	respond "strong"
}
legacy.test {
	tls internal {
		protocols tls1.2 tls1.2
		ciphers TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	}
	respond "legacy"
}
p384.test {
	tls internal {
		curves secp384r1
	}
	respond "p384"
}
""" % (http_port, port, workdir / "storage"), port)
    yield port
    proc.stop()


def s_client(port, name, *args):
    """openssl s_client: (handshake completed, negotiated cipher, output)."""
    p = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (LOOPBACK, port), "-servername", name, *args],
                       input=b"", capture_output=True, timeout=20)
    out = (p.stdout + p.stderr).decode(errors="replace")
    cipher = None
    for line in out.splitlines():
        if "Cipher is " in line:
            cipher = line.split("Cipher is ", 1)[1].strip()
    ok = cipher not in (None, "(NONE)")
    return ok, cipher, out


def test_cbc_is_refused_by_default(edge):
    ok, _, out = s_client(edge, "strong.test", "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA")
    assert not ok, out


def test_cbc_is_served_where_a_site_asks_for_it(edge):
    ok, cipher, out = s_client(edge, "legacy.test", "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA")
    assert ok and cipher == "ECDHE-ECDSA-AES128-SHA", out


def test_site_capped_at_tls12_refuses_tls13(edge):
    ok, _, out = s_client(edge, "legacy.test", "-tls1_3")
    assert not ok, out
    ok, _, out = s_client(edge, "strong.test", "-tls1_3")
    assert ok, out


def test_curves_per_site(edge):
    ok, _, out = s_client(edge, "p384.test", "-groups", "P-256")
    assert not ok, out
    ok, _, out = s_client(edge, "p384.test", "-groups", "P-384")
    assert ok, out
    # The default groups are X25519, P-256 and P-384: P-521 alone is refused elsewhere.
    ok, _, out = s_client(edge, "strong.test", "-groups", "P-521")
    assert not ok, out
    ok, _, out = s_client(edge, "strong.test", "-groups", "P-384")
    assert ok, out
    ok, _, out = s_client(edge, "strong.test", "-groups", "X25519")
    assert ok, out


def test_server_acknowledges_sni(edge):
    # RFC 6066: a server that used the server_name extension answers with an empty one.
    for version in ("-tls1_2", "-tls1_3"):
        ok, _, out = s_client(edge, "strong.test", version, "-tlsextdebug")
        assert ok, out
        assert 'TLS server extension "server name" (id=0), len=0' in out, out


def test_no_sni_is_refused_when_several_sites_share_the_port(edge):
    p = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (LOOPBACK, edge), "-noservername"],
                       input=b"", capture_output=True, timeout=20)
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert "unrecognized name" in out, out


def test_no_sni_gets_the_only_site_of_its_port(edge_bin, tmp_path):
    port, http_port = free_port(), free_port()
    proc = start_edge(edge_bin, tmp_path, "{\n\thttp_port %d\n\thttps_port %d\n\tstorage file_system %s\n\tauto_https disable_certs\n}\n"
                      "only.test {\n\ttls internal\n\trespond \"only\"\n}\n" % (http_port, port, tmp_path / "storage"), port)
    try:
        p = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (LOOPBACK, port), "-noservername"],
                           input=b"", capture_output=True, timeout=20)
        out = (p.stdout + p.stderr).decode(errors="replace")
        assert "subject=CN = only.test" in out, out
    finally:
        proc.stop()
