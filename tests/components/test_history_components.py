"""The history components as a shifter uses them: status strips, what changed, why this colour, search.

No server: components are built in-process over stores made by the real runner and writer
(``store_factory``, ``store_factory_history``) and over a year of synthetic runs written straight
through ``StoreWriter.write``. Timing lives in ``benchmarks/bench_components.py``, not here.
"""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import panel as pn
import pytest
from panes import html_of
from store_factory import HOSTILE, build_store
from store_factory_history import HOST, SE, build_rated_store, build_year_store

from hfpanel.components import TimeTravel
from hfpanel.components.changes import WhatChanged, shift_start
from hfpanel.components.search import Search
from hfpanel.components.strip import EMPTY_COLOR, StatusStrip
from hfpanel.components.strip_canvas import StripCanvas
from hfpanel.components.why import WhyThisColour
from hfpanel.levels import Levels
from hfpanel.queries import history, loaders
from hfpanel.store import Store

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def info(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("more") / "store")


@pytest.fixture(scope="module")
def rated(tmp_path_factory):
    return build_rated_store(tmp_path_factory.mktemp("rated") / "store")


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """365 days × 24 runs × 100 modules (876,000 status rows), one file per table and day
    (the benchmark uses 96 runs a day)."""
    return build_year_store(tmp_path_factory.mktemp("year") / "store", runs_per_day=24)


def history_levels(store: Store, module: str, since, until) -> dict:
    frame = store.module_history(module, since, until)
    frame = frame[frame["time"] > since]
    return dict(zip(pd.to_datetime(frame["time"]), frame["level"]))


def rectangles(strip: StatusStrip) -> pd.DataFrame:
    """The cells the canvas draws: the strip's grid, checked against the codes sent to the browser."""
    canvas = strip.__panel__().select(StripCanvas)[0]
    drawn = [canvas.colors.get(code, EMPTY_COLOR) for code in canvas.codes]
    assert drawn == list(strip.grid["color"]) and len(canvas.labels) * canvas.n_cells == len(drawn)
    return strip.grid


# -- StatusStrip -------------------------------------------------------------------------------------
def test_strip_cells_are_the_runs_and_match_module_history(info):
    strip = StatusStrip(store=info.root)
    assert strip.run_times == info.times, "one cell per run of the last 24 h"
    store = Store(info.root)
    since, until = strip.window
    assert until == info.times[-1] and until - since == pd.Timedelta(hours=24)
    matrix = strip.matrix()
    for module in info.expected[info.times[0]]:
        stored = history_levels(store, module, since, until)
        assert dict(matrix.loc[module]) == stored, module
        assert dict(matrix.loc[module]) == {t: info.expected[t][module] for t in info.times}
    assert list(matrix.loc["sam_ce"]) == ["ok", "ok", "ok", "critical"]
    categories = strip.matrix("category")
    assert list(categories.loc["availability"]) == ["ok", "ok", "ok", "critical"]
    assert list(categories.loc["storage"]) == ["ok", "warning", "ok", "ok"]
    # display order: each category followed by its modules
    assert list(strip.rows["name"][:3]) == ["availability", "sam_ce", "sam_srm"]


def test_strip_colours_and_escaped_hover(info):
    strip = StatusStrip(store=info.root)
    grid = rectangles(strip)
    assert len(grid) == len(strip.rows) * len(info.times)
    sam = grid[grid["name"] == "sam_ce"].sort_values("x0")
    assert list(sam["color"]) == ["#188038", "#188038", "#188038", "#c5221f"]
    assert "Last 24 h" in html_of(strip) and "4 runs, one cell each" in html_of(strip)
    canvas = strip.__panel__().select(StripCanvas)[0]
    critical = canvas.texts[canvas.text_of[list(strip.rows["name"]).index("sam_ce") * canvas.n_cells + 3]]
    assert critical.startswith("critical · status")
    # hover texts come from sources: the browser sets them as text, never as HTML
    assert "textContent" in StripCanvas._esm and "innerHTML" not in StripCanvas._esm


