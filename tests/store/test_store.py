"""The store: round trip, readers during writes and compaction, a writer killed mid-run, the lock."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from store_writes import MODULES, synthetic_run

from hfpanel.store import Store, StoreLocked, StoreWriter

HERE = Path(__file__).parents[1] / "support"


def test_round_trip_and_time_travel(tmp_path):
    with StoreWriter(tmp_path) as writer:
        for i in range(8):  # 2 hours of 15-minute runs
            writer.write(synthetic_run(i, rows_per_module=3))
    store = Store(tmp_path)
    assert {"runs", "module_status", "detail__m00__rows"} <= set(store.tables())
    assert len(store.runs()) == 8
    now = store.status_at()
    assert sorted(now["module"]) == MODULES and (now["message"] == "run 7").all()
    then = store.status_at("2026-11-20 00:40")
    assert (then["message"] == "run 2").all()  # the 00:30 run was the latest at 00:40
    history = store.module_history("m03")
    assert list(history["message"]) == [f"run {i}" for i in range(8)]
    detail = store.detail("m00", at="2026-11-20 00:20")
    assert list(detail["host"]) == ["wn0000", "wn0001", "wn0002"] and (detail["run_id"] == "run-00001").all()
    assert store.sql("SELECT count(*) AS n FROM module_status")["n"].iloc[0] == 8 * len(MODULES)


def test_types_from_messy_sources_survive(tmp_path):
    frame = pd.DataFrame(
        {
            "time": [pd.Timestamp("2026-11-20 10:00", tz="Europe/Berlin")] * 3,
            "mixed": [1, "two", None],
            "nested": [{"a": 1}, [1, 2], None],
            "payload": [b"\x00\x01", b"{}", b"x"],
        }
    )
    with StoreWriter(tmp_path) as writer:
        writer.write({"t": frame})
    back = Store(tmp_path).sql("SELECT * FROM t ORDER BY payload")
    assert back["time"].iloc[0] == pd.Timestamp("2026-11-20 09:00")  # stored as naive UTC
    assert set(back["mixed"].dropna()) == {"1", "two"}
    assert '{"a": 1}' in set(back["nested"])
    assert bytes(back["payload"].iloc[0]) == b"\x00\x01"


def test_compaction_keeps_every_row_and_leaves_few_files(tmp_path):
    with StoreWriter(tmp_path) as writer:
        for i in range(200):  # a little over two days
            writer.write(synthetic_run(i))
        before = Store(tmp_path).sql("SELECT count(*) AS n, sum(status) AS s FROM module_status").iloc[0]
        merged = writer.compact(keep_today=False)
    assert merged == 3 * 200  # every part of 3 tables, merged into one file per table and day
    store = Store(tmp_path)
    after = store.sql("SELECT count(*) AS n, sum(status) AS s FROM module_status").iloc[0]
    assert (after == before).all()
    assert store.describe()["files"] == 3 * 3
    # retired parts stay on disk for readers mid-query, and go once their grace period is over
    with StoreWriter(tmp_path) as writer:
        assert writer.collect_garbage(now=time.time() + 3600) == 3 * 200
    assert len(list(tmp_path.rglob("*.parquet"))) == 9


def test_reader_during_writes_and_compaction_sees_only_whole_runs(tmp_path):
    with StoreWriter(tmp_path) as writer:
        writer.write(synthetic_run(0))
    store = Store(tmp_path)
    errors, seen = [], {}
    done = threading.Event()

    def read():
        counts_seen = seen.setdefault(threading.get_ident(), [])
        while not done.is_set():
            try:
                counts = store.sql(
                    "SELECT r.run_id, count(m.module) AS n FROM runs r "
                    "LEFT JOIN module_status m USING (run_id) GROUP BY r.run_id"
                )
                assert (counts["n"] == len(MODULES)).all(), "a run is visible without all its rows"
                counts_seen.append(len(counts))
                store.status_at()
            except Exception as error:  # collected and asserted below
                errors.append(repr(error))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    with StoreWriter(tmp_path) as writer:
        for i in range(1, 150):
            writer.write(synthetic_run(i))
            if i % 50 == 0:
                writer.compact(keep_today=False)
    done.set()
    for reader in readers:
        reader.join()
    assert errors == []
    for counts_seen in seen.values():  # each reader saw the run count only grow
        assert counts_seen and counts_seen == sorted(counts_seen)
    assert store.sql("SELECT count(*) AS n FROM runs")["n"].iloc[0] == 150


def test_second_writer_refused_clearly_or_waits(tmp_path):
    with StoreWriter(tmp_path):
        with pytest.raises(StoreLocked, match=f"store {tmp_path} is being written by pid {os.getpid()}"):
            with StoreWriter(tmp_path, wait=0.3):
                pass
    released = threading.Event()

    def hold():
        with StoreWriter(tmp_path):
            released.wait(0.5)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.1)
    with StoreWriter(tmp_path, wait=5) as writer:  # waits until the holder leaves
        writer.write(synthetic_run(0))
    holder.join()


@pytest.mark.parametrize("delay", [0.8, 1.3, 2.1])
def test_writer_killed_with_sigkill_mid_run_loses_nothing_committed(tmp_path, delay):
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    child = subprocess.Popen(
        [sys.executable, str(HERE / "store_writes.py"), str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env
    )
    committed = []
    deadline = time.monotonic() + 60
    while len(committed) < 2 and time.monotonic() < deadline:  # let it commit a little first
        committed.append(child.stdout.readline().strip())
    time.sleep(delay)  # then kill it wherever it is: mid-file, mid-rename, mid-manifest
    child.send_signal(signal.SIGKILL)
    rest = child.stdout.read().split()
    child.wait()
    announced = len(committed) + rest.count("committed")
    store = Store(tmp_path)
    visible = store.sql(
        "SELECT r.run_id, count(m.module) AS n FROM runs r JOIN module_status m USING (run_id) GROUP BY r.run_id"
    )
    assert (visible["n"] == len(MODULES)).all()
    assert len(visible) >= announced  # nothing announced as committed is lost
    assert len(store.detail("m00")) == 20_000  # the latest visible run is whole
    with StoreWriter(tmp_path) as writer:  # the next writer cleans up and carries on
        on_disk = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.parquet")}
        assert on_disk == writer.manifest.files()  # the killed commit's files are gone, no others
        writer.write(synthetic_run(len(visible) + 1000))
    assert len(Store(tmp_path).runs()) == len(visible) + 1


def test_replace_days_swaps_a_day_atomically_and_state_moves_with_it(tmp_path):
    """Statistics are rewritten a day at a time: the old day's parts vanish in the same commit
    that adds the new ones, and a watermark committed with them is read back."""
    import pyarrow as pa

    from hfpanel.store import Store, StoreWriter

    day1 = pd.Timestamp("2026-03-01 10:00")
    day2 = pd.Timestamp("2026-03-02 10:00")
    with StoreWriter(tmp_path) as writer:
        writer.write({"stats": pd.DataFrame({"time": [day1, day2], "n": [1, 2]})})
        generation = writer.next_generation
        writer.write(
            {"stats": pa.table({"time": pa.array([day1], pa.timestamp("us")), "n": [10]})},
            replace_days={"stats": ["2026-03-01"]},
            state={"watermark": 7},
        )
        assert writer.manifest.generation == generation
        assert writer.state("watermark") == 7
    store = Store(tmp_path)
    assert store.sql("SELECT n FROM stats ORDER BY time")["n"].tolist() == [10, 2]
    assert store.state("watermark") == 7
    assert len(store.parts("stats")) == 2
    with StoreWriter(tmp_path) as writer:
        assert writer.drop_days("stats", ["2026-03-02"]) == 1
    assert store.sql("SELECT n FROM stats")["n"].tolist() == [10]


def test_a_question_built_across_a_commit_is_answered_from_one_manifest(tmp_path):
    """A query assembled from several scans (and views) while a commit lands between them sees
    one commit's tables, never runs from one and statuses from another."""
    with StoreWriter(tmp_path) as writer:
        writer.write(synthetic_run(0))
    store = Store(tmp_path)
    runs = store.scan("runs")  # the question is being built ...
    with StoreWriter(tmp_path) as writer:
        writer.write(synthetic_run(1))  # ... a run is committed ...
    statuses = store.scan("module_status")  # ... and the rest of the question is built
    frame = store.sql(
        f"SELECT (SELECT count(*) FROM {runs}) AS runs, (SELECT count(DISTINCT run_id) FROM {statuses}) AS status_runs, "
        "(SELECT count(DISTINCT run_id) FROM detail__m00__rows) AS detail_runs"
    )
    assert frame.iloc[0].tolist() == [1, 1, 1]
    runs = store.scan("runs")
    again = store.sql(f"SELECT (SELECT count(*) FROM {runs}) AS runs, (SELECT count(*) FROM module_status) AS rows")
    assert again.iloc[0].tolist() == [2, 2 * len(MODULES)]  # a question built afterwards sees the new run


def test_a_scan_held_for_minutes_is_remade_from_the_newest_manifest(tmp_path, monkeypatch):
    """A scan older than the pin limit no longer pins its query (nor holds its manifest in
    memory): the query sees the store as it is, never files a prune may have deleted since."""
    from hfpanel.store import reader

    with StoreWriter(tmp_path) as writer:
        writer.write(synthetic_run(0))
    store = Store(tmp_path)
    clock = [1000.0]
    monkeypatch.setattr(reader.time, "monotonic", lambda: clock[0])
    old = store.scan("runs")
    with StoreWriter(tmp_path) as writer:
        writer.write(synthetic_run(1))
    clock[0] += reader.PIN_LIMIT + 1
    fresh = store.scan("module_status")
    assert all(entry[0] is None for number, entry in store._issued.items() if f"/*scan {number}*/" in old)
    frame = store.sql(f"SELECT (SELECT count(*) FROM {old}) AS runs, (SELECT count(DISTINCT run_id) FROM {fresh}) AS s")
    assert frame.iloc[0].tolist() == [2, 2]
