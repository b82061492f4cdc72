"""Spark local[2] against DuckDB: every SQL file, the aggregation written back, the MONIT import,
and the command line's engine errors. One SparkSession serves the whole module (the only one that
starts Spark in-process); the two command-line runs start their own, as a user's would."""

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from hfpanel.store import Store, StoreWriter, manifest
from hfpanel.transfers import synthetic
from hfpanel.transfers.aggregate import aggregate, recompute
from hfpanel.transfers.compute import FAMILIES, SCHEMAS, SQL_DIR, merge_sql, sql_text
from hfpanel.transfers.engine import DuckEngine, SparkEngine
from hfpanel.transfers.importers.monit import import_days
from hfpanel.transfers.retention import WATERMARK
from hfpanel.transfers.sites import SiteResolver

DAY0 = 1_767_225_600
MONIT = Path(__file__).parents[1] / "fixtures" / "monit"
HAS_JAVA = bool(shutil.which("java") or os.environ.get("JAVA_HOME"))
pytestmark = pytest.mark.skipif(not HAS_JAVA, reason="Spark needs a Java runtime (no `java` on PATH, no JAVA_HOME)")


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    from hfpanel.transfers.engine import spark_session

    session = spark_session("local[2]", {"spark.driver.memory": "1g"}, app="hfpanel-parity-test")
    yield session
    session.stop()


def write_batch(root: Path, batch: int) -> None:
    """Generated raw rows of two days; the second batch adds a NULL VO, an empty host and the
    same attempt re-sent after the dedup window (a duplicate key the aggregation counts once)."""
    with StoreWriter(root) as writer:
        g = writer.next_generation
        fts = synthetic.fts_complete(1500, DAY0 + batch * 43200, 86400, commit=g, seed=batch, key_offset=batch * 10_000)
        xrd = synthetic.xrootd_close(
            1000, DAY0 + batch * 43200, 86400, commit=g, seed=10 + batch, key_offset=batch * 10_000
        )
        if batch == 1:
            odd = fts.slice(0, 3).to_pylist()
            for index, row in enumerate(odd):
                row["key"] = f"odd-{index}"
            odd[1]["vo"], odd[2]["src_hostname"] = None, ""
            first = synthetic.fts_complete(1500, DAY0, 86400, commit=1, seed=0).slice(7, 1).to_pylist()[0]
            odd.append({**first, "commit": g, "received": first["received"] + dt.timedelta(days=3)})
            fts = pa.concat_tables([fts, pa.Table.from_pylist(odd, schema=fts.schema)])
        writer.write({"fts_complete": fts, "xrootd_close": xrd})


@pytest.fixture(scope="module")
def raw_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("raw")
    for batch in range(2):
        write_batch(root, batch)
    return root


def sorted_rows(table: pa.Table) -> list:
    return sorted(table.to_pylist(), key=lambda row: [(value is None, str(value)) for value in row.values()])


def every_sql_file(engine, root: Path, resolver: SiteResolver) -> dict[str, pa.Table]:
    """The result of each SQL file (and each bin of the shared one) over the same raw files, the
    views chained as compute.py chains them, the dedup variants included."""
    store = Store(root)
    out = {}
    for raw, (view, _, tables) in FAMILIES.items():
        engine.files(raw, [str(root / p) for p in store.parts(raw)])
        engine.view(f"{view}_rows", sql_text(view))
        out[view] = engine.query(f"SELECT * FROM {view}_rows")
        engine.view("candidates", f"SELECT key FROM {view}_rows")
        out[f"duplicate_keys ({raw})"] = engine.query(sql_text("duplicate_keys"))
        engine.view(view, sql_text(f"{view}_dedup"))
        out[f"{view}_dedup"] = engine.query(f"SELECT * FROM {view}")
        hosts = engine.query(" UNION ".join(f"SELECT {c} AS host FROM {view}" for c in FAMILIES[raw][1]))
        engine.table("host_sites", resolver.relation(hosts.column(0).to_pylist()))
        for name in tables:
            out[name] = engine.query(sql_text(name))
            if name == "transfer_stats_10m":
                engine.table("transfer_stats_10m", out[name])
    engine.forget()
    return out


