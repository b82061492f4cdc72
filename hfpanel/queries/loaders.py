"""Shared, cached loaders: many sessions looking at the same thing cost one query.

Every served session asks the same questions ("status now", "the runs", "detail of module x as of
t"). Answers are cached process-wide, keyed by the store root, the manifest's stamp (a new run or a
compaction replaces the manifest, so the key changes and "now" is never served stale) and the
arguments. Sessions share one read-only ``Store`` per root (``shared_store``) and hold no data of
their own beyond what they display.

Cached frames are shared between sessions: treat them as read-only (use ``.assign``/``.copy``).
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from pathlib import Path

import pandas as pd

from .. import stored_config as configs
from ..config import Module
from ..store import Store
from ..store.frames import utc_naive
from ..store.reader import detail_table_name
from . import since

_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()
_cache: OrderedDict[tuple, object] = OrderedDict()
_cache_lock = threading.Lock()
#: entries kept (status frames are small; detail tables are the big ones)
CACHE_SIZE = 256
stats = {"hits": 0, "misses": 0}


def shared_store(path) -> Store:
    """The one ``Store`` of this process for ``path`` (opened on first use); a Store is itself."""
    if isinstance(path, Store):
        return path
    key = str(Path(path).resolve())
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = Store(key)
        return store


def _key_time(value):
    return None if value is None else utc_naive(value)


def cached(kind: str, store: Store, args: tuple, compute):
    """Return the cached answer for (store, manifest stamp, kind, args), computing it once."""
    key = (store.cache_key, store.stamp(), kind, args)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            stats["hits"] += 1
            return _cache[key]
    value = compute()
    with _cache_lock:
        stats["misses"] += 1
        _cache[key] = value
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# -- the questions ---------------------------------------------------------------------------------
def run_times(store: Store) -> list[pd.Timestamp]:
    return cached("run_times", store, (), lambda: [pd.Timestamp(t) for t in store.run_times()])


def latest_run(store: Store, at=None) -> pd.Series | None:
    return cached("latest_run", store, (_key_time(at),), lambda: store.latest_run(at))


def status_at(store: Store, at=None) -> pd.DataFrame:
    return cached("status_at", store, (_key_time(at),), lambda: store.status_at(at))


def category_status_at(store: Store, at=None) -> pd.DataFrame:
    return cached("category_status_at", store, (_key_time(at),), lambda: store.category_status_at(at))


def level_since(store: Store, at=None) -> pd.DataFrame:
    """Each module's first run at its current level (``queries.since``), at ``at``."""
    return cached("level_since", store, (_key_time(at),), lambda: since.level_since(store, at))


def stored_config(store: Store, at=None) -> dict | None:
    """The configuration in force at the run shown at ``at`` (``hfpanel.stored_config``)."""
    return cached("stored_config", store, (_key_time(at),), lambda: configs.config_at(store, at))


def stored_module(store: Store, module: str, at=None):
    """The module's configuration as stored with the run shown at ``at`` (a ``config.Module``), or None."""

    def compute():
        entry = configs.stored_module(stored_config(store, at), module)
        if entry is None:
            return None
        known = {f.name for f in dataclasses.fields(Module)}
        return Module(**{k: v for k, v in entry.items() if k in known})

    return cached("stored_module", store, (module, _key_time(at)), compute)


def module_history(store: Store, module: str, start=None, end=None) -> pd.DataFrame:
    return cached(
        "module_history",
        store,
        (module, _key_time(start), _key_time(end)),
        lambda: store.module_history(module, start, end),
    )


def detail_tables(store: Store, module: str) -> list[str]:
    """The names of the module's detail tables ("rows" first)."""
    prefix = detail_table_name(module, "")

    def compute():
        names = [t[len(prefix) :] for t in store.tables() if t.startswith(prefix)]
        return sorted(names, key=lambda n: (n != "rows", n))

    return cached("detail_tables", store, (module,), compute)


def detail(store: Store, module: str, table: str = "rows", at=None) -> pd.DataFrame:
    return cached("detail", store, (module, table, _key_time(at)), lambda: store.detail(module, table, at))


def site_name(store: Store) -> str:
    run = latest_run(store)
    return "" if run is None or "site" not in run.index or pd.isna(run["site"]) else str(run["site"])


def runs(store: Store, start=None, end=None) -> pd.DataFrame:
    """The runs with ``start <= time <= end``, oldest first."""
    return cached("runs", store, (_key_time(start), _key_time(end)), lambda: store.runs(start, end))


def module_names(store: Store, config=None) -> list[str]:
    """Every module the store shows now (a row in the status look-back) or has detail tables of,
    and every module ``config`` names: what an API may be asked about, in a stable order."""

    def compute():
        names = set(status_at(store)["module"]) if store.has_table("module_status") else set()
        prefix = "detail__"
        names |= {t[len(prefix) :].rpartition("__")[0] for t in store.tables() if t.startswith(prefix)}
        return sorted(n for n in names if n)

    found = cached("module_names", store, (), compute)
    extra = [m.name for m in config.modules] if config is not None else []
    return sorted(set(found) | set(extra))
