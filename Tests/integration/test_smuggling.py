"""Request smuggling: every framing trick a client can try, sent on a raw socket to the proxy in front of a
*recording* upstream (recording.py) that keeps the exact bytes it received.

For a request the proxy refuses: the expected status, the connection closed, and no request — least of
all the smuggled `/smuggled` one — complete at the upstream. For a request it accepts: the client gets as
many responses as the upstream saw requests, and each forwarded head is unambiguous (exactly one
Content-Length, or `Transfer-Encoding: chunked` alone, or neither; one Host), read by two parsers that
are not edge's: h11 (the upstream's) and `split_forwarded` (stricter still).

Each case also records what h11 (PyPI), a strict HTTP/1.1 parser, makes of the same client bytes: where
edge accepts, h11 must too; where edge is stricter than h11 the case says why. Malformed requests that are
not about framing (sizes, Host, methods) are in test_malformed.py.

Decisions (RFC 9112 unless said otherwise):
- Content-Length with Transfer-Encoding (CL.TE, TE.CL): 400 and close (§6.3 allows rejecting; forwarding
  either framing would leave the other reading for a parser downstream).
- Transfer-Encoding is accepted only as exactly `chunked`, in one field, HTTP/1.1. Optional whitespace
  around the value (SP or HTAB) is not part of it (RFC 9110 §5.5) and coding names are case-insensitive
  (§7), so ` chunked`, `\\tchunked\\t` and `CHUNKED` are chunked. Two TE fields, `chunked, identity`,
  `identity`, quotes, control characters, an empty list element: 400 (an empty element is legal list
  syntax, RFC 9110 §5.6.1, but a TE that is not exactly `chunked` is refused rather than guessed at; h11
  refuses it too). An unknown coding alone (`xchunked`): 501 (§6.1).
- HTTP/1.0 with Transfer-Encoding: 400 (§6.1: the framing is faulty).
- Content-Length: 1*DIGIT. `+5`, `-1`, hex, empty, past 2^63: 400. Equal duplicates (`5` twice, `5, 5`)
  and leading zeros are one length (RFC 9110 §8.6 allows either); edge forwards exactly one
  `Content-Length: 5`.
- Chunked bodies are decoded and chunked again: extensions and trailer fields never reach the upstream
  (forbidden trailer fields such as Content-Length or Host are thereby harmless). A size of more than 16
  hex digits or past 2^63, a bad size, whitespace before the CRLF (§7.1 allows BWS only before `;`), an
  extension over 1 KiB or with a bare LF, data not followed by CRLF: 400 and the upstream connection is
  closed mid-body.
- obs-fold, bare CR, bare LF, NUL anywhere in the head: 400.
- Absolute-form targets route by their authority and the forwarded Host is that authority (§3.2.2: the
  received Host is ignored); authority-form only with CONNECT, asterisk-form only with OPTIONS (400).
  CONNECT itself: 501 (edge is a reverse proxy; a tunnel a backend opened would leave a pooled upstream
  connection in the tunnel).
- HTTP/1.2 is processed as HTTP/1.1 (§2.3: a higher minor version SHOULD be); HTTP/0.9 and 2.0: 505;
  `HTTP/1.10` and `http/1.1` are not HTTP-version: 400. One SP between the parts of the request line.
- Expect: 100-continue is edge's to answer (the field is not forwarded); a body that then never comes is
  a 408 after read_body, and the upstream connection that got the head is closed, not reused.
"""
from __future__ import annotations

import json
import time

import h11
import pytest

from harness import ProxyConfig
from rawhttp import Conn, ProtocolError, request_bytes
from recording import FixedResponder, RecordingUpstream, split_forwarded

SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: {host}\r\n\r\n"


class Case:
    def __init__(self, name, raw, *, status=200, responses=1, body_error=False, check=None, h11_differs=None,
                 nginx=None):
        self.name, self.raw, self.status, self.responses = name, raw, status, responses
        self.body_error = body_error  # refused in the body: the head was forwarded, the body cut short
        self.check = check
        self.h11_differs = h11_differs
        self.nginx = nginx

    @property
    def accepted(self):
        return self.status == 200

    def param(self):
        marks = [pytest.mark.nginx_differs(self.nginx)] if self.nginx else []
        return pytest.param(self, id=self.name, marks=marks)


