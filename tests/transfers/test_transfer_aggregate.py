"""Incremental transfer aggregation: exact sums, late messages, no double counting, retention."""

import pyarrow as pa
import pytest

from hfpanel.cli import main
from hfpanel.store import Store, StoreWriter
from hfpanel.transfers import synthetic
from hfpanel.transfers.aggregate import COMPACT_PARTS, aggregate, recompute
from hfpanel.transfers.compute import merge_sql
from hfpanel.transfers.retention import WATERMARK, prune

DAY0 = 1_767_225_600  # 2026-01-01 00:00 UTC
SITES = {
    "hosts": {"eoscms.cern.ch": "T2_CH_CERN", "cmsdcadisk.fnal.gov": "T1_US_FNAL"},
    "patterns": [{"pattern": r"\.cnaf\.infn\.it$", "site": "T1_IT_CNAF"}],
}
CONFIG = {"transfers": {"sites": SITES}}
FTS_SCHEMA = synthetic.fts_complete(1, DAY0).schema
XRD_SCHEMA = synthetic.xrootd_close(1, DAY0).schema


def fts(
    key,
    t,
    src="eoscms.cern.ch",
    dst="cmsdcadisk.fnal.gov",
    ok=True,
    size=1000,
    ms=2000,
    scope="",
    category="",
    message="",
    vo="cms",
    activity="Production",
):
    return {
        "time": pa.scalar(t * 1_000_000, pa.timestamp("us")).as_py(),
        "t": t,
        "key": key,
        "src_hostname": src,
        "dst_hostname": dst,
        "vo": vo,
        "activity": activity,
        "success": ok,
        "state": "Ok" if ok else "Error",
        "bytes": size,
        "transfer_ms": ms,
        "error_scope": scope,
        "error_category": category,
        "error_message": message,
        "error_pattern": message.rstrip("0123456789 "),
    }


def commit(root, fts_rows=(), xrootd_rows=()):
    """Write raw rows as the ingest does: stamped with the generation of their commit."""
    with StoreWriter(root) as writer:
        generation = writer.next_generation
        tables = {}
        for name, rows, schema in (("fts_complete", fts_rows, FTS_SCHEMA), ("xrootd_close", xrootd_rows, XRD_SCHEMA)):
            if rows:
                tables[name] = pa.Table.from_pylist([{**r, "commit": generation} for r in rows], schema=schema)
        writer.write(tables)
    return generation


def stats(root, table, columns="*"):
    """The statistics as a reader sees them: rows of one key summed (an incremental run appends
    deltas; XRootD tables have one row per key already)."""
    order = "t, src_site, dst_site" if table.startswith("transfer") else "t, site"
    source = f"({merge_sql(table, table)})" if table.startswith("transfer") else table
    return Store(root).sql(f"SELECT {columns} FROM {source} ORDER BY {order}").to_dict("records")


@pytest.fixture
def small(tmp_path):
    """Five attempts by hand: two bins on one link, one failure of each kind, one unknown host."""
    commit(
        tmp_path,
        [
            fts("a", DAY0 + 10, size=1000, ms=2000),
            fts("b", DAY0 + 599, size=3000, ms=1000),
            fts("c", DAY0 + 60, ok=False, size=0, ms=0, scope="SOURCE", category="NO_SUCH_FILE", message="no file 17"),
            fts(
                "d", DAY0 + 700, ok=False, size=500, ms=4000, scope="TRANSFER", category="TIMEOUT", message="timeout 30"
            ),
            fts("e", DAY0 + 800, src="se1.cr.cnaf.infn.it", dst="door.example.edu", size=7, ms=7),
        ],
    )
    return tmp_path


