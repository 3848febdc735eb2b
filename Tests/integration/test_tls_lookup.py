"""A certificate lookup that does not answer in time ends the handshake with an alert, and the node keeps
serving everything else meanwhile.

The slow source is real: the storage file for `slow.test` is a FIFO with no writer, so reading it blocks
(in edge's background queue, never on a loop) until the test opens the other end."""
import os
import ssl
import threading
import time

import pytest

import tlsutil
from harness import ManagedProcess, free_port

pytestmark = pytest.mark.edge_only("TLS termination")


def test_lookup_timeout_sends_internal_error_and_blocks_nothing_else(edge_bin, tmp_path):
    port, http_port = free_port(), free_port()
    storage = tmp_path / "storage"
    certificates = storage / "certificates"
    certificates.mkdir(parents=True)
    fifo = certificates / "slow.test.crt"
    os.mkfifo(fifo)
    (certificates / "slow.test.key").write_text("not read before the certificate\n")
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text("""{
	workers 1
	http_port %d
	https_port %d
	storage file_system %s
	auto_https disable_certs
	grace_period 1s
	servers {
		timeouts {
			read_header 2s
		}
	}
}
slow.test {
	respond "slow"
}
fast.test {
	tls internal
	respond "fast"
}
""" % (http_port, port, storage))
    proc = ManagedProcess("edge", [edge_bin, "run", "--config", caddyfile], tmp_path)
    unblock = threading.Event()
    try:
        proc.wait_for_port(port)
        root = storage / "pki" / "authorities" / "local" / "root.crt"
        started = time.monotonic()
        outcome = {}

        def slow():
            try:
                tlsutil.handshake(port, "slow.test", cafile=root, timeout=10)
                outcome["error"] = None
            except (ssl.SSLError, OSError) as e:
                outcome["error"] = e
            outcome["seconds"] = time.monotonic() - started

        t = threading.Thread(target=slow)
        t.start()
        # While slow.test waits, the same (single) worker loop serves another site.
        time.sleep(0.3)
        fast = tlsutil.handshake(port, "fast.test", cafile=root, timeout=5)
        assert "DNS:fast.test" in fast.cert().sans
        assert time.monotonic() - started < 1.4, "fast.test had to wait for slow.test's lookup"
        t.join(15)
        err = outcome.get("error")
        assert isinstance(err, ssl.SSLError), outcome
        assert "internal error" in str(err).lower() or getattr(err, "reason", "") == "TLSV1_ALERT_INTERNAL_ERROR", err
        # The lookup gives up at 3/4 of read_header (1.5 s), before the header timeout would close silently.
        assert 1.2 <= outcome["seconds"] < 2.0, outcome
        assert proc.proc.poll() is None
    finally:
        # Open the FIFO's other end so the blocked reader returns, then stop.
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass
        proc.stop()
