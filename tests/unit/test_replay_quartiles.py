"""The replay's metric-jump baselines (``rolling_quartiles``) are pandas' rolling quantiles of the
values before each one, bit for bit — ties, short series, a window longer than a series and
``min_runs`` included — so swapping pandas' three skip-list passes for one sort changed no answer."""

import numpy as np
import pandas as pd
import pytest

from hfpanel.events.replay import rolling_quartiles


def _pandas(values: np.ndarray, series: np.ndarray, window: int, min_runs: int) -> list[np.ndarray]:
    grouped = pd.Series(values).groupby(series)
    out = []
    for q in (0.25, 0.5, 0.75):
        rolled = grouped.rolling(window, min_periods=min_runs).quantile(q).reset_index(level=0, drop=True)
        out.append(rolled.sort_index().groupby(series).shift(1).to_numpy())
    return out


@pytest.mark.parametrize(("window", "min_runs"), [(20, 8), (5, 1), (12, 5), (3, 3)])
def test_rolling_quartiles_are_pandas_rolling_quantiles_shifted(window, min_runs):
    rng = np.random.default_rng(window * 100 + min_runs)
    lengths = [1, 2, 7, window, window + 1, 90, 400]
    series = np.repeat(np.arange(len(lengths)), lengths)
    values = rng.choice([0.0, 1.0, 2.0, 3.5, 1e6, -4.0, 0.1], len(series))  # many ties
    values[series == 6] = rng.normal(100, 3, lengths[-1])
    position = np.concatenate([np.arange(n) for n in lengths])
    ours = rolling_quartiles(values, position, window, min_runs, block=64)  # several blocks
    for got, want in zip(ours, _pandas(values, series, window, min_runs)):
        np.testing.assert_array_equal(got, want)
    assert np.isnan(ours[1][position < min_runs]).all()
    assert not np.isnan(ours[1][position >= max(min_runs, 1)]).any()