def post(fields: str, body: str = "") -> str:
    return "POST /echo HTTP/1.1\r\nHost: {host}\r\n" + fields + "\r\n" + body


def chunked(body: str) -> str:
    return post("Transfer-Encoding: chunked\r\n", body)


# ------------------------------------------------------------------ checks on what was forwarded


def forwarded_field(name, value):
    def check(forwarded, requests):
        line, fields, _ = forwarded[0]
        values = [v for n, v in fields if n.lower() == name.lower()]
        assert values == [value], "forwarded %s: %r, expected [%r]" % (name, values, value)
    return check


def forwarded_without(name):
    def check(forwarded, requests):
        assert all(n.lower() != name.lower() for n, _ in forwarded[0][1]), "%s was forwarded" % name
    return check


def forwarded_body(body: bytes, *, chunked_upstream: bool):
    def check(forwarded, requests):
        _, fields, got = forwarded[0]
        assert got == body
        framing = {n.lower(): v for n, v in fields if n.lower() in ("content-length", "transfer-encoding")}
        assert framing == ({"transfer-encoding": "chunked"} if chunked_upstream else {"content-length": str(len(body))})
    return check


def forwarded_line(expected):
    def check(forwarded, requests):
        assert forwarded[0][0] == expected
    return check


def all_of(*checks):
    def check(forwarded, requests):
        for c in checks:
            c(forwarded, requests)
    return check


# ------------------------------------------------------------------ cases

