"""`hfpanel ingest` against a real ActiveMQ on 127.0.0.1: durable topics, queues, quarantine,
duplicates, SIGKILL mid-batch, a broker restart mid-stream, SIGTERM. Counts are asserted exactly."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import kill_at_checkpoint
import pytest
import stomp
from activemq_broker import ActiveMQ, available, free_port

from hfpanel.store import Store, manifest
from hfpanel.transfers import generate

FIXTURES = Path(__file__).parents[1] / "fixtures" / "transfers"
COMPLETE, START, STATE = (
    "/topic/transfer.fts_monitoring_complete",
    "/topic/transfer.fts_monitoring_start",
    "/topic/transfer.fts_monitoring_state",
)
XROOTD = "/queue/Consumer.hfpanel.VirtualTopic.xrootd.wlcg"
SECRET = "s3cr3t-Passw0rd-never-logged"

pytestmark = pytest.mark.skipif(available() is not None, reason=str(available()))


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    with ActiveMQ(tmp_path_factory.mktemp("activemq")) as instance:
        yield instance


def site(tmp_path, broker, subscriptions, flush="{messages: 500, seconds: 0.3}", max_bytes=100000, hosts=None):
    (tmp_path / "mb.pass").write_text(SECRET + "\n")
    subs = "\n".join(
        f"    - {{broker: mb, destination: '{d}', kind: {k}{', durable: ' + n if n else ''}}}"
        for d, k, n in subscriptions
    )
    (tmp_path / "site.yaml").write_text(f"""store: store
transfers:
  brokers:
    mb:
      hosts: {json.dumps(hosts or [f"127.0.0.1:{broker.port}"])}
      username: hfpanel
      password_file: {tmp_path / "mb.pass"}
      client_id: hfpanel-{uuid.uuid4().hex[:8]}
  subscriptions:
{subs}
  flush: {flush}
  max_message_bytes: {max_bytes}
