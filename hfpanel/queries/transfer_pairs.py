"""The raw transfers of one (source site, destination site) pair, from ``fts_complete``.

Raw rows name hosts, not sites: sites are resolved at aggregation time from the topology
(``docs/transfers.md``). To find a pair's rows, the distinct hosts of the window are resolved with
the same resolver as the aggregation (``hfpanel.transfers.sites.SiteResolver`` with the site
config's ``transfers.sites``), so an unclaimed host is its domain here too. The
query then binds the two host lists as parameters. Newest rows first, at most ``limit``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..transfers.config import load_transfers
from ..transfers.sites import SiteResolver, domain_of
from . import loaders
from .transfer_filters import RAW, Filters

log = logging.getLogger("hfpanel.components")
#: the raw columns shown for a pair, in this order (those the table has)
SHOWN = (
    "time",
    "vo",
    "activity",
    "state",
    "src_hostname",
    "dst_hostname",
    "file_size",
    "bytes",
    "transfer_ms",
    "throughput",
    "retry",
    "error_scope",
    "error_category",
    "error_code",
    "error_message",
    "protocol",
    "job_id",
    "file_id",
    "endpnt",
)
LIMIT = 200


#: site config path (and its mtime) → host → site function; loading a CRIC feed is not free
_resolvers: dict = {}


def default_resolver(config=None) -> Callable[[str], str]:
    """The host → site function the aggregation uses (``SiteResolver.label``) with the site
    config's ``transfers.sites`` section; without one (or when it cannot be read) hosts resolve
    to their domain, as the aggregation does for hosts nobody claims."""
    path = getattr(config, "path", None) if config is not None else None
    if path is None:
        return SiteResolver().label
    try:
        key = (str(path), Path(path).stat().st_mtime_ns)
    except OSError:
        return SiteResolver().label
    if key not in _resolvers:
        try:
            sites = load_transfers(path, need_subscriptions=False).sites
            _resolvers[key] = SiteResolver.from_config(sites).label
        except Exception:  # noqa: BLE001 - a broken transfers section is the ingest's error to report
            log.warning("cannot read the transfers sites of %s; hosts resolve to their domain", path, exc_info=True)
            _resolvers[key] = SiteResolver().label
    return _resolvers[key]


def window_hosts(store, f: Filters) -> tuple[list[str], list[str]]:
    """The distinct source and destination hosts of the raw rows in the window (cached)."""

    def compute():
        if not store.has_table(RAW):
            return [], []
        clause, params = f.clause(site=False)
        scan = store.scan(RAW, f.start, f.end)
        found = []
        for column in ("src_hostname", "dst_hostname"):
            rows = store.sql(
                f"SELECT DISTINCT {column} AS h FROM {scan} WHERE {clause} AND {column} IS NOT NULL", params
            )
            found.append(sorted(str(h) for h in rows["h"]))
        return tuple(found)

    return loaders.cached("transfers.window_hosts", store, (f,), compute)


def pair_transfers(store, f: Filters, src: str, dst: str, resolve=None, limit: int = LIMIT) -> pd.DataFrame:
    """The newest ``limit`` raw transfer attempts from a host of ``src`` to a host of ``dst`` in
    the window (VO and activity filters apply). Empty when the store has no raw table."""
    resolve = resolve or domain_of
    sources, destinations = window_hosts(store, f)
    src_hosts = [h for h in sources if resolve(h) == src]
    dst_hosts = [h for h in destinations if resolve(h) == dst]
    if not src_hosts or not dst_hosts:
        return pd.DataFrame(columns=list(SHOWN))

    def compute():
        clause, params = f.clause(site=False)
        frame = store.sql(
            f"SELECT * FROM {store.scan(RAW, f.start, f.end)} WHERE {clause} "
            f"AND list_contains(?, src_hostname) AND list_contains(?, dst_hostname) "
            f"ORDER BY time DESC LIMIT ?",
            [*params, src_hosts, dst_hosts, int(limit)],
        )
        return frame[[c for c in SHOWN if c in frame.columns]].reset_index(drop=True)

    return loaders.cached("transfers.pair", store, (f, tuple(src_hosts), tuple(dst_hosts), int(limit)), compute)
