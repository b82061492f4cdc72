"""The DuckDB side of the two aggregation engines: Parquet files as views, Arrow tables registered.

:class:`DuckEngine` and ``spark.SparkEngine`` offer the same five operations (files, table, view,
materialize, query), so the SQL in ``sql/`` runs unchanged on either. One connection per process
for incremental runs (:func:`shared_engine`), as dbt-duckdb does: connecting costs ~20 ms, and
Parquet footers cached across runs pay off every minute.
"""

from __future__ import annotations

import threading

import pyarrow as pa


class DuckEngine:
    """Parquet files as views, Arrow tables registered, SQL results as Arrow.

    Store files never change once written (new content gets a new name), so Parquet footers are
    cached across runs of a long-lived process such as the ingest daemon.
    """

    def __init__(self, threads: int | None = None):
        import duckdb
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET parquet_metadata_cache = true")
        self._registered: set[str] = set()
        self._materialized: set[str] = set()
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def files(self, name: str, paths: list[str]) -> None:
        files = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
        self.view(name, f"SELECT * FROM read_parquet({files}, hive_partitioning = false, union_by_name = true)")

    def table(self, name: str, table: pa.Table) -> None:
        self._drop(name)
        self.con.register(name, table)
        self._registered.add(name)

    def forget(self) -> None:
        """Drop the Arrow tables registered and the rows materialized by a run, freeing their memory."""
        for name in self._registered:
            self.con.unregister(name)
        for name in self._materialized:
            self._drop(name)
        self._registered.clear()
        self._materialized.clear()

    def _drop(self, name: str) -> None:
        import duckdb
        if name in self._registered:
            self.con.unregister(name)
            self._registered.discard(name)
        try:
            self.con.execute(f"DROP VIEW IF EXISTS {name}")
        except duckdb.CatalogException:  # it is a table (materialized by an earlier run)
            self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def view(self, name: str, sql: str) -> None:
        self._drop(name)
        self.con.execute(f"CREATE TEMP VIEW {name} AS {sql}")

    def materialize(self, name: str, sql: str) -> None:
        """``sql`` computed once into a temporary table ``name`` (the SQL files do not care)."""
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name}__next AS {sql}")
        self._drop(name)
        self.con.execute(f"ALTER TABLE {name}__next RENAME TO {name}")
        self._materialized.add(name)

    def query(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()


_shared: dict[str, DuckEngine] = {}
#: held by whoever uses the shared engine (one incremental run at a time per process)
shared_lock = threading.Lock()


def shared_engine() -> DuckEngine:
    """The process's one DuckDB connection for incremental runs; hold :data:`shared_lock`."""
    if "duck" not in _shared:
        _shared["duck"] = DuckEngine()
    return _shared["duck"]


def release_shared() -> None:
    """Free what the last run registered or materialized on the shared engine."""
    if "duck" in _shared:
        _shared["duck"].forget()
