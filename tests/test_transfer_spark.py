"""The same SQL files on DuckDB and Spark give identical statistics, row for row, type for type."""

import datetime as dt
import os
import shutil

import pyarrow as pa
import pytest

from hfpanel.store import Store, StoreWriter
from hfpanel.transfers import synthetic
from hfpanel.transfers.aggregate import aggregate
from hfpanel.transfers.compute import SCHEMAS, merge_sql
from hfpanel.transfers.sites import SiteResolver

DAY0 = 1_767_225_600
HAS_JAVA = bool(shutil.which("java") or os.environ.get("JAVA_HOME"))
pytestmark = pytest.mark.skipif(not HAS_JAVA, reason="Spark needs a Java runtime (no `java` on PATH, no JAVA_HOME)")


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    from hfpanel.transfers.spark import local_session
    session = local_session(cores=2, memory="1g", app="hfpanel-parity-test")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Two days of generated raw rows in two commits, with a late batch, a duplicate key, a NULL VO
    and an empty host, aggregated incrementally by DuckDB."""
    root = tmp_path_factory.mktemp("parity")
    resolver = SiteResolver.from_config(synthetic.site_map())
    for batch in range(2):
        with StoreWriter(root) as writer:
            g = writer.next_generation
            fts = synthetic.fts_complete(1500, DAY0 + batch * 43200, 86400, commit=g, seed=batch, key_offset=batch * 10_000)
            xrd = synthetic.xrootd_close(1000, DAY0 + batch * 43200, 86400, commit=g, seed=10 + batch, key_offset=batch * 10_000)
            if batch == 1:
                odd = fts.slice(0, 3).to_pylist()
                for index, row in enumerate(odd):
                    row["key"] = f"odd-{index}"
                odd[1]["vo"], odd[2]["src_hostname"] = None, ""
                first = synthetic.fts_complete(1500, DAY0, 86400, commit=1, seed=0).slice(7, 1).to_pylist()[0]
                resent = first["received"] + dt.timedelta(days=3)  # the same attempt again, after the dedup window
                odd.append({**first, "commit": g, "received": resent})
                fts = pa.concat_tables([fts, pa.Table.from_pylist(odd, schema=fts.schema)])
            writer.write({"fts_complete": fts, "xrootd_close": xrd})
        aggregate(root, resolver=resolver)
    return root, resolver


def test_spark_and_duckdb_statistics_are_identical(spark, store):
    from hfpanel.transfers.spark import compute_store
    root, resolver = store
    on_spark = compute_store(spark, root, resolver)
    assert sorted(on_spark) == sorted(SCHEMAS)
    duck = Store(root)
    for name, schema in SCHEMAS.items():
        assert on_spark[name].schema.types == schema.types, name
        columns = ", ".join(schema.names)
        # DuckDB ran incrementally: a key's delta rows sum to the one row Spark's rebuild gives
        expected = duck.sql(f"SELECT {columns} FROM ({merge_sql(name, name)}) ORDER BY {columns}")
        got = on_spark[name].to_pandas().sort_values(list(schema.names)).reset_index(drop=True)
        assert len(got) == len(expected) > 0, name
        assert got.to_dict("records") == expected.to_dict("records"), name
    total = duck.sql("SELECT sum(transfers) AS n FROM transfer_stats_1d")["n"].iloc[0]
    assert total == 3000 + 3  # the re-sent attempt counted once