CASES = [
    # CL.TE / TE.CL: a front end reading one framing and a back end the other see different requests.
    Case("cl-te", post("Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + SMUGGLED), status=400,
         h11_differs="h11 lets chunked win over Content-Length (RFC 9112 §6.3 allows it); edge refuses both"),
    Case("te-cl", post("Transfer-Encoding: chunked\r\nContent-Length: 6\r\n", "0\r\n\r\n" + SMUGGLED), status=400,
         h11_differs="h11 lets chunked win over Content-Length (RFC 9112 §6.3 allows it); edge refuses both"),
    Case("cl-0-te", post("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"), status=400,
         h11_differs="as te-cl"),
    # TE.TE: obfuscated Transfer-Encoding that one parser honours and another ignores.
    Case("te-xchunked", post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n" + SMUGGLED), status=501),
    Case("te-chunk", post("Transfer-Encoding: chunk\r\n", "0\r\n\r\n"), status=501),
    Case("te-space-before-colon", post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n" + SMUGGLED), status=400),
    Case("te-obs-fold", post("X-A: b\r\n Transfer-Encoding: chunked\r\n", "0\r\n\r\n" + SMUGGLED), status=400,
         h11_differs="h11 unfolds obs-fold (RFC 9112 §5.2 lets a recipient reject it instead)"),
    Case("te-twice", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), status=400),
    Case("te-chunked-then-identity", post("Transfer-Encoding: chunked\r\nTransfer-encoding: identity\r\n",
                                          "0\r\n\r\n" + SMUGGLED), status=400),
    Case("te-chunked-identity-list", post("Transfer-Encoding: chunked, identity\r\n", "0\r\n\r\n"), status=400,
         nginx="nginx answers 501 for an unknown transfer-coding"),
    Case("te-identity", post("Transfer-Encoding: identity\r\nContent-Length: 5\r\n", "hello"), status=400),
    Case("te-gzip-chunked", post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), status=(400, 501)),
    Case("te-not-chunked-last", post("Transfer-Encoding: gzip\r\n", "abc"), status=(400, 501)),
    Case("te-quoted", post('Transfer-Encoding: "chunked"\r\n', "0\r\n\r\n"), status=400),
    Case("te-empty-element", post("Transfer-Encoding: , chunked\r\n", "0\r\n\r\n"), status=400),
    Case("te-vertical-tab", post("Transfer-Encoding: \x0bchunked\r\n", "0\r\n\r\n"), status=400),
    Case("te-nul", post("Transfer-Encoding: chunked\x00\r\n", "0\r\n\r\n"), status=400),
    Case("te-in-http10", "POST /echo HTTP/1.0\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         status=400, h11_differs="h11 reads chunked in HTTP/1.0; RFC 9112 §6.1 calls that framing faulty"),
    Case("te-leading-spaces", post("Transfer-Encoding:   chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"),
         check=forwarded_body(b"hello", chunked_upstream=True)),
    Case("te-tabs", post("Transfer-Encoding:\tchunked\t\r\n", "5\r\nhello\r\n0\r\n\r\n"),
         check=forwarded_body(b"hello", chunked_upstream=True)),
    Case("te-uppercase", post("Transfer-Encoding: CHUNKED\r\n", "5\r\nhello\r\n0\r\n\r\n"),
         check=forwarded_body(b"hello", chunked_upstream=True)),
    # Content-Length
    Case("cl-two-values", post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), status=400),
    Case("cl-list-two-values", post("Content-Length: 5, 6\r\n", "hello!"), status=400),
    Case("cl-plus", post("Content-Length: +5\r\n", "hello"), status=400),
    Case("cl-minus", post("Content-Length: -1\r\n", "hello"), status=400),
    Case("cl-hex", post("Content-Length: 0x5\r\n", "hello"), status=400),
    Case("cl-empty", post("Content-Length: \r\n", "hello"), status=400),
    Case("cl-huge", post("Content-Length: 99999999999999999999999\r\n", "hello"), status=400),
    Case("cl-space-inside", post("Content-Length: 1 0\r\n", "hello"), status=400),
    Case("cl-equal-twice", post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"),
         check=forwarded_body(b"hello", chunked_upstream=False)),
    Case("cl-equal-list", post("Content-Length: 5, 5\r\n", "hello"),
         check=forwarded_body(b"hello", chunked_upstream=False)),
    Case("cl-leading-zeros", post("Content-Length: 005\r\n", "hello"),
         check=forwarded_body(b"hello", chunked_upstream=False)),
    Case("cl-body-holds-a-request", post("Content-Length: %d\r\n" % len(SMUGGLED), SMUGGLED),
         check=forwarded_line("POST /echo HTTP/1.1")),
    Case("get-with-body", "GET /echo HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\n\r\nhello",
         check=forwarded_body(b"hello", chunked_upstream=False)),
    # Lines and bytes
    Case("obs-fold", "GET /echo HTTP/1.1\r\nHost: {host}\r\nX-Folded: a\r\n b\r\n\r\n", status=400,
         h11_differs="h11 unfolds obs-fold"),
    Case("bare-cr-in-field", "GET /echo HTTP/1.1\r\nHost: {host}\r\nX-A: a\rb\r\n\r\n", status=400),
    Case("bare-cr-ends-line", "GET /echo HTTP/1.1\r\nHost: {host}\rX-A: b\r\n\r\n" + SMUGGLED, status=400),
    Case("bare-lf", "GET /echo HTTP/1.1\nHost: {host}\nX-A: b\n\n", status=400,
         h11_differs="h11 accepts LF line endings (RFC 9112 §2.2 MAY)", nginx="nginx accepts bare LF line endings"),
    Case("bare-lf-in-field", "GET /echo HTTP/1.1\r\nHost: {host}\r\nX-A: a\nTransfer-Encoding: chunked\r\n\r\n",
         status=400, h11_differs="h11 takes the LF as a line end", nginx="nginx accepts bare LF line endings"),
    Case("nul-in-target", "GET /echo\x00x HTTP/1.1\r\nHost: {host}\r\n\r\n", status=400),
    Case("nul-in-name", "GET /echo HTTP/1.1\r\nHost: {host}\r\nX-\x00A: b\r\n\r\n", status=400),
    Case("nul-in-value", "GET /echo HTTP/1.1\r\nHost: {host}\r\nX-Nul: a\x00b\r\n\r\n", status=400),
    # Chunked bodies (refused after the head went upstream: the upstream connection is closed mid-body)
    Case("chunk-size-not-hex", chunked("zz\r\nhello\r\n0\r\n\r\n"), status=400, body_error=True),
    Case("chunk-size-overflow", chunked("fffffffffffffffff1\r\nhello\r\n0\r\n\r\n" + SMUGGLED), status=400,
         body_error=True, h11_differs="h11 has no limit on a chunk size (Python integers)"),
    Case("chunk-size-2^63", chunked("8000000000000000\r\nhello\r\n0\r\n\r\n"), status=400, body_error=True,
         h11_differs="as chunk-size-overflow"),
    Case("chunk-size-negative", chunked("-5\r\nhello\r\n0\r\n\r\n"), status=400, body_error=True),
    Case("chunk-size-0x", chunked("0x5\r\nhello\r\n0\r\n\r\n"), status=400, body_error=True),
    Case("chunk-size-space-before-crlf", chunked("5 \r\nhello\r\n0\r\n\r\n"), status=400, body_error=True,
         h11_differs="h11 allows whitespace after the size (RFC 9112 §7.1 has BWS only before ';')"),
    Case("chunk-data-without-crlf", chunked("5\r\nhelloX0\r\n\r\n" + SMUGGLED), status=400, body_error=True),
    Case("chunk-data-then-lf", chunked("5\r\nhello\n0\r\n\r\n"), status=400, body_error=True),
    Case("chunk-extension-too-long", chunked("5;" + "e" * 2000 + "\r\nhello\r\n0\r\n\r\n"), status=400,
         body_error=True, h11_differs="h11 has no limit on chunk extensions"),
    Case("chunk-extension-bare-lf", chunked("5;a\nb\r\nhello\r\n0\r\n\r\n"), status=400, body_error=True),
    Case("chunk-extensions-stripped", chunked('5;a=b;c="d;e"\r\nhello\r\n0;last\r\n\r\n'),
         check=forwarded_body(b"hello", chunked_upstream=True)),
    Case("chunk-extension-not-a-token", chunked("5;a b c\r\nhello\r\n0\r\n\r\n"),
         check=forwarded_body(b"hello", chunked_upstream=True)),
    Case("trailer-forbidden-fields", chunked("5\r\nhello\r\n0\r\nContent-Length: 100\r\nTransfer-Encoding: x\r\n"
                                             "Host: evil.example\r\n\r\n"),
         check=forwarded_body(b"hello", chunked_upstream=True),
         h11_differs="h11 refuses framing fields in a trailer; edge drops the whole trailer section (RFC 9110 "
                     "§6.5.1 lets a recipient discard it), so they never reach the upstream"),
    Case("pipelined-after-chunked", chunked("5\r\nhello\r\n0\r\n\r\n") + "GET /second HTTP/1.1\r\nHost: {host}\r\n\r\n",
         responses=2),
    # Targets
    Case("absolute-form-other-host", "GET http://{host}/echo HTTP/1.1\r\nHost: evil.example\r\n\r\n",
         check=all_of(forwarded_line("GET /echo HTTP/1.1"), forwarded_field("Host", "{host}"))),
    Case("absolute-form-http10-no-host", "GET http://{host}/echo?q HTTP/1.0\r\n\r\n",
         check=all_of(forwarded_line("GET /echo?q HTTP/1.1"), forwarded_field("Host", "{host}"))),
    Case("absolute-form-userinfo", "GET http://user@{host}/echo HTTP/1.1\r\nHost: {host}\r\n\r\n", status=400,
         h11_differs="h11 does not look inside the target"),
    Case("absolute-form-bad-authority", "GET http://[::1/echo HTTP/1.1\r\nHost: {host}\r\n\r\n", status=400,
         h11_differs="h11 does not look inside the target"),
    Case("authority-form-with-get", "GET {host} HTTP/1.1\r\nHost: {host}\r\n\r\n", status=400,
         h11_differs="h11 does not check the target's form against the method"),
    Case("asterisk-form-with-get", "GET * HTTP/1.1\r\nHost: {host}\r\n\r\n", status=400,
         h11_differs="h11 does not check the target's form against the method"),
    Case("connect", "CONNECT {host} HTTP/1.1\r\nHost: {host}\r\n\r\n", status=501,
         h11_differs="CONNECT is well-formed; edge does not tunnel", nginx="nginx answers 405"),
    Case("options-asterisk", "OPTIONS * HTTP/1.1\r\nHost: {host}\r\n\r\n",
         check=forwarded_line("OPTIONS * HTTP/1.1")),
    # Methods and versions
    Case("method-lowercase", "get /echo HTTP/1.1\r\nHost: {host}\r\n\r\n", check=forwarded_line("get /echo HTTP/1.1")),
    Case("http-1.2", "GET /echo HTTP/1.2\r\nHost: {host}\r\n\r\n", check=forwarded_line("GET /echo HTTP/1.1")),
    Case("http-0.9", "GET /echo HTTP/0.9\r\nHost: {host}\r\n\r\n", status=505, h11_differs="h11 takes any 1*DIGIT.1*DIGIT"),
    Case("http-1.10", "GET /echo HTTP/1.10\r\nHost: {host}\r\n\r\n", status=400),
    Case("http-lowercase", "GET /echo http/1.1\r\nHost: {host}\r\n\r\n", status=400),
    Case("version-trailing-space", "GET /echo HTTP/1.1 \r\nHost: {host}\r\n\r\n", status=400),
    Case("two-spaces", "GET  /echo HTTP/1.1\r\nHost: {host}\r\n\r\n", status=400),
    Case("tab-separated", "GET\t/echo\tHTTP/1.1\r\nHost: {host}\r\n\r\n", status=400),
    Case("leading-space", " GET /echo HTTP/1.1\r\nHost: {host}\r\n\r\n", status=400),
    Case("leading-empty-line", "\r\nGET /echo HTTP/1.1\r\nHost: {host}\r\n\r\n", check=forwarded_line("GET /echo HTTP/1.1"),
         h11_differs="h11 refuses an empty line before the request line; RFC 9112 §2.2 says a server SHOULD "
                     "ignore at least one"),
    # Expect
    Case("expect-with-body-sent", post("Content-Length: 5\r\nExpect: 100-continue\r\n", "hello"),
         check=all_of(forwarded_body(b"hello", chunked_upstream=False), forwarded_without("Expect"))),
]


def h11_verdict(raw: bytes) -> str:
    """'accept' or 'reject' for the first request in `raw`, read by h11 as a server."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(raw)
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA or isinstance(event, h11.EndOfMessage) or event is h11.PAUSED:
                return "accept"
    except h11.RemoteProtocolError:
        return "reject"


@pytest.fixture(scope="module")
def recorder():
    up = RecordingUpstream()
    yield up
    up.stop()


@pytest.fixture(scope="module")
def smuggling_proxy(recorder, tmp_path_factory, request):
    from conftest import _start_proxy
    return _start_proxy(ProxyConfig(upstreams=[recorder.address], read_body_s=2),
                        tmp_path_factory.mktemp("smuggling-proxy"), request)


def wait_for(condition, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class Mark:
    """What the recorder held before a case: later bytes and requests are the case's."""

    def __init__(self, recorder):
        self.recorder = recorder
        self.before = {id(c): (len(c.raw), len(c.requests)) for c in recorder.snapshot()}

    def connections(self):
        out = []
        for c in self.recorder.snapshot():
            raw_at, req_at = self.before.get(id(c), (0, 0))
            if len(c.raw) > raw_at or len(c.requests) > req_at or id(c) not in self.before:
                out.append((c, bytes(c.raw[raw_at:]), c.requests[req_at:]))
        return out


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_smuggling(smuggling_proxy, recorder, case):
    proxy = smuggling_proxy
    host = proxy.host_header
    raw = case.raw.replace("{host}", host).encode("latin-1")
    mark = Mark(recorder)
    with Conn(proxy.port, timeout=10) as conn:
        try:
            conn.send(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed before everything was sent
        responses = [conn.read_response() for _ in range(case.responses)]
        if not case.accepted:
            allowed = case.status if isinstance(case.status, tuple) else (case.status,)
            assert responses[0].status in allowed, "expected %s, got %d %s" % (allowed, responses[0].status, responses[0].reason)
            try:
                extra = conn.wait_closed(timeout=3)
            except ProtocolError as e:
                pytest.fail("connection left open after %d: %s" % (responses[0].status, e))
            assert b"HTTP/1." not in extra, "a second response followed the refusal: %r" % extra[:200]
        else:
            for r in responses:
                assert r.status == 200, "expected 200 from the upstream, got %d %s: %r" % (r.status, r.reason, r.body[:200])

    if case.accepted:
        assert wait_for(lambda: sum(len(rq) for _, _, rq in mark.connections()) >= case.responses)
    elif case.body_error:
        # The head went upstream before the body turned out bad: that connection must be closed, not reused.
        assert wait_for(lambda: all(c.closed.is_set() for c, _, _ in mark.connections())), \
            "the upstream connection of a refused body was not closed"
    else:
        time.sleep(0.1)
    seen = mark.connections()
    requests = [r for _, _, rq in seen for r in rq]
    assert all(r["target"] != "/smuggled" for r in requests), "a smuggled request reached the upstream"
    if not case.accepted:
        assert requests == [], "the upstream saw %d complete request(s) of a refused one" % len(requests)
        return
    assert len(requests) == case.responses, "client got %d responses, upstream saw %d requests" % (
        case.responses, len(requests))
    forwarded = []
    for record, new_bytes, _ in seen:
        assert record.error is None, "h11 at the upstream: %s" % record.error
        forwarded += split_forwarded(new_bytes)
    assert len(forwarded) == len(requests)
    if case.check:
        check_forwarded = [(line.replace(host, "{host}"), [(n, v.replace(host, "{host}")) for n, v in fields], body)
                           for line, fields, body in forwarded]
        case.check(check_forwarded, requests)
    # and the proxy still serves a plain request on a new connection
    with Conn(proxy.port) as conn:
        conn.send(request_bytes("GET", "/after", host))
        assert conn.read_response().status == 200


def test_expect_100_continue_without_the_body(smuggling_proxy, recorder):
    """Expect: 100-continue, then the body never comes: 100 Continue, then 408 once read_body (2 s) passes,
    the connection closed; the upstream saw the head (without Expect: edge answered it) but no complete
    request, and its connection is closed rather than reused with half a body owed."""
    proxy = smuggling_proxy
    mark = Mark(recorder)
    t0 = time.monotonic()
    with Conn(proxy.port, timeout=10) as conn:
        conn.send(post("Content-Length: 5\r\nExpect: 100-continue\r\n").replace("{host}", proxy.host_header).encode())
        interim = conn.read_response(interim=True)
        assert interim.status == 100
        final = conn.read_response()
        assert final.status == 408
        assert time.monotonic() - t0 >= 1.5
        conn.wait_closed(timeout=3)
    assert wait_for(lambda: all(c.closed.is_set() for c, _, _ in mark.connections()))
    seen = mark.connections()
    assert [r for _, _, rq in seen for r in rq] == []
    heads = b"".join(raw for _, raw, _ in seen)
    assert heads.startswith(b"POST /echo HTTP/1.1\r\n") and b"\r\nexpect:" not in heads.lower()


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_h11_reference(case):
    """Edge and h11, a strict reference parser, agree on every case, except where the case says why."""
    raw = case.raw.replace("{host}", "127.0.0.1:1").encode("latin-1")
    verdict = h11_verdict(raw)
    edge = "accept" if case.accepted else "reject"
    if case.h11_differs:
        assert verdict != edge, "h11 now agrees (%s); drop h11_differs" % verdict
    else:
        assert verdict == edge, "h11 says %s, edge %s" % (verdict, edge)


# ------------------------------------------------------------------ responses

RESPONSES = [
    # (name, what the upstream sends, the framing the client must get, the body)
    ("cl-and-chunked", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
     {"transfer-encoding": ["chunked"]}, b"hello"),
    ("cl-list", b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", {"content-length": ["5"]}, b"hello"),
    ("cl-twice", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", {"content-length": ["5"]}, b"hello"),
    ("cl-leading-zeros", b"HTTP/1.1 200 OK\r\nContent-Length: 0005\r\n\r\nhello", {"content-length": ["5"]}, b"hello"),
    ("until-close", b"HTTP/1.0 200 OK\r\nX-A: b\r\n\r\nhello", {"transfer-encoding": ["chunked"]}, b"hello"),
]


@pytest.fixture(scope="module")
def responder():
    r = FixedResponder()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def responder_proxy(responder, tmp_path_factory, request):
    from conftest import _start_proxy
    return _start_proxy(ProxyConfig(upstreams=[responder.address]), tmp_path_factory.mktemp("responder-proxy"), request)


@pytest.mark.nginx_differs("nginx passes an upstream's Content-Length list through")
@pytest.mark.parametrize("name,upstream_bytes,framing,body", RESPONSES, ids=[r[0] for r in RESPONSES])
def test_response_framing_is_edges_own(responder, responder_proxy, name, upstream_bytes, framing, body):
    """Whatever framing fields an upstream sent, the client reads exactly one framing: edge's."""
    responder.response = upstream_bytes
    with Conn(responder_proxy.port) as conn:
        conn.send(request_bytes("GET", "/r", responder_proxy.host_header))
        r = conn.read_response()
    got = {k: [v for n, v in r.headers if n.lower() == k] for k in ("content-length", "transfer-encoding")}
    assert {k: v for k, v in got.items() if v} == framing
    assert r.body == body
