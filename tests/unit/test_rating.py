"""Rating and roll-up rules, as a shifter would read their results."""

import pandas as pd
import pytest

from hfpanel.collector import ParseResult, SourceError
from hfpanel.levels import Levels
from hfpanel.rating import rate, rollup


def result(metrics=None, rows=None):
    return ParseResult(tables={"rows": pd.DataFrame(rows)} if rows is not None else {}, metrics=metrics or {})


@pytest.mark.parametrize("value, status", [(0.95, 1.0), (0.8, 0.5), (0.7, 0.5), (0.5, 0.0), (0.1, 0.0)])
def test_threshold_low_is_bad(value, status):
    rule = {"type": "threshold", "metric": "efficiency", "warning": 0.8, "critical": 0.5}
    rating = rate(rule, result({"efficiency": value}))
    assert rating.status == status
    assert "efficiency" in rating.message and rating.inputs["value"] == value


@pytest.mark.parametrize("value, status", [(3, 1.0), (10, 0.5), (49, 0.5), (50, 0.0)])
def test_threshold_high_is_bad(value, status):
    rule = {"type": "threshold", "metric": "held", "warning": 10, "critical": 50}
    assert rate(rule, result({"held": value})).status == status


def test_threshold_explicit_direction():
    rule = {"type": "threshold", "metric": "free_tb", "warning": 5, "critical": 5, "direction": "below"}
    assert rate(rule, result({"free_tb": 4})).status == 0.0
    assert rate(rule, result({"free_tb": 6})).status == 1.0


def test_threshold_on_missing_metric_names_it():
    rule = {"type": "threshold", "metric": "efficiency", "warning": 0.8, "critical": 0.5}
    with pytest.raises(SourceError, match="efficiency"):
        rate(rule, result({"other": 1}))


def test_weakest_link_worst_row_decides_and_is_named():
    rows = [
        {"host": "ce01", "status": "OK"},
        {"host": "ce02", "status": "CRITICAL"},
        {"host": "ce03", "status": "WARNING"},
    ]
    rule = {
        "type": "weakest_link",
        "column": "status",
        "map": {"OK": 1.0, "WARNING": 0.5, "CRITICAL": 0.0},
        "label": "host",
    }
    rating = rate(rule, result(rows=rows))
    assert rating.status == 0.0
    assert "ce02" in rating.message and "2 of 3" in rating.message


def test_weakest_link_ignores_unknown_rows_but_not_all():
    rule = {"type": "weakest_link", "column": "status", "map": {"OK": 1.0, "UNKNOWN": -1}}
    assert rate(rule, result(rows=[{"status": "OK"}, {"status": "UNKNOWN"}])).status == 1.0
    assert rate(rule, result(rows=[{"status": "UNKNOWN"}])).status == -1


def test_weakest_link_numeric_column():
    rule = {"type": "weakest_link", "column": "score"}
    assert rate(rule, result(rows=[{"score": 0.9}, {"score": 0.4}])).status == 0.4


def test_fraction_of_rows_in_states():
    rows = [{"state": "OK"}] * 7 + [{"state": "STUCK"}] * 2 + [{"state": "SUSPENDED"}]
    rule = {"type": "fraction", "column": "state", "states": ["STUCK", "SUSPENDED"], "warning": 0.1, "critical": 0.5}
    rating = rate(rule, result(rows=rows))
    assert rating.status == 0.5
    assert "3 of 10" in rating.message


def test_map_rating_for_exit_codes():
    rule = {"type": "map", "metric": "exit_code", "map": {0: 1.0, 1: 0.5, 2: 0.0}, "default": -1}
    assert rate(rule, ParseResult(metrics={"exit_code": 2}, message="CRITICAL - squid down")).status == 0.0
    assert rate(rule, ParseResult(metrics={"exit_code": 3})).status == -1


def test_no_rating_means_fine_when_data_arrives():
    assert rate(None, result({"x": 1})).status == 1.0


def test_rollups():
    statuses, weights = [1.0, 0.5, 0.0, -1.0], [1.0, 1.0, 2.0, 5.0]
    worst = rollup({"type": "worst"}, statuses, weights)
    assert worst.status == 0.0 and "1 of 4 without information" in worst.message
    assert rollup({"type": "weighted"}, statuses, weights).status == pytest.approx((1.0 + 0.5) / 4)
    assert rollup({"type": "k_of_n", "k": 2}, statuses).status == 0.5
    assert rollup({"type": "k_of_n", "k": 1}, statuses).status == 1.0
    assert rollup(None, [-1.0, -1.0]).status == -1


def test_a_category_mostly_without_information_is_not_green():
    """14 of 16 modules without information: the category has none either, and says so."""
    statuses = [1.0, 1.0] + [-1.0] * 14
    for kind in ({"type": "worst"}, {"type": "weighted"}, {"type": "k_of_n", "k": 1}):
        rating = rollup(kind, statuses)
        assert rating.status == -1 and "14 of 16 modules without information" in rating.message


def test_some_modules_without_information_cap_a_category_at_warning():
    """A third without information: the fine rest cannot make the category green, and it is not
    better than warning; a worse value stays worse. The shares are configurable per category."""
    statuses = [1.0, 1.0, 1.0, 1.0, -1.0, -1.0]
    capped = rollup({"type": "worst"}, statuses)
    assert capped.status == 0.5 and "2 of 6 without information, so at most warning" in capped.message
    assert rollup({"type": "worst"}, [0.0, 1.0, 1.0, 1.0, -1.0, -1.0]).status == 0.0
    assert rollup({"type": "worst", "noinfo_warning": 0.4}, statuses).status == 1.0
    assert rollup({"type": "worst", "noinfo_unknown": 0.3}, statuses).status == -1
    one_of_five = rollup({"type": "worst"}, [1.0, 1.0, 1.0, 1.0, -1.0])
    assert one_of_five.status == 1.0 and "1 of 5 without information" in one_of_five.message


def test_k_of_n_needs_k_modules_with_information():
    """Three perfSONAR hosts of which one answers cannot show that two links work."""
    rating = rollup({"type": "k_of_n", "k": 2, "noinfo_unknown": 1.0, "noinfo_warning": 1.0}, [1.0, -1.0, -1.0])
    assert rating.status == -1 and "only 1 of 3 modules have information, 2 are needed" in rating.message


def test_modules_in_downtime_do_not_count_as_without_information():
    rating = rollup({"type": "worst"}, [1.0, 1.0, 0.0, 0.0], downtime=[False, False, True, True])
    assert rating.status == 1.0 and "2 in downtime" in rating.message and "without" not in rating.message


def test_levels_boundaries():
    levels = Levels()
    assert [levels.level(s) for s in (1.0, 0.66, 0.65, 0.33, 0.32, 0.0, -1)] == [
        "ok",
        "ok",
        "warning",
        "warning",
        "critical",
        "critical",
        "noinfo",
    ]
    custom = Levels(ok=0.9, warning=0.5)
    assert custom.level(0.8) == "warning"
    with pytest.raises(ValueError):
        Levels(ok=0.2, warning=0.5)


def test_messages_show_large_numbers_readably():
    rule = {"type": "threshold", "metric": "min_free", "warning": 2e13, "critical": 8e12, "direction": "below"}
    rating = rate(rule, result({"min_free": 4.13e13}))
    assert rating.message == "min_free = 41.3T (fine)"
    assert rate(rule, result({"min_free": 5e12})).message == "min_free = 5T (critical below 8T)"
