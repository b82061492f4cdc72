"""Parsing FTS and XRootD monitoring messages: every fixture line, every framing quirk, malformed bodies."""

import json
from pathlib import Path

import pyarrow as pa
import pytest

from hfpanel.transfers import generate, raw
from hfpanel.transfers.messages import MessageError, error_pattern, parse, unframe

FIXTURES = Path(__file__).parents[1] / "fixtures" / "transfers"


def lines(name):
    return [line for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


def test_every_fts_completion_parses_with_units_and_keys():
    docs = [json.loads(line) for line in lines("fts_complete.jsonl")]
    rows = [parse(line, "fts_complete")[1] for line in lines("fts_complete.jsonl")]
    assert len(rows) == 20
    assert [r["state"] for r in rows].count("Ok") == 9 and [r["state"] for r in rows].count("Abort") == 1
    assert sum(r["success"] for r in rows) == 9
    for doc, row in zip(docs, rows):
        assert row["key"] == f"{doc['endpnt']}|{doc['job_id']}|{doc['file_id']}|{doc['tr_timestamp_start']}"
        assert row["time"] == doc["tr_timestamp_complete"] * 1000  # epoch µs from epoch ms
        assert row["t"] == doc["tr_timestamp_complete"] // 1000
        assert row["bytes"] == doc["tr_bt_transfered"] and row["transfer_ms"] == doc["transfer_time"]
        assert row["throughput"] == (None if doc["throughput"] == -1 else doc["throughput"])
    assert sum(r["throughput"] is None for r in rows) == 4
    cnaf = rows[6]
    assert (cnaf["src_rse"], cnaf["dst_rse"], cnaf["error_scope"], cnaf["error_code"]) == (
        "T2_CH_CERN",
        "T1_IT_CNAF_Tape",
        "DESTINATION",
        5,
    )
    assert cnaf["error_pattern"] == "Source and destination ADLER<n> checksum do not match (<hex> != <hex>)"
    assert rows[17]["src_rse"] is None  # file_metadata null (non-Rucio job)


def test_raw_frames_with_trailing_space_or_eot_and_tabs():
    frames = json.loads((FIXTURES / "fts_raw_frames.json").read_text())["frames"]
    assert {f["body"][-1] for f in frames} == {" ", "\x04"}
    assert any('\n\t"' in f["body"] for f in frames)
    tables = [parse(f["body"].encode())[0] for f in frames]
    assert tables == ["fts_complete", "fts_complete", "fts_state", "fts_state"]
    # the same transfer pretty-printed on the wire or compact in the .jsonl: one key, one row
    complete = lines("fts_complete.jsonl")
    assert parse(frames[0]["body"])[1] == parse(complete[0])[1]
    assert parse(frames[1]["body"])[1] == parse(complete[2])[1]


def test_start_and_state_messages():
    starts = [parse(line)[1] for line in lines("fts_start.jsonl")]
    assert len(starts) == 10 and {(r["message"], r["file_state"]) for r in starts} == {("start", "STARTED")}
    assert starts[0]["src_hostname"] == "eoscms.cern.ch" and starts[0]["dest_se"] == "davs://cmsdcadisk.fnal.gov"
    states = [parse(line, "fts_state")[1] for line in lines("fts_state.jsonl")]
    assert len(states) == 24 and len({r["key"] for r in states}) == 24
    assert states[0]["vo"] == "cms" and states[0]["dst_hostname"] == "cmsdcadisk.fnal.gov"
    assert [r["file_state"] for r in states].count("FAILED") == 4
    assert states[5]["reason"].startswith("SOURCE [2]")


def test_xrootd_wlcg_milliseconds_and_go_seconds_give_the_same_row():
    records = [json.loads(line) for line in lines("xrootd_fileclose.jsonl")]
    rows = [parse(json.dumps(r), "xrootd")[1] for r in records]
    assert rows[0]["start_s"] == 1773129682 and rows[0]["end_s"] == 1773130957
    assert rows[0]["time"] == 1773130957 * 1_000_000 and rows[0]["format"] == "wlcg"
    assert [r["operation"] for r in rows].count("write") == 2
    go = dict(records[0], start_time=1773129682, end_time=1773130957)
    assert parse(json.dumps(go))[1] == rows[0]


def test_xrootd_osg_records():
    rows = [parse(line)[1] for line in lines("xrootd_collector_osg.jsonl")]
    assert [r["format"] for r in rows] == ["osg"] * 3
    assert [r["operation"] for r in rows] == ["read", "read", "write"]
    assert rows[1]["read_bytes"] == 402661331 and rows[1]["read_vector_bytes"] == 402661331
    assert rows[0]["server_host"] == "unl-origin.osgdev.chtc.io" and rows[0]["client_domain"] == "wisc.edu"
    assert rows[0]["start_s"] == 1773133600


BAD = [
    ("{broken", "invalid JSON"),
    ("", "invalid JSON"),
    ("[1, 2]", "expected a JSON object, got list"),
    ('{"hello": 1} ', "unknown message type"),
    (b'{"endpnt": "\xff"}', "not UTF-8"),
    (lines("shoveler_envelope.jsonl")[0], "shoveler envelope"),
]


@pytest.mark.parametrize("body,reason", BAD)
def test_malformed_bodies_raise_with_a_reason(body, reason):
    with pytest.raises(MessageError, match=reason):
        parse(body)


def test_missing_or_wrong_fields_are_named():
    doc = json.loads(lines("fts_complete.jsonl")[0])
    with pytest.raises(MessageError, match="missing field 'endpnt'"):
        parse(json.dumps({k: v for k, v in doc.items() if k != "endpnt"}))
    with pytest.raises(MessageError, match="field 'file_id' is not a number"):
        parse(json.dumps(dict(doc, file_id="abc")))
    with pytest.raises(MessageError, match="a fts_complete message on a destination configured for xrootd"):
        parse(json.dumps(doc), "xrootd")


def test_unframe_strips_exactly_one_byte():
    assert unframe('{"a": 1}  ') == '{"a": 1} '
    assert unframe(b'{"a": 1}\x04') == '{"a": 1}'


def test_error_patterns_group_equal_causes():
    a = error_pattern("Copy failed: davs://eoscms.cern.ch:443/eos/x.root timeout after 3600 s (0x1f)")
    b = error_pattern("Copy failed: davs://other.site/y.root timeout after 12 s (0xab)")
    assert a == b == "Copy failed: <url> timeout after <n> s (<hex>)"
    assert error_pattern("No such file /pnfs/desy.de/a/b") == "No such file <path>"


def test_generated_streams_parse_to_distinct_keys():
    bodies = generate.fts_complete_bodies(300, legacy_every=7)
    assert bodies[0].endswith("\x04") and bodies[1].endswith(" ") and '\n\t"activity" : ' in bodies[1]
    rows = [parse(b, "fts_complete")[1] for b in bodies]
    assert len({r["key"] for r in rows}) == 300
    assert any(r["throughput"] is None for r in rows)
    xrootd = [parse(b, "xrootd")[1] for b in generate.xrootd_bodies(30)]
    assert {r["format"] for r in xrootd} == {"wlcg", "osg"}
    assert all(1.7e9 < r["end_s"] < 1.8e9 for r in xrootd)  # seconds, whichever unit was sent


def test_arrow_tables_keep_their_types_when_values_are_missing():
    rows = [parse(line)[1] for line in lines("fts_complete.jsonl")]
    rows = [dict(r, received=0) for r in rows if r["throughput"] is None]
    table = raw.to_table("fts_complete", rows, commit=7)
    assert table.schema.field("throughput").type == pa.float64()
    assert table.column("throughput").null_count == len(rows)
    assert table.column("commit").to_pylist() == [7] * len(rows)
    assert table.schema.field("file_id").type == pa.int64()


def test_key_window_forgets_old_keys():
    window = raw.KeyWindow(100)
    window.add(["a"], now=1000)
    window.add(["b"], now=1200)
    assert "b" in window and "a" not in window
