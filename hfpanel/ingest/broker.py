"""STOMP connections to ActiveMQ: one per broker alias, several hosts behind it (failover).

Subscriptions use client acknowledgement: the daemon acknowledges a message only after the spool
fsynced it, so a crash anywhere before that makes the broker deliver it again. Topics are read
through durable subscriptions (``client-id`` on CONNECT, ``activemq.subscriptionName`` on
SUBSCRIBE) so nothing is lost while hfpanel is down; ``activemq.prefetchSize`` bounds how many
unacknowledged messages the broker pushes. A lost connection is re-made with exponential backoff,
on a fresh connection object (acknowledgements of the old one are void: the broker redelivers).
The password is passed to CONNECT only; it is never logged or put in an error.

One outage is one WARNING line (the loss, or the first failed attempt at start-up); the retries
that follow and the reconnection are INFO. stomp.py's own account (a traceback for every frame it
could not send, a warning per host and attempt) is DEBUG detail (``hfpanel.logs.tame``); the
reason it gives for a host is carried into hfpanel's line.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time

import stomp
from stomp.exception import ConnectFailedException, StompException

from .. import logs
from ..transfers.config import Broker, Subscription

log = logging.getLogger("hfpanel.ingest.broker")
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
_PASSCODE = re.compile(r"(passcode[:=]\s*'?)[^'\s\\,}]+")


class _RedactPasscode(logging.Filter):
    """stomp.py logs every frame at DEBUG, and its own masking misses the CONNECT frame's bytes:
    cut the passcode (and any password we hold) out of its records."""

    secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "passcode" in message or any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "********")
            record.msg, record.args = _PASSCODE.sub(r"\1********", message), ()
        return True


class _HostErrors(logging.Filter):
    """stomp.py logs why each host failed, then raises a bare ``ConnectFailedException``: keep those
    reasons (per thread, while ``BrokerClient.connect`` runs) for hfpanel's one line."""

    def __init__(self):
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        reasons = getattr(self.local, "reasons", None)
        if reasons is not None and record.msg.startswith("could not connect to host") and len(record.args) == 3:
            host, port, error = record.args
            reasons.append(f"{host}:{port}: {getattr(error, 'strerror', None) or error}")
        return True


_REDACT, _HOST_ERRORS = _RedactPasscode(), _HostErrors()
logging.getLogger("stomp.py").addFilter(_REDACT)
logging.getLogger("stomp.py").addFilter(_HOST_ERRORS)
logs.tame("stomp.py")  # after the two above: they see every record, even those that become detail


class _Listener(stomp.ConnectionListener):
    def __init__(self, client: BrokerClient, epoch: int):
        self.client, self.epoch = client, epoch

    def on_message(self, frame):
        self.client.on_message(self.client, self.epoch, frame)

    def on_error(self, frame):
        log.warning(
            "broker %s reported an error: %s",
            self.client.broker.alias,
            frame.headers.get("message") or (frame.body or b"")[:200],
        )

    def on_disconnected(self):
        self.client.lost(self.epoch)