def test_strip_cell_is_empty_when_a_module_has_no_row(rated):
    strip = StatusStrip(store=rated.root, config=rated.config)
    assert strip.run_times == rated.times
    matrix = strip.matrix()
    for when in rated.times:
        assert dict(matrix[when]) == rated.expected[when]
    assert strip.level_at("squid", rated.times[0]) == "", "squid joined the config after the first run"
    grid = rectangles(strip)
    cell = grid[(grid["name"] == "squid") & (grid["x0"] == 0)]
    assert list(cell["color"]) == [EMPTY_COLOR] and list(cell["level_text"]) == ["no row"]
    assert list(grid.loc[(grid["name"] == "sam_srm"), "level_text"])[-1] == "downtime"


def test_clicking_a_cell_sets_time_and_module(info):
    strip = StatusStrip(store=info.root)
    travel = TimeTravel(store=info.root)
    strip.param.watch(lambda event: travel.go(event.new), "time")  # how the dashboard links them
    row = int(strip.rows.index[strip.rows["name"] == "dcache_pools"][0])
    strip._plot._handle_msg({"row": row, "cell": 1})  # what a click on the canvas sends
    assert strip.time == info.times[1] and strip.selected == "dcache_pools"
    assert travel.time == info.times[1]
    assert strip.window[1] == info.times[-1], "clicking inside the window does not move it"
    assert strip.marked_cell == 1, "the viewed run is outlined"
    strip._plot._handle_msg({})  # a click outside the cells sends nothing usable
    strip.click(x=99.0, y=-0.5)
    assert strip.time == info.times[1]
    strip.click(x=3.2, y=-0.5)  # the category row: time, but no module
    assert strip.time == info.times[3] and strip.selected == "dcache_pools"


def test_strip_follows_time_travel_and_filters_a_category(info):
    strip = StatusStrip(store=info.root, hours=1.5, time=info.times[0])
    assert strip.window[1] == info.times[0], "before the window: the window ends at the viewed run"
    assert strip.run_times == [info.times[0]]
    strip.category = "jobs"
    assert set(strip.rows["name"]) == {"jobs", "condor_queue", "condor_nodes"}
    assert strip.time == info.times[0]
    strip.param.update(time=None, hours=24)
    assert strip.matrix().loc["condor_queue"].tolist() == ["ok", "noinfo", "noinfo", "noinfo"]


def test_strip_config_orders_rows_and_shows_modules_without_rows(info):
    config = dataclasses.replace(info.config, modules=[*info.config.modules])
    strip = StatusStrip(store=info.root, config=config)
    assert list(strip.rows["name"]) == [
        "availability",
        "sam_ce",
        "sam_srm",
        "storage",
        "dcache_pools",
        "jobs",
        "condor_queue",
        "condor_nodes",
    ]


def test_strip_on_a_year_reads_only_the_window_days(year):
    store = Store(year)
    scanned = []
    real_scan = store.scan

    def spy(table, since=None, until=None):
        scanned.append(real_scan(table, since, until))
        return scanned[-1]

    store.scan = spy
    loaders.clear_cache()
    strip = StatusStrip(store=store)
    since, until = strip.window
    assert len(strip.run_times) == 24 and len(strip.rows[strip.rows["kind"] == "module"]) == 100
    days = {d for sql in scanned for d in re.findall(r"day=(\d{4}-\d{2}-\d{2})", sql)}
    assert days == {since.strftime("%Y-%m-%d"), until.strftime("%Y-%m-%d")}, "only the window's partitions"
    assert all("read_parquet" in sql or "WHERE false" in sql for sql in scanned), "never a whole-table view"
    matrix = strip.matrix()
    for module in ("module_000", "module_042", "module_099"):
        assert dict(matrix.loc[module]) == history_levels(store, module, since, until)


def test_strip_bins_long_windows_by_worst_level(year):
    store = Store(year)
    strip = StatusStrip(store=store, hours=24 * 7, max_cells=84)
    assert len(strip.cells) == 84 and int(strip.cells["runs"].sum()) == 7 * 24
    severity = {"critical": 0, "noinfo": 1, "warning": 2, "downtime": 3, "ok": 4}
    since, until = strip.window
    frame = store.module_history("module_007", since, until)
    frame = frame[frame["time"] > since]
    for cell in strip.cells.itertuples():
        runs = frame[(frame["time"] >= cell.first) & (frame["time"] <= cell.time)]
        worst = min(runs["level"], key=severity.get)
        assert strip.level_at("module_007", cell.time) == worst
    strip.click(x=10.5, y=-1.5)
    assert strip.time == strip.cells["time"].iloc[10], "a bin's click goes to its last run"


