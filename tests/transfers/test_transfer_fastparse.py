"""The msgspec fast path for FTS completions gives exactly the reference parser's rows, declines
whatever the reference parser would treat differently, and the flusher built on it stores the same
rows and quarantines the same bodies (with the same reasons) as the reference parser would."""

import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hfpanel.ingest.flush import Flusher
from hfpanel.ingest.spool import Spool
from hfpanel.store import manifest
from hfpanel.transfers import fastparse, generate, raw
from hfpanel.transfers.messages import MessageError, parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "transfers"
TOPIC = "/topic/transfer.fts_monitoring_complete"
RECEIVED = 1_773_200_000.25


def fixture_lines(name):
    return [line for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


def reference(body: bytes, received: float = RECEIVED):
    """What the flusher did before the fast path: ``messages.parse`` + ``received``, or the error."""
    try:
        table, row = parse(body, "fts_complete", int(received * 1000))
    except MessageError as error:
        return error
    return {**row, "received": int(received * 1_000_000)}


def fast(body: bytes, received: float = RECEIVED):
    row = fastparse.complete(body, int(received * 1000), int(received * 1_000_000))
    return None if row is None else dict(zip(fastparse.COLUMNS, row))


def typed(row: dict) -> dict:
    """Values with their types: 5 == 5.0 == True in Python, not in a Parquet column."""
    return {k: (type(v).__name__, v) for k, v in row.items()}


def complete_bodies() -> list[bytes]:
    frames = json.loads((FIXTURES / "fts_raw_frames.json").read_text())["frames"]
    return (
        [line.encode() for line in fixture_lines("fts_complete.jsonl")]
        + [f["body"].encode() for f in frames if f["destination"] == TOPIC]
        + [b.encode() for b in generate.fts_complete_bodies(400, seed=3, legacy_every=5)]
    )


def test_fast_path_equals_the_reference_row_for_row():
    bodies = complete_bodies()
    assert len(bodies) == 422
    for body in bodies:
        expected = reference(body)
        assert isinstance(expected, dict)
        got = fast(body)
        assert got is not None, body[:200]  # every well-formed completion takes the fast path
        assert typed(got) == typed(expected)
    assert fastparse.COLUMNS == raw.ROW_COLUMNS["fts_complete"]


def test_fixture_values_through_the_fast_path():
    row = fast(fixture_lines("fts_complete.jsonl")[6].encode())
    assert (row["src_rse"], row["dst_rse"], row["error_scope"], row["error_code"], row["success"]) == (
        "T2_CH_CERN",
        "T1_IT_CNAF_Tape",
        "DESTINATION",
        5,
        False,
    )
    assert row["error_pattern"] == "Source and destination ADLER<n> checksum do not match (<hex> != <hex>)"
    assert row["received"] == 1_773_200_000_250_000
    assert fast(fixture_lines("fts_complete.jsonl")[17].encode())["src_rse"] is None  # file_metadata null


BASE = json.loads(fixture_lines("fts_complete.jsonl")[6])
NO_SIZE = {k: v for k, v in BASE.items() if k != "file_size"}
NO_STATE = {k: v for k, v in BASE.items() if k != "t_final_transfer_state"}
NO_COMPLETE = {k: v for k, v in BASE.items() if k != "tr_timestamp_complete"}
# (body, True: the fast path must take it, False: it must hand it to the reference parser)
VARIANTS = [
    (BASE, True),
    (NO_SIZE, True),  # no file_size: f_size
    (dict(BASE, file_size=None), True),  # null file_size stays null (f_size is not used)
    (NO_COMPLETE, True),  # timestamp_tr_comp
    ({**NO_COMPLETE, "timestamp_tr_comp": 0}, True),  # then the received time
    (dict(BASE, throughput=-1), True),
    (dict(BASE, throughput=12), True),
    (dict(BASE, throughput=None), True),
    (dict(BASE, throughput=0), True),
    (dict(BASE, throughput=-0.5), True),
    (dict(BASE, tr_timestamp_complete=-1500), True),  # floor division, as the reference
    (dict(BASE, file_metadata=None), True),
    (dict(BASE, file_metadata={"other": 1}), True),
    (dict(BASE, t__error_message="Fichier introuvable: /eos/ça 404"), True),  # UTF-8, not ASCII
    (dict(BASE, t_final_transfer_state=None), True),  # present but null: still a completion
    (dict(BASE, vo=None, activity=None, ipver=None), True),
    (dict(BASE, file_id="1234"), False),
    (dict(BASE, file_id=12.0), False),
    (dict(BASE, file_id=12.5), False),
    (dict(BASE, file_size=True), False),
    (dict(BASE, retry="2"), False),
    (dict(BASE, retry=""), False),
    (dict(BASE, throughput=True), False),
    (dict(BASE, throughput="fast"), False),
    (dict(BASE, file_metadata="x"), False),
    (dict(BASE, file_metadata={"src_rse": 5}), False),
    (dict(BASE, is_recoverable=1), False),
    (dict(BASE, vo=5), False),
    (dict(BASE, endpnt=""), False),
    (dict(BASE, endpnt=None), False),
    (dict(BASE, job_id=""), False),
    (dict(BASE, file_id=None), False),
    ({k: v for k, v in BASE.items() if k != "tr_timestamp_start"}, False),
    (NO_STATE, False),  # tr_id alone makes it a completion: the reference decides
    ({k: v for k, v in NO_STATE.items() if k != "tr_id"}, False),  # not a completion at all: quarantined
    ({"t_final_transfer_state": "Ok"}, False),
    (json.loads(fixture_lines("fts_state.jsonl")[0]), False),  # the wrong kind: quarantined by parse()
]


@pytest.mark.parametrize("doc,taken", VARIANTS)
def test_odd_values_are_taken_identically_or_declined(doc, taken):
    body = json.dumps(doc).encode() + b" "
    got, expected = fast(body), reference(body)
    if taken:
        assert got is not None and typed(got) == typed(expected)
    else:
        assert got is None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b" ",
        b"{broken",
        b"[1, 2]",
        b'{"endpnt": "\xff"}',
        json.dumps(BASE).encode() + b"\x04\x04",
        json.dumps(BASE).encode()[:-1],
        json.dumps(BASE).encode().replace(b'"vo"', b"NaN"),
        json.dumps(dict(BASE, x="a")).encode().replace(b'"a"', b'"\xe9"'),  # Latin-1 text in a skipped field
        json.dumps(dict(BASE, x="a")).encode().replace(b'"a"', b'"\\ud800"'),  # lone surrogate in a skipped field
        json.dumps(dict(BASE, x="a")).encode().replace(b'"a"', b'"\x01"'),  # control character
    ],
)
def test_bodies_the_reference_quarantines_are_declined(body):
    assert isinstance(reference(body), MessageError)
    assert fast(body) is None


