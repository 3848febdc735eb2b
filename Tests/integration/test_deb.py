"""The Debian package: built from the binary under test (deploy/debian/build-deb.sh), installed with dpkg,
used as the unit would use it (the edge user, state in /var/lib/edge, SIGHUP reload), then purged.

Needs root and dpkg (CI runs as root). EDGE_DEB=path/to/edge.deb tests a package built beforehand
(`make deb`); otherwise the package is built from EDGE_BIN here, gzip-compressed to save time.
The test refuses to run when a package or user named edge already exists: it would purge them.
"""
from __future__ import annotations

import os
import pwd
import random
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import harness

pytestmark = pytest.mark.edge_only("the edge package")

UNITS = ["/lib/systemd/system/edge.service", "/lib/systemd/system/edge-cluster.service"]
WANTS = Path("/etc/systemd/system/multi-user.target.wants/edge.service")


def sh(*args, check=True, timeout=120, **kw):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        pytest.fail("%s exited %d:\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr), pytrace=False)
    return p


def installed(package="edge") -> bool:
    p = sh("dpkg-query", "-W", "-f=${Status}", package, check=False)
    return p.returncode == 0 and "installed" in p.stdout.split()


def user_exists(name="edge") -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def port_in_range() -> int:
    """A free port in 20000-20999 (the range this suite's deployment tests may use)."""
    for port in random.sample(range(20000, 21000), 1000):
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            try:
                s.bind(("::", port))
                return port
            except OSError:
                continue
    pytest.fail("no free port in 20000-20999", pytrace=False)


@pytest.fixture(scope="module")
def deb(edge_bin, tmp_path_factory) -> Path:
    for tool in ("dpkg", "dpkg-deb", "systemd-analyze", "runuser", "setpriv", "curl"):
        assert shutil.which(tool), "%s is missing: `make deps` installs it" % tool
    if os.environ.get("EDGE_DEB"):
        path = Path(os.environ["EDGE_DEB"])
        assert path.is_file(), "EDGE_DEB=%s is not a file" % path
        return path
    out = tmp_path_factory.mktemp("deb")
    env = dict(os.environ, DEB_COMPRESSION="gzip")  # xz takes a minute on a busy 2-core machine
    p = sh(str(harness.REPO_ROOT / "deploy/debian/build-deb.sh"), edge_bin, str(out), timeout=600, env=env)
    return Path(p.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def package(deb):
    assert os.geteuid() == 0, "installing a package needs root (CI runs the suite as root)"
    assert not installed(), "a package named edge is installed here; the test would purge it: dpkg --purge edge first"
    assert not user_exists(), "a user named edge exists here; the test would delete it: userdel edge first"
    sh("dpkg", "-i", str(deb))
    yield deb
    if installed() or Path("/usr/bin/edge").exists():  # a test failed before the purge test ran
        sh("dpkg", "--purge", "edge", check=False)


def test_version_matches_the_package(package):
    out = sh("/usr/bin/edge", "version").stdout.split()
    assert out[0] == "edge" and len(out) == 2, out
    version = sh("dpkg-query", "-W", "-f=${Version}", "edge").stdout
    assert version == out[1].replace("-", "~") + "-1"
    assert package.name == "edge_%s_%s.deb" % (version, sh("dpkg", "--print-architecture").stdout.strip())


def test_default_config_validates_as_the_service_user(package):
    conffiles = sh("dpkg-query", "-W", "-f=${Conffiles}", "edge").stdout
    assert "/etc/edge/Caddyfile" in conffiles
    for user in ("root", "edge"):
        p = sh("runuser", "-u", user, "--", "/usr/bin/edge", "validate", "--config", "/etc/edge/Caddyfile")
        assert "valid configuration" in p.stdout, p.stdout


def test_user_and_state_directory(package):
    user = pwd.getpwnam("edge")
    assert user.pw_uid < 1000, "edge is not a system user: uid %d" % user.pw_uid
    assert user.pw_dir == "/var/lib/edge"
    assert user.pw_shell in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false")
    for path, mode in (("/var/lib/edge", 0o700), ("/var/log/edge", 0o750)):
        st = os.stat(path)
        assert stat.S_ISDIR(st.st_mode)
        assert st.st_uid == user.pw_uid, "%s is owned by uid %d" % (path, st.st_uid)
        assert stat.S_IMODE(st.st_mode) == mode, "%s has mode %o" % (path, stat.S_IMODE(st.st_mode))
    assert WANTS.is_symlink(), "edge.service is not enabled"


def test_depends_names_every_linked_library(package):
    depends = {d.split()[0] for d in sh("dpkg-query", "-W", "-f=${Depends}", "edge").stdout.split(", ")}
    libraries = [line.split("=>")[1].split()[0] for line in sh("ldd", "/usr/bin/edge").stdout.splitlines() if "=>" in line]
    assert libraries, "ldd found no libraries"
    for lib in libraries:
        owner = ""
        for candidate in (lib, lib.replace("/lib/", "/usr/lib/", 1), lib.replace("/usr/lib/", "/lib/", 1)):
            p = sh("dpkg", "-S", candidate, check=False)
            if p.returncode == 0:
                owner = p.stdout.split(":")[0]
                break
        assert owner, "%s comes from no Debian package" % lib
        assert owner in depends, "%s (package %s) is not in Depends: %s" % (lib, owner, sorted(depends))


def test_installed_units_verify(package):
    p = sh("systemd-analyze", "verify", *UNITS, check=False)
    complaints = [line for line in (p.stdout + p.stderr).splitlines() if "edge" in line]
    assert p.returncode == 0 and not complaints, "systemd-analyze verify:\n" + p.stdout + p.stderr
    text = Path(UNITS[0]).read_text()
    for line in ("User=edge", "ExecStart=/usr/bin/edge run --config /etc/edge/Caddyfile", "ExecReload=/bin/kill -HUP $MAINPID",
                 "StateDirectory=edge", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "ProtectSystem=strict"):
        assert line in text, "edge.service lacks %r" % line


def test_runs_as_edge_with_state_in_var_lib_and_reloads_on_sighup(package):
    """What the unit does, without systemd: the edge user, XDG_DATA_HOME=/var/lib, SIGHUP, SIGTERM."""
    http, https = port_in_range(), port_in_range()
    work = Path(tempfile.mkdtemp(prefix="edge-deb-"))
    work.chmod(0o755)
    config = work / "Caddyfile"

    def write(text):
        config.write_text("{\n\thttp_port %d\n\thttps_port %d\n\tadmin off\n}\n:%d {\n\trespond \"%s\" 200\n}\n"
                          "https://localhost:%d {\n\ttls internal\n\trespond \"tls\" 200\n}\n" % (http, https, http, text, https))
        config.chmod(0o644)

    def get(url, *extra):
        return sh("curl", "-s", "--max-time", "5", *extra, url, check=False).stdout

    write("first")
    env = {"PATH": "/usr/bin:/bin", "HOME": "/var/lib/edge", "XDG_DATA_HOME": "/var/lib"}
    # setpriv execs edge itself (no process in between), so signals reach it as systemd would send them.
    proc = subprocess.Popen(["setpriv", "--reuid=edge", "--regid=edge", "--init-groups", "--",
                             "/usr/bin/edge", "run", "--config", str(config)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 15
        while get("http://127.0.0.1:%d/" % http) != "first":
            assert proc.poll() is None and time.time() < deadline, "edge did not serve: " + (proc.stdout.read() if proc.poll() is not None else "")
            time.sleep(0.2)
        root = "/var/lib/edge/pki/authorities/local/root.crt"
        assert get("https://localhost:%d/" % https, "--cacert", root, "--resolve", "localhost:%d:127.0.0.1" % https) == "tls"
        edge_uid = pwd.getpwnam("edge").pw_uid
        for path in (root, "/var/lib/edge/autosave.json"):
            assert os.stat(path).st_uid == edge_uid, path
        keys = list(Path("/var/lib/edge/pki").rglob("*.key"))
        assert keys and all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys), [(k, oct(k.stat().st_mode)) for k in keys]

        pid = proc.pid
        write("second")
        os.kill(pid, signal.SIGHUP)
        deadline = time.time() + 10
        while get("http://127.0.0.1:%d/" % http) != "second":
            assert time.time() < deadline, "SIGHUP did not reload the configuration"
            time.sleep(0.2)
        os.kill(pid, signal.SIGTERM)
        assert proc.wait(timeout=40) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def test_purge_removes_everything(package):
    sh("dpkg", "--purge", "edge")
    assert not installed()
    for path in ["/usr/bin/edge", "/etc/edge", "/var/lib/edge", "/var/log/edge", *UNITS]:
        assert not os.path.lexists(path), "%s is left after purge" % path
    assert not WANTS.is_symlink(), "the enablement symlink is left after purge"
    assert not user_exists(), "the edge user is left after purge"