def test_every_sql_file_gives_identical_sorted_results_on_both_engines(spark, raw_store):
    resolver = SiteResolver.from_config(synthetic.site_map())
    duck = every_sql_file(DuckEngine(), raw_store, resolver)
    on_spark = every_sql_file(SparkEngine(spark), raw_store, resolver)
    files = {p.stem for p in SQL_DIR.glob("*.sql")}
    covered = {name.split(" ")[0] for name in duck} | {"xrootd_stats"}
    assert files <= covered, f"SQL files the parity test does not run: {files - covered}"
    assert duck["duplicate_keys (fts_complete)"].column(0).to_pylist() == [1]
    for name, expected in duck.items():
        got = on_spark[name]
        assert got.column_names == expected.column_names, name
        assert got.num_rows == expected.num_rows > 0, name
        assert sorted_rows(got) == sorted_rows(expected), name


def merged(root: Path, name: str) -> list:
    """A statistics table with each key's rows summed (deltas and rebuilds compare equal)."""
    columns = ", ".join(SCHEMAS[name].names)
    return Store(root).sql(f"SELECT {columns} FROM ({merge_sql(name, name)}) ORDER BY {columns}").to_dict("records")


def test_aggregate_and_recompute_on_spark_write_what_duckdb_writes(spark, tmp_path):
    """Incremental runs (the delta path with a late duplicate) and a recompute, once per engine
    on two copies of the same store: the same statistics, the same watermark, the same layout."""
    resolver = SiteResolver.from_config(synthetic.site_map())
    engine = SparkEngine(spark)
    duck_root, spark_root = tmp_path / "duck", tmp_path / "spark"
    for batch in range(2):
        for root, on in ((duck_root, None), (spark_root, engine)):
            write_batch(root, batch)
            summary = aggregate(root, resolver=resolver, engine=on)
            assert summary.mode == {"fts_complete": "delta", "xrootd_close": "rebuild"}, summary.mode
    for name in SCHEMAS:
        assert merged(spark_root, name) == merged(duck_root, name), name
    assert Store(spark_root).sql("SELECT sum(transfers) AS n FROM transfer_stats_1d")["n"].iloc[0] == 3000 + 3
    assert manifest.read(spark_root).state[WATERMARK] == manifest.read(duck_root).state[WATERMARK]
    spark_summary = recompute(spark_root, "2026-01-01", resolver=resolver, engine=engine)
    recompute(duck_root, "2026-01-01", resolver=resolver)
    assert spark_summary.mode == {"fts_complete": "rebuild", "xrootd_close": "rebuild"}
    for name in SCHEMAS:
        assert merged(spark_root, name) == merged(duck_root, name), name
        days = {p.split("/")[1] for p in Store(spark_root).parts(name)}
        assert days == {"day=2026-01-01", "day=2026-01-02"}, name


def as_json(frame) -> str:
    """Rows as JSON text: equal rows compare equal even where a value is NaN."""
    return frame.to_json(orient="records", date_format="iso", date_unit="us")


def test_monit_import_through_spark_stores_what_plain_python_stores(spark, tmp_path):
    results = {}
    for name, engine in (("python", DuckEngine()), ("spark", SparkEngine(spark))):
        root = tmp_path / name
        fts = import_days(root, str(MONIT / "fts/raw/complete"), ["2026-03-10"], "fts_complete", engine)
        xrd = import_days(root, str(MONIT / "xrootd/raw/aaa-ng"), ["2026-03-10"], "xrootd", engine)
        store = Store(root)
        rows = "SELECT * EXCLUDE (commit) FROM {} ORDER BY key"
        results[name] = (
            {k: v for k, v in vars(fts).items() if k != "seconds"},
            {k: v for k, v in vars(xrd).items() if k != "seconds"},
            as_json(store.sql(rows.format("fts_complete"))),
            as_json(store.sql(rows.format("xrootd_close"))),
            store.sql("SELECT source, reason, body FROM quarantine ORDER BY reason").to_dict("records"),
        )
    python, spark_result = results["python"], results["spark"]
    assert python[0]["stored"] == 20 and python[0]["duplicates"] == 2 and python[0]["quarantined"] == 3
    assert python[1]["stored"] == 13 and python[1]["quarantined"] == 1
    assert spark_result[:2] == python[:2]
    assert spark_result[2] == python[2] and spark_result[3] == python[3]
    assert spark_result[4] == python[4]


