"""``hfpanel serve``: the overview app on one port, blocking until interrupted.

The root URL ``/`` is the overview; the view is in the query (``/?time=2026-11-20T14:00:00&module=sam_ce``).
``/plots`` is the analyst's plot builder, its settings in the query too; ``/transfers`` the FTS and
XRootD transfer views (filters in the query); ``/availability`` the month's availability and
reliability (``?month=2026-11``); ``/whatif`` stored history beside a re-rating;
``/handover`` the shift handover. ``/api/v1/`` is the JSON/CSV API (``hfpanel.api``) on the same port.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import signal
import sys
import threading
from pathlib import Path

log = logging.getLogger("hfpanel.serve")
_pending = [False]
_release_lock = threading.Lock()


def _release_memory(session_context) -> None:
    """After sessions close: collect their cycles and hand freed heap back to the OS.

    A page is a few hundred Panel/Bokeh objects in reference cycles; without a collection they
    wait for the next automatic one, and glibc keeps freed arenas, so the server's RSS grew with
    every session of a wall display reloading all day. One collection 2 s after the first of a burst
    of closing sessions (after Panel's own clean-up of them), and a log of how many components are
    alive: a count that keeps growing would be a session leak.
    """
    with _release_lock:
        if _pending[0]:
            return
        _pending[0] = True
    timer = threading.Timer(2.0, _collect)
    timer.daemon = True
    timer.start()


def _forget_destroyed_views() -> None:
    """Drop what Panel still keeps of closed sessions' pages in ``state._views``.

    Panel records every root it renders there as (component, model, document, comm) and drops
    the entry when the session ends, but not for every root: the notification area's entry
    outlives its session (holoviz/panel#8605, fixed upstream by #8607, after the Panel here). Its
    destroyed document still holds, in the model manager's set of models added while frozen, the
    whole page of a session closed mid-render: 18 of 24 pages stayed alive after a few concurrent
    reloads, more each round. A document Bokeh has destroyed has no ``_roots`` any more.
    """
    import panel as pn

    for ref, (component, _model, document, _comm) in list(pn.state._views.items()):
        if not hasattr(document, "_roots"):
            pn.state._views.pop(ref, None)
            getattr(component, "_documents", {}).pop(document, None)


def _collect() -> None:
    with _release_lock:
        _pending[0] = False
    _forget_destroyed_views()
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: collecting is all we can do
        pass
    from .components.base import StoreView

    log.info("sessions closed: %d components alive", len(StoreView.live))


def _page(build, name: str = "", gate=None, **kwargs):
    """One session's page from ``build`` (a plain function: panel runs it once per session), as
    the session's reader may see it (``hfpanel.components.page_access.guarded``: the access rules)."""
    import panel as pn

    from .components.page_access import guarded

    def page():
        pn.state.on_session_destroyed(_release_memory)
        return guarded(build, name, gate, **kwargs)

    return page


def _origins(address: str, port: int, configured=()) -> list[str]:
    """The exact WebSocket origins (host:port) accepted: this address, loopback names, and the names
    browsers use behind a proxy (``auth.origins``; without a port: 443, the proxy's). Bokeh compares
    them whole, so ``dashboard.example.org.attacker.net`` is not ``dashboard.example.org``."""
    hosts = [address, "localhost", "127.0.0.1"]
    if address in ("0.0.0.0", "::", ""):
        import socket

        hosts = ["localhost", "127.0.0.1", socket.gethostname(), socket.getfqdn()]
    found = [f"{host}:{port}" for host in hosts if host]
    for origin in configured:  # bokeh reads an origin without a port as :80, whatever its scheme
        found += [origin] if ":" in origin else [f"{origin}:80", f"{origin}:443"]
    return list(dict.fromkeys(found))


def _door(store, config, address: str):
    """The gate (who a request is) and the server options sign-in needs: outside mode ``none``,
    signed session ids and cookies with the configured secret, XSRF protection and the sign-in pages.
    ``AuthRefused`` when the configuration must not be served (no secret; mode none off loopback)."""
    from .api.tokens import TokenStore
    from .api_settings import ApiSettings
    from .auth.gate import Gate
    from .auth.provider import HfpanelAuth

    settings = config.api if config is not None else ApiSettings()
    gate = Gate(config.auth if config is not None else None, TokenStore(settings.state_folder(store)), address)
    if gate.open:
        return gate, {}
    title = config.title if config is not None else "hfpanel"
    return gate, {
        "auth_provider": HfpanelAuth(gate, title),
        "cookie_secret": gate.secret,
        "secret_key": gate.secret.encode(),
        "sign_sessions": True,
        "xsrf_cookies": True,
    }


def app_options(store, site_config, port: int, address: str) -> tuple[dict, dict]:
    """The pages and the ``pn.serve`` options of ``hfpanel serve`` (the API, the sign-in, exact
    WebSocket origins); ``AuthRefused`` when the configuration must not be served as it is."""
    from apps.availability import build as build_availability
    from apps.events import build as build_events
    from apps.handover import build as build_handover
    from apps.overview import build
    from apps.plots import build as build_plots
    from apps.transfers import build as build_transfers
    from apps.whatif import build as build_whatif

    from .api.server import patterns as api_patterns

    gate, secured = _door(store, site_config, address)
    builds = {
        "overview": build,
        "plots": build_plots,
        "transfers": build_transfers,
        "availability": build_availability,
        "events": build_events,
        "whatif": build_whatif,
        "handover": build_handover,
    }
    pages = {
        "/" if name == "overview" else f"/{name}": _page(how, name, gate, store=store, config=site_config)
        for name, how in builds.items()
    }
    options = {
        "port": port,
        "address": address,
        "websocket_origin": _origins(address, port, site_config.auth.origins if site_config else ()),
        "title": "hfpanel — site status",
        "verbose": False,
        "extra_patterns": api_patterns(store, site_config, gate),
        **secured,
    }
    return pages, options


def harden(server) -> None:
    """Security headers on every answer of ``server`` (a bokeh Server), whoever's handler made it."""
    from .auth.headers import SecurityHeaders

    server._tornado.add_transform(SecurityHeaders)


def serve(store, config=None, port: int = 5006, address: str = "127.0.0.1", show: bool = False) -> int:
    """Serve the overview of ``store`` (with the site ``config`` when given) at
    ``http://address:port/`` until SIGINT/SIGTERM; returns the exit code.

    Every session shares one read-only Store and the cached loaders of this process, so a wall
    display and many shifters cost one query per new run. Safe to call from the main thread while
    another thread keeps collecting into the same store (``hfpanel demo``).
    """
    import panel as pn

    from .auth.gate import AuthRefused
    from .config import ConfigError, load_config
    from .queries.loaders import shared_store

    store = Path(store).resolve()
    try:
        shared_store(store)  # fail now, not in the first browser session
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    site_config = None
    if config:
        try:
            site_config = load_config(config)
        except ConfigError as error:
            for problem in error.problems:
                print(problem, file=sys.stderr)
            return 2
    try:
        pages, options = app_options(store, site_config, port, address)
    except AuthRefused as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        server = pn.serve(pages, show=show, start=False, **options)
    except OSError as error:
        print(f"error: cannot listen on {address}:{port}: {error.strerror or error}", file=sys.stderr)
        return 1
    harden(server)
    host = f"[{address}]" if ":" in address else address
    url = f"http://{host}:{server.port}/"
    log.info("serving %s at %s", store, url)
    if not log.isEnabledFor(logging.INFO):
        print(f"hfpanel: serving {store} at {url} (Ctrl-C to stop)", file=sys.stderr, flush=True)

    def stop(*_):
        server.io_loop.asyncio_loop.call_soon_threadsafe(server.io_loop.stop)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, stop)
    server.start()
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        log.info("stopped serving %s", url)
    return 0
