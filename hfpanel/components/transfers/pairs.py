"""The raw transfers of one (source site, destination site) pair, from ``fts_complete``.

Raw rows name hosts, not sites: sites are resolved at aggregation time from the topology
(``docs/transfers.md``). To find a pair's rows, the distinct hosts of the window are resolved with
the same resolver (``hfpanel.transfers.sites`` when it is there and the site config has a
``transfers:`` section), else with the contract's fallback for an unresolved host, its domain. The
query then binds the two host lists as parameters. Newest rows first, at most ``limit``.
"""

from __future__ import annotations

import logging
from typing import Callable

import pandas as pd

from .. import data
from .filters import RAW, Filters

log = logging.getLogger("hfpanel.components")
#: the raw columns shown for a pair, in this order (those the table has)
SHOWN = ("time", "vo", "activity", "state", "src_hostname", "dst_hostname", "file_size", "bytes", "transfer_ms",
         "throughput", "retry", "error_scope", "error_category", "error_code", "error_message", "protocol",
         "job_id", "file_id", "endpnt")
LIMIT = 200


def domain_of(host) -> str:
    """The contract's fallback site of an unresolved host: its domain (``eos.cern.ch`` → ``cern.ch``)."""
    text = str(host or "").strip().lower().rstrip(".")
    return text.split(".", 1)[1] if text.count(".") >= 2 else text


def default_resolver(config=None) -> Callable[[str], str]:
    """The host → site function the aggregation uses for this site config, else ``domain_of``."""
    try:
        from ...transfers import sites as resolving  # written by the aggregation side; optional here
        section = getattr(config, "transfers", None) if config is not None else None
        make = getattr(resolving, "resolver_from_config", None)
        if section is not None and make is not None:
            return make(section)
    except Exception:  # noqa: BLE001 - a missing or unusable resolver falls back to domains
        log.debug("no transfer site resolver; hosts resolve to their domain", exc_info=True)
    return domain_of


def window_hosts(store, f: Filters) -> tuple[list[str], list[str]]:
    """The distinct source and destination hosts of the raw rows in the window (cached)."""
    def compute():
        if not store.has_table(RAW):
            return [], []
        clause, params = f.clause(site=False)
        scan = store.scan(RAW, f.start, f.end)
        found = []
        for column in ("src_hostname", "dst_hostname"):
            rows = store.sql(f"SELECT DISTINCT {column} AS h FROM {scan} WHERE {clause} AND {column} IS NOT NULL",
                             params)
            found.append(sorted(str(h) for h in rows["h"]))
        return tuple(found)
    return data.cached("transfers.window_hosts", store, (f,), compute)


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
        frame = store.sql(f"SELECT * FROM {store.scan(RAW, f.start, f.end)} WHERE {clause} "
                          f"AND list_contains(?, src_hostname) AND list_contains(?, dst_hostname) "
                          f"ORDER BY time DESC LIMIT ?", [*params, src_hosts, dst_hosts, int(limit)])
        return frame[[c for c in SHOWN if c in frame.columns]].reset_index(drop=True)
    return data.cached("transfers.pair", store, (f, tuple(src_hosts), tuple(dst_hosts), int(limit)), compute)
