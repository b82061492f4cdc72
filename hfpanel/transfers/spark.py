"""The same aggregation SQL on Spark: for deployments that outgrow one machine, and the parity test.

All of WLCG is about 1.2 billion FTS transfers a year; CERN keeps such data in HDFS and
processes it with Spark. ``SparkEngine`` gives :func:`hfpanel.transfers.compute.compute` the
four operations it needs (Parquet files as a view, an Arrow table as a view, a view from SQL, a
query to Arrow), so the SQL text in ``sql/`` is run unchanged. Adapter-only differences (schema
merging, hive columns) stay here, as the shared notes on portable SQL say they must.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa

from hfpanel.store import manifest as manifest_io

from .compute import FAMILIES, compute
from .sites import SiteResolver

log = logging.getLogger("hfpanel.transfers.spark")


def local_session(cores: int = 2, memory: str = "1g", app: str = "hfpanel-transfers"):
    """A small local SparkSession (UTC, ANSI on, few shuffle partitions: the data are small)."""
    from pyspark.sql import SparkSession
    return (SparkSession.builder.master(f"local[{cores}]").appName(app)
            .config("spark.driver.memory", memory)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "true")
            .config("spark.sql.shuffle.partitions", str(cores))
            .config("spark.default.parallelism", str(cores))
            .config("spark.ui.enabled", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate())


class SparkEngine:
    """``compute()``'s engine interface over a SparkSession."""

    def __init__(self, spark):
        self.spark = spark

    def files(self, name: str, paths: list[str]) -> None:
        # explicit files: no partition discovery, so no hive ``day`` column (as on DuckDB)
        frame = self.spark.read.option("mergeSchema", "true").parquet(*paths)
        frame.createOrReplaceTempView(name)

    def table(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def view(self, name: str, sql: str) -> None:
        self.spark.sql(sql).createOrReplaceTempView(name)

    def materialize(self, name: str, sql: str) -> None:
        self.spark.sql(sql).cache().createOrReplaceTempView(name)

    def query(self, sql: str) -> pa.Table:
        return self.spark.sql(sql).toArrow()

    def close(self) -> None:
        pass


def compute_store(spark, store_root, resolver: SiteResolver, check_duplicates: bool = True) -> dict[str, pa.Table]:
    """Every statistic of every raw day in the store, computed by Spark from the live raw files
    (a full rebuild). Returns Arrow tables without ``time``."""
    root = Path(store_root)
    data = manifest_io.read(root)
    engine, out = SparkEngine(spark), {}
    for raw in FAMILIES:
        parts = [str(root / p) for p in data["tables"].get(raw, [])]
        if not parts:
            continue
        engine.files(raw, parts)
        out.update(compute(engine, resolver, [raw], check_duplicates))
    return out