def test_hand_computed_ten_minute_daily_and_error_statistics(small):
    summary = aggregate(small, CONFIG)
    assert summary.rows["transfer_stats_10m"] == 3
    cols = "t, src_site, dst_site, transfers, successes, failures, bytes, duration_ms, failures_source, failures_transfer, failures_other"
    assert [tuple(r.values()) for r in stats(small, "transfer_stats_10m", cols)] == [
        (DAY0, "T2_CH_CERN", "T1_US_FNAL", 3, 2, 1, 4000, 3000, 1, 0, 0),
        (DAY0 + 600, "T1_IT_CNAF", "example.edu", 1, 1, 0, 7, 7, 0, 0, 0),
        (DAY0 + 600, "T2_CH_CERN", "T1_US_FNAL", 1, 0, 1, 500, 4000, 0, 1, 0),
    ]
    assert [tuple(r.values()) for r in stats(small, "transfer_stats_1d", cols)] == [
        (DAY0, "T1_IT_CNAF", "example.edu", 1, 1, 0, 7, 7, 0, 0, 0),
        (DAY0, "T2_CH_CERN", "T1_US_FNAL", 4, 2, 2, 4500, 7000, 1, 1, 0),
    ]
    errors = stats(small, "transfer_errors_10m", "t, error_scope, error_pattern, failures, example")
    assert [tuple(r.values()) for r in errors] == [
        (DAY0, "SOURCE", "no file", 1, "no file 17"),
        (DAY0 + 600, "TRANSFER", "timeout", 1, "timeout 30"),
    ]
    frame = Store(small).sql("SELECT time FROM transfer_stats_10m ORDER BY t")
    assert str(frame["time"].iloc[0]) == "2026-01-01 00:00:00"


def test_a_late_message_lands_in_its_own_bin_and_other_bins_stay(small):
    aggregate(small, CONFIG)
    before = {(r["t"], r["src_site"]): r for r in stats(small, "transfer_stats_10m")}
    commit(small, [fts("late", DAY0 + 30, size=5, ms=5), fts("new", DAY0 + 86400 + 5, size=1, ms=1)])
    summary = aggregate(small, CONFIG)
    assert summary.bins == 2 and summary.days["fts_complete"] == ["2026-01-01", "2026-01-02"]
    after = {(r["t"], r["src_site"]): r for r in stats(small, "transfer_stats_10m")}
    assert after[(DAY0, "T2_CH_CERN")]["transfers"] == 4 and after[(DAY0, "T2_CH_CERN")]["bytes"] == 4005
    assert after[(DAY0 + 600, "T2_CH_CERN")] == before[(DAY0 + 600, "T2_CH_CERN")]
    assert after[(DAY0 + 86400, "T2_CH_CERN")]["transfers"] == 1
    daily = {r["t"]: r["transfers"] for r in stats(small, "transfer_stats_1d") if r["src_site"] == "T2_CH_CERN"}
    assert daily == {DAY0: 5, DAY0 + 86400: 1}


def test_repeated_incremental_runs_count_nothing_twice(tmp_path):
    total = 0
    for batch in range(4):
        rows = synthetic.fts_complete(400, DAY0 + batch * 3000, 7200, seed=batch, key_offset=batch * 1000)
        commit(tmp_path, rows.drop_columns(["commit"]).to_pylist())
        total += 400
        assert aggregate(tmp_path, CONFIG).mode == {"fts_complete": "delta"}
        assert aggregate(tmp_path, CONFIG).nothing_new
        assert sum(r["transfers"] for r in stats(tmp_path, "transfer_stats_10m")) == total
        assert sum(r["transfers"] for r in stats(tmp_path, "transfer_stats_1d")) == total


