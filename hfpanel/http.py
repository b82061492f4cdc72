"""The one HTTP layer every collector uses: timeouts, retries, credentials, size limit, ``file://``.

Grid services fail in a handful of ways (slow, refused, overloaded, expired credentials, an SSO login
page instead of data, a runaway document). Handling them once here keeps every collector small and
gives shifters the same one-line reasons everywhere, e.g. ``timed out after 5s (https://…)`` or
``HTTP 401 Unauthorized from https://… (token expired or rejected?)``.

Two entry points:

* :func:`fetch_url` -- a plain function for source-specific collectors (SAM, dCache, ...).
* :class:`HttpCollector` -- a :class:`~hfpanel.collector.Collector` base whose params (``url``,
  ``cert``, ``bearer_token_file``, ...) map onto :func:`fetch_url`; ``fetch()`` calls ``http_fetch()``.

Time: ``timeout`` is the whole budget of a fetch (:class:`~hfpanel.collector.Budget`), retries and
the waits between them included; a collector making several requests passes its one budget to
each. An attempt may connect for its share of the budget (``timeout / (retries + 1)``, but at
least ``CONNECT_FLOOR``: a dropped SYN is resent after 1 s, and a busy server's full listen queue
drops them) and read for all that is left; a watchdog shuts a body that trickles past the budget. A retry starts
only when the wait before it still leaves a share of the budget, so a module with ``timeout: 5s``
gives up after 5 s with one reason for one fault: ``timed out after 5s (2 attempts: connect
timeout, read timeout)``. A document cut short is ``truncated after N bytes``, never a timeout.

Retries (exponential backoff, ``Retry-After`` honoured while the budget holds it) happen on
connection errors, timeouts, truncated documents and HTTP 429/502/503/504 only. Secrets never reach
a log line or an error text: tokens travel in the ``Authorization`` header only, and URL query
values whose names look secret are shown as ``***``.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit
from urllib.request import url2pathname

import param
import requests
import urllib3.exceptions
from urllib3.util.retry import Retry

from hfpanel import __version__
from hfpanel.collector import Budget, Collector, SourceError
from hfpanel.units import format_bytes

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_USER_AGENT",
    "RETRY_STATUSES",
    "HttpCollector",
    "fetch_url",
    "format_bytes",  # hfpanel.units' (re-exported: the size messages use the one formatter)
    "read_bearer_token",
    "redact_url",
]

logger = logging.getLogger(__name__)  # "hfpanel.http"

DEFAULT_USER_AGENT = f"hfpanel/{__version__}"
DEFAULT_MAX_BYTES = 50_000_000
#: HTTP statuses worth retrying: rate limiting and overloaded or restarting back ends
RETRY_STATUSES = frozenset({429, 502, 503, 504})
_CHUNK = 64 * 1024
#: seconds a connect may always take (within the budget): covers the kernel's first SYN retransmissions
CONNECT_FLOOR = 3.0
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_SECRET_QUERY = re.compile(r"(^|&)([^=&]*(?:token|key|pass|secret|auth|sig|session|cred)[^=&]*)=([^&]*)", re.IGNORECASE)
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # visible ASCII: what an HTTP header can carry

_local = threading.local()


def _session() -> requests.Session:
    """One ``requests.Session`` per thread (sessions are not guaranteed thread-safe)."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


class _Retry(Exception):
    """An attempt failed in a way that may go away: retry while attempts and budget last.

    ``kind`` is the short name listed in a timeout's reason ("read timeout", "HTTP 503", ...)."""

    def __init__(self, reason: str, kind: str, retry_after: str | None = None):
        super().__init__(reason)
        self.kind, self.retry_after = kind, retry_after

    @property
    def timed_out(self) -> bool:
        return self.kind.endswith("timeout")


class _Bearer(requests.auth.AuthBase):
    """Sets ``Authorization: Bearer``; as an auth object it also stops requests using ~/.netrc."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<bearer token>"


def _too_large(max_bytes: int) -> SourceError:
    return SourceError(f"document larger than the {format_bytes(max_bytes)} limit")


def redact_url(url: str) -> str:
    """The URL as it may appear in logs and messages: no password, no secret-looking query values."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = _SECRET_QUERY.sub(r"\1\2=***", parts.query)
    return parts._replace(netloc=netloc, query=query).geturl()