# -- WhatChanged -------------------------------------------------------------------------------------
def test_shift_boundaries():
    assert shift_start(pd.Timestamp("2026-03-11 07:59")) == pd.Timestamp("2026-03-11 00:00")
    assert shift_start(pd.Timestamp("2026-03-11 08:00")) == pd.Timestamp("2026-03-11 08:00")
    assert shift_start(pd.Timestamp("2026-03-11 23:59:59")) == pd.Timestamp("2026-03-11 16:00")


def test_what_changed_in_this_shift(rated):
    changed = WhatChanged(store=rated.root)  # now: the 09:00 run; the shift began at 08:00
    assert changed.window == (pd.Timestamp("2026-03-11 08:00"), rated.times[-1])
    moves = {(r.module, r.from_level, r.to_level, r.time) for r in changed.data.itertuples()}
    assert ("sam_ce", "ok", "critical", rated.times[2]) in moves
    assert ("sam_srm", "ok", "downtime", rated.times[3]) in moves
    assert ("condor_queue", "ok", "noinfo", rated.times[3]) in moves
    assert {m for m, *_ in moves} == {"sam_ce", "sam_srm", "dcache_pools", "condor_queue", "squid"}
    text = html_of(changed)
    assert "5 modules changed level" in text and "SAM CE tests" in text and "(start of the shift)" in text
    # the appeared detail row, with the table's text columns as key
    rows = changed.row_changes
    sam = rows[rows["module"] == "sam_ce"]
    assert "ce=ce04.demo-t2.example.org, flavour=ARC-CE, result=OK" in set(sam.loc[sam["change"] == "appeared", "key"])
    assert set(sam["since_time"]) == {rated.times[1]} and set(sam["until_time"]) == {rated.times[3]}
    assert rows[rows["module"] == "condor_queue"].empty, "a failing module's last good rows did not change"


def test_what_changed_with_keys_names_changed_columns(rated):
    changed = WhatChanged(store=rated.root, time=rated.times[-1], keys={"sam_ce": ["ce"], "dcache_pools": ["pool"]})
    rows = changed.row_changes.set_index(["module", "change", "key"])
    assert ("sam_ce", "appeared", "ce=ce04.demo-t2.example.org") in rows.index
    assert rows.loc[("sam_ce", "changed", f"ce={HOST}"), "changed"] == "result: OK → CRITICAL"
    assert rows.loc[("dcache_pools", "changed", "pool=pool02"), "columns"] == ["state"]
    text = html_of(changed)
    assert "+ appeared</b> ce=ce04.demo-t2.example.org" in text
    assert f"~ changed</b> ce={HOST}: result: OK → CRITICAL" in text


def test_what_changed_between_any_two_runs_and_escapes(rated):
    changed = WhatChanged(store=rated.root, since=rated.times[2], until=rated.times[3])
    assert set(changed.data["module"]) == {"sam_srm", "condor_queue", "squid"}
    squid = changed.row_changes[changed.row_changes["module"] == "squid"]
    assert set(squid["change"]) == {"appeared", "vanished"}
    text = html_of(changed)
    assert HOSTILE not in text
    changed.since = rated.times[0]
    assert "sam_ce" in set(changed.data["module"])
    first = changed.data[changed.data["module"] == "squid"].iloc[0]
    assert first["from_level"] is None and first["to_level"] == "ok" and first["time"] == rated.times[1]
    assert "(first row)" in html_of(changed)
    joined = WhatChanged(store=rated.root, since=rated.times[0], until=rated.times[1])
    assert list(joined.data["module"]) == ["squid"], "only the new module; the others kept their level"
    assert set(joined.row_changes["module"]) == {"squid"} and set(joined.row_changes["change"]) == {"appeared"}
    nothing = WhatChanged(store=rated.root, since=rated.times[3], until=rated.times[3])
    assert nothing.data.empty and nothing.row_changes.empty
    assert "No module changed level" in html_of(nothing)


def test_what_changed_escapes_source_text(info):
    changed = WhatChanged(store=info.root, since=info.times[0])
    assert any(HOSTILE in key for key in changed.row_changes["key"]), "the data keeps the source's text"
    text = html_of(changed)
    assert ESCAPED in text and HOSTILE not in text