class BrokerClient:
    """The connection of one broker alias and its subscriptions."""

    def __init__(self, broker: Broker, subscriptions: list[Subscription], on_message, connect_timeout: float = 10.0):
        self.broker, self.subscriptions, self.on_message = broker, subscriptions, on_message
        self.connect_timeout = connect_timeout
        self.epoch, self.connected = 0, False
        self._conn = None
        self._retry_at, self._delay = 0.0, BACKOFF_FIRST
        self._lock = threading.Lock()
        self._was_connected = False
        self._down_since: float | None = None  # start of the current outage (its WARNING is logged)
        self._attempts = 0
        self._host: tuple[str, int] | None = None  # where the last connection went

    def _connection(self):
        b = self.broker
        conn = stomp.Connection(
            host_and_ports=b.hosts,
            prefer_localhost=False,
            reconnect_attempts_max=1,
            heartbeats=(int(b.heartbeat * 1000), int(b.heartbeat * 1000)),
            auto_decode=False,
            timeout=self.connect_timeout,
            vhost=b.vhost,
        )
        if b.cert or b.ca:  # TLS: with a client certificate, or only verifying the broker's (username login)
            conn.set_ssl(for_hosts=b.hosts, key_file=b.key, cert_file=b.cert, ca_certs=b.ca)
        return conn

    def connect(self) -> bool:
        """One attempt over every host of the alias; subscribes on success."""
        self.epoch += 1
        conn = self._connection()
        conn.set_listener("hfpanel", _Listener(self, self.epoch))
        headers = {"client-id": self.broker.client_id} if self.broker.client_id else {}
        password = self.broker.password()
        if password:
            _REDACT.secrets.add(password)
        _HOST_ERRORS.local.reasons = reasons = []
        try:
            conn.connect(self.broker.username, password, wait=False, headers=headers)
            self._wait_connected(conn)
        except (StompException, OSError) as error:
            reason = "; ".join(reasons) or type(error).__name__ + (f": {error}" if str(error) else "")
            self._attempts += 1
            first = self._down_since is None
            if first:
                self._down_since = time.monotonic()
            hosts = ", ".join(f"{h}:{p}" for h, p in self.broker.hosts)
            log.log(
                logging.WARNING if first else logging.INFO,
                "broker %s (%s): cannot connect (%s); retrying in %.0fs",
                self.broker.alias,
                hosts,
                reason,
                self._delay,
            )
            self._close(conn)
            return False
        finally:
            _HOST_ERRORS.local.reasons = None
        for index, sub in enumerate(self.subscriptions):
            extra = {"activemq.prefetchSize": str(self.broker.prefetch)}
            if sub.durable:
                extra["activemq.subscriptionName"] = sub.durable
            conn.subscribe(sub.destination, id=f"{self.broker.alias}-{index}", ack=self.broker.ack, headers=extra)
        with self._lock:
            self._conn, self.connected = conn, True
        host, port = self._host = conn.transport.current_host_and_port or ("?", 0)
        outage = (
            f" after {time.monotonic() - self._down_since:.1f}s, {self._attempts} failed attempt(s)"
            if self._down_since is not None
            else ""
        )
        log.info(
            "broker %s: connected to %s:%s, %d subscription(s)%s%s",
            self.broker.alias,
            host,
            port,
            len(self.subscriptions),
            " (reconnected)" if self._was_connected else "",
            outage,
        )
        self._was_connected, self._delay = True, BACKOFF_FIRST
        self._down_since, self._attempts = None, 0
        return True

    def _wait_connected(self, conn) -> None:
        """Wait for the CONNECTED frame, at most ``connect_timeout``. stomp.py's own wait has no
        bound: a broker that refuses a TLS client certificate after the handshake (TLS 1.3) left its
        I/O thread spinning on the dead socket and ``hfpanel ingest`` hanging, deaf to SIGTERM."""
        transport, deadline = conn.transport, time.monotonic() + self.connect_timeout
        while not conn.is_connected():
            if not transport.running or transport.connection_error:
                raise ConnectFailedException("the broker closed the connection or sent an ERROR frame")
            if time.monotonic() > deadline:
                raise ConnectFailedException(
                    f"no CONNECTED reply within {self.connect_timeout:.0f}s (refused login or client certificate?)"
                )
            time.sleep(0.02)

    def lost(self, epoch: int, why: str = "") -> None:
        """The connection of ``epoch`` is gone (stomp.py's receiver saw it close, or an ACK could not
        be sent): one WARNING line for the whole outage; reconnecting starts at the next loop."""
        with self._lock:
            if epoch != self.epoch or not self.connected:
                return
            self.connected = False
        where = f" to {self._host[0]}:{self._host[1]}" if self._host else ""
        self._down_since, self._attempts = time.monotonic(), 0
        log.warning(
            "broker %s: connection%s lost%s; reconnecting at once, then backing off %.0fs to %.0fs",
            self.broker.alias,
            where,
            f" ({why})" if why else "",
            BACKOFF_FIRST,
            BACKOFF_MAX,
        )

    def ensure_connected(self, now: float | None = None) -> None:
        """Reconnect when due (exponential backoff between failed attempts)."""
        now = time.monotonic() if now is None else now
        if self.connected or now < self._retry_at:
            return
        if self._conn is not None:
            self._close(self._conn)
            self._conn = None
        if not self.connect():
            self._retry_at = time.monotonic() + self._delay
            self._delay = min(self._delay * 2, BACKOFF_MAX)

    def ack(self, epoch: int, subscription: str, message_id: str) -> None:
        """Acknowledge a message received on connection ``epoch`` (void after a reconnect)."""
        conn = self._conn
        if conn is None or epoch != self.epoch or not self.connected:
            return
        try:
            conn.ack(message_id, subscription)
        except (StompException, OSError) as error:
            # the socket is gone: the connection is lost (one line), the other ACKs of this epoch
            # are not even tried; the broker redelivers what was not acknowledged
            self.lost(epoch, f"an ACK could not be sent: {getattr(error, 'strerror', None) or type(error).__name__}")

    @staticmethod
    def _close(conn) -> None:
        try:
            if conn.is_connected():
                conn.disconnect()
        except (StompException, OSError):
            pass
        try:
            conn.transport.stop()
            transport = conn.transport
            if transport.running:  # never CONNECTED: stop stomp.py's I/O thread (wake it from select)
                transport.running = False
                if transport.socket is not None:
                    transport.socket.shutdown(socket.SHUT_RDWR)
        except Exception:  # noqa: BLE001 - best effort on a dead socket
            pass

    def close(self) -> None:
        with self._lock:
            conn, self._conn, self.connected = self._conn, None, False
            self.epoch += 1
        if conn is not None:
            self._close(conn)
