"""The store: Parquet files partitioned by day plus one manifest that says which files are live.

``StoreWriter`` is the only writer (a lock file keeps it so); ``Store`` is the read-only view.
Both load on first use, so reading the configuration (which names ``retention``) does not
import DuckDB.
"""

from __future__ import annotations

__all__ = ["Store", "StoreWriter", "StoreLocked"]


def __getattr__(name: str):
    if name == "Store":
        from .reader import Store

        return Store
    if name in ("StoreWriter", "StoreLocked"):
        from . import writer

        return getattr(writer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