# -- WhyThisColour -----------------------------------------------------------------------------------
def test_why_names_the_failing_row_and_the_threshold(rated):
    # at the last run (viewed now, months later, its data is too old: no information, tested in test_overview)
    why = WhyThisColour(store=rated.root, module="sam_ce", config=rated.config, time=rated.times[-1])
    text = why.text
    assert why.rule_source == "the site config" and why.rule["type"] == "weakest_link"
    assert f"weakest link over rows[result]: {HOST} = CRITICAL → 0.0" in text
    assert "critical below 0.33" in text
    assert f"1 of 4 rows not fine: {HOST}" in text
    assert why.data.iloc[0]["ce"] == HOST and bool(why.data.iloc[0]["decides"])
    assert why.rating.status == 0.0 == float(why.row["status"])
    assert "Why this colour?" in html_of(why) and 'data-level="critical"' in html_of(why)
    why.time = rated.times[1]
    assert "OK (status 1.00)" in why.text
    assert "weakest link over rows[result]: all 3 rows fine → 1.0; OK — ok from 0.66" in why.text


def test_why_threshold_from_the_collector_default(rated):
    why = WhyThisColour(store=rated.root, module="squid")  # no config: the rule stored with the run
    assert why.rule_source == "the configuration in force at that run"  # (the collector's default then)
    assert "threshold on metric health: warning at or below 0.6, critical at or below 0.3" in why.text
    assert "health = 0.5, at or below the warning bound 0.6 → 0.5; WARNING" in why.text
    assert list(why.data["metric"]) == ["health"]


def test_why_fraction_and_config_levels(rated):
    why = WhyThisColour(store=rated.root, module="dcache_pools", config=rated.config)
    assert "3 of 10 rows (30%) have state disabled (warning at 20%, critical at 50%) → 0.5; WARNING" in why.text
    assert "Those rows: pool00, pool01, pool02" in why.text
    assert list(why.data["counts"][:4]) == [True, True, True, False]
    strict = dataclasses.replace(rated.config, levels=Levels(ok=0.9, warning=0.6))
    why.config = strict
    assert "critical below 0.6" in why.text


def test_why_downtime_names_the_downtime(rated):
    why = WhyThisColour(store=rated.root, module="sam_srm", config=rated.config)
    assert why.row["level"] == "downtime"
    assert f"Shown as DOWNTIME instead of CRITICAL: {SE}: scheduled GOCDB downtime 38201" in why.text
    assert f"{SE} = CRITICAL → 0.0" in why.text


def test_why_no_information_says_the_source_failed(rated):
    why = WhyThisColour(store=rated.root, module="condor_queue", config=rated.config)
    assert f"No information: the source failed — connection refused: {HOST}:9618" in why.text
    assert "Last good data: 2026-03-11 08:30 UTC" in why.text
    assert why.data.empty


def test_why_escapes_and_handles_unknown_modules(info):
    why = WhyThisColour(store=info.root, module="condor_nodes")
    assert HOSTILE in why.text
    assert ESCAPED in html_of(why) and HOSTILE not in html_of(why)
    why.module = "no_such_module"
    assert "no_such_module has no row in the store now." in why.text
    why.module = ""
    assert "Pick a module" in html_of(why)


# -- Search ----------------------------------------------------------------------------------------
def test_search_finds_a_host_in_several_modules(rated):
    search = Search(store=rated.root, query=HOST.upper())  # case-insensitive
    details = search.data[search.data["kind"] == "detail"]
    assert {"sam_ce", "condor_queue", "squid"} <= set(details["module"])
    assert {"sam_ce", "condor_queue", "squid"} <= set(search.modules)
    assert "rows[schedd]" in set(details.loc[details["module"] == "condor_queue", "where"]), (
        "a failing module is searched in its last good rows"
    )
    assert "sam_srm" not in set(search.modules)
    assert "error" in set(search.data.loc[search.data["module"] == "condor_queue", "where"])
    buttons = {b.label: b for b in search.__panel__().select(pn.widgets.Button)}
    buttons["Frontier squids"].clicks += 1
    assert search.selected == "squid"


def test_search_escapes_snippets(rated):
    search = Search(store=rated.root, query="proxy on")
    squid = search.data[search.data["module"] == "squid"]
    assert HOSTILE in squid["snippet"].iloc[0]
    text = html_of(search)
    assert ESCAPED.replace("script", "script") in text.replace("<mark>", "").replace("</mark>", "")
    assert HOSTILE not in text and "<script" not in text
    assert "<mark>proxy on</mark>" in text


