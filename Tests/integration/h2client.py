"""A small blocking HTTP/2 client on the `h2` state machine, for tests that need what curl and h2load do
not give: many streams with checked bodies, raw frames (resets, CONTINUATION), RFC 8441 WebSockets."""
from __future__ import annotations

import socket
import ssl
import time

import h2.config
import h2.connection
import h2.events
import h2.settings


class Stream:
    def __init__(self, stream_id: int):
        self.id = stream_id
        self.headers: list[tuple[str, str]] = []
        self.data = bytearray()
        self.ended = False
        self.reset_code: int | None = None

    @property
    def status(self) -> int | None:
        for name, value in self.headers:
            if name == ":status":
                return int(value)
        return None

    def header(self, name: str) -> str | None:
        for n, v in self.headers:
            if n == name:
                return v
        return None


class H2Client:
    def __init__(self, port: int, host: str = "127.0.0.1", tls_name: str | None = None, cafile=None,
                 timeout: float = 20.0, window: int | None = None):
        raw = socket.create_connection((host, port), timeout=timeout)
        if tls_name is not None:
            ctx = ssl.create_default_context(cafile=str(cafile)) if cafile else ssl.create_default_context()
            ctx.set_alpn_protocols(["h2"])
            raw = ctx.wrap_socket(raw, server_hostname=tls_name)
            assert raw.selected_alpn_protocol() == "h2", raw.selected_alpn_protocol()
        self.sock = raw
        self.authority = "%s:%d" % (tls_name or host, port)
        self.scheme = "https" if tls_name is not None else "http"
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.streams: dict[int, Stream] = {}
        self.goaway: h2.events.ConnectionTerminated | None = None
        self.closed = False
        self.remote_settings: dict[int, int] = {}
        self.flush()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, method: str, path: str, headers=(), body: bytes | None = None, end: bool = True,
                content_length: bool = True) -> int:
        sid = self.conn.get_next_available_stream_id()
        fields = [(":method", method), (":path", path), (":scheme", self.scheme), (":authority", self.authority)]
        if body is not None and content_length:
            fields.append(("content-length", str(len(body))))
        fields += list(headers)
        self.streams[sid] = Stream(sid)
        self.conn.send_headers(sid, fields, end_stream=end and body is None)
        self.flush()
        if body is not None:
            self.send_body(sid, body, end=end)
        return sid

    def send_body(self, sid: int, body: bytes, end: bool = True) -> None:
        """Sends body bytes as the flow-control window allows, reading (and answering) frames meanwhile."""
        view = memoryview(body)
        while view:
            room = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if room <= 0:
                self.read_some()
                continue
            self.conn.send_data(sid, bytes(view[:room]))
            view = view[room:]
            self.flush()
        if end:
            self.conn.end_stream(sid)
            self.flush()

    def read_some(self) -> bool:
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            data = b""
        if not data:
            self.closed = True
            return False
        for event in self.conn.receive_data(data):
            self.handle(event)
        self.flush()
        return True

    def handle(self, event) -> None:
        if isinstance(event, (h2.events.ResponseReceived, h2.events.InformationalResponseReceived)):
            self.streams[event.stream_id].headers = list(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            s = self.streams.get(event.stream_id)
            if s is not None:
                s.data += event.data
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            self.streams[event.stream_id].ended = True
        elif isinstance(event, h2.events.StreamReset):
            if event.stream_id in self.streams:
                self.streams[event.stream_id].reset_code = event.error_code
                self.streams[event.stream_id].ended = True
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            for code, setting in event.changed_settings.items():
                self.remote_settings[int(code)] = setting.new_value

    def wait(self, predicate, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        self.sock.settimeout(timeout)
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("HTTP/2 wait timed out")
            if not self.read_some():
                if predicate():
                    return
                raise ConnectionError("connection closed while waiting (goaway=%r)" % (self.goaway,))

    def response(self, sid: int, timeout: float = 20.0) -> Stream:
        self.wait(lambda: self.streams[sid].ended, timeout)
        return self.streams[sid]

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