def test_incremental_deltas_fold_into_what_a_rebuild_from_raw_gives(tmp_path):
    """Many small runs into one day (late rows and a re-sent attempt among them): the day is folded
    into one part before it holds COMPACT_PARTS, and every table equals a recompute from raw."""
    for batch in range(COMPACT_PARTS + 3):
        rows = synthetic.fts_complete(60, DAY0 + batch * 600, 600, seed=batch, key_offset=batch * 1000)
        late = synthetic.fts_complete(3, DAY0, 600, seed=100 + batch, key_offset=100_000 + batch * 10)
        rows = pa.concat_tables([rows, late]).drop_columns(["commit"]).to_pylist()
        if batch == 5:
            rows.append({**rows[0], "received": None})  # the same attempt twice in one batch
        commit(tmp_path, rows)
        aggregate(tmp_path, CONFIG)
    parts = Store(tmp_path).parts("transfer_stats_10m")
    assert 1 <= len(parts) < COMPACT_PARTS, parts
    incremental = {
        name: stats(tmp_path, name) for name in ("transfer_stats_10m", "transfer_errors_10m", "transfer_stats_1d")
    }
    assert sum(r["transfers"] for r in incremental["transfer_stats_1d"]) == (COMPACT_PARTS + 3) * 63
    assert recompute(tmp_path, "2026-01-01", CONFIG).mode == {"fts_complete": "rebuild"}
    assert len(Store(tmp_path).parts("transfer_stats_10m")) == 1

    def rows_of(rows):
        return sorted(tuple(row.values()) for row in rows)

    for name, rows in incremental.items():
        assert rows_of(stats(tmp_path, name)) == rows_of(rows), name


def test_a_duplicate_key_that_slipped_into_raw_is_counted_once(small):
    commit(small, [fts("a", DAY0 + 10, size=1000, ms=2000)])  # redelivered after the dedup window
    summary = aggregate(small, CONFIG)
    assert summary.duplicates["fts_complete"] == 1
    assert stats(small, "transfer_stats_10m", "transfers")[0]["transfers"] == 3


def test_a_second_run_with_nothing_new_does_no_work(small):
    aggregate(small, CONFIG)
    generation = Store(small).state(WATERMARK)
    summary = aggregate(small, CONFIG)
    assert summary.nothing_new and summary.bins == 0
    with StoreWriter(small) as writer:
        assert writer.manifest.generation == generation == writer.state(WATERMARK)


def test_an_empty_store_or_one_without_transfers_is_fine(tmp_path):
    summary = aggregate(tmp_path / "missing", CONFIG)
    assert summary.bins == 0 and summary.rows == {} and not (tmp_path / "missing").exists()
    assert prune(tmp_path / "missing") == {}
    with StoreWriter(tmp_path / "other") as writer:
        writer.write({"runs": pa.table({"time": pa.array([0], pa.timestamp("us")), "run_id": ["r"]})})
    assert aggregate(tmp_path / "other", CONFIG).bins == 0
    assert Store(tmp_path / "other").tables() == ["runs"]


def test_xrootd_access_statistics_count_distinct_clients(tmp_path):
    def close(key, t, client, read, server="xrootd.unl.edu", site="T2_US_Nebraska"):
        return {
            "time": pa.scalar(t * 1_000_000, pa.timestamp("us")).as_py(),
            "t": t,
            "key": key,
            "server_host": server,
            "server_site": site,
            "client_host": client,
            "client_domain": ".".join(client.split(".")[-2:]),
            "vo": "cms",
            "operation": "read",
            "read_bytes": read,
            "write_bytes": 0,
        }

    commit(
        tmp_path,
        xrootd_rows=[
            close("1", DAY0 + 5, "wn1.unl.edu", 10),
            close("2", DAY0 + 6, "wn1.unl.edu", 20),
            close("3", DAY0 + 700, "wn2.cern.ch", 30),
            close("4", DAY0 + 9, "c.x.org", 1, "s.x.org", ""),
        ],
    )
    aggregate(tmp_path, CONFIG)
    ten = stats(tmp_path, "xrootd_stats_10m", "t, site, records, bytes_read, clients, client_domains")
    assert [tuple(r.values()) for r in ten] == [
        (DAY0, "T2_US_Nebraska", 2, 30, 1, 1),
        (DAY0, "x.org", 1, 1, 1, 1),
        (DAY0 + 600, "T2_US_Nebraska", 1, 30, 1, 1),
    ]
    day = stats(tmp_path, "xrootd_stats_1d", "site, records, bytes_read, clients, client_domains")
    assert [tuple(r.values()) for r in day] == [("T2_US_Nebraska", 3, 60, 2, 2), ("x.org", 1, 1, 1, 1)]


