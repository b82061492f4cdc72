"""The pages obey the same ``auth.access`` rules as the API (issue 14): a reader sees on the
overview, in search results, plots, downloads and every roll-up only the categories and modules
their groups open — a hidden module's level does not show through its category — and a page a
rule keeps from them is refused. In process over the filtered store, and in Chromium signed in."""

from __future__ import annotations

import dataclasses
import json
import re

import pandas as pd
import pytest
import requests
from browser_support import TIMEOUT_MS
from secured_site import secured_config, served_secured
from store_factory import DEFAULT_SCENARIO, build_store, site_config

from hfpanel.auth.access import Viewer
from hfpanel.auth.gate import Gate
from hfpanel.auth.identity import Identity
from hfpanel.components import ModuleView
from hfpanel.components.page_access import guarded
from hfpanel.components.search import Search
from hfpanel.config_error import ConfigError
from hfpanel.queries import loaders, series, status
from hfpanel.queries.viewed import hidden_for, viewed_config, viewed_store
from hfpanel.runner import Runner
from hfpanel.store import StoreWriter

BOB = Identity("bob")  # no group: neither the storage category nor the shifters' sam_ce
ALICE = Identity("alice", ("storage", "transfers"))


@pytest.fixture(scope="module")
def secured_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("pages-access") / "store"
    build_store(root)
    return root, secured_config(root)


def as_seen_by(identity, root, config):
    viewer = Viewer(identity, config.auth.access)
    hidden = hidden_for(viewer, loaders.shared_store(root), config)
    return viewed_store(root, hidden), viewed_config(config, hidden)


def test_what_a_reader_may_not_see_is_gone_from_every_page_question(secured_store):
    root, config = secured_store
    everything = loaders.shared_store(root)
    store, seen = as_seen_by(BOB, root, config)
    assert set(status.module_frame(everything, None, config)["module"]) >= {"sam_ce", "dcache_pools"}
    assert set(status.module_frame(store, None, seen)["module"]) == {"sam_srm", "condor_queue", "condor_nodes"}
    categories = status.category_frame(store, None, seen).set_index("category")
    assert list(categories.index) == ["availability", "jobs"]
    stored = status.category_frame(everything, None, config).set_index("category")
    assert stored.loc["availability", "level"] == "critical"  # sam_ce is critical at the last run
    assert categories.loc["availability", "level"] == "ok" and categories.loc["availability", "modules"] == 1
    assert {"sam_ce", "dcache_pools"}.isdisjoint(series.available_series(store)["module"])
    assert not any(t.startswith(("detail__sam_ce__", "detail__dcache_pools__")) for t in store.tables())
    assert store.detail("sam_ce").empty and store.module_history("dcache_pools").empty
    assert store.runs()["critical"].isna().all()  # the run's counts include hidden modules
    events = store.sql("SELECT module, subject FROM events")
    assert not events.empty and not ({"sam_ce", "dcache_pools"} & set(events["module"].dropna()))
    assert not ({"category/storage", "category/availability"} & set(events["subject"]))
    assert [m.name for m in seen.modules] == ["sam_srm", "condor_queue", "condor_nodes"]


def test_search_and_downloads_find_nothing_hidden(secured_store):
    root, config = secured_store
    store, seen = as_seen_by(BOB, root, config)
    full = Search(store=root, config=config)
    assert set(full.search("SAM")["module"]) == {"sam_ce", "sam_srm"} and not full.search("CE tests").empty
    search = Search(store=store, config=seen)
    assert set(search.search("SAM")["module"]) == {"sam_srm"}
    assert search.search("CE tests").empty  # sam_ce's title
    assert search.search("dCache").empty
    assert ModuleView(store=store, config=seen, module="sam_ce").data.empty
    assert not ModuleView(store=store, config=seen, module="sam_srm").data.empty
    store_alice, seen_alice = as_seen_by(ALICE, root, config)
    assert set(Search(store=store_alice, config=seen_alice).search("dCache")["module"]) == {"dcache_pools"}
    assert store_alice is not store and store_alice.cache_key != store.cache_key


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    with served_secured(tmp_path_factory.mktemp("pages-served") / "store") as served:
        yield served


