"""Manifest format 2: packed detail tables, commits whose cost does not grow with the history,
the upgrade of format-1 stores, and the cleanup of an interrupted commit without listing the store."""

import json
import time

import pandas as pd
import pytest
from store_format1 import leave_debris, write_format1
from store_writes import MODULES, synthetic_run

from hfpanel.store import Store, StoreWriter, manifest
from hfpanel.store.writer import MAX_SEGMENTS, PENDING

START = pd.Timestamp("2026-11-20")


def many_modules_run(i: int, modules: int = 60) -> dict[str, pd.DataFrame]:
    """One run of ``modules`` modules of three collector kinds: SAM-like rows, pools, and a
    schema of their own for every tenth module (a column the others lack)."""
    time_ = START + pd.Timedelta(minutes=15 * i)
    names = [f"mod{k:03d}" for k in range(modules)]
    tables = {
        "module_status": pd.DataFrame({"run_id": f"r{i}", "time": time_, "module": names, "status": 1.0}),
        "runs": pd.DataFrame([{"run_id": f"r{i}", "time": time_}]),
    }
    for k, name in enumerate(names):
        rows = pd.DataFrame(
            {"run_id": f"r{i}", "time": time_, "module": name, "host": [f"{name}-h{j}" for j in range(3)], "v": i}
        )
        if k % 10 == 9:
            rows["extra"] = "only some modules have this"
        tables[f"detail__{name}__rows"] = rows
        if k % 2:
            tables[f"detail__{name}__pools"] = pd.DataFrame(
                {"run_id": f"r{i}", "time": time_, "module": name, "pool": ["p1", "p2"], "free": [1.5, 2.5]}
            )
    return tables