""")
    return tmp_path / "site.yaml"


def ingest(config, *args, wait=True, timeout=120):
    """Run `hfpanel -vv ingest` (stomp.py's frame dumps included, to prove the password stays out);
    output goes to a file, since a pipe nobody reads would stall a chatty process."""
    command = [sys.executable, "-m", "hfpanel.cli", "-vv", "ingest", "--config", str(config), "--quiet", *args]
    log = Path(config).parent / f"ingest-{uuid.uuid4().hex[:6]}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True)
    process.log = log
    if not wait:
        return process
    process.wait(timeout=timeout)
    return finished(process)


def finished(process) -> str:
    output = process.log.read_text()
    assert process.returncode == 0, output[-3000:]
    assert SECRET not in output
    return output


def publish(broker, destination, bodies, **headers):
    conn = stomp.Connection([("127.0.0.1", broker.port)])
    conn.connect(wait=True)
    for body in bodies:
        conn.send(destination, body, headers={"persistent": "true", **headers})
    conn.disconnect(receipt=str(uuid.uuid4()))  # the receipt drains every send first


def count(store_root, table, where="true"):
    if not (store_root / "_manifest.json").exists():
        return 0
    with Store(store_root) as store:
        if not store.has_table(table):
            return 0
        return int(store.sql(f"SELECT count(*) AS n FROM {table} WHERE {where}")["n"].iloc[0])


def test_fixture_streams_land_once_each_with_quarantine_and_durable_topics(tmp_path, broker):
    config = site(
        tmp_path,
        broker,
        [
            (COMPLETE, "fts_complete", "hfpanel-complete"),
            (START, "fts_start", "hfpanel-start"),
            (STATE, "fts_state", "hfpanel-state"),
            (XROOTD, "xrootd", None),
        ],
    )
    ingest(config, "--until-idle", "1")  # registers the durable subscriptions, then stops
    # everything below is published while the consumer is down: durable topics keep it
    complete = [line + " " for line in (FIXTURES / "fts_complete.jsonl").read_text().splitlines()]
    frames = json.loads((FIXTURES / "fts_raw_frames.json").read_text())["frames"]
    publish(broker, COMPLETE, complete + [f["body"] for f in frames[:2]] + complete[:3])  # 5 duplicates
    publish(broker, COMPLETE, ["{not json", "x" * 150_000])  # malformed, oversized
    publish(broker, START, (FIXTURES / "fts_start.jsonl").read_text().splitlines())
    publish(broker, STATE, (FIXTURES / "fts_state.jsonl").read_text().splitlines())
    xrootd = (FIXTURES / "xrootd_fileclose.jsonl").read_text().splitlines()
    publish(
        broker,
        XROOTD,
        xrootd
        + (FIXTURES / "xrootd_collector_osg.jsonl").read_text().splitlines()
        + [json.dumps(dict(json.loads(xrootd[0]), start_time=1773129682, end_time=1773130957))]  # Go: seconds
        + (FIXTURES / "shoveler_envelope.jsonl").read_text().splitlines()[:1],
    )
    err = ingest(config, "--until-idle", "2")
    assert "connected to 127.0.0.1" in err
    store = tmp_path / "store"
    assert count(store, "fts_complete") == 20
    assert count(store, "fts_complete", "throughput IS NULL") == 4
    assert count(store, "fts_state") == 34 and count(store, "fts_state", "message = 'start'") == 10
    assert count(store, "xrootd_close") == 13 and count(store, "xrootd_close", "format = 'osg'") == 3
    assert count(store, "xrootd_close", "start_s = 1773129682 AND end_s = 1773130957") == 1
    with Store(store) as s:
        reasons = s.sql("SELECT source, reason, length(body) AS n FROM quarantine ORDER BY reason").to_dict("records")
        rate = s.sql(
            "SELECT source, sum(messages) m, sum(stored) s, sum(duplicates) d, sum(quarantined) q "
            "FROM ingest_rate GROUP BY source ORDER BY source"
        ).to_dict("records")
        row = s.sql("SELECT * FROM fts_complete WHERE job_id = '5a6badcb-1c55-11f1-9a42-3a880e4bd005'").iloc[0]
    assert [r["reason"].split(":")[0] for r in reasons] == [
        "invalid JSON",
        "oversized",
        "shoveler envelope (raw XRootD UDP packets)",
    ]
    assert reasons[1]["n"] == 150_000  # never cut
    assert reasons[0]["source"] == COMPLETE
    assert rate == [
        {"source": "fts", "m": 61, "s": 54, "d": 5, "q": 2},
        {"source": "xrootd", "m": 15, "s": 13, "d": 1, "q": 1},
    ]
    assert (row["bytes"], row["transfer_ms"], row["state"], bool(row["success"])) == (3997120664, 29425, "Error", False)
    assert row["key"] == "https://fts3-cms.cern.ch:8446|5a6badcb-1c55-11f1-9a42-3a880e4bd005|4086090172|1773130800897"
    # a third run finds nothing new: the broker kept no unacknowledged message
    ingest(config, "--until-idle", "1")
    assert count(store, "fts_complete") == 20 and count(store, "quarantine") == 3


def _generation(store):
    return manifest.read(store).generation if (store / "_manifest.json").exists() else 0


def test_sigkill_mid_batch_loses_and_doubles_nothing(tmp_path, broker):
    queue = f"/queue/hfpanel.kill.{uuid.uuid4().hex[:6]}"
    dead = f"127.0.0.1:{free_port()}"  # the alias's first host is down: failover to the second
    config = site(
        tmp_path,
        broker,
        [(queue, "fts_complete", None)],
        flush="{messages: 400, seconds: 0.2}",
        hosts=[dead, f"127.0.0.1:{broker.port}"],
    )
    bodies = generate.fts_complete_bodies(6000, seed=7)
    publish(broker, queue, bodies + bodies[:200])  # and 200 second reports of the same transfers
    store = tmp_path / "store"
    process = ingest(config, wait=False)
    deadline = time.monotonic() + 60
    while _generation(store) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = count(store, "fts_complete")
    assert 0 < before < 6000, "killed too late to test anything"
    assert f"connected to 127.0.0.1:{broker.port}" in ingest(config, "--until-idle", "2")
    assert count(store, "fts_complete") == 6000
    with Store(store) as s:
        assert s.sql("SELECT count(DISTINCT key) AS n FROM fts_complete")["n"].iloc[0] == 6000


def test_broker_restart_mid_stream_then_sigterm_exits_0(tmp_path, broker):
    queue = f"/queue/hfpanel.restart.{uuid.uuid4().hex[:6]}"
    config = site(tmp_path, broker, [(queue, "xrootd", None)])
    bodies = generate.xrootd_bodies(1200, seed=3)
    publish(broker, queue, bodies[:600])
    process = ingest(config, wait=False)
    store = tmp_path / "store"
    deadline = time.monotonic() + 60
    while count(store, "xrootd_close") < 600 and time.monotonic() < deadline:
        time.sleep(0.2)
    broker.restart()
    publish(broker, queue, bodies[600:])
    deadline = time.monotonic() + 60
    while count(store, "xrootd_close") < 1200 and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    output = finished(process)
    assert f"connection to 127.0.0.1:{broker.port} lost" in output and "(reconnected)" in output
    assert count(store, "xrootd_close") == 1200


def test_broker_is_drained_while_another_writer_holds_the_store(tmp_path, broker):
    from hfpanel.spoolfile import backlog_of
    from hfpanel.store import StoreWriter

    queue = f"/queue/hfpanel.busy.{uuid.uuid4().hex[:6]}"
    config = site(tmp_path, broker, [(queue, "fts_complete", None)])
    publish(broker, queue, generate.fts_complete_bodies(800, seed=11))
    store, spool = tmp_path / "store", tmp_path / "spool-store"
    with StoreWriter(store):  # as `hfpanel collect` would, for longer than a flush waits
        process = ingest(config, "--until-idle", "1", wait=False)
        deadline = time.monotonic() + 60
        while (backlog_of(spool) or 0) < 800 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert backlog_of(spool) == 800  # every message spooled (and acknowledged) meanwhile
        assert count(store, "fts_complete") == 0
    process.wait(timeout=60)
    finished(process)
    assert count(store, "fts_complete") == 800 and backlog_of(spool) == 0


def rate_totals(store_root):
    with Store(store_root) as s:
        row = s.sql(
            "SELECT sum(messages) m, sum(stored) s, sum(duplicates) d, sum(quarantined) q, count(*) n, "
            "count(DISTINCT (t, source, destination)) k FROM ingest_rate"
        ).iloc[0]
    return {k: int(v) for k, v in row.items()}


def checkpointed(spool) -> int:
    """Records of the spool before its checkpoint (what it knows to be in the store)."""
    from hfpanel.spoolfile import read_records

    position = json.loads((spool / "checkpoint.json").read_text())
    first = min(int(p.stem.split("-")[1]) for p in spool.glob("segment-*.log"))
    assert first == 0, "all in the first segment"
    return sum(1 for _ in read_records(spool, (0, 0), (position["segment"], position["offset"])))


def test_sigkill_between_store_commit_and_checkpoint_with_a_broker_doubles_no_row(tmp_path, broker):
    """The process kills itself right after its second store commit, before that batch's checkpoint;
    the restart skips what the store holds and the broker redelivers what was not acknowledged."""
    queue = f"/queue/hfpanel.commitkill.{uuid.uuid4().hex[:6]}"
    config = site(tmp_path, broker, [(queue, "fts_complete", None)], flush="{messages: 200, seconds: 30}")
    bodies = generate.fts_complete_bodies(1500, seed=21)
    mixed = [b for i, body in enumerate(bodies) for b in ([body, f'{{"broken": {i}'] if i % 25 == 0 else [body])]
    assert len(mixed) == 1560  # a bad body in every batch
    publish(broker, queue, mixed)
    log = tmp_path / "killed.log"
    killed = kill_at_checkpoint.start(["-vv", "ingest", "--config", config, "--quiet"], 2, log)
    assert killed.wait(timeout=120) == -signal.SIGKILL, log.read_text()[-3000:]
    store = tmp_path / "store"
    assert rate_totals(store)["m"] > checkpointed(tmp_path / "spool-store") > 0, "a batch stored, not checkpointed"
    output = ingest(config, "--until-idle", "2")
    assert (count(store, "fts_complete"), count(store, "quarantine")) == (1500, 60), output[-3000:]
    assert "records were already committed" in output
    totals = rate_totals(store)
    assert (totals["s"], totals["q"], totals["m"] - totals["d"]) == (1500, 60, 1560) and totals["n"] == totals["k"]
    with Store(store) as s:
        assert int(s.sql("SELECT sum(transfers) n FROM transfer_stats_10m")["n"].iloc[0]) == 1500


def test_broker_restart_is_one_warning_and_every_message_is_stored_once(tmp_path, broker):
    """At the default verbosity a broker restart is one line on stderr (cron mails stderr), no
    stomp.py traceback; messages published before, around and after it, bad ones included, are
    each stored once."""
    queue = f"/queue/hfpanel.quiet.{uuid.uuid4().hex[:6]}"
    config = site(tmp_path, broker, [(queue, "xrootd", None)], flush="{messages: 100, seconds: 0.2}")
    bodies = generate.xrootd_bodies(3000, seed=13)
    bad = [[f"{{bad {half} {i}" for i in range(10)] for half in (0, 1)]
    publish(broker, queue, bodies[:1500] + bad[0])
    stderr = tmp_path / "stderr.log"
    with open(stderr, "w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "hfpanel.cli", "ingest", "--config", str(config), "--quiet"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
        )
    store = tmp_path / "store"
    deadline = time.monotonic() + 60
    while count(store, "xrootd_close") < 300 and time.monotonic() < deadline:
        time.sleep(0.05)
    broker.restart()  # mid-stream: some messages spooled, not yet acknowledged, are delivered again
    publish(broker, queue, bodies[1500:] + bad[1])
    deadline = time.monotonic() + 90
    while (count(store, "xrootd_close"), count(store, "quarantine")) != (3000, 20) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    lines = stderr.read_text().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr.read_text(), lines
    assert f"WARNING hfpanel.ingest.broker: broker mb: connection to 127.0.0.1:{broker.port} lost" in lines[0]
    assert (count(store, "xrootd_close"), count(store, "quarantine")) == (3000, 20)
    totals = rate_totals(store)
    assert (totals["s"], totals["q"], totals["m"] - totals["d"]) == (3000, 20, 3020)


def test_acks_on_a_dead_socket_are_one_line_not_a_traceback_each(tmp_path, broker, caplog):
    """What a broker restart can do between two reads: the connection is gone, stomp.py's receiver
    thread has not noticed yet, and the daemon acknowledges a batch. stomp.py logs a traceback for
    every frame it cannot send (~100 in 30 ms); hfpanel says once that the connection is lost, and
    tries no further frame. At -vv the one traceback is there, as DEBUG. (The broker is frozen with
    SIGSTOP meanwhile, so that it cannot close the connection first: the race is decided.)"""
    import socket as sockets

    from hfpanel.ingest.broker import BrokerClient
    from hfpanel.transfers.config import load_transfers

    config = load_transfers(site(tmp_path, broker, [(f"/queue/hfpanel.acks.{uuid.uuid4().hex[:6]}", "xrootd", None)]))
    client = BrokerClient(config.brokers["mb"], config.subscriptions, lambda *args: None)
    try:
        for level in (logging.WARNING, logging.DEBUG):  # hfpanel's default verbosity, then -vv
            client._retry_at = 0.0
            client.ensure_connected()
            assert client.connected
            caplog.clear()
            caplog.set_level(level)
            os.kill(broker.process.pid, signal.SIGSTOP)
            try:
                client._conn.transport.socket.shutdown(sockets.SHUT_WR)  # every send fails from now on
                for i in range(100):
                    client.ack(client.epoch, "mb-0", f"ID:gone-{i}")
            finally:
                os.kill(broker.process.pid, signal.SIGCONT)
            ours = [r for r in caplog.records if r.name.startswith("hfpanel")]
            assert len(ours) == 1 and ours[0].levelno == logging.WARNING, (level, caplog.text)
            assert "lost (an ACK could not be sent: Broken pipe)" in ours[0].getMessage()
            tracebacks = [r for r in caplog.records if r.exc_info]
            if level == logging.WARNING:
                assert len(caplog.records) == 1 and not tracebacks, caplog.text
            else:
                assert [(r.name, r.levelno) for r in tracebacks] == [("stomp.py", logging.DEBUG)], caplog.text
    finally:
        client.close()
