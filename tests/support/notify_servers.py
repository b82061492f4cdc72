"""Real receivers for notification tests, on 127.0.0.1: an SMTP server (aiosmtpd) and a webhook
receiver (http.server), each keeping what it received and able to fail on demand.

    with SmtpSink() as smtp, WebhookSink() as hook:
        smtp.port, hook.url
        smtp.messages   # email.message.EmailMessage objects, in arrival order
        hook.bodies     # parsed JSON bodies; hook.headers: their headers
        hook.fail_next(2, status=503)   # the next two POSTs answer 503
        smtp.fail_next(1)               # the next message is refused with 451
    SmtpSink(tls=("starttls"|"tls", cert, key), login=("user", "password"))   # TLS and a required login
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        with self.sink.lock:
            if self.sink.failures > 0:
                self.sink.failures -= 1
                return "451 4.3.0 try again later"
            message = email.message_from_bytes(
                envelope.original_content or envelope.content, policy=email.policy.default
            )
            self.sink.messages.append(message)
            self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpSink:
    """aiosmtpd on a free loopback port. ``tls`` (mode, cert, key): "starttls" offers STARTTLS and
    requires it, "tls" speaks TLS from the first byte; ``login`` (user, password) requires AUTH and
    keeps every attempt's login in ``logins``."""

    def __init__(self, tls: tuple | None = None, login: tuple | None = None):
        self.port = free_port()
        self.messages: list = []
        self.envelopes: list = []
        self.logins: list = []
        self.failures = 0
        self.lock = threading.Lock()
        kwargs: dict = {}
        if tls:
            import ssl

            mode, cert, key = tls
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(cert), str(key))
            if mode == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context, server_hostname="127.0.0.1")
        if login:
            # (aiosmtpd knows only STARTTLS as "TLS": on an implicit-TLS port it must not insist)
            starttls = bool(tls) and tls[0] == "starttls"
            kwargs.update(
                authenticator=self._authenticate,
                auth_required=True,
                auth_require_tls=starttls,
            )
            self.login = (login[0].encode(), login[1].encode())
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        with self.lock:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=(auth_data.login, auth_data.password) == self.login, handled=False)

    def fail_next(self, count: int) -> None:
        with self.lock:
            self.failures = count

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(m["Subject"]) for m in self.messages]


class WebhookSink:
    """A local HTTP server that keeps every POSTed JSON body (and can answer errors first);
    ``tls`` (cert, key) makes it HTTPS."""

    def __init__(self, tls: tuple | None = None):
        self.bodies: list = []
        self.headers: list = []
        self.failures: list[int] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sink.lock:
                    status = sink.failures.pop(0) if sink.failures else 200
                    if status == 200:
                        sink.bodies.append(json.loads(body))
                        sink.headers.append(dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def fail_next(self, count: int, status: int = 503) -> None:
        with self.lock:
            self.failures = [status] * count

    def __enter__(self) -> WebhookSink:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
