"""A local HTTP server that misbehaves on demand, for testing how collectors survive real faults.

Every way a grid service lets a shifter down (slow, refused, 5xx, 401, an HTML login page, a
truncated or huge document) is one ``route`` away, so tests need no network and no mocks::

    from fault_server import FaultServer, Reply, refused_url

    with FaultServer() as srv:
        srv.route("/ok", body=b'{"a": 1}', content_type="application/json")
        srv.route("/slow", body=b"{}", delay=2.0)                      # longer than the timeout
        srv.sequence("/flaky", [Reply(503), Reply(503), Reply(200, b"{}")])   # then stays 200
        fetch_url(srv.url("/flaky"), ...)
        assert srv.hits("/flaky") == 3
        srv.requests("/ok")[0].headers["user-agent"]                   # header names lower-cased
    fetch_url(refused_url(), ...)                                      # nothing listens there
    with Blackhole() as url: fetch_url(url, ...)                       # connecting never completes

``FaultServer(tls=(cert, key), client_ca=...)`` serves HTTPS, optionally demanding a client
certificate. The server binds 127.0.0.1 on a free port and answers each request in its own daemon thread.
Unknown paths get 404. Routes can be added or replaced while the server runs.
"""

from __future__ import annotations

import dataclasses
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["Blackhole", "FaultServer", "Reply", "Request", "refused_url"]


@dataclasses.dataclass
class Reply:
    """One canned response.

    ``delay``: seconds before the status line (a slow server); ``body_delay``: seconds between the
    headers and the body (a server that stalls mid-response); ``declared_length``: the
    Content-Length to announce (more than ``len(body)`` imitates a dropped connection);
    ``omit_length``: send no Content-Length at all (the body ends when the connection closes);
    ``trickle``: seconds between the body's bytes, sent one at a time (each read is on time, the
    whole document far too slow).
    """

    status: int = 200
    body: bytes | str = b""
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    delay: float = 0.0
    body_delay: float = 0.0
    declared_length: int | None = None
    omit_length: bool = False
    trickle: float = 0.0


@dataclasses.dataclass
class Request:
    """What the server received: method, path, query string, headers (lower-case names), body."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args):  # keep test output clean
        pass

    def _serve(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.fault.record(Request(self.command, parts.path, parts.query, headers, body))
        payload = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
        try:
            time.sleep(reply.delay)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            if not reply.omit_length:
                declared = len(payload) if reply.declared_length is None else reply.declared_length
                self.send_header("Content-Length", str(declared))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            time.sleep(reply.body_delay)
            if self.command != "HEAD" and reply.trickle:
                for index in range(len(payload)):
                    self.wfile.write(payload[index : index + 1])
                    self.wfile.flush()
                    time.sleep(reply.trickle)
            elif self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test): nothing left to do
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fault: FaultServer


class FaultServer:
    """Threaded HTTP server on 127.0.0.1 with configurable routes; use as a context manager."""

    def __init__(self, *, tls: tuple[str, str] | None = None, client_ca: str | None = None):
        """``tls=(certfile, keyfile)`` serves HTTPS; ``client_ca`` then also demands a client certificate."""
        self._tls, self._client_ca = tls, client_ca
        self._lock = threading.Lock()
        self._routes: dict[str, list[Reply]] = {}
        self._served: dict[str, int] = {}  # replies given since the route was (re)configured
        self._requests: dict[str, list[Request]] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FaultServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fault = self
        if self._tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self._tls)
            if self._client_ca:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(self._client_ca)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- configuration --------------------------------------------------------------------------
    def route(
        self,
        path: str,
        body: bytes | str = b"",
        status: int = 200,
        delay: float = 0.0,
        *,
        content_type: str = "application/octet-stream",
        headers: dict | None = None,
        **reply_options,
    ) -> str:
        """Answer every request to ``path`` the same way; returns the full URL of the route."""
        reply = Reply(status, body, content_type, dict(headers or {}), delay, **reply_options)
        return self.sequence(path, [reply])

    def sequence(self, path: str, replies: list[Reply]) -> str:
        """Answer successive requests with ``replies`` in turn; the last one repeats for ever."""
        if not replies:
            raise ValueError("sequence needs at least one Reply")
        with self._lock:
            self._routes[path] = list(replies)
            self._served[path] = 0
        return self.url(path)

    # -- inspection -----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FaultServer is not running")
        return self._server.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> int:
        """How many requests reached ``path`` (any method, any query string)."""
        with self._lock:
            return len(self._requests.get(path, []))

    def requests(self, path: str) -> list[Request]:
        with self._lock:
            return list(self._requests.get(path, []))

    def record(self, request: Request) -> Reply:
        """Called by the handler: store the request, pick the reply (404 for an unknown path)."""
        with self._lock:
            self._requests.setdefault(request.path, []).append(request)
            replies = self._routes.get(request.path)
            if replies is None:
                return Reply(404, f"no route for {request.path}", "text/plain")
            served = self._served[request.path] = self._served[request.path] + 1
            return replies[min(served, len(replies)) - 1]


def refused_url(path: str = "/") -> str:
    """A URL on 127.0.0.1 where nothing listens (a port just released), so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


class Blackhole:
    """A URL on 127.0.0.1 where connecting never completes: the listening socket's queue is full and
    nothing accepts, so the kernel ignores new handshakes (a firewall dropping packets, a host gone)."""

    def __enter__(self) -> str:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        port = self._listener.getsockname()[1]
        self._fillers = []
        for _ in range(8):  # fill the accept queue; later handshakes are dropped
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            self._fillers.append(filler)
        time.sleep(0.05)
        return f"http://127.0.0.1:{port}/"

    def __exit__(self, *exc) -> None:
        for filler in self._fillers:
            filler.close()
        self._listener.close()