def run_cli(*args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "hfpanel.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_recompute_command_on_spark_and_duckdb_agree(raw_store, tmp_path):
    duck_root, spark_root = tmp_path / "duck", tmp_path / "spark"
    shutil.copytree(raw_store, duck_root)
    shutil.copytree(raw_store, spark_root)
    done = run_cli(
        "transfers",
        "recompute",
        "--since",
        "2026-01-01",
        "--store",
        str(spark_root),
        "--engine",
        "spark",
        "--master",
        "local[2]",
        "--conf",
        "spark.driver.memory=1g",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "transfer_stats_10m:" in done.stdout
    # quiet: hfpanel's own log lines (the duplicate key) and the JVM's notice about its vector module, nothing else
    others = [
        line for line in done.stderr.splitlines() if "jdk.incubator.vector" not in line and " hfpanel." not in line
    ]
    assert others == [], done.stderr
    assert run_cli("transfers", "recompute", "--since", "2026-01-01", "--store", str(duck_root)).returncode == 0
    for name in SCHEMAS:
        assert merged(spark_root, name) == merged(duck_root, name), name


def test_without_pyspark_the_spark_engine_is_one_line_and_exit_4(raw_store, tmp_path):
    blocker = tmp_path / "blocked" / "pyspark"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('No module named pyspark')\n")
    done = run_cli(
        "transfers",
        "aggregate",
        "--store",
        str(raw_store),
        "--engine",
        "spark",
        env={"PYTHONPATH": str(blocker.parent)},
    )
    assert done.returncode == 4
    assert done.stderr.strip().splitlines() == ["error: --engine spark needs pyspark: pip install 'hfpanel[spark]'"]


@pytest.mark.parametrize(
    "conf, message",
    [
        ("spark.executor.memory", "expected KEY=VALUE"),
        ("=4g", "expected KEY=VALUE"),
        ("executor.memory=4g", "start with 'spark.'"),
    ],
)
def test_a_bad_conf_is_one_line_and_exit_2(raw_store, conf, message):
    done = run_cli(
        "transfers",
        "recompute",
        "--since",
        "2026-01-01",
        "--store",
        str(raw_store),
        "--engine",
        "spark",
        "--conf",
        conf,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --conf") and message in lines[0], lines


def test_spark_options_without_the_spark_engine_are_refused(raw_store):
    done = run_cli("transfers", "aggregate", "--store", str(raw_store), "--master", "local[2]")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: --master and --conf are Spark settings: add --engine spark"]


def test_a_setting_spark_refuses_ends_in_one_error_line_and_exit_4(raw_store):
    done = run_cli(
        "transfers", "aggregate", "--store", str(raw_store), "--engine", "spark", "--conf", "spark.driver.memory=lots"
    )
    assert done.returncode == 4
    assert done.stderr.strip().splitlines()[-1].startswith("error: cannot start Spark (master local[2]):")
    assert "Traceback" not in done.stderr


def test_a_failing_spark_job_is_one_line_and_exit_5(spark, raw_store, capsys):
    import argparse

    from hfpanel.commands import transfers as cli
    from hfpanel.transfers.engine import EngineFailed

    engine = SparkEngine(spark)
    with pytest.raises(EngineFailed) as failed:
        engine.query("SELECT raise_error('the disk is full') AS x")
    assert str(failed.value).startswith("Spark failed (a query): ") and "the disk is full" in str(failed.value)
    assert "\n" not in str(failed.value) and "at org.apache" not in str(failed.value)

    def work(_):
        raise failed.value

    args = argparse.Namespace(engine="duckdb", master=None, conf=[])
    assert cli._on_engine(args, "test", work) == (5, None)
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {failed.value}"]