def data_files(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*.parquet")}


def test_a_run_of_many_modules_is_a_few_files_and_reads_back_per_module(tmp_path):
    with StoreWriter(tmp_path) as writer:
        writer.write(many_modules_run(0))
        writer.write(many_modules_run(1))
    # per run: module_status, runs, and one packed file per detail table and schema (rows x 2, pools)
    assert len(data_files(tmp_path)) == 2 * (2 + 3)
    store = Store(tmp_path)
    assert len([t for t in store.tables() if t.startswith("detail__")]) == 60 + 30
    rows = store.detail("mod007", at=START)
    assert list(rows["host"]) == ["mod007-h0", "mod007-h1", "mod007-h2"] and (rows["v"] == 0).all()
    assert "extra" not in rows.columns  # another schema's column does not leak into this module
    assert set(store.detail("mod009")["extra"]) == {"only some modules have this"}
    assert store.detail("mod008", "pools").empty is True  # even modules have no pools table
    assert store.sql("SELECT sum(free) AS f FROM detail__mod005__pools")["f"].iloc[0] == 2 * 4.0
    assert store.sql("SELECT count(*) AS n FROM detail__mod005__rows")["n"].iloc[0] == 6


def test_compaction_packs_a_day_per_table_and_schema_sorted_by_module(tmp_path):
    with StoreWriter(tmp_path) as writer:
        for i in range(8):
            writer.write(many_modules_run(i))
        before = Store(tmp_path).sql("SELECT module, sum(v) AS s FROM detail__mod013__rows GROUP BY module")
        writer.compact(keep_today=False)
        writer.collect_garbage(now=time.time() + 3600)
    assert len(data_files(tmp_path)) == 2 + 3
    store = Store(tmp_path)
    after = store.sql("SELECT module, sum(v) AS s FROM detail__mod013__rows GROUP BY module")
    assert after.equals(before)
    assert list(store.detail("mod013", at=START + pd.Timedelta(minutes=45))["v"]) == [3, 3, 3]


def test_a_commit_reads_and_writes_nothing_of_past_days(tmp_path, monkeypatch):
    """30 compacted days of history: opening the writer, committing a run and compacting the
    new day read no segment of the old days and rewrite none of their files."""
    with StoreWriter(tmp_path) as writer:
        for day in range(30):
            writer.write(many_modules_run(day * 96, modules=10))
            writer.write(many_modules_run(day * 96 + 1, modules=10))
        writer.compact(keep_today=False)
    size = (tmp_path / manifest.MANIFEST).stat().st_size
    read = []
    original = manifest.Manifest.segment
    monkeypatch.setattr(manifest.Manifest, "segment", lambda self, name: read.append(name) or original(self, name))
    old = data_files(tmp_path)
    with StoreWriter(tmp_path) as writer:
        for k in range(2):
            writer.write(many_modules_run(30 * 96 + k, modules=10))
        writer.compact(keep_today=False)
    new_day = f"{START + pd.Timedelta(days=30):%Y-%m-%d}"
    assert read and all(name.startswith(f"{manifest.SEGMENTS}/{new_day}-") for name in read)
    assert old <= data_files(tmp_path)  # nothing old rewritten (retired files would stay on disk anyway)
    assert len(data_files(tmp_path) - old) == 2 * 5 + 5  # two runs, then their day merged
    grown = (tmp_path / manifest.MANIFEST).stat().st_size - size
    assert grown < 200  # one more day in the top file: it does not hold the days' files


def test_a_days_many_commits_are_folded_into_one_segment(tmp_path):
    with StoreWriter(tmp_path) as writer:
        for i in range(MAX_SEGMENTS + 5):
            writer.write(synthetic_run(i % 90))  # all within one day
        entry = writer.manifest.days["2026-11-20"]
    assert len(entry["s"]) <= 5
    assert Store(tmp_path).sql("SELECT count(*) AS n FROM runs")["n"].iloc[0] == MAX_SEGMENTS + 5


def test_replacing_a_packed_detail_table_keeps_the_other_modules_rows(tmp_path):
    with StoreWriter(tmp_path) as writer:
        writer.write(many_modules_run(0, modules=4))
        fixed = pd.DataFrame({"run_id": "r0", "time": START, "module": "mod001", "host": ["fixed"], "v": 42})
        writer.write({"detail__mod001__rows": fixed}, replace_days={"detail__mod001__rows": ["2026-11-20"]})
    store = Store(tmp_path)
    assert list(store.detail("mod001", at=START)["host"]) == ["fixed"]
    assert list(store.detail("mod002", at=START)["host"]) == ["mod002-h0", "mod002-h1", "mod002-h2"]
    with StoreWriter(tmp_path) as writer:
        writer.drop_days("detail__mod001__rows", ["2026-11-20"])
    assert not Store(tmp_path).has_table("detail__mod001__rows")
    assert len(Store(tmp_path).detail("mod003", at=START)) == 3


def test_an_interrupted_commit_is_removed_from_its_pending_list(tmp_path, monkeypatch):
    """A commit that dies after writing its files and before the manifest: the next writer
    removes exactly those files (named in the pending list), without walking the store."""
    with StoreWriter(tmp_path) as writer:
        writer.write(many_modules_run(0, modules=10))
    committed = data_files(tmp_path)
    with StoreWriter(tmp_path) as writer:

        def die(*args, **kwargs):
            raise KeyboardInterrupt("killed before the manifest")

        monkeypatch.setattr(manifest, "write", die)
        with pytest.raises(KeyboardInterrupt):
            writer.write(many_modules_run(1, modules=10))
        monkeypatch.undo()
    pending = json.loads((tmp_path / PENDING).read_text())
    assert len(data_files(tmp_path) - committed) == 5 and len(pending["paths"]) > 5
    walked = []
    monkeypatch.setattr(type(tmp_path), "rglob", lambda self, pattern: walked.append(pattern) or iter(()))
    with StoreWriter(tmp_path):
        pass
    monkeypatch.undo()
    assert walked == [] and data_files(tmp_path) == committed
    assert not any((tmp_path / p).exists() for p in pending["paths"])
    assert len(Store(tmp_path).runs()) == 1


def test_a_format1_store_is_read_as_is_and_upgraded_by_the_first_writer(tmp_path):
    runs = [synthetic_run(i, rows_per_module=2) for i in range(0, 200, 10)]  # 20 runs over 2 days
    write_format1(tmp_path, runs, state={"ingest.spool.abc": 1234})
    debris = leave_debris(tmp_path)

    def answers(store):
        return (
            store.sql("SELECT count(*) AS n, sum(status) AS s FROM module_status").iloc[0].tolist(),
            store.status_at("2026-11-21 03:00")["message"].tolist(),
            store.module_history("m04")["message"].tolist(),
            store.detail("m00", at="2026-11-21 03:00")["host"].tolist(),
            len(store.runs()),
            store.state("ingest.spool.abc"),
        )

    old = answers(Store(tmp_path))  # a reader of this version reads format 1 directly
    assert old[4] == 20 and old[5] == 1234 and old[3] == ["wn0000", "wn0001"]
    with StoreWriter(tmp_path) as writer:
        assert writer.manifest.format == 2 and writer.state("ingest.spool.abc") == 1234
        assert not debris[0].exists() and not debris[1].exists()  # a killed writer's leftovers, gone
    assert json.loads((tmp_path / manifest.MANIFEST).read_text())["format"] == 2
    assert answers(Store(tmp_path)) == old
    with StoreWriter(tmp_path) as writer:
        writer.compact(keep_today=False)  # the per-module detail files of format 1 get packed
        writer.collect_garbage(now=time.time() + 3600)
    assert not debris[2].exists()
    assert answers(Store(tmp_path)) == old
    with StoreWriter(tmp_path) as writer:
        writer.write(synthetic_run(300))
    assert len(Store(tmp_path).runs()) == 21
    assert not list(tmp_path.glob("detail__m00__rows/*/*.parquet"))  # all in _detail/ now
    assert len(data_files(tmp_path)) == 2 * 3 + 3  # per day: module_status, runs, packed detail; + the new run


def test_an_old_hfpanel_refuses_a_newer_format_clearly(tmp_path):
    (tmp_path / manifest.MANIFEST).write_text(json.dumps({"format": 9}))
    with pytest.raises(ValueError, match="unsupported manifest format 9"):
        Store(tmp_path).tables()


def test_every_table_has_its_day_and_catalog_questions_see_every_table(tmp_path):
    with StoreWriter(tmp_path) as writer:
        for i in (0, 100):
            writer.write(synthetic_run(i))
    store = Store(tmp_path)
    days = store.sql("SELECT DISTINCT day FROM module_status ORDER BY day")["day"].astype(str).tolist()
    assert days == ["2026-11-20", "2026-11-21"]
    assert set(store.sql("SHOW TABLES")["name"]) == {"module_status", "runs", "detail__m00__rows"}
    assert sorted(MODULES) == sorted(store.status_at()["module"])


def test_frames_converted_together_come_out_as_each_alone():
    """A commit converts frames of one shape together; each module's table is what converting it
    alone gives: ints with a gap stay floats only where there is a gap, mixed values become text
    only where they are mixed."""
    from hfpanel.store.frames import to_arrow, to_arrow_many

    t = pd.Timestamp("2026-11-20", tz="Europe/Berlin")
    frames = {
        "a": pd.DataFrame({"time": [t, t], "n": pd.Series([1, 2], dtype=object), "x": ["p", "q"]}),
        "b": pd.DataFrame({"time": [t], "n": pd.Series([None], dtype=object), "x": ["r"]}),
        "c": pd.DataFrame({"time": [t], "n": pd.Series([3], dtype=object), "x": ["s"]}),
        "d": pd.DataFrame({"time": [t, t], "n": pd.Series([1, "two"], dtype=object), "x": ["t", "u"]}),
        "e": pd.DataFrame({"time": [t], "n": pd.Series([4], dtype=object), "x": ["v"]}),
    }
    together = to_arrow_many(frames)
    for name, frame in frames.items():
        alone = to_arrow(frame)
        assert together[name].equals(alone) and together[name].schema == alone.schema, name
    assert str(together["c"].schema.field("n").type) == "int64"
    assert str(together["d"].schema.field("n").type).endswith("string")


def test_a_query_over_a_window_makes_no_view_of_the_whole_table(tmp_path):
    """Reading a day through ``scan`` names the day's files, not the table: a view over every file
    of the table's history would cost what the window saves (views are made when a query names
    the table itself)."""
    with StoreWriter(tmp_path) as writer:
        for i in (0, 100, 200):
            writer.write(synthetic_run(i))
    store = Store(tmp_path)
    assert len(store.status_at()) == len(MODULES)
    assert store.module_history("m01", "2026-11-21", "2026-11-21 23:00")["message"].tolist() == ["run 100"]
    assert store.detail("m00", at="2026-11-21 02:00")["run_id"].tolist() == ["run-00100"]
    assert store._views == {}
    assert store.sql("SELECT count(*) AS n FROM module_status")["n"].iloc[0] == 3 * len(MODULES)
    assert list(store._views) == ["module_status"]
