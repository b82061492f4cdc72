"""Every collector's ``parse()`` against what a broken or hostile source can send (issue 14): any
bytes, each real fixture cut short, and each JSON fixture with one value anywhere replaced by
another type (a number where a list was, null, a huge or NaN number, an empty object…). The
contract the runner relies on: ``parse`` returns a ``ParseResult`` or raises ``SourceError`` with
a one-line reason — never another exception (the module would show "internal error" and the log a
traceback). Hypothesis, derandomized so that CI sees the same examples every time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hfpanel.collector import ParseResult, SourceError, collector_class, registry

FIXTURES = Path(__file__).parents[1] / "fixtures"
#: every installed collector type: the parameters it needs to exist, and the payloads it reads
CASES = {
    "command": ({}, []),
    "cric_topology": ({}, ["cric/*.json"]),
    "dcache_pools": ({}, ["dcache/*.json"]),
    "gocdb_downtimes": ({}, ["gocdb/*.xml"]),
    "hammercloud": ({"tests": [1]}, ["hammercloud/hammercloud*.json", "hammercloud/*.txt"]),
    "hammercloud_monit": ({}, ["hammercloud/hammercloud_monit_*.json"]),
    "htcondor_jobs": ({"url": "http://127.0.0.1:9/q"}, ["htcondor/condor_q.json"]),
    "htcondor_slots": ({"url": "http://127.0.0.1:9/s"}, ["htcondor/condor_status.json"]),
    "html_table": ({}, ["generic/*.html"]),
    "http_csv": ({}, ["generic/*.csv"]),
    "http_json": ({}, ["dcache/dcache_pools.json"]),
    "http_xml": ({}, ["gocdb/gocdb_downtime.xml"]),
    "ingest_health": ({"store": "/nonexistent-store"}, []),
    "push": ({"store": "/nonexistent-store", "module": "probe"}, []),
    "rucio_rules": ({"url": "http://127.0.0.1:9/r"}, ["rucio/*"]),
    "sam": ({"vo": "cms"}, ["sam/*.json"]),
    "transfer_efficiency": ({"store": "/nonexistent-store", "site": "SITE"}, []),
}
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def collector(name: str):
    params, _ = CASES[name]
    return collector_class(name)(**params)


def payloads(name: str) -> list[Path]:
    return sorted(p for pattern in CASES[name][1] for p in FIXTURES.glob(pattern))


def holds_the_contract(instance, payload: bytes) -> None:
    try:
        result = instance.parse(payload)
    except SourceError as error:
        assert str(error) and "\n" not in str(error).strip(), repr(str(error))
        return
    assert isinstance(result, ParseResult)


def test_every_installed_collector_is_fuzzed():
    assert set(registry()) == set(CASES)
    assert all(payloads(name) for name, (_, patterns) in CASES.items() if patterns)


@pytest.mark.parametrize("name", sorted(CASES))
@FUZZ
@given(raw=st.binary(max_size=400))
def test_any_bytes_are_parsed_or_refused_in_one_line(name, raw):
    holds_the_contract(collector(name), raw)


@pytest.mark.parametrize("name", sorted(n for n, (_, patterns) in CASES.items() if patterns))
@FUZZ
@given(data=st.data())
def test_a_real_payload_cut_short_is_parsed_or_refused(name, data):
    payload = data.draw(st.sampled_from(payloads(name))).read_bytes()
    cut = data.draw(st.integers(min_value=0, max_value=len(payload)))
    holds_the_contract(collector(name), payload[:cut])


def nodes(doc, path=()):
    """Every (path, value) of a JSON document, the root included."""
    yield path, doc
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from nodes(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc[:20]):
            yield from nodes(value, (*path, i))


def replaced(doc, path, value):
    if not path:
        return value
    copy = list(doc) if isinstance(doc, list) else dict(doc)
    copy[path[0]] = replaced(doc[path[0]], path[1:], value)
    return copy


def json_payloads(name: str) -> list:
    found = []
    for path in payloads(name):
        try:
            found.append(json.loads(path.read_bytes()))
        except ValueError:
            continue
    return found


@pytest.mark.parametrize("name", sorted(n for n in CASES if json_payloads(n)))
@FUZZ
@given(data=st.data())
def test_a_real_json_payload_with_a_value_of_another_type_is_parsed_or_refused(name, data):
    doc = data.draw(st.sampled_from(json_payloads(name)))
    path, _ = data.draw(st.sampled_from(list(nodes(doc))))
    changed = replaced(doc, path, data.draw(values))
    holds_the_contract(collector(name), json.dumps(changed, allow_nan=True).encode())
