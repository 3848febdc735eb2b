"""Let's Encrypt's test CA, pebble (Debian `pebble`), with pebble-challtestsrv as its DNS so every test
name resolves to 127.0.0.1: started on free loopback ports, stopped by PID.

Pebble validates HTTP-01 on `http_port` and TLS-ALPN-01 on `tls_port` of the name's address, so the edge
under test listens on those as its `http_port` / `https_port`. `ca_root` is the root of pebble's own
HTTPS certificate (edge's `acme_ca_root`); `issuing_roots()` is what signs the certificates it issues
(it changes at every start).
"""
from __future__ import annotations

import json
import os
import ssl
import subprocess
import urllib.request
from pathlib import Path

from harness import LOOPBACK, ManagedProcess, free_port


class Pebble:
    def __init__(self, workdir: Path, env: dict | None = None, config: dict | None = None):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port, self.management, self.http_port, self.tls_port = free_port(), free_port(), free_port(), free_port()
        self.dns, self.dns_management = free_port(), free_port()
        self.ca_root = workdir / "pebble-ca.pem"
        self._certificate(workdir)
        settings = {
            "listenAddress": "%s:%d" % (LOOPBACK, self.port),
            "managementListenAddress": "%s:%d" % (LOOPBACK, self.management),
            "certificate": str(workdir / "pebble.pem"), "privateKey": str(workdir / "pebble.key"),
            "httpPort": self.http_port, "tlsPort": self.tls_port,
            "ocspResponderURL": "", "externalAccountBindingRequired": False,
        }
        settings.update(config or {})
        (workdir / "pebble.json").write_text(json.dumps({"pebble": settings}))
        self.challtestsrv = ManagedProcess("challtestsrv", [
            "pebble-challtestsrv", "-defaultIPv4", LOOPBACK, "-defaultIPv6", "", "-dns01", "%s:%d" % (LOOPBACK, self.dns),
            "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", "%s:%d" % (LOOPBACK, self.dns_management),
        ], workdir)
        try:
            self.challtestsrv.wait_for_port(self.dns_management)
            environment = dict(os.environ)
            environment.update({"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"})
            environment.update(env or {})
            self.proc = ManagedProcess("pebble", [
                "pebble", "-config", workdir / "pebble.json", "-dnsserver", "%s:%d" % (LOOPBACK, self.dns),
            ], workdir, env=environment)
            self.proc.wait_for_port(self.port)
        except Exception:
            self.challtestsrv.stop()
            raise

    @property
    def directory(self) -> str:
        return "https://%s:%d/dir" % (LOOPBACK, self.port)

    def _certificate(self, workdir: Path) -> None:
        """A CA and a leaf for 127.0.0.1/localhost, for pebble's own HTTPS."""
        def run(*args):
            subprocess.run(["openssl", *args], check=True, capture_output=True)
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=pebble test CA", "-keyout", str(workdir / "pebble-ca.key"), "-out", str(self.ca_root))
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=pebble",
            "-keyout", str(workdir / "pebble.key"), "-out", str(workdir / "pebble.csr"))
        (workdir / "pebble.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        run("x509", "-req", "-in", str(workdir / "pebble.csr"), "-CA", str(self.ca_root), "-CAkey",
            str(workdir / "pebble-ca.key"), "-CAcreateserial", "-days", "2", "-extfile", str(workdir / "pebble.ext"),
            "-out", str(workdir / "pebble.pem"))

    def _management(self, path: str) -> bytes:
        context = ssl.create_default_context(cafile=str(self.ca_root))
        with urllib.request.urlopen("https://%s:%d%s" % (LOOPBACK, self.management, path), context=context,
                                    timeout=10) as response:
            return response.read()

    def issuing_roots(self) -> Path:
        """Pebble's root and intermediate (PEM, in one file) that its issued chains verify under."""
        path = self.workdir / "issuing-roots.pem"
        path.write_bytes(self._management("/roots/0"))
        return path

    def orders(self) -> int:
        """How many orders pebble has created (from its log)."""
        text = self.proc.stdout_path.read_text(errors="replace") + self.proc.stderr_path.read_text(errors="replace")
        counts = [int(line.split("There are now ")[1].split()[0]) for line in text.splitlines() if "There are now " in line]
        return max(counts, default=0)

    def stop(self) -> None:
        try:
            self.proc.stop()
        finally:
            self.challtestsrv.stop()
