"""Test a collector on a recorded fixture, from pytest, the way hfpanel tests its own.

``hfpanel record --config site.yaml --module NAME --out tests/fixtures`` saves what a source
answers (payload + ``NAME.meta.json``); a test then parses it with the collector and checks what a
shifter would see::

    from hfpanel.testing import check_fixture

    def test_squid_fixture():
        check_fixture("tests/fixtures/squid.json", expect_level="warning",
                      expect_metrics={"down": 1}, expect_tables={"rows": 3})

The collector, its parameters and the rating rule come from the sidecar (override them with
``collector=``, ``params=``, ``rating=``); parsing runs "as of" the time the fixture was recorded
(``Collector.now()``), so ages and windows do not drift with the day the test runs. A failed
expectation is an ``AssertionError`` that says what was expected and what came.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from .collector import Collector, ParseResult, SourceError, collector_class
from .levels import Levels
from .rating import Rating, rate

__all__ = ["Checked", "Fixture", "check_fixture", "load_fixture"]


@dataclasses.dataclass
class Fixture:
    """A recorded payload and what its sidecar says about it."""

    path: Path
    payload: bytes
    meta: dict

    def collector(self, collector: str | type[Collector] | None = None, params: dict | None = None) -> Collector:
        """The collector that parses it: the recorded type and parameters unless overridden."""
        cls = collector if isinstance(collector, type) else collector_class(collector or self.meta["collector"])
        values = {**(self.meta.get("params") or {}), **(params or {})}
        instance = cls(**{k: v for k, v in values.items() if k in cls.parameter_names()})
        instance.run_time = self.meta.get("run_time")
        return instance


@dataclasses.dataclass
class Checked:
    """What a fixture gave: the parse result (None when parsing failed), the rating and its level."""

    result: ParseResult | None
    rating: Rating
    level: str
    error: str = ""


def load_fixture(path) -> Fixture:
    """A fixture by its payload path or its ``.meta.json`` path."""
    path = Path(path)
    meta_path = path if path.name.endswith(".meta.json") else path.with_name(f"{path.name.split('.')[0]}.meta.json")
    if not meta_path.exists():
        raise FileNotFoundError(f"no sidecar {meta_path} (record the fixture with hfpanel record)")
    meta = json.loads(meta_path.read_text())
    payload_path = meta_path.with_name(meta["payload"]) if path == meta_path else path
    return Fixture(payload_path, payload_path.read_bytes(), meta)


def _same(got: float, want) -> bool:
    if callable(want):
        return bool(want(got))
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None or (isinstance(got, float) and math.isnan(got))
    return got is not None and math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-9)


def _check_tables(result: ParseResult, expect: dict, where: str) -> list[str]:
    """``{table: rows}`` or ``{table: {"rows": n, "columns": [...]}}`` (columns that must be there)."""
    problems = []
    for name, want in expect.items():
        table = result.tables.get(name)
        if table is None:
            problems.append(f"{where}: no table {name!r} (tables: {', '.join(result.tables) or 'none'})")
            continue
        want = {"rows": want} if isinstance(want, int) else dict(want)
        if "rows" in want and len(table) != want["rows"]:
            problems.append(f"{where}: table {name!r} has {len(table)} rows, expected {want['rows']}")
        missing = [c for c in want.get("columns", []) if c not in table.columns]
        if missing:
            problems.append(f"{where}: table {name!r} lacks columns {missing} (has {list(table.columns)})")
    return problems


def check_fixture(
    path,
    *,
    collector: str | type[Collector] | None = None,
    params: dict | None = None,
    rating: dict | None = None,
    levels: Levels | None = None,
    expect_level: str | None = None,
    expect_status: float | None = None,
    expect_metrics: dict[str, Any] | None = None,
    expect_tables: dict | None = None,
    expect_message: str | None = None,
    expect_error: str | None = None,
) -> Checked:
    """Parse and rate a fixture; every expectation that does not hold is named in one AssertionError.

    ``expect_metrics`` values are numbers (compared to 1e-9), None/NaN for "no value", or a
    predicate (``lambda v: v > 0``); ``expect_message`` and ``expect_error`` are substrings (an
    ``expect_error`` fixture is a broken answer: parsing must fail with that reason, level "noinfo").
    """
    fixture = load_fixture(path)
    instance = fixture.collector(collector, params)
    rule = rating if rating is not None else (fixture.meta.get("rating") or instance.default_rating)
    levels = levels or Levels()
    where = fixture.path.name
    try:
        result = instance.parse(fixture.payload)
    except SourceError as error:
        checked = Checked(None, Rating(-1.0, f"no information: {error}"), "noinfo", str(error))
        problems = [] if expect_error and expect_error in str(error) else [f"{where}: parse failed: {error}"]
        if expect_level not in (None, "noinfo"):
            problems.append(f"{where}: level noinfo, expected {expect_level}")
        if problems:
            raise AssertionError("\n".join(problems)) from None
        return checked
    partial = fixture.meta.get("partial", getattr(type(instance), "default_partial", None))
    rated = rate(dict(rule) if rule else None, result, partial, levels)
    checked = Checked(result, rated, levels.level(rated.status))
    problems = [] if expect_error is None else [f"{where}: parsed, expected the error {expect_error!r}"]
    if expect_level is not None and checked.level != expect_level:
        problems.append(
            f"{where}: level {checked.level} (status {rated.status:g}: {rated.message}), expected {expect_level}"
        )
    if expect_status is not None and not _same(rated.status, expect_status):
        problems.append(f"{where}: status {rated.status:g}, expected {expect_status:g}")
    for name, want in (expect_metrics or {}).items():
        if name not in result.metrics:
            problems.append(f"{where}: no metric {name!r} (metrics: {', '.join(sorted(result.metrics)) or 'none'})")
        elif not _same(result.metrics[name], want):
            shown = "a value passing the check" if callable(want) else repr(want)
            problems.append(f"{where}: metric {name!r} = {result.metrics[name]!r}, expected {shown}")
    problems += _check_tables(result, expect_tables or {}, where)
    if expect_message is not None and expect_message not in f"{rated.message}":
        problems.append(f"{where}: message {rated.message!r} does not contain {expect_message!r}")
    if problems:
        raise AssertionError("\n".join(problems))
    return checked
