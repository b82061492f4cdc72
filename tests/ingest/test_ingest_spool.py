"""The spool (fsync before ack, checkpoint after commit), a crash between commit and checkpoint,
`hfpanel ingest --replay`, and the transfers config's error messages. No broker needed."""

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import kill_at_checkpoint
import pytest

from hfpanel.config import ConfigError
from hfpanel.ingest.flush import Flusher
from hfpanel.ingest.spool import Spool, SpoolLocked
from hfpanel.spoolfile import backlog_of
from hfpanel.store import Store
from hfpanel.transfers import generate
from hfpanel.transfers.config import load_transfers

FIXTURES = Path(__file__).parents[1] / "fixtures" / "transfers"


def rows(store, table):
    with Store(store) as s:
        return int(s.sql(f"SELECT count(*) AS n FROM {table}")["n"].iloc[0]) if s.has_table(table) else 0


def test_spool_hands_back_ack_tokens_only_after_sync_and_survives_a_torn_tail(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.append(1.5, "/queue/a", {"message-id": "1"}, b"one", token="t1")
    assert spool.read(10) == []  # not durable yet: the flusher must not see it
    assert spool.sync() == ["t1"] and spool.sync() == []
    spool.append(2.5, "/queue/b", {}, b"two", token="t2")
    spool.sync()
    with pytest.raises(SpoolLocked):
        Spool(tmp_path / "spool")
    spool.close()
    segment = next((tmp_path / "spool").glob("segment-*.log"))
    with open(segment, "ab") as handle:
        handle.write(b"\x10\x00\x00\x00garbage")  # a crash in the middle of a write
    spool = Spool(tmp_path / "spool")
    records = spool.read(10)
    assert [(r.destination, r.body, r.received) for r in records] == [
        ("/queue/a", b"one", 1.5),
        ("/queue/b", b"two", 2.5),
    ]
    spool.commit(records[0].position, {"/queue/a": 1})
    assert spool.backlog == 1 and [r.body for r in spool.read(10)] == [b"two"]
    spool.append(3.0, "/queue/b", {}, b"three")
    spool.close()
    assert backlog_of(tmp_path / "spool") == 2


def test_spool_rotates_segments_and_drops_committed_ones(tmp_path):
    spool = Spool(tmp_path, segment_bytes=200)
    for i in range(10):
        spool.append(float(i), "/queue/a", {}, b"x" * 100)
        spool.sync()
    assert len(list(tmp_path.glob("segment-*.log"))) == 6  # two 132-byte records each, and the open one
    records = spool.read(100)
    assert len(records) == 10
    spool.commit(records[-1].position, {"/queue/a": 10})
    assert len(list(tmp_path.glob("segment-*.log"))) == 2 and spool.backlog == 0
    spool.append(11.0, "/queue/a", {}, b"after")
    spool.sync()
    assert [r.body for r in spool.read(10)] == [b"after"]


COMPLETE = "/topic/transfer.fts_monitoring_complete"


def crash_after_commit(store, folder, bodies, headers=lambda i: {}):
    """Flush ``bodies`` through a spool, then undo the checkpoint: the state a process killed
    after the store commit and before the checkpoint leaves behind."""
    spool = Spool(folder)
    for i, body in enumerate(bodies):
        spool.append(time.time(), COMPLETE, headers(i), body.encode())
    spool.sync()
    assert Flusher(store, spool, {COMPLETE: "fts_complete"}, 10**6, 86400).flush() == len(bodies)
    spool.close()
    (folder / "checkpoint.json").unlink()
    spool = Spool(folder)
    assert spool.backlog == len(bodies)
    return spool


def rate_sums(store):
    with Store(store) as s:
        row = s.sql(
            "SELECT sum(messages) m, sum(stored) s, sum(duplicates) d, sum(quarantined) q, count(*) n, "
            "count(DISTINCT (t, source, destination)) k FROM ingest_rate"
        ).iloc[0]
    return {k: int(v) for k, v in row.items()}


def test_crash_between_store_commit_and_checkpoint_doubles_nothing(tmp_path):
    store, folder = tmp_path / "store", tmp_path / "spool"
    spool = crash_after_commit(store, folder, generate.fts_complete_bodies(50) + ["{oops", "{oops"])
    again = Flusher(store, spool, {COMPLETE: "fts_complete"}, 10**6, 86400)
    assert spool.backlog == 0, "the store names the spool position it reached: nothing is committed again"
    assert again.flush() == 0
    assert (rows(store, "fts_complete"), rows(store, "quarantine")) == (50, 2)
    assert rate_sums(store) == {"m": 52, "s": 50, "d": 0, "q": 2, "n": 1, "k": 1}
    spool.append(time.time(), COMPLETE, {}, generate.fts_complete_bodies(1, seed=9)[0].encode())
    spool.sync()
    assert again.flush() == 1 and rows(store, "fts_complete") == 51, "what came after the crash is stored"
    spool.close()


def test_redelivered_quarantined_message_is_one_row_by_its_message_id(tmp_path):
    """The broker delivers again what was spooled but not acknowledged (a crash before the ack, a
    broker restart): a transfer is one row by its key, a quarantined body one row by its message-id."""
    store, folder = tmp_path / "store", tmp_path / "spool"
    spool = Spool(folder)
    flusher = Flusher(store, spool, {COMPLETE: "fts_complete"}, 10**6, 86400)
    fts = generate.fts_complete_bodies(3)
    for _ in range(2):  # the second time: the same messages redelivered
        for i, body in enumerate(fts + ["{oops", "{oops"]):
            spool.append(time.time(), COMPLETE, {"message-id": f"ID:mb-1:{i}"}, body.encode())
        spool.sync()
        flusher.flush()
    assert (rows(store, "fts_complete"), rows(store, "quarantine")) == (3, 2), "two messages, the same bad body"
    assert rate_sums(store) == {"m": 10, "s": 3, "d": 5, "q": 2, "n": 1, "k": 1}
    spool.close()
    spool = Spool(folder)  # a restart loads the keys of the quarantine from the store
    spool.append(time.time(), COMPLETE, {"message-id": "ID:mb-1:3"}, b"{oops")
    spool.append(time.time(), COMPLETE, {"message-id": "ID:mb-1:9"}, b"{oops")
    spool.sync()
    Flusher(store, spool, {COMPLETE: "fts_complete"}, 10**6, 86400).flush()
    assert rows(store, "quarantine") == 3
    spool.close()


def test_store_without_the_spool_position_still_doubles_no_row(tmp_path):
    """A commit made before the position was kept (or a spool whose id changed): the keys still
    hold every raw and quarantine row to one."""
    store, folder = tmp_path / "store", tmp_path / "spool"
    spool = crash_after_commit(
        store, folder, generate.fts_complete_bodies(20) + ["{oops"], headers=lambda i: {"message-id": f"ID:x:{i}"}
    )
    spool.close()
    (folder / "id").write_text("another-spool\n")
    spool = Spool(folder)
    again = Flusher(store, spool, {COMPLETE: "fts_complete"}, 10**6, 86400)
    assert again.flush() == 21 and again.totals["duplicates"] == 21
    assert (rows(store, "fts_complete"), rows(store, "quarantine")) == (20, 1)
    spool.close()


def test_a_spool_restored_from_an_older_copy_loses_nothing(tmp_path, caplog):
    """The store names a position past the spool's end (the spool folder came back from a backup):
    skipping to it would drop records never committed, so every record is committed."""
    store, folder = tmp_path / "store", tmp_path / "spool"
    spool = Spool(folder)
    for body in generate.fts_complete_bodies(10):
        spool.append(time.time(), COMPLETE, {}, body.encode())
    spool.sync()
    Flusher(store, spool, {COMPLETE: "fts_complete"}, 10**6, 86400).flush()
    spool.close()
    identity = (folder / "id").read_text()
    shutil.rmtree(folder)  # the copy was taken before those ten records arrived
    folder.mkdir()
    (folder / "id").write_text(identity)
    spool = Spool(folder)
    for body in generate.fts_complete_bodies(3, seed=4):
        spool.append(time.time(), COMPLETE, {}, body.encode())
    spool.sync()
    assert Flusher(store, spool, {COMPLETE: "fts_complete"}, 10**6, 86400).flush() == 3
    assert rows(store, "fts_complete") == 13
    assert "past this spool's end" in caplog.text
    spool.close()


def test_a_failed_commit_counts_nothing_and_its_retry_counts_once(tmp_path, monkeypatch):
    from hfpanel.store import StoreWriter

    store, spool = tmp_path / "store", Spool(tmp_path / "spool")
    flusher = Flusher(store, spool, {COMPLETE: "fts_complete"}, 10**6, 86400)
    for body in generate.fts_complete_bodies(5) + ["{oops"]:
        spool.append(time.time(), COMPLETE, {}, body.encode())
    spool.sync()
    real_write = StoreWriter.write

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(StoreWriter, "write", full_disk)
    with pytest.raises(OSError):
        flusher.flush()
    monkeypatch.setattr(StoreWriter, "write", real_write)
    assert flusher.flush() == 6
    assert rate_sums(store) == {"m": 6, "s": 5, "d": 0, "q": 1, "n": 1, "k": 1}
    spool.close()


def test_sigkill_between_store_commit_and_checkpoint_doubles_no_row_of_any_table(tmp_path):
    fts, xrootd = generate.fts_complete_bodies(300, seed=5), generate.xrootd_bodies(200, seed=5)
    lines = fts + xrootd + fts[:20] + [f"{{broken {i}" for i in range(30)]  # 20 repeated transfers, 30 bad
    random.Random(1).shuffle(lines)
    lines = [json.dumps(b) for b in lines]
    assert len(lines) == 550 and len(set(lines)) == 530
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text("\n".join(lines) + "\n")
    config = write_site(tmp_path)  # batches of 100 records
    argv = ["ingest", "--config", str(config), "--quiet", "--replay", str(recorded)]
    killed = kill_at_checkpoint.run(argv, 2)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    store = tmp_path / "store"
    assert rate_sums(store)["m"] == 200 and backlog_of(tmp_path / "spool-store") == 450, (
        "killed after the second batch's store commit, before its checkpoint"
    )
    (tmp_path / "empty.jsonl").write_text("")
    restarted = replay(config, tmp_path / "empty.jsonl")  # a restart: drains the spool, aggregates
    assert restarted.returncode == 0, restarted.stderr
    assert (rows(store, "fts_complete"), rows(store, "xrootd_close"), rows(store, "quarantine")) == (300, 200, 30)
    sums = rate_sums(store)
    assert (sums["m"], sums["s"], sums["d"], sums["q"]) == (550, 500, 20, 30) and sums["n"] == sums["k"]
    with Store(store) as s:
        assert int(s.sql("SELECT sum(transfers) n FROM transfer_stats_10m")["n"].iloc[0]) == 300
        assert int(s.sql("SELECT sum(records) n FROM xrootd_stats_10m")["n"].iloc[0]) == 200
        assert int(s.sql("SELECT count(DISTINCT key) n FROM fts_complete")["n"].iloc[0]) == 300
    assert "100 records were already committed" in restarted.stderr  # one warning line says so


def write_site(tmp_path, extra=""):
    (tmp_path / "site.yaml").write_text(f"store: store\ntransfers:\n  flush: {{messages: 100, seconds: 1}}\n{extra}")
    return tmp_path / "site.yaml"


def replay(config, path):
    return subprocess.run(
        [sys.executable, "-m", "hfpanel.cli", "ingest", "--config", str(config), "--replay", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_replay_of_recorded_bodies(tmp_path):
    bodies = [line + " " for line in (FIXTURES / "fts_complete.jsonl").read_text().splitlines()]
    bodies += (FIXTURES / "xrootd_fileclose.jsonl").read_text().splitlines()
    bodies += generate.xrootd_bodies(30) + ["{broken", bodies[0]]
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text("\n".join(json.dumps(b) for b in bodies) + "\nnot even json\n")
    config = write_site(tmp_path)
    result = replay(config, recorded)
    assert result.returncode == 0, result.stderr
    assert "ingested 63 messages: 60 stored, 1 duplicates, 2 quarantined" in result.stdout
    store = tmp_path / "store"
    assert (rows(store, "fts_complete"), rows(store, "xrootd_close"), rows(store, "quarantine")) == (20, 40, 2)
    with Store(store) as s:
        assert sorted(s.sql("SELECT body FROM quarantine")["body"]) == ["not even json", "{broken"]
        # the replay ends with the statistics folded in: every stored transfer counted once
        assert int(s.sql("SELECT SUM(transfers) AS n FROM transfer_stats_10m")["n"].iloc[0]) == 20
    result = replay(config, recorded)  # the same file again: the dedup window holds every key, bad lines too
    assert "ingested 63 messages: 0 stored, 63 duplicates, 0 quarantined" in result.stdout
    assert (rows(store, "fts_complete"), rows(store, "quarantine")) == (20, 2)


def test_config_errors_are_all_listed_with_section_and_key(tmp_path):
    config = write_site(
        tmp_path,
        """  brokers:
    mb: {hosts: ["localhost"], password_file: /nonexistent/pass, cert: /x.pem}
  subscriptions:
    - {broker: mb, destination: /topic/x, kind: fts_done, durable: sub}
    - {broker: other, destination: queue/y, kind: xrootd}
""",
    )
    with pytest.raises(ConfigError) as info:
        load_transfers(config)
    text = "\n".join(info.value.problems)
    prefix = f"{config}: section 'transfers': key "
    for expected in (
        "'brokers.mb.hosts': 'localhost' is not host:port",
        "'brokers.mb': a client certificate needs both 'cert' and 'key'",
        "'brokers.mb.password_file': file not found: /nonexistent/pass",
        "'subscriptions[0].kind': must be one of fts_complete, fts_start, fts_state, xrootd",
        "'subscriptions[0].durable': broker 'mb' needs a client_id",
        "'subscriptions[1].broker': unknown broker 'other'",
        "'subscriptions[1].destination': must start with /topic/ or /queue/",
    ):
        assert prefix + expected in text
    result = subprocess.run(
        [sys.executable, "-m", "hfpanel.cli", "ingest", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and prefix + "'brokers.mb.hosts'" in result.stderr


def test_password_from_environment_is_named_never_shown(tmp_path, monkeypatch):
    config = write_site(
        tmp_path,
        """  brokers:
    mb: {hosts: ["127.0.0.1:61613"], username: u, password_env: HFPANEL_TEST_MB_PASS}
  subscriptions:
    - {broker: mb, destination: /queue/x, kind: xrootd}
""",
    )
    broker = load_transfers(config).brokers["mb"]
    monkeypatch.delenv("HFPANEL_TEST_MB_PASS", raising=False)
    with pytest.raises(ConfigError, match="environment variable HFPANEL_TEST_MB_PASS is not set"):
        broker.password()
    monkeypatch.setenv("HFPANEL_TEST_MB_PASS", "hunter2")
    assert broker.password() == "hunter2" and "hunter2" not in repr(load_transfers(config))


def test_the_ingest_daemon_runs_the_sites_transfer_modules_after_aggregating(tmp_path):
    """``hfpanel ingest`` with a whole site file: each aggregation that folded new bins is followed
    by a run of the modules reading the statistics and the feed (and of no other module)."""
    store = tmp_path / "store"
    modules = (
        "modules:\n"
        f"  - {{name: fts_eff, category: transfers, collector: transfer_efficiency, params: {{store: {store}, site: X}}}}\n"
        f"  - {{name: feed, category: transfers, collector: ingest_health, params: {{store: {store}}}}}\n"
        "  - {name: ce, category: compute, collector: command, params: {argv: ['true'], output: exit_code}}\n"
        "categories: [{name: transfers}, {name: compute}]\nsite: T2_TEST\n"
    )
    config = write_site(tmp_path, modules)
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text("\n".join(json.dumps(b) for b in generate.fts_complete_bodies(50, seed=3)) + "\n")
    result = replay(config, recorded)
    assert result.returncode == 0, result.stderr
    with Store(store) as s:
        ran = s.sql("SELECT module FROM module_status ORDER BY module")["module"].tolist()
        assert ran == ["feed", "fts_eff"]  # the site's compute module waits for the collector
        assert int(s.sql("SELECT sum(transfers) n FROM transfer_stats_10m")["n"].iloc[0]) == 50