def _host_port(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def read_bearer_token(*, file: str | None = None, env: str | None = None, token: str | None = None) -> str | None:
    """The bearer token from a file, an environment variable or a literal (first one set wins).

    Raises ``SourceError`` that names where the token should come from, never the token itself.
    """
    if file:
        path = os.path.expandvars(os.path.expanduser(file))
        try:
            with open(path, encoding="utf-8") as handle:
                token, where = handle.read().strip(), f"bearer token file {path}"
        except FileNotFoundError:
            raise SourceError(f"bearer token file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            detail = getattr(exc, "strerror", None) or exc
            raise SourceError(f"cannot read bearer token file {path}: {detail}") from None
    elif env:
        if not os.environ.get(env, "").strip():
            raise SourceError(f"bearer token environment variable {env} is not set")
        token, where = os.environ[env].strip(), f"environment variable {env}"
    elif token is not None:
        token, where = token.strip(), "the bearer_token parameter"
    else:
        return None
    if not token:
        raise SourceError(f"bearer token from {where} is empty")
    if not _TOKEN_CHARS.fullmatch(token):
        raise SourceError(f"bearer token from {where} contains characters not allowed in an HTTP header")
    return token


def _read_file(url: str, max_bytes: int) -> bytes:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise SourceError(f"file URL names another host: {url}")
    path = url2pathname(parts.path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise SourceError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise SourceError(f"not a file: {path}") from None
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return data


def _chain(exc: BaseException):
    """The exception and everything it wraps (requests and urllib3 nest them several levels deep)."""
    seen, todo = [], [exc]
    while todo:
        current = todo.pop()
        if any(current is s for s in seen):
            continue
        seen.append(current)
        linked = [getattr(current, "reason", None), current.__cause__, current.__context__, *current.args]
        todo += [e for e in linked if isinstance(e, BaseException)]  # ssl.SSLError.reason is a str
    return seen


def _connection_failure(exc: Exception, url: str, received: int | None = None) -> Exception:
    """Map a requests/urllib3 exception onto a one-line reason; ``_Retry`` if retrying may help.

    ``received``: body bytes read before the failure (None: no response yet)."""
    chain = _chain(exc)

    def has(*types):
        return any(isinstance(e, types) for e in chain)

    shown = redact_url(url)
    if has(ConnectionRefusedError):
        return _Retry(f"connection refused ({_host_port(url)})", "connection refused")
    if has(socket.gaierror, urllib3.exceptions.NameResolutionError):
        return _Retry(f"cannot resolve host name {urlsplit(url).hostname}", "name not resolved")
    # urllib3's NewConnectionError subclasses ConnectTimeoutError, hence the explicit exclusion
    if has(requests.ConnectTimeout) or any(
        isinstance(e, urllib3.exceptions.ConnectTimeoutError)
        and not isinstance(e, urllib3.exceptions.NewConnectionError)
        for e in chain
    ):
        return _Retry(f"connect timeout ({shown})", "connect timeout")
    if has(requests.Timeout, urllib3.exceptions.ReadTimeoutError, TimeoutError):
        return _Retry(f"read timeout ({shown})", "read timeout")
    if has(requests.exceptions.SSLError, ssl.SSLError):
        if has(ssl.SSLCertVerificationError):
            why = next(e.verify_message for e in chain if isinstance(e, ssl.SSLCertVerificationError))
            return SourceError(f"server certificate of {_host_port(url)} not trusted: {why} (is ca_dir set?)")
        detail = next((str(e.reason) for e in chain if isinstance(e, ssl.SSLError) and e.reason), "")
        eof = has(ssl.SSLEOFError)  # some servers just hang up on a missing client certificate
        detail = detail or ("connection closed during the handshake" if eof else "handshake failed")
        hint = ""
        if "ALERT_CERTIFICATE_EXPIRED" in detail:
            hint = " (client certificate or proxy expired?)"
        elif eof or ("ALERT" in detail and ("CERTIFICATE" in detail or "UNKNOWN_CA" in detail)):
            hint = " (client certificate or proxy missing or rejected?)"
        return SourceError(f"TLS error with {_host_port(url)}: {detail}{hint}")
    if has(http.client.RemoteDisconnected):
        return _Retry(f"server closed the connection without a response ({shown})", "closed without a response")
    if received is not None and has(
        requests.exceptions.ChunkedEncodingError,
        http.client.IncompleteRead,
        urllib3.exceptions.ProtocolError,
        ConnectionResetError,
    ):
        return _Retry(f"truncated after {received} bytes ({shown})", "truncated")
    if has(ConnectionResetError):
        return _Retry(f"connection reset by {_host_port(url)}", "connection reset")
    if has(requests.exceptions.ChunkedEncodingError, http.client.IncompleteRead, urllib3.exceptions.ProtocolError):
        return _Retry(f"connection dropped before a response ({shown})", "connection dropped")
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        return SourceError(f"invalid URL: {shown}")
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return SourceError(f"too many redirects from {shown}")
    detail = next((e.strerror for e in chain if isinstance(e, OSError) and e.strerror), type(chain[-1]).__name__)
    return _Retry(f"connection error with {_host_port(url)}: {detail}", "connection error")


def _http_error(response: requests.Response, url: str, *, token: bool, cert: bool) -> Exception:
    try:
        phrase = response.reason or http.HTTPStatus(response.status_code).phrase
    except ValueError:
        phrase = ""
    text = f"HTTP {response.status_code} {phrase}".rstrip() + f" from {redact_url(url)}"
    if response.status_code == 401:
        if token:
            text += " (token expired or rejected?)"
        else:
            text += " (certificate or proxy rejected?)" if cert else " (no credentials configured)"
    elif response.status_code == 403:
        text += " (credentials not authorised for this resource?)"
    if response.status_code in RETRY_STATUSES:
        return _Retry(text, f"HTTP {response.status_code}", response.headers.get("Retry-After"))
    return SourceError(text)


class _Watchdog:
    """Shuts a response's socket when the budget runs out, so that a body trickling in byte by
    byte (each read on time, the whole far too slow) ends at the budget, not when the server stops."""

    def __init__(self, response, seconds: float):
        self.fired = False
        self._response = response
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self):
        self.fired = True
        try:
            self._response.raw.shutdown()
        except (ValueError, RuntimeError, OSError):
            pass  # already released or closed: nothing left to stop

    def cancel(self):
        self._timer.cancel()


def _attempt(
    session, url, *, method, data, headers, budget: Budget, connect: float, max_bytes, cert, verify, auth
) -> bytes:
    """One request: connect within ``connect`` seconds, read within what is left of ``budget``."""
    started = time.monotonic()
    proxies = {"no_proxy": "*"} if urlsplit(url).hostname in _LOOPBACK else None
    received, watchdog = None, None
    try:
        with session.request(
            method,
            url,
            data=data,
            headers=headers,
            timeout=(min(connect, budget.left()), budget.left()),
            cert=cert,
            verify=verify,
            auth=auth,
            stream=True,
            allow_redirects=True,
            proxies=proxies,
        ) as response:
            if response.status_code >= 400:
                raise _http_error(response, url, token=auth is not None, cert=cert is not None)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(max_bytes)
            watchdog = _Watchdog(response, budget.left())
            chunks, received = [], 0
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                received += len(chunk)
                if received > max_bytes:
                    raise _too_large(max_bytes)
                chunks.append(chunk)
            if watchdog.fired or budget.expired():
                raise _Retry(f"read timeout ({redact_url(url)})", "read timeout")
    except (SourceError, _Retry):
        raise
    except OSError as exc:  # requests.RequestException is an OSError too
        if watchdog is not None and watchdog.fired:
            raise _Retry(f"read timeout ({redact_url(url)})", "read timeout") from None
        raise _connection_failure(exc, url, received) from None
    except urllib3.exceptions.HTTPError as exc:  # read1 raises urllib3's own (ProtocolError, ReadTimeoutError)
        if watchdog is not None and watchdog.fired:
            raise _Retry(f"read timeout ({redact_url(url)})", "read timeout") from None
        raise _connection_failure(exc, url, received) from None
    finally:
        if watchdog is not None:
            watchdog.cancel()
    logger.debug("%s %s: %s in %.2fs", method, redact_url(url), format_bytes(received), time.monotonic() - started)
    return b"".join(chunks)


def _retry_after(value: str | None) -> float:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date; urllib3 reads both)."""
    if not value:
        return 0.0
    try:
        return Retry(0, retry_after_max=10**9).parse_retry_after(value)
    except urllib3.exceptions.InvalidHeader:
        return 0.0


def _gave_up(last: _Retry, kinds: list[str], budget: Budget) -> SourceError:
    """The one reason of a fetch that failed for good: a timeout lists its attempts."""
    if last.timed_out:
        attempts = f"{len(kinds)} attempt{'s' if len(kinds) != 1 else ''}: {', '.join(kinds)}"
        return SourceError(f"timed out after {budget} ({attempts})")
    return SourceError(str(last))


def fetch_url(
    url: str,
    *,
    method: str = "GET",
    data: bytes | str | None = None,
    headers: dict | None = None,
    timeout: float = 30,
    retries: int = 2,
    backoff: float = 0.5,
    max_bytes: int = DEFAULT_MAX_BYTES,
    cert: str | None = None,
    key: str | None = None,
    verify: bool | str = True,
    bearer_token: str | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
    budget: Budget | None = None,
) -> bytes:
    """GET/POST ``url`` and return the body; raise ``SourceError`` with a one-line reason on failure.

    ``timeout``: seconds for the whole call, retries included; or pass ``budget``, the one a
    collector's several requests share (``Collector.budget()``), and ``timeout`` is not used.
    ``cert``/``key``: X.509 client certificate and key (a grid proxy holding both is ``cert`` only).
    ``verify``: True, False or a CA directory/bundle path. ``bearer_token`` goes into the
    ``Authorization`` header. Retries ``retries`` times, waiting ``backoff * 2**n`` seconds.
    """
    budget = budget if budget is not None else Budget(timeout)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        return _read_file(url, max_bytes)
    if scheme not in ("http", "https"):
        raise SourceError(f"unsupported URL scheme {scheme!r} in {redact_url(url)} (expected http, https or file)")
    for label, path in (("client certificate", cert), ("client key", key)):
        if path and not os.path.isfile(path):
            raise SourceError(f"{label} not found: {path}")
    if isinstance(verify, str) and not os.path.exists(verify):
        raise SourceError(f"CA certificates not found: {verify}")
    if bearer_token is not None:
        bearer_token = read_bearer_token(token=bearer_token)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if budget.expired():
        raise SourceError(f"timed out after {budget} (no time left for the next request)")
    merged = {"User-Agent": user_agent, **(headers or {})}
    client_cert = (cert, key) if cert and key else cert or None
    auth = _Bearer(bearer_token) if bearer_token else None
    session, share, kinds = _session(), budget.seconds / (retries + 1), []
    hide = (lambda text: text.replace(bearer_token, "***")) if bearer_token else (lambda text: text)
    for attempt in range(retries + 1):
        try:
            return _attempt(
                session,
                url,
                method=method.upper(),
                data=data,
                headers=merged,
                budget=budget,
                connect=max(share, CONNECT_FLOOR),
                max_bytes=max_bytes,
                cert=client_cert,
                verify=verify,
                auth=auth,
            )
        except _Retry as exc:
            kinds.append(exc.kind)
            asked = _retry_after(exc.retry_after)
            delay = max(backoff * 2**attempt, asked)
            if attempt >= retries or budget.left() - delay < share:  # no retry the budget cannot hold
                if asked and attempt < retries and budget.left() - asked < share:
                    raise SourceError(
                        hide(f"{exc} (asked to retry after {asked:g}s, beyond the {budget} timeout)")
                    ) from None
                raise SourceError(hide(str(_gave_up(exc, kinds, budget)))) from None
            logger.warning("retry %d of %d in %.3gs: %s", attempt + 1, retries, delay, hide(str(exc)))
            time.sleep(delay)
        except SourceError as exc:
            if bearer_token and bearer_token in str(exc):
                raise SourceError(hide(str(exc))) from None
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _expand(path: str | None) -> str | None:
    return os.path.expandvars(os.path.expanduser(path)) if path else None


class HttpCollector(Collector):
    """Base for HTTP collectors: declares the connection params and fetches ``url`` with them.

    Subclasses implement ``parse()``; override ``http_fetch()`` (or call :func:`fetch_url`) when a
    source needs several requests. ``accept`` is the default ``Accept`` header of a subclass.
    """

    accept: str | None = None

    url = param.String(default="", doc="URL to fetch: http://, https:// or file:// (a local file).")
    method = param.Selector(default="GET", objects=["GET", "POST"], doc="HTTP method.")
    body = param.String(
        default=None,
        allow_None=True,
        doc=(
            "Request body, e.g. the NDJSON of an Elasticsearch _msearch; sent as application/json "
            "unless headers set a Content-Type."
        ),
    )
    headers = param.Dict(default={}, doc="Extra request headers (put tokens in bearer_token_file, not here).")
    retries = param.Integer(
        default=2,
        bounds=(0, 10),
        doc=(
            "Retries after connection errors, timeouts, truncated documents and HTTP 429/502/503/504 (never other "
            "4xx), while the module's timeout lasts: the timeout covers every attempt and every wait."
        ),
    )
    backoff = param.Number(default=0.5, bounds=(0, None), doc="Seconds before the first retry; doubles each time.")
    user_agent = param.String(default=DEFAULT_USER_AGENT, doc="User-Agent header, so service admins see who calls.")
    cert = param.String(
        default=None,
        allow_None=True,
        doc=(
            "X.509 client certificate (PEM path); a grid proxy holding certificate and key goes here alone. "
            "~ and $VARS are expanded, e.g. $X509_USER_PROXY."
        ),
    )
    key = param.String(default=None, allow_None=True, doc="Private key of cert (PEM path), if not inside cert.")
    ca_dir = param.String(
        default=None,
        allow_None=True,
        doc=("CA directory or bundle to verify servers, e.g. /etc/grid-security/certificates."),
    )
    verify = param.Boolean(default=True, doc="Verify the server certificate (switch off for tests only).")
    bearer_token_file = param.String(
        default=None,
        allow_None=True,
        doc=("File holding a bearer token (read at every fetch, so renewed tokens are picked up)."),
    )
    bearer_token_env = param.String(default=None, allow_None=True, doc="Environment variable holding a bearer token.")
    bearer_token = param.String(
        default=None,
        allow_None=True,
        doc=("Bearer token itself. Discouraged: it then sits in the config; use bearer_token_file."),
    )

    def fetch(self) -> bytes:
        return self.http_fetch()

    def request_headers(self) -> dict:
        headers = dict(self.headers or {})
        names = {name.lower() for name in headers}
        if self.accept and "accept" not in names:
            headers["Accept"] = self.accept
        if self.body is not None and "content-type" not in names:
            headers["Content-Type"] = "application/json"
        return headers

    def http_fetch(self) -> bytes:
        if not self.url:
            raise SourceError("no url configured")
        token = read_bearer_token(file=self.bearer_token_file, env=self.bearer_token_env, token=self.bearer_token)
        return fetch_url(
            self.url,
            method=self.method,
            data=None if self.body is None else self.body.encode("utf-8"),
            headers=self.request_headers(),
            budget=self.budget(),
            retries=self.retries,
            backoff=self.backoff,
            max_bytes=self.max_bytes,
            cert=_expand(self.cert),
            key=_expand(self.key),
            verify=(_expand(self.ca_dir) or True) if self.verify else False,
            bearer_token=token,
            user_agent=self.user_agent,
        )
