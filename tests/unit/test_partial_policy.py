"""The partial-answer policy: what a module's status means when part of its source's answer is missing."""

from __future__ import annotations

import pytest

from hfpanel.collector import Missing, ParseResult, SourceError, each
from hfpanel.config import ConfigError, parse_config
from hfpanel.levels import Levels
from hfpanel.rating import PartialPolicy, partial, rate

THRESHOLD = {"type": "threshold", "metric": "bad", "warning": 1, "critical": 5}


def result(missing: int, of: int | None = 10, bad: float = 0.0) -> ParseResult:
    parts = [Missing("pool", f"pool_{i}", "HTTP 500") for i in range(missing)]
    return ParseResult(metrics={"bad": bad}, missing=parts, expected={"pool": of} if of else {})


def test_nothing_missing_leaves_the_rating_alone():
    assert rate(THRESHOLD, result(0)).status == 1.0 and "missing" not in rate(THRESHOLD, result(0)).message


def test_default_at_most_warning_and_no_information_above_half():
    capped = rate(THRESHOLD, result(2))
    assert capped.status == 0.5 and capped.message.startswith(
        "2 of 10 pools missing: pool_0 (HTTP 500), pool_1 (HTTP 500), so at most warning; bad = 0"
    )
    assert rate(THRESHOLD, result(5)).status == 0.5  # half is not more than half
    noinfo = rate(THRESHOLD, result(6))
    assert noinfo.status == -1 and noinfo.message.startswith("no information: 6 of 10 pools missing: pool_0 (HTTP 500)")
    assert ", more than 50.0% missing, so no information; " in noinfo.message


def test_a_worse_status_is_kept_and_an_unknown_share_only_caps():
    assert rate(THRESHOLD, result(2, bad=9)).status == 0.0  # critical stays critical
    unknown = rate(THRESHOLD, result(9, of=None))
    assert unknown.status == 0.5 and unknown.message.startswith("9 pools missing: ")


@pytest.mark.parametrize(
    ("policy", "status"),
    [("ok", 1.0), ("warning", 0.5), ("critical", 0.0), ("noinfo", -1.0), ({"level": "ok", "noinfo_above": 0.1}, -1)],
)
def test_each_level(policy, status):
    assert rate(THRESHOLD, result(2), policy).status == status


def test_the_warning_cap_lies_in_the_warning_band_of_any_levels():
    levels = Levels(ok=0.9, warning=0.6)
    rating = rate(THRESHOLD, result(1), None, levels)
    assert levels.level(rating.status) == "warning" and rating.status == pytest.approx(0.75)


def test_names_are_cut_after_eight_and_each_part_counts_once():
    many = ParseResult(
        missing=[Missing("row", str(i), "bad") for i in range(12)] + [Missing("row", "3", "also bad")],
        expected={"row": 100},
    )
    text = partial.summary(many)
    assert text.startswith("12 of 100 rows missing: 0 (bad), 1 (bad)") and text.endswith("and 4 more")


def test_stored_and_read_back_with_the_counts_beyond_what_is_stored():
    big = ParseResult(missing=[Missing("row", str(i), "bad") for i in range(250)], expected={"row": 300})
    text = partial.to_json(big)
    missing, expected = partial.from_json(text)
    assert (
        expected == {"row": 300}
        and len(missing) == 250
        and partial.counts(ParseResult(missing=missing)) == {"row": 250}
    )
    assert partial.to_json(ParseResult()) == "" and partial.from_json("") == ([], {})


def test_each_reads_what_it_can_and_fails_only_when_nothing_could_be_read():
    def read(item):
        if item < 0:
            raise SourceError(f"negative {item}")
        return item

    assert each([1, -2, 3], read, "pool", key=lambda _, item: f"p{item}") == (
        [1, 3],
        [Missing("pool", "p-2", "negative -2")],
    )
    with pytest.raises(SourceError, match=r"^negative -1 \(and 2 more pools failed\)$"):
        each([-1, -2, -3], read, "pool")
    assert each([], read, "pool") == ([], [])


def _config(**module):
    return {
        "site": "T2_XX",
        "store": "/tmp/x",
        "categories": [{"name": "c"}],
        "modules": [{"name": "m", "category": "c", "collector": "http_json", "params": {"url": "x"}, **module}],
    }


def test_configuration_is_checked_and_the_module_wins_over_the_site_default():
    with pytest.raises(ConfigError) as info:
        parse_config(_config(partial={"level": "amber", "noinfo_above": 2, "colour": 1}))
    text = str(info.value)
    assert "module 'm': key 'partial.colour': unknown (known: level, noinfo_above)" in text
    assert "key 'partial.level': one of ok, warning, critical, noinfo, got 'amber'" in text
    assert "key 'partial.noinfo_above': a share between 0 and 1, got 2" in text
    with pytest.raises(ConfigError, match="key 'defaults.partial.level'"):
        parse_config({**_config(), "defaults": {"partial": {"level": "x"}}})
    site_default = parse_config({**_config(), "defaults": {"partial": "critical"}})
    assert site_default.modules[0].effective_partial() == PartialPolicy(level="critical")
    own = parse_config({**_config(partial="ok"), "defaults": {"partial": "critical"}})
    assert own.modules[0].effective_partial() == PartialPolicy(level="ok")
    assert parse_config(_config()).modules[0].effective_partial() == PartialPolicy()