def test_recompute_after_a_topology_change_moves_the_matrix(small):
    aggregate(small, CONFIG)
    assert {r["dst_site"] for r in stats(small, "transfer_stats_1d")} == {"T1_US_FNAL", "example.edu"}
    moved = {"transfers": {"sites": {**SITES, "hosts": {**SITES["hosts"], "door.example.edu": "T3_US_Example"}}}}
    recompute(small, "2026-01-01", moved)
    assert {r["dst_site"] for r in stats(small, "transfer_stats_1d")} == {"T1_US_FNAL", "T3_US_Example"}
    assert sum(r["transfers"] for r in stats(small, "transfer_stats_10m")) == 5


def test_prune_drops_only_whole_expired_days_in_one_commit(tmp_path):
    old, recent = DAY0, DAY0 + 40 * 86400
    commit(tmp_path, [fts("old", old + 5), fts("recent", recent + 5)])
    aggregate(tmp_path, CONFIG)
    commit(tmp_path, [fts("unaggregated", old + 9)])
    with StoreWriter(tmp_path) as writer:
        generation = writer.manifest.generation
    now = recent + 3600
    assert prune(tmp_path, {"raw": "30d", "stats": "5y"}, now=now) == {}  # raw of the old day not aggregated yet
    aggregate(tmp_path, CONFIG)
    assert prune(tmp_path, {"raw": "30d", "stats": "5y"}, now=now) == {"fts_complete": ["2026-01-01"]}
    store = Store(tmp_path)
    assert store.sql("SELECT key FROM fts_complete")["key"].tolist() == ["recent"]
    assert store.sql("SELECT sum(transfers) AS n FROM transfer_stats_1d")["n"].iloc[0] == 3
    with StoreWriter(tmp_path) as writer:
        assert writer.manifest.generation == generation + 2  # one aggregation, one prune commit
    assert prune(tmp_path, {"raw": "40d", "stats": "5y"}, now=now) == {}
    commit(tmp_path, [fts("too-late", old + 7)])  # a late row for a day whose raw rows are gone
    assert aggregate(tmp_path, CONFIG).bins == 0
    assert Store(tmp_path).sql("SELECT sum(transfers) AS n FROM transfer_stats_1d")["n"].iloc[0] == 3


def test_cli_aggregate_recompute_and_prune(small, capsys):
    assert main(["transfers", "aggregate", "--store", str(small)]) == 0
    assert "transfer_stats_10m" in capsys.readouterr().out
    assert main(["transfers", "aggregate", "--store", str(small)]) == 0
    assert "nothing new" in capsys.readouterr().out
    assert main(["transfers", "recompute", "--store", str(small), "--since", "2026-01-01"]) == 0
    capsys.readouterr()
    assert main(["prune", "--store", str(small), "--raw", "30d"]) == 0  # 2026-01-01 is long past
    assert "fts_complete: 1 day" in capsys.readouterr().out
    assert Store(small).has_table("transfer_stats_1d") and not Store(small).has_table("fts_complete")


