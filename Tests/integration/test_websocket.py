"""WebSocket upgrade forwarded and tunnelled: 1,000 text and binary messages echoed byte for byte."""
import asyncio
import base64
import hashlib
import random

import pytest
from websockets.asyncio.client import connect

from rawhttp import Conn, request_bytes


def messages(count=1000, seed=42):
    rng = random.Random(seed)
    out = []
    for i in range(count):
        size = rng.randint(0, 64 * 1024)
        if i % 2 == 0:
            out.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 äöü€") for _ in range(size // 4)))
        else:
            out.append(rng.randbytes(size))
    return out


async def echo_all(url, msgs):
    async with connect(url, max_size=1 << 20, compression=None, open_timeout=10) as ws:
        resp = ws.response
        assert resp.status_code == 101
        assert resp.headers.get("Upgrade", "").lower() == "websocket"
        assert "upgrade" in resp.headers.get("Connection", "").lower()

        async def sender():
            for m in msgs:
                await ws.send(m)

        send_task = asyncio.create_task(sender())
        received = []
        for _ in msgs:
            received.append(await asyncio.wait_for(ws.recv(), timeout=10))
        await send_task
        return received


def test_websocket_echo_1000_messages(ws_proxy):
    msgs = messages()
    assert sum(isinstance(m, str) for m in msgs) == 500
    received = asyncio.run(echo_all("ws://%s/chat" % ws_proxy.host_header, msgs))
    assert len(received) == len(msgs)
    for i, (sent, got) in enumerate(zip(msgs, received)):
        assert type(got) is type(sent), "message %d came back as %s" % (i, type(got).__name__)
        assert got == sent, "message %d differs (%d vs %d units)" % (i, len(got), len(sent))


def test_websocket_handshake_raw(ws_proxy):
    """The 101 and the first frames on a raw socket: the tunnel carries bytes both ways."""
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    with Conn(ws_proxy.port) as conn:
        conn.send(request_bytes("GET", "/raw", ws_proxy.host_header, [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")]))
        r = conn.read_response()
        assert r.status == 101
        assert r.header("upgrade").lower() == "websocket"
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        assert accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 1.3
        assert r.header("sec-websocket-accept") == accept
        # a masked text frame "Hello" (RFC 6455 5.7 example), echoed back unmasked
        conn.send(bytes([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]))
        assert conn.read_exact(7) == b"\x81\x05Hello"