def test_fuzzed_bodies_never_diverge():
    """Random byte changes: the fast path gives the reference row or declines; never a row the
    reference would not give (the one documented exception: a double overflow in a skipped field)."""
    rng = random.Random(11)
    bodies = complete_bodies()
    taken = declined = 0
    for _ in range(4000):
        body = bytearray(rng.choice(bodies))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(body))
            body[at : at + 1] = rng.choice(
                [b"", b"e", b"0", b"9", b'"', b",", b" ", b"\\", b"\x04", b"\xc3", bytes([rng.randrange(256)])]
            )
        body = bytes(body)
        got, expected = fast(body), reference(body)
        if got is None:
            declined += 1
        elif isinstance(expected, MessageError):
            assert "number is infinity" in str(expected), (body, expected)
        else:
            taken += 1
            assert typed(got) == typed(expected), body
    assert taken > 500 and declined > 500


def test_overflowing_number_in_a_skipped_field_is_the_known_difference():
    body = json.dumps(dict(BASE, srm_overhead_percentage=1.0)).encode().replace(b": 1.0", b": 1e400")
    assert "number is infinity" in str(reference(body))
    assert fast(body)["key"] == reference(json.dumps(BASE).encode())["key"]


def stored(store, table):
    parts = manifest.read(store).parts(table)
    return [row for part in parts for row in pq.read_table(store / part, partitioning=None).to_pylist()]


