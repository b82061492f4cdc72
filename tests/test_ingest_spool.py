"""The spool (fsync before ack, checkpoint after commit), a crash between commit and checkpoint,
`hfpanel ingest --replay`, and the transfers config's error messages. No broker needed."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hfpanel.config import ConfigError
from hfpanel.ingest.flush import Flusher
from hfpanel.ingest.spool import Spool, SpoolLocked, backlog_of
from hfpanel.store import Store
from hfpanel.transfers import generate
from hfpanel.transfers.config import load_transfers

FIXTURES = Path(__file__).parent / "fixtures" / "transfers"


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
    assert [(r.destination, r.body, r.received) for r in records] == [("/queue/a", b"one", 1.5), ("/queue/b", b"two", 2.5)]
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


def test_crash_between_store_commit_and_checkpoint_doubles_nothing(tmp_path):
    store, folder = tmp_path / "store", tmp_path / "spool"
    spool = Spool(folder)
    bodies = generate.fts_complete_bodies(50) + ["{oops"]
    for body in bodies:
        spool.append(time.time(), "/topic/transfer.fts_monitoring_complete", {}, body.encode())
    spool.sync()
    flusher = Flusher(store, spool, {"/topic/transfer.fts_monitoring_complete": "fts_complete"}, 10**6, 86400)
    assert flusher.flush() == 51
    spool.close()
    (folder / "checkpoint.json").unlink()  # as if killed after the commit, before the checkpoint
    spool = Spool(folder)
    assert spool.backlog == 51
    again = Flusher(store, spool, {"/topic/transfer.fts_monitoring_complete": "fts_complete"}, 10**6, 86400)
    assert again.flush() == 51
    assert again.totals["duplicates"] == 50 and again.totals["stored"] == 0
    assert rows(store, "fts_complete") == 50
    spool.close()


def write_site(tmp_path, extra=""):
    (tmp_path / "site.yaml").write_text(f"store: store\ntransfers:\n  flush: {{messages: 100, seconds: 1}}\n{extra}")
    return tmp_path / "site.yaml"


def replay(config, path):
    return subprocess.run([sys.executable, "-m", "hfpanel.cli", "ingest", "--config", str(config), "--replay", str(path)],
                          capture_output=True, text=True, timeout=120)


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
    result = replay(config, recorded)  # the same file again: the dedup window holds every key
    assert "ingested 63 messages: 0 stored, 61 duplicates, 2 quarantined" in result.stdout
    assert rows(store, "fts_complete") == 20


def test_config_errors_are_all_listed_with_section_and_key(tmp_path):
    config = write_site(tmp_path, """  brokers:
    mb: {hosts: ["localhost"], password_file: /nonexistent/pass, cert: /x.pem}
  subscriptions:
    - {broker: mb, destination: /topic/x, kind: fts_done, durable: sub}
    - {broker: other, destination: queue/y, kind: xrootd}
""")
    with pytest.raises(ConfigError) as info:
        load_transfers(config)
    text = "\n".join(info.value.problems)
    prefix = f"{config}: section 'transfers': key "
    for expected in ("'brokers.mb.hosts': 'localhost' is not host:port",
                     "'brokers.mb': a client certificate needs both 'cert' and 'key'",
                     "'brokers.mb.password_file': file not found: /nonexistent/pass",
                     "'subscriptions[0].kind': must be one of fts_complete, fts_start, fts_state, xrootd",
                     "'subscriptions[0].durable': broker 'mb' needs a client_id",
                     "'subscriptions[1].broker': unknown broker 'other'",
                     "'subscriptions[1].destination': must start with /topic/ or /queue/"):
        assert prefix + expected in text
    result = subprocess.run([sys.executable, "-m", "hfpanel.cli", "ingest", "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and prefix + "'brokers.mb.hosts'" in result.stderr


def test_password_from_environment_is_named_never_shown(tmp_path, monkeypatch):
    config = write_site(tmp_path, """  brokers:
    mb: {hosts: ["127.0.0.1:61613"], username: u, password_env: HFPANEL_TEST_MB_PASS}
  subscriptions:
    - {broker: mb, destination: /queue/x, kind: xrootd}
""")
    broker = load_transfers(config).brokers["mb"]
    monkeypatch.delenv("HFPANEL_TEST_MB_PASS", raising=False)
    with pytest.raises(ConfigError, match="environment variable HFPANEL_TEST_MB_PASS is not set"):
        broker.password()
    monkeypatch.setenv("HFPANEL_TEST_MB_PASS", "hunter2")
    assert broker.password() == "hunter2" and "hunter2" not in repr(load_transfers(config))
