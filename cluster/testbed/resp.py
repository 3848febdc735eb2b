"""A small blocking Redis client (RESP2): commands, and a subscriber thread that timestamps messages."""
from __future__ import annotations

import socket
import threading
import time


class RedisError(Exception):
    pass


class Redis:
    def __init__(self, host: str, port: int, timeout: float = 5.0, sock: socket.socket | None = None):
        self.sock = sock or socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, *args) -> None:
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(parts))

    def command(self, *args):
        self.send(*args)
        return self.read()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RedisError("unexpected reply %r" % line)

    # conveniences
    def keys(self, pattern: str) -> list[str]:
        found, cursor = [], b"0"
        while True:
            cursor, batch = self.command("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
            found.extend(k.decode() for k in batch)
            if cursor == b"0":
                return sorted(set(found))

    def hgetall(self, key: str) -> dict[str, bytes]:
        flat = self.command("HGETALL", key) or []
        return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


class Subscriber:
    """SUBSCRIBE on its own connection and thread; `messages` holds (receive time, channel, payload bytes)."""

    def __init__(self, host: str, port: int, channel: str):
        self.client = Redis(host, port)
        self.client.command("SUBSCRIBE", channel)  # confirmation: ["subscribe", channel, 1]
        self.client.sock.settimeout(0.5)
        self.messages: list[tuple[float, str, bytes]] = []
        self.cond = threading.Condition()
        self.closed = False
        self.error: Exception | None = None
        self.listeners: list = []   # called on the subscriber's thread with (receive time, channel, payload)
        self.thread = threading.Thread(target=self._loop, name="subscriber", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.closed:
            try:
                msg = self.client.read()
            except socket.timeout:
                continue
            except Exception as e:  # noqa: BLE001
                if not self.closed:
                    self.error = e
                break
            if isinstance(msg, list) and msg and msg[0] == b"message":
                entry = (time.time(), msg[1].decode(), msg[2])
                with self.cond:
                    self.messages.append(entry)
                    self.cond.notify_all()
                for listener in list(self.listeners):
                    try:
                        listener(*entry)
                    except Exception as e:  # noqa: BLE001 - a listener's bug is reported, not fatal here
                        self.error = e
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, predicate, timeout: float):
        """The first message (time, channel, payload) for which predicate(payload) holds, waiting up to timeout."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                for m in self.messages[seen:]:
                    if predicate(m[2]):
                        return m
                seen = len(self.messages)
                left = deadline - time.monotonic()
                if left <= 0 or self.error:
                    return None
                self.cond.wait(left)

    def close(self) -> None:
        self.closed = True
        self.client.close()
        self.thread.join(timeout=2)