def test_flusher_stores_what_the_reference_parser_would(tmp_path):
    """A mixed batch through the real spool and flusher: fast rows, declined rows, duplicates,
    quarantined bodies; every stored value and every quarantine reason and body is checked."""
    good = complete_bodies()
    start = BASE["tr_timestamp_start"]  # a key of their own, so the odd rows are stored too
    odd = [
        json.dumps(dict(doc, tr_timestamp_start=start + i) if "tr_timestamp_start" in doc else doc).encode() + b" "
        for i, (doc, _) in enumerate(VARIANTS, 1)
    ]
    bad = [b"{broken", b'{"endpnt": "\xff"} ', b"[1]", b"x" * 5000]
    bodies = good[:150] + odd + bad + good[100:160] + good[150:]  # 50 redelivered
    spool = Spool(tmp_path / "spool")
    for i, body in enumerate(bodies):
        spool.append(RECEIVED + i / 1000, TOPIC, {"message-id": str(i)}, body)
    spool.sync()
    flusher = Flusher(tmp_path / "store", spool, {TOPIC: "fts_complete"}, 4096, 86400, batch=200)
    while flusher.flush():
        pass
    spool.close()

    expected, quarantined, keys = [], [], set()
    for i, body in enumerate(bodies):
        row = reference(body, RECEIVED + i / 1000)
        if len(body) > 4096:
            quarantined.append(("oversized: 5000 bytes > max_message_bytes 4096", body))
        elif isinstance(row, MessageError):
            quarantined.append((str(row), body))
        elif row["key"] not in keys:
            keys.add(row["key"])
            expected.append(dict(row, commit=i // 200 + 1))  # 200-record batches, one commit each
    got = sorted(stored(tmp_path / "store", "fts_complete"), key=lambda r: r["key"])  # a part per day
    want = sorted(raw.to_table("fts_complete", expected).to_pylist(), key=lambda r: r["key"])
    assert got == want and {r["commit"] for r in got} == {1, 2, 3}
    declined_but_stored = [b for b in odd if fast(b) is None and isinstance(reference(b), dict)]
    assert len(declined_but_stored) == 10  # "1234" as file_id, a bool size ...: the reference path stored them
    assert len(got) == len(good) - 2 + 16 + 10  # the two raw frames repeat fixture lines
    got_q = [(r["reason"], r["body"]) for r in stored(tmp_path / "store", "quarantine")]
    assert got_q == [(reason, body.decode("utf-8", "backslashreplace")) for reason, body in quarantined]
    assert any(r.startswith("a fts_state message") for r, _ in got_q)
    assert any(r.startswith("body is not UTF-8") for r, _ in got_q)
    assert any(r.startswith("field for 'vo' is not text") for r, _ in got_q)  # once it stopped every flush
    assert flusher.totals["duplicates"] == len(bodies) - len(want) - len(quarantined)


def test_spool_reads_whole_records_across_segments(tmp_path):
    spool = Spool(tmp_path, segment_bytes=3000)
    bodies = [b.encode() for b in generate.fts_complete_bodies(7)]
    for i, body in enumerate(bodies):
        spool.append(float(i), TOPIC, {"n": i}, body)
        spool.sync()
    records = spool.read(100)
    assert [(r.received, r.destination, json.loads(r.headers), r.body) for r in records] == [
        (float(i), TOPIC, {"n": i}, body) for i, body in enumerate(bodies)
    ]
    assert spool.read(3) == records[:3]
    spool.commit(records[2].position, {TOPIC: 3})
    assert [r.body for r in spool.read(100)] == bodies[3:]
    spool.close()
