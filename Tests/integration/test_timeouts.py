"""servers.timeouts.read_header: a client that sends half a request head is answered 408 and closed."""
import time

import pytest

from rawhttp import Conn, ProtocolError, request_bytes


def send_half_head(proxy):
    conn = Conn(proxy.port, timeout=30)
    conn.send(("GET /echo HTTP/1.1\r\nHost: %s\r\nX-Partial: " % proxy.host_header).encode())
    return conn


def test_read_header_timeout_closes(proxy):
    limit = proxy.config.read_header_s
    t0 = time.monotonic()
    with send_half_head(proxy) as conn:
        try:
            r = conn.read_response()
            assert r.status == 408, "expected 408 or a close, got %d" % r.status
            conn.wait_closed(timeout=3)
        except ProtocolError as e:
            assert conn.eof, e  # closed without a response: allowed here (see the 408 test)
        elapsed = time.monotonic() - t0
    assert limit - 0.5 <= elapsed < limit + 3, "closed after %.2fs (read_header %ds)" % (elapsed, limit)
    # other clients are unaffected
    with Conn(proxy.port) as conn:
        conn.send(request_bytes("GET", "/hello", proxy.host_header))
        assert conn.read_response().status == 200


@pytest.mark.nginx_differs("nginx closes without a response when client_header_timeout expires")
def test_read_header_timeout_sends_408(proxy):
    limit = proxy.config.read_header_s
    t0 = time.monotonic()
    with send_half_head(proxy) as conn:
        r = conn.read_response()
        elapsed = time.monotonic() - t0
        assert r.status == 408
        conn.wait_closed(timeout=3)
    assert limit - 0.5 <= elapsed < limit + 3, "408 after %.2fs (read_header %ds)" % (elapsed, limit)


def test_slowloris_trickle_still_times_out(proxy):
    """Bytes trickling in do not extend read_header: the whole head must arrive within the limit."""
    limit = proxy.config.read_header_s
    t0 = time.monotonic()
    with Conn(proxy.port, timeout=30) as conn:
        conn.send(("GET /echo HTTP/1.1\r\nHost: %s\r\n" % proxy.host_header).encode())
        closed = False
        for i in range(int((limit + 3) / 0.25)):
            time.sleep(0.25)
            try:
                conn.send(b"X-T%d: v\r\n" % i)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if time.monotonic() - t0 > limit + 2.5:
                break
        if not closed:
            try:
                conn.wait_closed(timeout=max(0.1, limit + 3 - (time.monotonic() - t0)))
            except ProtocolError as e:
                pytest.fail("a trickling client kept the head open past read_header: %s" % e)
    assert time.monotonic() - t0 < limit + 3
