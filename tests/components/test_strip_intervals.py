"""The status strip of modules that do not run every run: a result holds until the module's next
run is due (no zebra stripes for 30-minute and hourly modules), and only a run that should have
brought a result and did not is marked "no run".

The store is written by the real runner, not forced: every 15 minutes it runs the modules that are
due (``store_factory_history.build_interval_store``).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from store_factory_history import FLAKY_GAP, INTERVAL_TIMES, build_interval_store, interval_config

from hfpanel.components.strip import EMPTY_COLOR, MISSING_COLOR, StatusStrip
from hfpanel.components.strip_canvas import StripCanvas
from hfpanel.components.style import LEVEL_COLORS


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return build_interval_store(tmp_path_factory.mktemp("intervals") / "store")


def drawn(strip: StatusStrip, module: str) -> pd.DataFrame:
    """The module's cells as the canvas draws them (colour from the code sent to the browser)."""
    canvas = strip.__panel__().select(StripCanvas)[0]
    grid = strip.grid.assign(
        drawn=[canvas.colors.get(code, EMPTY_COLOR) for code in canvas.codes],
        hover=[canvas.texts[i] if i >= 0 else "" for i in canvas.text_of],
    )
    return grid[grid["name"] == module].sort_values("cell").reset_index(drop=True)


def test_a_result_holds_until_the_next_run_is_due(root):
    strip = StatusStrip(store=root)  # no site config: the intervals stored with the runs
    assert strip.run_times == INTERVAL_TIMES
    half, hourly = drawn(strip, "half"), drawn(strip, "hourly")
    assert set(half["drawn"]) == {LEVEL_COLORS["ok"]}, "a 30-minute module is not zebra-striped"
    assert set(hourly["drawn"]) == {LEVEL_COLORS["warning"]}
    assert list(half["state"][:4]) == ["run", "held", "run", "held"]
    assert list(hourly["state"][:5]) == ["run", "held", "held", "held", "run"]
    assert "held: the result of 2026-03-11 06:00 UTC (runs every 1h)" in hourly["hover"][3]
    assert set(strip.matrix().loc["hourly"]) == {"warning"}, "what is shown is the result that holds"


def test_only_a_run_that_was_due_is_marked_missing(root):
    strip = StatusStrip(store=root)
    missing = strip.grid[strip.grid["state"] == "missing"]
    assert list(missing["name"]) == ["flaky", "flaky"], "nothing else is missing"
    assert [strip.cells["time"].iloc[c] for c in missing["cell"]] == FLAKY_GAP
    flaky = drawn(strip, "flaky")
    gap = flaky[flaky["state"] == "missing"]
    assert set(gap["drawn"]) == {MISSING_COLOR} and MISSING_COLOR not in (EMPTY_COLOR, *LEVEL_COLORS.values())
    assert set(gap["level_text"]) == {"no run"}
    assert all(text.startswith("no run") and "runs every 15m" in text for text in gap["hover"])
    assert strip.level_at("flaky", FLAKY_GAP[0]) == ""
    assert "no run" in strip._head.object, "the legend names the mark"


def test_the_site_config_says_how_often_a_module_runs(root):
    """A config that says the hourly module runs every 15 minutes: its quiet runs are missing."""
    config = interval_config(root)
    hourly = next(m for m in config.modules if m.name == "hourly")
    config = dataclasses.replace(
        config, modules=[dataclasses.replace(hourly, interval=900.0) if m is hourly else m for m in config.modules]
    )
    strip = StatusStrip(store=root, config=config)
    states = drawn(strip, "hourly")["state"]
    assert list(states[:5]) == ["run", "missing", "missing", "missing", "run"]
    assert list(drawn(strip, "half")["state"][:2]) == ["run", "held"]


def test_held_results_reach_back_before_the_window(root):
    """A window opening between two runs of the hourly module starts with its result held."""
    strip = StatusStrip(store=root, hours=0.75)  # 09:30, 09:45, 10:00: the last hourly run was 09:00
    hourly = drawn(strip, "hourly")
    assert list(hourly["state"]) == ["held", "held", "run"]
    assert set(hourly["drawn"]) == {LEVEL_COLORS["warning"]}
