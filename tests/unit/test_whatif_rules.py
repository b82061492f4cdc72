"""The what-if's fast path gives exactly what the rating type gives, value by value."""

import numpy as np
import pytest

from hfpanel.collector import ParseResult
from hfpanel.rating import rate
from hfpanel.reports.whatif import threshold_many

RULES = [
    {"type": "threshold", "metric": "m", "warning": 0.8, "critical": 0.5},
    {"type": "threshold", "metric": "m", "warning": 10, "critical": 20},
    {"type": "threshold", "metric": "m", "warning": 5, "critical": 5, "direction": "below"},
    {"type": "threshold", "metric": "m", "warning": 5, "critical": 5, "direction": "above"},
]


@pytest.mark.parametrize("rule", RULES)
def test_threshold_many_is_the_threshold_rating(rule):
    values = np.concatenate([np.random.default_rng(1).uniform(-5, 30, 500), [0.5, 0.8, 5, 10, 20, np.nan]])
    expected = [rate(rule, ParseResult(metrics={"m": v})).status for v in values]
    assert list(threshold_many(rule, values)) == expected


@pytest.mark.parametrize("kind", ["worst", "weighted"])
@pytest.mark.parametrize("policy", [{}, {"noinfo_warning": 0.1, "noinfo_unknown": 0.3}])
def test_rollup_many_is_the_rollup(kind, policy):
    from hfpanel.rating import is_downtime_rollup, rollup
    from hfpanel.reports.whatif import rollup_many

    rng = np.random.default_rng(2)
    runs, members = 400, 6
    s = rng.choice([1.0, 0.5, 0.0, 0.93, -1.0, np.nan], size=(runs, members))
    w = rng.choice([1.0, 2.0, 0.0], size=(runs, members))
    d = (rng.random((runs, members)) < 0.1).astype(float)
    s[:5] = np.nan  # runs without any member
    d[5:10] = 1.0  # every member in downtime
    rule = {"type": kind, **policy}
    status, in_downtime = rollup_many(rule, s, w, d)
    for i in range(runs):
        present = ~np.isnan(s[i])
        rating = rollup(rule, list(s[i][present]), list(w[i][present]), [bool(x) for x in d[i][present]])
        assert status[i] == pytest.approx(rating.status, abs=1e-12), i
        assert bool(in_downtime[i]) == is_downtime_rollup(rating), i


def test_the_summary_counts_each_names_own_runs():
    """Runs per level both ways, runs changed and level changes per name, counted for every name at
    once, are what one name's runs alone give (oldest first)."""
    import pandas as pd

    from hfpanel.reports.whatif import LEVEL_ORDER, _summary

    rng = np.random.default_rng(4)
    n = 600
    frame = pd.DataFrame(
        {
            "time": pd.Timestamp("2026-11-01") + pd.to_timedelta(rng.permutation(n) * 900, unit="s"),
            "module": rng.choice(["a", "b", "c"], n),
            "level": rng.choice(LEVEL_ORDER, n),
            "whatif_level": rng.choice(LEVEL_ORDER, n),
        }
    )
    summary = _summary(frame, "module", "module").set_index("name")
    assert list(summary.index) == ["a", "b", "c"]
    for name, part in frame.groupby("module"):
        part = part.sort_values("time")
        row = summary.loc[name]
        assert row["runs"] == len(part)
        assert row["runs_changed"] == (part["level"] != part["whatif_level"]).sum()
        assert row["level_changes"] == (part["level"].to_numpy()[1:] != part["level"].to_numpy()[:-1]).sum()
        assert (
            row["whatif_level_changes"]
            == (part["whatif_level"].to_numpy()[1:] != part["whatif_level"].to_numpy()[:-1]).sum()
        )
        for level in LEVEL_ORDER:
            assert row[level] == (part["level"] == level).sum()
            assert row[f"whatif_{level}"] == (part["whatif_level"] == level).sum()
