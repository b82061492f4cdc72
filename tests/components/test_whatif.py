"""What if: stored history re-rated with other rules beside what was stored (hfpanel.reports.whatif),
in the view and with one call; the store is never written."""

import pandas as pd
import pytest
from panel.io.location import Location
from panes import html_of
from store_factory_reports import DAY, build_ar_store

from hfpanel.components.whatif import WhatIfView, what_if
from hfpanel.reports import whatif as engine
from hfpanel.store import Store

SINCE, UNTIL = DAY - pd.Timedelta(hours=1), DAY + pd.Timedelta(days=1)
LENIENT = {"sam_ce": {"type": "threshold", "metric": "health", "warning": 0.05, "critical": 0.01}}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return build_ar_store(tmp_path_factory.mktemp("whatif") / "store").root


def test_a_lenient_threshold_turns_the_critical_hours_ok_and_a_r_follows(root):
    manifest = (root / "_manifest.json").read_bytes()
    with Store(root) as store:
        result = engine.what_if(store, SINCE, UNTIL, ratings=LENIENT)
    sam = result.summary.set_index("name").loc["sam_ce"]
    assert (sam["critical"], sam["whatif_critical"], sam["runs_changed"]) == (13, 0, 13)
    assert sam["noinfo"] == sam["whatif_noinfo"] == 6  # a failed source stays without information
    ar = result.ar_side_by_side().set_index(["scope", "name"])
    assert round(ar.loc[("site", "wlcg"), "availability"], 4) == round(5 / 18, 4)
    assert ar.loc[("site", "wlcg"), "whatif_availability"] == 1.0
    category = result.categories[result.categories["category"] == "availability"]
    assert (category["level"] == "critical").sum() > 0 and (category["whatif_level"] == "critical").sum() == 0
    assert (root / "_manifest.json").read_bytes() == manifest  # nothing written


def test_a_roll_up_and_no_information_policy_change_only_touch_categories(root):
    with Store(root) as store:
        strict = engine.what_if(store, SINCE, UNTIL, noinfo={"noinfo_warning": 0.0, "noinfo_unknown": 0.4})
    modules = strict.summary[strict.summary["kind"] == "module"]
    assert modules["runs_changed"].sum() == 0
    availability = strict.summary.set_index("name").loc["availability"]
    # 1 of 2 modules without information is above 0.4: the category itself has no information then
    assert availability["whatif_noinfo"] == 6 and availability["noinfo"] == 0


def test_the_stored_rules_given_again_change_nothing(root):
    """Every category rolled up again at every run (the policy given is the default one) gives the
    levels the runner stored: the what-if's own roll-up is the runner's, run by run."""
    with Store(root) as store:
        same = engine.what_if(store, SINCE, UNTIL, noinfo={"noinfo_warning": 0.25, "noinfo_unknown": 0.5})
    categories = same.summary[same.summary["kind"] == "category"]
    assert set(categories["name"]) == {"availability", "storage"} and categories["runs"].min() == 24
    assert categories["runs_changed"].tolist() == [0, 0]
    assert (same.categories["status"] == same.categories["whatif_status"]).all()


def test_bad_changes_are_named_precisely():
    with pytest.raises(engine.WhatIfError) as error:
        engine.parse_changes(
            "ratings: {sam_ce: {type: treshold}}\nrollups: {storage: best}\ncolour: red\nlevels: {ok: 2}"
        )
    problems = "\n".join(error.value.problems)
    assert "unknown key 'colour'" in problems
    assert "ratings.sam_ce: key 'rating.type': unknown rating 'treshold'" in problems
    assert "rollups.storage: key 'rollup': unknown roll-up 'best'" in problems
    assert "levels: levels must satisfy" in problems
    with pytest.raises(engine.WhatIfError, match="not YAML"):
        engine.parse_changes("ratings: [")


def test_one_call_in_a_notebook_and_the_page_with_its_url(root):
    view = what_if(root, SINCE, UNTIL, ratings=LENIENT)
    assert view.failure is None and view.result.changed()["name"].tolist() == ["availability", "sam_ce"]
    assert view._strip.object is not None and "would have shown other levels" in html_of(view)

    page = WhatIfView(store=root)
    location = Location(search="?changes=ratings%3A+%7Bnope%3A+%7Btype%3A+map%7D%7D")
    page.sync_url(location)
    assert page.failure is None and "The changes cannot be applied" in html_of(page)
    assert "key &#x27;rating.map&#x27;" in html_of(page) or "rating." in html_of(page)


def test_notifications_and_events_both_ways_with_the_site_rules(tmp_path):
    """With the site configuration, its notification rules are replayed over the window with the
    stored levels and with the what-if ones: a CE critical for three runs fired an incident and sent
    its messages; under a lenient threshold it would have been warning and sent nothing."""
    from event_sites import EventSite, config, notifying

    modules = {"ce": "availability", "pool": "storage"}
    rules = notifying(hook_url="http://127.0.0.1:9/x")
    site = EventSite(tmp_path / "store", modules, notifications=rules)
    site.run({}, send=False)
    for _ in range(3):
        site.run({"ce": {"health": 0.1}}, send=False)
    site.run({}, send=False)
    lenient = {"ce": {"type": "threshold", "metric": "health", "warning": 0.2, "critical": 0.05}}
    with Store(tmp_path / "store") as store:
        result = engine.what_if(
            store, "2026-11-19T23:00", "2026-11-20T02:00", ratings=lenient, config=config(tmp_path, modules, {}, rules)
        )
        without = engine.what_if(store, "2026-11-19T23:00", "2026-11-20T02:00", ratings=lenient)
    side = result.notifications_side_by_side().set_index("kind")
    assert side.loc["firing", "incidents"] == 1 and side.loc["firing", "whatif_incidents"] == 0
    assert side.loc["resolved", "messages"] == 1 and side["whatif_messages"].sum() == 0
    sent = site.table("outbox")  # the stored levels replayed send what the runner sent
    assert sorted(zip(result.messages["kind"], result.messages["incident_id"])) == sorted(
        zip(sent["kind"], sent["incident_id"])
    )
    events = result.events_compared.set_index("kind")
    assert events.loc["level_changed", "events"] >= 2 and events.loc["level_changed", "whatif_events"] >= 2
    assert without.messages is None and without.notifications_side_by_side().empty
    view = what_if(
        tmp_path / "store",
        "2026-11-19T23:00",
        "2026-11-20T02:00",
        ratings=lenient,
        config=config(tmp_path, modules, {}, rules),
    )
    assert view.failure is None and view._notify.visible
    assert view._notify.value.set_index("kind").loc["firing", "messages"] == 1


def test_a_r_both_ways_is_the_same_from_the_rows_read_once_or_read_again(root, monkeypatch):
    """The A/R takes the what-if's own rows when they reach back far enough, else reads its own: the
    figures are the same either way."""
    with Store(root) as store:
        once = engine.what_if(store, SINCE, UNTIL, ratings=LENIENT).ar_side_by_side()
        monkeypatch.setattr(engine, "LOOKBACK", pd.Timedelta(minutes=1))  # too short: the A/R reads again
        again = engine.what_if(store, SINCE, UNTIL, ratings=LENIENT).ar_side_by_side()
    assert len(once) >= 3 and (once["availability"] != once["whatif_availability"]).any()
    pd.testing.assert_frame_equal(once, again)
