"""The edge CLI: `validate` with file:line:col diagnostics, `version`."""
import re
import subprocess

import pytest

pytestmark = pytest.mark.edge_only("edge CLI")

GOOD = """{
\tworkers 1
}
http://127.0.0.1:18080 {
\trespond /hello "hello" 200
\treverse_proxy 127.0.0.1:18081
}
"""

# line 3, an unknown directive inside a site block
BROKEN = """http://127.0.0.1:18080 {
\trespond /hello "hello" 200
\tno_such_directive foo
}
"""

UNCLOSED = """http://127.0.0.1:18080 {
\treverse_proxy 127.0.0.1:18081 {
\t\tdial_timeout 2s
}
"""


def run(edge_bin, *args):
    return subprocess.run([edge_bin, *args], capture_output=True, text=True, timeout=30)


def test_validate_good(edge_bin, tmp_path):
    f = tmp_path / "Caddyfile"
    f.write_text(GOOD)
    p = run(edge_bin, "validate", "--config", str(f))
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("text,line", [(BROKEN, 3), (UNCLOSED, None)], ids=["unknown-directive", "unclosed-brace"])
def test_validate_broken(edge_bin, tmp_path, text, line):
    f = tmp_path / "Caddyfile"
    f.write_text(text)
    p = run(edge_bin, "validate", "--config", str(f))
    out = p.stdout + p.stderr
    assert p.returncode == 1, "exit %d: %s" % (p.returncode, out)
    m = re.search(re.escape(str(f)) + r":(\d+):(\d+): \S", out)
    assert m, "no FILE:line:col: message in %r" % out
    if line is not None:
        assert int(m.group(1)) == line, out


def test_run_refuses_broken_config(edge_bin, tmp_path):
    f = tmp_path / "Caddyfile"
    f.write_text(BROKEN)
    p = run(edge_bin, "run", "--config", str(f))
    assert p.returncode != 0
    assert str(f) in p.stdout + p.stderr


def test_version(edge_bin):
    p = run(edge_bin, "version")
    assert p.returncode == 0
    assert re.search(r"\d+\.\d+", p.stdout + p.stderr), p.stdout


def test_fmt_tidies_a_caddyfile(edge_bin, tmp_path):
    f = tmp_path / "Caddyfile"
    f.write_text("{\nworkers   2\n}\nhttp://a.test {\nreverse_proxy   127.0.0.1:9 {\n   lb_policy round_robin\n}\n}\n")
    p = run(edge_bin, "fmt", str(f))
    assert p.returncode == 0, p.stderr
    assert p.stdout == ("{\n\tworkers 2\n}\nhttp://a.test {\n\treverse_proxy 127.0.0.1:9 {\n"
                        "\t\tlb_policy round_robin\n\t}\n}\n")
    # the formatted file still validates
    f.write_text(p.stdout)
    assert run(edge_bin, "validate", "--config", str(f)).returncode == 0


def test_adapt_prints_the_json_model(edge_bin, tmp_path):
    import json
    f = tmp_path / "Caddyfile"
    f.write_text(GOOD)
    p = run(edge_bin, "adapt", "--config", str(f))
    assert p.returncode == 0, p.stderr
    model = json.loads(p.stdout)
    assert model["global"]["workers"] == 1
    assert [a["original"] for a in model["sites"][0]["addresses"]] == ["http://127.0.0.1:18080"]


def test_validate_rejects_unreadable_certificate_files_at_the_site(edge_bin, tmp_path):
    # `tls cert key` files are read when the config is checked: a missing file is an error with the site's
    # position, not a failed handshake later.
    f = tmp_path / "Caddyfile"
    f.write_text("{\n\tstorage file_system %s\n}\nexample.test {\n\ttls /nonexistent/c.pem /nonexistent/k.pem\n"
                 "\trespond \"x\"\n}\n" % (tmp_path / "storage"))
    p = run(edge_bin, "validate", "--config", str(f))
    assert p.returncode == 1
    assert "Caddyfile:4:1" in p.stderr and "/nonexistent/c.pem" in p.stderr, p.stderr


def test_validate_creates_nothing_in_storage(edge_bin, tmp_path):
    # Checking a config that uses the local CA must not create the CA.
    f = tmp_path / "Caddyfile"
    storage = tmp_path / "storage"
    f.write_text("{\n\tstorage file_system %s\n}\nlocalhost {\n\trespond \"x\"\n}\n" % storage)
    p = run(edge_bin, "validate", "--config", str(f))
    assert p.returncode == 0, p.stderr
    assert not storage.exists()


def test_certs_list_reads_storage(edge_bin, tmp_path):
    import json as _json
    store = tmp_path / "storage" / "certificates"
    store.mkdir(parents=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "30", "-subj", "/CN=a.test", "-addext", "subjectAltName=DNS:a.test",
                    "-keyout", str(store / "a.test.key"), "-out", str(store / "a.test.crt")], check=True, capture_output=True)
    (store / "a.test.json").write_text(_json.dumps({
        "issuer_url": "https://ca.test/dir", "names": ["a.test"], "not_before": "2026-11-01T00:00:00Z",
        "not_after": "2027-01-30T00:00:00Z", "obtained_at": "2026-11-01T00:00:00Z", "renewals": 0}))
    out = subprocess.run([edge_bin, "certs", "list", "--storage", str(tmp_path / "storage"), "--json"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    row = _json.loads(out.stdout.splitlines()[0])
    assert row["name"] == "a.test" and row["issuer"] == "https://ca.test/dir"
    assert row["not_after"] == "2027-01-30T00:00:00Z"
    assert row["next_renewal"] == "2026-12-31T00:00:00Z"  # two thirds of 90 days
