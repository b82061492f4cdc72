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