def test_search_as_of_the_viewed_time_modules_and_categories(rated):
    search = Search(store=rated.root, query="ce04")
    assert set(search.modules) == {"sam_ce"}
    search.time = rated.times[0]
    assert search.data.empty, "ce04 appeared later"
    search.param.update(time=None, query="storage")
    assert "storage" in set(search.data.loc[search.data["kind"] == "category", "category"])
    search.query = "SAM SRM"
    assert list(search.data["where"]) == ["title"] and search.modules == ["sam_srm"]
    search.query = "x"
    assert search.data.empty and "at least 2 characters" in html_of(search)


def test_search_input_is_never_sql(rated):
    search = Search(store=rated.root)
    for query in ("x' OR 1=1 --", '") OR true --', "%", "_", "\\"):
        search.query = query
        assert search.data.empty, query
    widget = search.__panel__().select(pn.widgets.TextInput)[0]
    widget.value = "pool01"
    assert search.query == "pool01" and search.modules == ["dcache_pools"]


# -- all four ----------------------------------------------------------------------------------------
def test_components_render_and_share_cached_answers(rated):
    made = [
        StatusStrip(store=rated.root),
        WhatChanged(store=rated.root),
        WhyThisColour(store=rated.root, module="sam_ce"),
        Search(store=rated.root, query=HOST),
    ]
    for component in made:
        assert component.__panel__().get_root() is not None
    before = dict(loaders.stats)
    StatusStrip(store=rated.root), WhatChanged(store=rated.root), Search(store=rated.root, query=HOST)
    WhyThisColour(store=rated.root, module="sam_ce")
    assert loaders.stats["misses"] == before["misses"], "a second session must not query again"


def test_history_loaders_bind_user_text():
    assert history.like_pattern("50%_x\\") == "%50\\%\\_x\\\\%"
    assert history.quote_ident('we"ird') == '"we""ird"'


def test_strip_window_can_end_in_the_past(info):
    strip = StatusStrip(store=info.root, end=info.times[1], hours=3)
    assert strip.window[1] == info.times[1] and strip.run_times == info.times[:2]
    strip.time = info.times[1]
    assert strip.marked_cell == 1
    strip.time = info.times[3]
    assert strip.marked_cell == -1, "a later run than the window's last is not outlined"
    assert strip.window[1] == info.times[1]


def test_why_this_colour_explains_with_the_rule_in_force_at_that_run(tmp_path):
    """Served with the store alone, a module is explained by the rule that rated it then (stored with
    the run), not by its collector's default; a later rule change does not rewrite the past."""
    import store_factory  # noqa: F401  (registers the fake collector)

    from hfpanel.components.why import WhyThisColour
    from hfpanel.config import parse_config
    from hfpanel.runner import Runner
    from hfpanel.store import StoreWriter

    def config(rule):
        return parse_config(
            {
                "site": "T",
                "store": str(tmp_path),
                "categories": [{"name": "c"}],
                "modules": [
                    {"name": "probe", "category": "c", "collector": "fake", "params": {"health": 2}, "rating": rule}
                ],
            }
        )

    exit_codes = {"type": "map", "metric": "health", "map": {0: 1.0, 1: 0.5, 2: 0.0}}
    first, later = pd.Timestamp("2026-11-20 10:00"), pd.Timestamp("2026-11-20 11:00")
    with StoreWriter(tmp_path) as writer:
        Runner(config(exit_codes)).run_once(writer, now=first, force=True)
        Runner(config({"type": "threshold", "metric": "health", "warning": 5, "critical": 9})).run_once(
            writer, now=later, force=True
        )
    then = WhyThisColour(store=tmp_path, module="probe", time=first)
    assert then.rule == {**exit_codes, "map": {"0": 1.0, "1": 0.5, "2": 0.0}}  # JSON keys: matched as text
    assert then.rule_source == "the configuration in force at that run"
    assert "health = 2 → 0.0 (from the map); CRITICAL" in then.text
    now = WhyThisColour(store=tmp_path, module="probe")
    assert now.rule["type"] == "threshold" and "on the good side of the warning bound 5" in now.text
    # secrets never reach the store
    from hfpanel.stored_config import redact

    assert redact(
        {"bearer_token_file": "/etc/t", "headers": {"Authorization": "Bearer x", "Accept": "a"}, "url": "https://x"}
    ) == {"bearer_token_file": "***", "url": "https://x", "headers": {"Authorization": "***", "Accept": "a"}}