def sign_in(url: str, name: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{url}/login", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
    answer = session.post(f"{url}/login", data={"username": name, "password": f"{name}-pw", "_xsrf": xsrf}, timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    return session


def signed_in_page(page, url, name):
    page.goto(f"{url}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", f"{name}-pw")
    page.click("button")
    page.wait_for_url(f"{url}/")


@pytest.mark.slow
@pytest.mark.browser
def test_chromium_shows_each_reader_only_what_their_groups_open(secured, page):
    url, _, _ = secured
    signed_in_page(page, url, "bob")
    page.get_by_text("SAM SRM tests").first.wait_for()
    page.get_by_text("HTCondor queue").first.wait_for()
    for hidden in ("SAM CE tests", "dCache pools"):  # locators look inside Panel's shadow roots
        assert page.get_by_text(hidden).count() == 0, hidden
    page.goto(f"{url}/transfers")
    page.get_by_text("The transfers page is not open to you").wait_for()
    page.goto(f"{url}/plots")
    page.get_by_text("TEST-SITE").first.wait_for()
    page.context.clear_cookies()
    signed_in_page(page, url, "alice")
    page.get_by_text("dCache pools").first.wait_for()
    assert page.get_by_text("SAM CE tests").count() == 0
    anonymous = requests.get(f"{url}/", timeout=60, allow_redirects=False)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]


@pytest.mark.slow
@pytest.mark.browser
def test_a_silence_from_the_events_page_is_in_the_signed_in_name(secured, page):
    from hfpanel.store import Store

    url, _, config = secured
    signed_in_page(page, url, "bob")
    page.goto(f"{url}/events")
    name = page.get_by_label("Your name")
    name.wait_for()
    assert name.input_value() == "bob" and name.is_disabled()  # not a name anyone may type
    page.get_by_label("Silence what matches").fill("module=sam_srm")
    page.get_by_label("Why").fill("SRM door restart")
    page.get_by_label("Why").press("Tab")
    page.get_by_role("button", name="Silence", exact=True).click()
    page.locator("li", has_text="bob: SRM door restart").wait_for()
    with Store(config.store) as store:
        rows = store.sql("SELECT author, comment, matchers FROM silences")
    assert rows.values.tolist() == [["bob", "SRM door restart", '{"module": ["sam_srm"]}']]


def test_a_page_rule_closes_the_page_and_its_api_answers(tmp_path):
    rules = [{"page": "events", "groups": ["shifters"]}, {"page": "handover", "groups": ["shifters"]}]
    with served_secured(tmp_path / "store", auth={"access": rules}) as (url, _, config):
        alice = sign_in(url, "alice")  # storage and transfers, not shifters
        for path in ("/api/v1/events", "/api/v1/incidents"):
            answer = alice.get(url + path, timeout=30)
            assert answer.status_code == 403 and "page events" in answer.json()["error"]["message"], path
        assert alice.get(f"{url}/api/v1/modules", timeout=30).status_code == 200
        gate = Gate(config.auth, address="127.0.0.1")
        nobody = guarded(lambda **_: "the page", "handover", gate, store=config.store, config=config)
        assert "The handover page is not open to you" in nobody.object
        assert guarded(lambda **_: "the page", "handover", None, store=config.store) == "the page"


def test_a_page_rule_names_a_page_there_is(tmp_path):
    build_store(tmp_path / "store")
    config = secured_config(tmp_path / "store", {"access": [{"page": "whatif", "groups": ["shifters"]}]})
    assert config.auth.access[0].name == "whatif"
    with pytest.raises(ConfigError, match="one of transfers, plots, events, availability, whatif, handover"):
        secured_config(tmp_path / "store", {"access": [{"page": "admin", "groups": ["shifters"]}]})


def test_a_module_gone_from_the_configuration_stays_hidden(tmp_path):
    """dcache_pools (category storage) ran nine days ago, then left the configuration: it is in no
    status of the last week and not in today's configuration, but its metrics and detail remain;
    the stored configurations still say it was storage's, so a reader without storage sees none."""
    root = tmp_path / "store"
    now = pd.Timestamp.now().floor("min")
    build_store(root, end=now - pd.Timedelta(days=9))
    config = secured_config(root)
    today = dataclasses.replace(config, modules=[m for m in config.modules if m.name != "dcache_pools"])
    with StoreWriter(root) as writer:
        ran = site_config(DEFAULT_SCENARIO[-1], root, index=9)
        ran = dataclasses.replace(ran, modules=[m for m in ran.modules if m.name != "dcache_pools"])
        Runner(ran).run_once(writer, now=now, force=True)
    everything = loaders.shared_store(root)
    assert "dcache_pools" not in set(loaders.status_at(everything)["module"])
    assert "dcache_pools" in set(series.available_series(everything)["module"])
    store, _ = as_seen_by(BOB, root, today)
    assert "dcache_pools" not in set(series.available_series(store)["module"])
    assert store.detail("dcache_pools", at=now - pd.Timedelta(days=9)).empty
    alice, _ = as_seen_by(ALICE, root, today)
    assert "dcache_pools" in set(series.available_series(alice)["module"])


def test_a_module_that_first_runs_after_the_page_opened_stays_out_until_it_is_opened_again(tmp_path):
    root = tmp_path / "store"
    now = pd.Timestamp.now().floor("min")
    build_store(root, end=now - pd.Timedelta(hours=1))
    config = secured_config(root)
    store, _ = as_seen_by(BOB, root, config)  # the page bob has open
    ran = site_config(DEFAULT_SCENARIO[-1], root, index=9)
    newcomer = dataclasses.replace(next(m for m in ran.modules if m.name == "dcache_pools"), name="new_pools")
    with StoreWriter(root) as writer:
        Runner(dataclasses.replace(ran, modules=[*ran.modules, newcomer])).run_once(writer, now=now, force=True)
    assert "new_pools" in set(loaders.status_at(loaders.shared_store(root))["module"])
    assert "new_pools" not in set(series.available_series(store)["module"])  # storage's: never shown to bob
    assert store.detail("new_pools").empty and store.sql("SELECT * FROM metrics WHERE module = 'new_pools'").empty
    alice_then, _ = as_seen_by(ALICE, root, dataclasses.replace(config, modules=config.modules))
    assert "new_pools" in set(series.available_series(alice_then)["module"])  # known now: opened again


def _open_incident(root, incident_id: str, category: str, module: str) -> None:
    """An open incident about ``module`` (as the notification step writes one), straight into the store."""
    from hfpanel.clock import utcnow
    from hfpanel.events import tables

    now = utcnow()
    subject = {"subject": f"module/{module}", "level": "critical", "text": f"{module} failing", "resolved": None}
    row = {column: None for column in tables.INCIDENT_COLUMNS}
    row.update(
        incident_id=incident_id, version=1, time=now, run_id="r1", site="TEST-SITE", rule="critical",
        group_key=f'{{"category": "{category}"}}', category=category, status="open", level="critical",
        opened=now, alerts=1, subjects=json.dumps([subject]), notified=True, messages=1, silenced=False,
        acked_by="", ack_comment="", ack_sticky=False, summary=module,
    )  # fmt: skip
    with StoreWriter(root) as writer:
        writer.write({tables.INCIDENTS: tables.typed(pd.DataFrame([row], columns=list(tables.INCIDENT_COLUMNS)))})


@pytest.mark.slow
@pytest.mark.browser
def test_chromium_only_a_reader_allowed_to_acknowledge_gets_the_form(tmp_path, page, browser):
    """auth.acknowledge names group storage: bob (no group) sees why instead of the form; alice
    acknowledges, and the incident shows her name — to bob too. The incident about sam_ce (open to
    neither) is listed to neither."""
    from hfpanel.store import Store

    with served_secured(tmp_path / "store", auth={"acknowledge": {"groups": ["storage"]}}) as (url, _, config):
        _open_incident(config.store, "inc-jobs", "jobs", "condor_queue")
        _open_incident(config.store, "inc-ce", "availability", "sam_ce")
        signed_in_page(page, url, "bob")
        page.goto(f"{url}/events")
        page.get_by_text("Acknowledging needs group storage (you are bob).").wait_for()
        page.get_by_text("Open (1)").wait_for()  # inc-ce is about sam_ce, hidden from bob
        assert page.get_by_role("button", name="Acknowledge", exact=True).count() == 0
        assert page.get_by_role("button", name="Remove acknowledgement").count() == 0
        assert page.get_by_label("Silence what matches").count() == 1  # silencing: every signed-in reader

        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        try:
            alice = context.new_page()
            alice.set_default_timeout(TIMEOUT_MS)
            signed_in_page(alice, url, "alice")
            alice.goto(f"{url}/events")
            alice.get_by_text("Open (1)").wait_for()
            assert alice.get_by_text("needs group").count() == 0
            alice.get_by_label("Comment").fill("draining the schedd")
            alice.get_by_label("Comment").press("Tab")
            alice.get_by_role("button", name="Acknowledge", exact=True).click()
            alice.get_by_text("acknowledged inc-jobs by alice").wait_for()
            alice.get_by_text("Acknowledged (1)").wait_for()
        finally:
            context.close()
        page.reload()
        page.get_by_text("acknowledged by alice").wait_for()  # bob sees who, and still no form
        assert page.get_by_role("button", name="Acknowledge", exact=True).count() == 0
        with Store(config.store) as store:
            rows = store.sql("SELECT incident_id, author, action, comment FROM acks")
        assert rows.values.tolist() == [["inc-jobs", "alice", "ack", "draining the schedd"]]


def test_the_api_lists_the_incidents_of_a_module_whose_name_starts_like_a_hidden_one(secured_store):
    """bob may not see sam_ce: its incident is not his, but sam_ce2's (visible) is; the API asks the
    same question of an incident as the pages do."""
    from hfpanel.api.routes import ApiContext

    root, config = secured_store
    viewer = Viewer(BOB, config.auth.access)

    def incident(module, category):
        subjects = json.dumps([{"subject": f"module/{module}", "level": "critical"}], sort_keys=True)
        return {"incident_id": f"inc-{module}", "category": category, "subjects": subjects, "alerts": 1}

    frame = pd.DataFrame([incident("sam_ce", "availability"), incident("sam_ce2", "availability")])
    shown = ApiContext(loaders.shared_store(root), config, viewer).only_visible_incidents(frame)
    assert shown["incident_id"].tolist() == ["inc-sam_ce2"]
