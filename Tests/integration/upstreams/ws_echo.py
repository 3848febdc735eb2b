#!/usr/bin/env python3
"""WebSocket echo server for the integration tests: every text or binary message is sent back unchanged.

With --page NAME it also stands in for a web app that serves pages and WebSockets on one port (seed 003's
Django app, seed 000's Grafana): a request that is not a WebSocket upgrade gets 200 with a small HTML page
and headers telling what arrived: X-Upstream-Id (NAME), X-Seen-Path (path and query), X-Seen-Host,
X-Seen-Proto (X-Forwarded-Proto). Without it such a request is refused with 426, as before.

With --tls-cert CHAIN --tls-key KEY it speaks TLS (wss), for proxies that reach it over HTTPS.

Usage: ws_echo.py --port PORT [--page NAME] [--tls-cert CHAIN --tls-key KEY]
"""
import argparse
import asyncio
import ssl
import sys
from http import HTTPStatus

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


def page_responder(name):
    def process_request(connection, request):
        if "websocket" in request.headers.get("Upgrade", "").lower():
            return None  # go on with the opening handshake
        response = connection.respond(HTTPStatus.OK, "<!doctype html><title>%s</title><p>%s</p>\n" % (name, name))
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        response.headers["X-Upstream-Id"] = name
        response.headers["X-Seen-Path"] = request.path
        response.headers["X-Seen-Host"] = request.headers.get("Host", "")
        response.headers["X-Seen-Proto"] = request.headers.get("X-Forwarded-Proto", "")
        return response
    return process_request


async def main(port, page, cert=None, key=None):
    # max_size covers the tests' largest message (64 KiB) with room; compression off so bytes are plain.
    hook = page_responder(page) if page else None
    context = None
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
    async with serve(echo, "127.0.0.1", port, max_size=1 << 20, compression=None, process_request=hook,
                     ssl=context) as server:
        print("ws_echo listening on 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--page", help="also answer plain HTTP requests with a page, as the app NAME")
    ap.add_argument("--tls-cert", help="certificate chain (PEM): speak TLS")
    ap.add_argument("--tls-key", help="the chain's private key (PEM)")
    args = ap.parse_args()
    try:
        asyncio.run(main(args.port, args.page, args.tls_cert, args.tls_key))
    except KeyboardInterrupt:
        pass