def test_transfer_efficiency_collector_blames_only_the_sites_own_side(tmp_path):
    import time

    from collectors.transfers import TransferEfficiencyCollector
    from hfpanel.rating import rate

    now = int(time.time()) - 1200
    rows = [fts(f"ok{i}", now) for i in range(16)]
    rows += [
        fts("src1", now, ok=False, scope="SOURCE", message="no file"),  # CERN (source) to blame
        fts("dst1", now, ok=False, scope="DESTINATION", message="disk full"),  # FNAL's problem
        fts("in1", now, src="cmsdcadisk.fnal.gov", dst="eoscms.cern.ch", ok=False, scope="DESTINATION", message="x"),
        fts("in2", now, src="cmsdcadisk.fnal.gov", dst="eoscms.cern.ch"),
    ]
    commit(tmp_path, rows)
    aggregate(tmp_path, CONFIG)
    collector = TransferEfficiencyCollector(store=str(tmp_path), site="T2_CH_CERN", window="1h")
    result = collector.parse(collector.fetch())
    assert result.metrics["transfers"] == 20 and result.metrics["site_failures"] == 2
    assert result.metrics["efficiency"] == pytest.approx(0.9) and result.metrics["success_rate"] == pytest.approx(0.85)
    assert result.tables["links"]["direction"].tolist() == ["in", "out"]  # worst first: 1 of 2 inbound failed here
    assert rate(collector.default_rating, result).status == 0.5  # 0.9 is the warning bound
    quiet = TransferEfficiencyCollector(store=str(tmp_path), site="T1_UK_RAL", window="1h")
    assert rate(quiet.default_rating, quiet.parse(quiet.fetch())).status < 0  # no transfers: no info


def test_synthetic_raw_tables_follow_the_ingest_schemas():
    raw = pytest.importorskip("hfpanel.transfers.raw")
    assert synthetic.fts_complete(50, DAY0).schema.equals(raw.SCHEMAS["fts_complete"])
    assert synthetic.xrootd_close(50, DAY0).schema.equals(raw.SCHEMAS["xrootd_close"])


def test_cli_reads_store_sites_and_retention_from_the_site_yaml(small, tmp_path_factory, capsys):
    import yaml

    config = tmp_path_factory.mktemp("cfg") / "site.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "store": str(small),
                "transfers": {
                    "sites": {"hosts": {"door.example.edu": "T3_US_Example"}},
                    "retention": {"raw": "400d", "stats": "1825d"},
                },
            }
        )
    )
    assert main(["transfers", "aggregate", "--config", str(config)]) == 0
    assert {r["dst_site"] for r in stats(small, "transfer_stats_1d")} == {"fnal.gov", "T3_US_Example"}
    capsys.readouterr()
    assert main(["prune", "--config", str(config)]) == 0
    assert capsys.readouterr().out.strip() == "nothing to prune"
    assert main(["transfers", "recompute", "--config", str(config), "--since", "yesterday"]) == 2


def test_transfer_efficiency_names_the_bins_the_aggregation_has_not_reached(tmp_path):
    """Transfers stored for the last 40 minutes, aggregated only up to 40 minutes ago: the efficiency
    is of part of the window, and the rating says which bins are missing."""
    import time

    import pandas as pd

    from collectors.transfers import TransferEfficiencyCollector
    from hfpanel.rating import rate

    now = int(time.time())
    now -= now % 600
    old = [fts(f"old{i}", now - 2400) for i in range(12)]
    commit(tmp_path, old)
    aggregate(tmp_path, CONFIG)
    commit(tmp_path, [fts(f"new{k}.{i}", now - 600 * k, ok=False, scope="SOURCE") for k in (1, 2, 3) for i in range(4)])
    collector = TransferEfficiencyCollector(store=str(tmp_path), site="T2_CH_CERN", window="1h", aggregation_lag="5m")
    collector.run_time = now + 60
    result = collector.parse(collector.fetch())
    assert [(m.what, m.key) for m in result.missing] == [
        ("bin", pd.Timestamp(now - 600 * k, unit="s").strftime("%H:%M")) for k in (3, 2)
    ]  # the bin that ended a minute ago may still be on its way (aggregation_lag 5m)
    assert result.expected == {"bin": 6} and result.metrics["efficiency"] == 1.0  # the failures are not in it yet
    rating = rate(collector.default_rating, result)
    assert rating.status == 0.5 and rating.message.startswith("2 of 6 bins missing: ")
    aggregate(tmp_path, CONFIG)
    caught_up = collector.parse(collector.fetch())
    assert caught_up.missing == [] and caught_up.metrics["efficiency"] < 0.9
