"""A TCP relay that adds a fixed one-way delay in each direction: the latency between a region and Redis.

    python3 relay.py --listen 10.231.7.1:7001 --target 127.0.0.1:6379 --delay-ms 25 --control 127.0.0.1:7101

Bytes read from one side are written to the other `delay` seconds after they were read, in order, so the
relay adds 2 x delay to every round trip without limiting throughput (no sch_netem on these machines).

Control: one line per TCP connection to --control, answered with one line of JSON:
  delay <ms>        change the one-way delay (new data only)
  blackhole hang    keep every connection open but deliver nothing (what a cut link looks like to TCP:
                    the bytes wait, as retransmissions would); new connections are accepted and hang too
  blackhole reset   close every connection now and close new ones at once (what a dead peer looks like)
  heal              deliver again: what waited during `hang` goes through, in order, unless a side gave
                    up on the connection meanwhile
  stats             counters
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time


class Relay:
    def __init__(self, target: tuple[str, int], delay: float):
        self.target = target
        self.delay = delay
        self.mode = "open"           # open | hang | reset
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.links: set["Link"] = set()
        self.accepted = 0
        self.refused_upstream = 0
        self.bytes_up = 0
        self.bytes_down = 0

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.mode == "reset":
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self.refused_upstream += 1
            writer.transport.abort()
            return
        link = Link(self, reader, writer, up_reader, up_writer)
        self.links.add(link)
        try:
            await link.run()
        finally:
            self.links.discard(link)

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        if mode == "open":
            self.flowing.set()
        else:
            self.flowing.clear()
        if mode == "reset":
            for link in list(self.links):
                link.abort()


class Link:
    """One client connection and its upstream connection: two pumps, each with its own delay line."""

    def __init__(self, relay: Relay, c_reader, c_writer, u_reader, u_writer):
        self.relay = relay
        self.c_writer, self.u_writer = c_writer, u_writer
        self.tasks = [
            asyncio.ensure_future(self.pump(c_reader, u_writer, "up")),
            asyncio.ensure_future(self.pump(u_reader, c_writer, "down")),
        ]

    async def run(self) -> None:
        try:
            await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.abort()

    def abort(self) -> None:
        for t in self.tasks:
            t.cancel()
        for w in (self.c_writer, self.u_writer):
            w.transport.abort()

    async def pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: str) -> None:
        """Reads chunks, holds each until `delay` after it was read, writes them in order. EOF travels
        through the same delay line, as the last item."""
        line: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def deliver():
            while True:
                due, chunk = await line.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self.relay.flowing.wait()
                if chunk is None:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(chunk)
                await writer.drain()

        delivery = asyncio.ensure_future(deliver())
        try:
            while True:
                chunk = await reader.read(65536)
                if direction == "up":
                    self.relay.bytes_up += len(chunk)
                else:
                    self.relay.bytes_down += len(chunk)
                line.put_nowait((loop.time() + self.relay.delay, chunk or None))
                if not chunk:
                    break
            await delivery
        finally:
            delivery.cancel()


async def control(relay: Relay, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        words = (await reader.readline()).decode().split()
        answer: dict = {"ok": True}
        if words[:1] == ["delay"] and len(words) == 2:
            relay.delay = float(words[1]) / 1000
        elif words[:1] == ["blackhole"] and len(words) == 2 and words[1] in ("hang", "reset"):
            relay.set_mode(words[1])
        elif words == ["heal"]:
            relay.set_mode("open")
        elif words == ["stats"]:
            pass
        else:
            answer = {"ok": False, "error": "unknown command %r" % " ".join(words)}
        answer.update({"mode": relay.mode, "delay_ms": relay.delay * 1000, "connections": len(relay.links),
                       "accepted": relay.accepted, "refused_upstream": relay.refused_upstream,
                       "bytes_up": relay.bytes_up, "bytes_down": relay.bytes_down, "time": time.time()})
        writer.write((json.dumps(answer) + "\n").encode())
        await writer.drain()
    finally:
        writer.close()


def hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


async def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", required=True, type=hostport)
    p.add_argument("--target", required=True, type=hostport)
    p.add_argument("--control", required=True, type=hostport)
    p.add_argument("--delay-ms", type=float, default=25.0)
    args = p.parse_args(argv)
    relay = Relay(args.target, args.delay_ms / 1000)
    server = await asyncio.start_server(relay.accept, *args.listen, reuse_address=True)
    ctl = await asyncio.start_server(lambda r, w: control(relay, r, w), *args.control, reuse_address=True)
    print("relay %s:%d -> %s:%d, %.1f ms each way; control %s:%d" % (*args.listen, *args.target, args.delay_ms,
                                                                     *args.control), flush=True)
    async with server, ctl:
        await asyncio.gather(server.serve_forever(), ctl.serve_forever())


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1:]))
    except KeyboardInterrupt:
        pass
