"""The store: hive-partitioned Parquet files plus one manifest that says which files are live.

``StoreWriter`` is the only writer (a lock file keeps it so); ``Store`` is the read-only view.
"""

from .reader import Store
from .writer import StoreLocked, StoreWriter

__all__ = ["Store", "StoreWriter", "StoreLocked"]
