"""The Panel components, as a shifter would notice them: levels, roll-ups, time travel, escaping.

No server: components are built in-process over a small store made by the real runner and writer.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import pytest
from panel.io.location import Location
from panes import html_of
from store_factory import HOSTILE, build_store, site_config

from hfpanel.components import Dashboard, ModuleView, StatusOverview, TimeTravel, shared_store, to_time
from hfpanel.components.style import fmt_time, iso, link
from hfpanel.queries import loaders
from hfpanel.runner import Runner
from hfpanel.store import StoreWriter

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def info(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("components") / "store")


def levels(frame: pd.DataFrame) -> dict:
    return dict(zip(frame["module"], frame["level"]))


# -- StatusOverview ---------------------------------------------------------------------------------
def test_overview_levels_now(info):
    overview = StatusOverview(store=info.root)
    assert levels(overview.data) == info.expected[info.times[-1]]
    assert overview.level_of("sam_ce") == "critical"
    row = overview.data.set_index("module").loc["condor_queue"]
    assert row["error"] == "connection refused: condor.example.org:9618"
    assert row["is_stale"], "a module failing for 3 hours must be marked stale"
    assert 0 <= row["age_s"] < 3600, "at now the age is measured from the wall clock"


def test_overview_time_travel(info):
    overview = StatusOverview(store=info.root, time=info.times[1])
    assert levels(overview.data) == info.expected[info.times[1]]
    assert overview.level_of("dcache_pools") == "warning"
    overview.time = info.times[0]
    assert levels(overview.data) == info.expected[info.times[0]]
    overview.time = None
    assert overview.level_of("sam_ce") == "critical"


def test_overview_between_runs_uses_the_earlier_run_and_ages_from_the_viewed_time(info):
    half_past = info.times[1] + pd.Timedelta(minutes=30)
    overview = StatusOverview(store=info.root, time=half_past)
    assert levels(overview.data) == info.expected[info.times[1]]
    assert set(overview.data["age_s"]) == {1800.0}


def test_overview_before_the_first_run_says_so(info):
    overview = StatusOverview(store=info.root, time=info.times[0] - pd.Timedelta(days=1))
    assert overview.data.empty
    assert "No runs in the store" in html_of(overview)


def test_category_tiles_roll_up(info):
    overview = StatusOverview(store=info.root)
    tiles = overview.categories.set_index("category")
    assert tiles.loc["availability", "level"] == "critical"
    assert (tiles.loc["availability", "ok"], tiles.loc["availability", "critical"]) == (1, 1)
    assert tiles.loc["jobs", "noinfo"] == 1 and tiles.loc["jobs", "ok"] == 1
    assert tiles.loc["storage", "title"] == "Storage"
    overview.time = info.times[1]
    tiles = overview.categories.set_index("category")
    assert tiles.loc["storage", "level"] == "warning"
    assert tiles.loc["availability", "level"] == "ok"


def test_overview_html_shows_what_a_shifter_reads(info):
    overview = StatusOverview(store=info.root)
    text = html_of(overview)
    for word in (
        "Site availability",
        "Batch system",
        "Storage",
        "critical",
        "noinfo",
        "stale",
        "No information:",
        "connection refused: condor.example.org:9618",
        "3 of 4 CEs failing",
    ):
        assert word in text, word
    assert 'data-category="availability" data-level="critical"' in text
    for module, title in (
        ("sam_ce", "SAM CE tests"),
        ("condor_queue", "HTCondor queue"),
        ("dcache_pools", "dCache pools"),
    ):
        assert f'<button class="hf-modbtn" data-select="{module}">{title}</button>' in text


def test_clicking_a_module_selects_it(info):
    overview = StatusOverview(store=info.root)
    assert 'data-select="condor_nodes">Worker nodes</button>' in overview._tiles["jobs"].view.html
    overview._tiles["jobs"].view._handle_msg({"select": "condor_nodes"})  # what the click sends
    assert overview.selected == "condor_nodes"
    assert "outline:3px solid" in overview._tiles["jobs"].view.html  # the row shows it is selected


# -- escaping ---------------------------------------------------------------------------------------
def test_source_text_is_escaped_in_the_overview(info):
    text = html_of(StatusOverview(store=info.root))
    assert ESCAPED in text
    assert HOSTILE not in text


def test_hostile_error_and_title_are_escaped(tmp_path):
    scenario = [
        {
            "sam_ce": {"fail": f"bad gateway {HOSTILE}"},
            "sam_srm": {"health": 1.0, "note": '<img src=x onerror="alert(2)">'},
        }
    ]
    store = build_store(tmp_path / "store", scenario=scenario)
    overview = StatusOverview(store=store.root)
    text = html_of(overview)
    assert f"bad gateway {ESCAPED}" in text
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in text
    assert "<img" not in text and HOSTILE not in text
    view = ModuleView(store=store.root, module="sam_ce")
    assert f"bad gateway {ESCAPED}" in html_of(view)
    assert HOSTILE not in html_of(view)


def test_detail_cells_are_plain_text(info):
    view = ModuleView(store=info.root, module="condor_nodes")
    assert HOSTILE in set(view.data["node"]), "the data keeps the source's text"
    table = view.__panel__().select(pn.widgets.Tabulator)[0]
    assert table.formatters["node"] == {"type": "plaintext"}
    assert table.formatters["state"] == {"type": "plaintext"}


def test_links_only_for_http_urls():
    assert 'href="https://x.example/a?b=1&amp;c=2"' in link("https://x.example/a?b=1&c=2", "A")
    assert "href" not in link("javascript:alert(1)", "bad")
    assert "&lt;b&gt;" in link("https://x.example", "<b>")


# -- ModuleView ------------------------------------------------------------------------------------
def test_module_view_shows_the_reason_for_no_information(info):
    view = ModuleView(store=info.root, module="condor_queue")
    assert view.status["level"] == "noinfo"
    text = html_of(view)
    assert "No information:" in text and "connection refused: condor.example.org:9618" in text
    assert "Last good data" in text and fmt_time(info.times[0]) in text
    assert 'data-level="noinfo"' in text
    # the detail shown is the last successful run's, and says so
    assert view.detail_time == info.times[0]
    assert f"as of {fmt_time(info.times[0])}" in text
    assert "last successful run" in text


def test_module_view_detail_as_of_a_past_run(info):
    view = ModuleView(store=info.root, module="sam_ce", time=info.times[1])
    assert set(view.data["run"]) == {1}
    assert view.detail_time == info.times[1]
    assert f"as of {fmt_time(info.times[1])}" in html_of(view)
    view.time = None
    assert set(view.data["run"]) == {3}
    assert (view.data["result"] == "CRITICAL").sum() == 3
    table = view.__panel__().select(pn.widgets.Tabulator)[0]
    assert table.sortable and list(table.value.columns) == ["ce", "result", "run"]


def test_module_view_history(info):
    view = ModuleView(store=info.root, module="sam_ce")
    assert list(view.history["level"]) == ["ok", "ok", "ok", "critical"]
    view.time = info.times[1]
    assert len(view.history) == 2


def test_module_view_links_from_config_or_source(info):
    with_config = ModuleView(store=info.root, module="sam_ce", config=info.config)
    text = html_of(with_config)
    assert "If critical for more than an hour, open a GGUS ticket.<br>Check the CE log first." in text
    assert 'href="https://sam.example.org/ce"' in text and "SAM dashboard" in text
    without = ModuleView(store=info.root, module="sam_srm")
    assert 'href="https://monitor.example.org/sam_srm"' in html_of(without)
    assert "What to do" not in html_of(without)


def test_module_view_without_module_or_unknown_module(info):
    view = ModuleView(store=info.root)
    assert "Select a module" in html_of(view)
    assert view.data.empty
    view.module = "no_such_module"
    assert "has no row in the store" in html_of(view)


# -- TimeTravel ------------------------------------------------------------------------------------
def test_timetravel_steps_between_runs(info):
    travel = TimeTravel(store=info.root)
    assert travel.run_times == info.times
    assert travel.time is None and travel.shown_run == info.times[-1]
    assert "Live" in html_of(travel)
    travel.step(-1)
    assert travel.time == info.times[-2]
    assert f"Viewing the past: {fmt_time(info.times[-2])}" in html_of(travel)
    travel.step(-1)
    travel.step(-1)
    assert travel.time == info.times[0]
    travel.step(-1)
    assert travel.time == info.times[0], "there is nothing before the first run"
    travel.step(+1)
    assert travel.time == info.times[1]
    travel.step(+1)
    travel.step(+1)
    assert travel.time is None, "stepping past the last-but-one run returns to now"
    assert "Viewing the past" not in html_of(travel)


def test_timetravel_widgets(info):
    travel = TimeTravel(store=info.root)
    select = travel.__panel__().select(pn.widgets.Select)[0]
    assert list(select.options.values())[:2] == ["", iso(info.times[-1])]
    select.value = iso(info.times[1])
    assert travel.time == info.times[1]
    assert "1 warning" in next(k for k, v in select.options.items() if v == iso(info.times[1]))
    buttons = {b.label: b for b in travel.__panel__().select(pn.widgets.Button)}
    buttons["Now"].clicks += 1
    assert travel.time is None and select.value == ""
    buttons["◀ Earlier run"].clicks += 1
    assert travel.time == info.times[-2]
    travel.go("2026-01-01T00:00:00+01:00")
    assert travel.time == pd.Timestamp("2025-12-31 23:00:00")


def test_timetravel_links_components(info):
    overview, view = StatusOverview(store=info.root), ModuleView(store=info.root, module="dcache_pools")
    travel = TimeTravel(store=info.root).link(overview, view)
    travel.step(-1)
    travel.step(-1)
    assert overview.time == view.time == info.times[1]
    assert overview.level_of("dcache_pools") == view.status["level"] == "warning"


# -- the app ---------------------------------------------------------------------------------------
def test_dashboard_links_time_and_module(info):
    dash = Dashboard(store=info.root)
    dash.overview.select("sam_ce")
    assert dash.module == "sam_ce" and dash.module_view.module == "sam_ce"
    assert dash.module_view.status["level"] == "critical"
    dash.timetravel.step(-1)
    assert dash.time == info.times[-2]
    assert dash.overview.time == dash.module_view.time == info.times[-2]
    assert dash.overview.level_of("sam_ce") == "ok" and dash.module_view.status["level"] == "ok"
    dash.module_view.module = ""  # the close button
    assert dash.module == "" and dash.overview.selected == ""


def test_url_state_round_trip(info):
    location = Location(search=f"?time={iso(info.times[1])}&module=dcache_pools")
    dash = Dashboard(store=info.root)
    dash.sync_url(location)
    assert dash.time == info.times[1] and dash.module == "dcache_pools"
    assert dash.module_view.status["level"] == "warning"
    dash.timetravel.step(-1)
    assert location.query_params["time"] == iso(info.times[0])
    dash.timetravel.go_now()
    dash.module = ""
    assert "time" not in location.query_params and "module" not in location.query_params


def test_url_time_keeps_sub_second_run_times():
    run = pd.Timestamp("2026-11-20 14:00:00.250000")
    assert iso(run) == "2026-11-20T14:00:00.250000"
    assert to_time(iso(run)) == run
    assert iso(pd.Timestamp("2026-11-20 14:00")) == "2026-11-20T14:00:00"


def test_bad_time_in_url_is_ignored(info):
    dash = Dashboard(store=info.root)
    location = Location(search="?time=yesterday-ish&module=sam_ce")
    dash.sync_url(location)
    assert dash.time is None and dash.module == "sam_ce"
    assert location.query_params == {"module": "sam_ce"}, "the bad time is dropped from the URL"


def test_banner_warns_when_no_new_run_arrives(tmp_path):
    fresh = build_store(tmp_path / "fresh")
    assert "Live" in html_of(TimeTravel(store=fresh.root))
    old = build_store(tmp_path / "old", end=fresh.times[-1] - pd.Timedelta(hours=5))
    assert "No new run for 5h" in html_of(TimeTravel(store=old.root))


def test_components_render_to_bokeh_models(info):
    for component in (
        StatusOverview(store=info.root),
        ModuleView(store=info.root, module="sam_ce"),
        TimeTravel(store=info.root),
        Dashboard(store=info.root, module="condor_queue"),
    ):
        root = component.__panel__().get_root()
        assert root is not None


# -- sharing and refreshing ----------------------------------------------------------------------
def test_sessions_share_store_and_cache(info):
    assert shared_store(info.root) is shared_store(str(info.root))
    StatusOverview(store=info.root)
    before = dict(loaders.stats)
    StatusOverview(store=info.root)
    assert loaders.stats["misses"] == before["misses"], "a second session must not query again"
    assert loaders.stats["hits"] > before["hits"]


def test_new_run_shows_at_now_and_keeps_the_users_place(tmp_path):
    built = build_store(tmp_path / "store")
    dash = Dashboard(store=built.root, module="sam_ce")
    dash.start_refresh = None  # no periodic callback outside a server; tick() is called by hand
    dash._last_run = built.times[-1]
    assert dash.overview.level_of("sam_ce") == "critical"
    later = built.times[-1] + pd.Timedelta(minutes=1)
    with StoreWriter(built.root) as writer:
        Runner(site_config({"sam_ce": {"health": 1.0}}, built.root)).run_once(writer, now=later, force=True)
    dash.tick()
    assert dash.overview.level_of("sam_ce") == "ok"
    assert dash.module == "sam_ce" and dash.module_view.status["level"] == "ok"
    assert dash.timetravel.run_times[-1] == later
    # while looking at the past, a new run only extends the list of runs
    dash.timetravel.step(-1)
    past = dash.time
    with StoreWriter(built.root) as writer:
        Runner(site_config({"sam_ce": {"health": 0.0}}, built.root)).run_once(
            writer, now=later + pd.Timedelta(minutes=1), force=True
        )
    dash.tick()
    assert dash.time == past and dash.overview.level_of("sam_ce") == "critical"
    assert len(dash.timetravel.run_times) == len(built.times) + 2


def test_collapsed_cards_render_when_opened_and_follow_the_time_then(info):
    """What changed and search sit in collapsed cards: they render only once opened, and then show
    the viewed time (not the one the page was built at)."""
    dash = Dashboard(store=info.root)
    cards = {c.title: c for c in dash.__panel__().select(pn.Card)}
    changes_card = cards["What changed since the start of the shift"]
    assert changes_card.collapsed and not dash.changes.active
    assert dash.changes.data.empty  # not computed while hidden
    dash.time = info.times[1]
    changes_card.collapsed = False  # the shifter opens the card
    assert dash.changes.active and dash.changes.time == info.times[1]
    assert not dash.changes.data.empty
    assert set(dash.changes.data["module"]) <= set(dash.overview.all_modules["module"])


def test_a_failing_component_says_so_in_its_card_and_the_page_lives_on(info, caplog):
    """A bug in one component (here: why this colour) shows a message in its card, is logged once
    however often the page refreshes, and every other component keeps following the page."""
    from hfpanel.components import why as why_module

    def broken(*args, **kwargs):
        raise RuntimeError("the rule <script>exploded</script>")

    dash = Dashboard(store=info.root)
    original = why_module.WhyThisColour._update
    why_module.WhyThisColour._update = lambda self: broken() if self.module else original(self)
    try:
        with caplog.at_level("ERROR", logger="hfpanel.components"):
            dash.overview.select("sam_ce")
            for _ in range(3):
                dash.refresh()
            dash.timetravel.step(-1)
    finally:
        why_module.WhyThisColour._update = original
    assert dash.why.failure == "RuntimeError: the rule <script>exploded</script>"
    text = dash.why._failure.object
    assert "could not be shown" in text and "&lt;script&gt;" in text and "<script>" not in text
    assert not any(pane.visible for pane in dash.why._layout if pane is not dash.why._failure)
    assert dash.module_view.module == "sam_ce" and dash.module_view.time == info.times[-2]  # the rest carries on
    assert dash.overview.level_of("sam_ce") == "ok"
    assert len([r for r in caplog.records if "could not be shown" in r.getMessage()]) == 1
    dash.timetravel.go_now()  # the cause is gone: the card shows its content again
    assert dash.why.failure is None and not dash.why._failure.visible and "SAM CE tests is CRITICAL" in dash.why.text


# -- old data is no information -----------------------------------------------------------------------
def test_a_store_nobody_writes_shows_no_information_now_not_green(tmp_path):
    """The collector stopped 3 hours ago with every module fine (interval 1h + max age 90m): at now nothing is
    known — modules, tiles and the problem list say so, with the data's age and what it said; at
    the time of that last run the same store is green."""
    from store_factory import DEFAULT_SCENARIO

    from hfpanel.clock import utcnow
    from hfpanel.components.page import site_header
    from hfpanel.components.problems import ProblemList
    from hfpanel.components.why import WhyThisColour

    last = utcnow().floor("min") - pd.Timedelta(hours=3)
    old = build_store(tmp_path / "old", scenario=DEFAULT_SCENARIO[:1], end=last)
    overview = StatusOverview(store=old.root)
    assert set(overview.data["level"]) == {"noinfo"}
    assert all(
        "last run 3h ago, longer than its interval + max age (1h + 1h 30m; it said: ok" in m
        for m in overview.data["message"]
    )
    assert set(overview.categories["level"]) == {"noinfo"}
    assert overview.categories.set_index("category").loc["jobs", "message"] == "2 of 2 modules without information"
    assert len(ProblemList(store=old.root).data) == 5
    header = site_header(shared_store(old.root), None, "events")  # the counts atop every other page
    assert {level: count for level, count, _ in header.counts if count} == {"noinfo": 5}
    why = WhyThisColour(store=old.root, module="sam_ce")
    assert why.text.startswith(
        "SAM CE tests has NO INFORMATION now: its last run is 3h old, longer than its interval + max"
    )
    assert 'data-level="noinfo"' in html_of(why)
    assert 'data-level="ok"' in html_of(WhyThisColour(store=old.root, module="sam_ce", time=last))
    # 2 hours after the run: older than the max age (stale) but within interval + max age: still ok
    within = StatusOverview(store=old.root, time=last + pd.Timedelta(hours=2))
    assert set(within.data["level"]) == {"ok"} and within.data["is_stale"].all()
    then = StatusOverview(store=old.root, time=last)
    assert set(then.data["level"]) == {"ok"} and set(then.categories["level"]) == {"ok"}
    assert ProblemList(store=old.root, time=last).data.empty


def test_a_category_seen_in_part_is_rolled_up_with_the_no_information_policy(info):
    """A reader who may see only some modules gets each category rolled up from those, by the
    category's rule and the no-information policy: with all of them visible, the same as the
    stored roll-up (jobs: one of two without information caps it at warning, not "no information");
    with one hidden, from the rest."""
    from hfpanel.queries.status import category_frame, module_frame

    store = shared_store(info.root)
    everyone = category_frame(store, None, info.config).set_index("category")
    modules = module_frame(store, None, info.config)
    seen_all = category_frame(store, None, info.config, modules=modules, categories=set(everyone.index))
    seen_all = seen_all.set_index("category")
    assert everyone.loc["jobs", "level"] == "warning"
    for name in everyone.index:
        assert seen_all.loc[name, "level"] == everyone.loc[name, "level"], name
    assert "1 of 2 without information, so at most warning" in seen_all.loc["jobs", "message"]
    part = modules[modules["module"] != "sam_ce"]
    seen_part = category_frame(store, None, info.config, modules=part, categories={"availability"})
    row = seen_part.set_index("category").loc["availability"]
    assert (row["level"], row["modules"]) == ("ok", 1), "sam_ce (critical) is hidden from this reader"
