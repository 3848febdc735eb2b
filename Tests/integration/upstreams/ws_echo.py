#!/usr/bin/env python3
"""WebSocket echo server for the integration tests: every text or binary message is sent back unchanged.

Usage: ws_echo.py --port PORT
"""
import argparse
import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main(port):
    # max_size covers the tests' largest message (64 KiB) with room; compression off so bytes are plain.
    async with serve(echo, "127.0.0.1", port, max_size=1 << 20, compression=None) as server:
        print("ws_echo listening on 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    try:
        asyncio.run(main(ap.parse_args().port))
    except KeyboardInterrupt:
        pass
