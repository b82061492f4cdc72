"""The events page's acknowledge and silence forms as each signed-in reader may use them, in process
(the session's reader given as the served page would: ``page_access.session_actor``): a reader
``auth.acknowledge`` does not allow sees why instead of the form, and a click from an old or forged
page is refused with nothing stored; a reader acts only on what they see, in their own name; a
silence or incident about what a reader cannot see is not listed to them."""

from __future__ import annotations

import pandas as pd
import pytest
from event_sites import EventSite, notifying

from hfpanel import acks
from hfpanel.auth.access import Viewer
from hfpanel.auth.acting import Actor, Scope
from hfpanel.auth.identity import Identity
from hfpanel.auth.settings import Rule
from hfpanel.clock import utcnow
from hfpanel.components import incident_actions
from hfpanel.components.events import EventsPage
from hfpanel.queries import events as queries
from hfpanel.queries import loaders
from hfpanel.queries.viewed import hidden_for, viewed_store
from hfpanel.store import StoreWriter

ACCESS = (Rule("category", "storage", ("storage",)),)
ACTORS = (Rule("acknowledge", "", ("shifters",)),)


@pytest.fixture
def site(tmp_path):
    site = EventSite(
        tmp_path / "store",
        {"ce": "availability", "srm": "availability", "pool": "storage"},
        notifications=notifying(hook_url="http://127.0.0.1:9/x"),
    )
    site.run({})
    site.run({"ce": {"health": 0.1}, "pool": {"health": 0.1}})
    return site


def _page_of(monkeypatch, root, identity):
    """The events page as ``identity`` gets it from the server: over the store they may see."""
    viewer = Viewer(identity, ACCESS, ACTORS)
    store = viewed_store(root, hidden_for(viewer, loaders.shared_store(root)))
    monkeypatch.setattr(incident_actions, "session_actor", lambda s: Actor(viewer, Scope.of(s.hidden)))
    return EventsPage(store=store)


def _click(button):
    button.clicks += 1


def _card_text(actions) -> str:
    return " ".join(str(getattr(o, "object", "")) for o in actions._layout.objects)


def test_a_reader_not_allowed_sees_why_and_a_forged_click_stores_nothing(site, monkeypatch):
    root = site.root
    page = _page_of(monkeypatch, root, Identity("bob"))
    actions = page.actions
    assert "Acknowledging needs group shifters (you are bob)." in _card_text(actions)
    rows = [o for o in actions._layout.objects if hasattr(o, "objects")]
    assert not any(actions.ack_button in r.objects or actions.unack_button in r.objects for r in rows)
    assert any(actions.silence_button in r.objects for r in rows)  # silencing is open to every signed-in reader
    # a click reaching the server anyway (an old page, a forged message): refused, nothing stored
    (incident,) = actions.incident.options.values()
    actions.incident.value, actions.comment.value = incident, "mine now"
    _click(actions.ack_button)
    assert actions.status == "not done: acknowledging needs group shifters (you are bob)"
    with pytest.raises(ValueError, match="acknowledging needs group shifters"):
        with StoreWriter(root) as writer:
            acks.acknowledge(writer, page.actions.store, incident, "bob", actor=actions._actor)
    assert site.table("acks").empty
    # silencing: only what bob sees, in bob's name whatever the form says
    actions.author.value = "mallory"
    for typed, refusal in (
        ("level=critical", "a silence without module= or category= would also mute what you cannot see"),
        ("category=storage", "category=storage covers modules you cannot see"),
        ("category=availability", None),
    ):
        actions.matchers.value, actions.silence_comment.value = typed, "CE intervention"
        _click(actions.silence_button)
        if refusal:
            assert actions.status.startswith(f"not done: {refusal}"), actions.status
    assert actions.status.startswith('silenced {"category": ["availability"]}')
    stored = queries.silences(loaders.shared_store(root))
    assert stored[["author", "matchers"]].values.tolist() == [["bob", '{"category": ["availability"]}']]


def test_a_reader_allowed_acknowledges_what_they_see_in_their_own_name(site, monkeypatch):
    root = site.root
    page = _page_of(monkeypatch, root, Identity("carol", ("shifters",)))
    actions = page.actions
    assert "needs group" not in _card_text(actions)
    everything = queries.incidents(loaders.shared_store(root))
    assert set(everything["category"]) == {"availability", "storage"}
    (incident,) = actions.incident.options.values()  # the storage one is not hers to see
    assert everything.set_index("incident_id").loc[incident, "category"] == "availability"
    actions.author.value, actions.comment.value = "mallory", "restarting the CE"
    _click(actions.ack_button)
    assert actions.status == f"acknowledged {incident} by carol (the next run applies it)"
    assert "acknowledged by <b>carol</b>: restarting the CE" in page.board._html.object
    # the storage incident, asked for by id (a forged request): not found in her view, nothing written
    hidden = everything[everything["category"] == "storage"]["incident_id"].iloc[0]
    actions.incident.value = hidden  # a value the browser was never offered
    _click(actions.ack_button)
    assert actions.status == f"not done: no incident {hidden!r} (hfpanel incidents lists them)"
    assert site.table("acks")[["author", "incident_id"]].values.tolist() == [["carol", incident]]


def test_silences_and_incidents_about_what_a_reader_cannot_see_are_not_listed(site, monkeypatch):
    root = site.root
    now = utcnow()
    with StoreWriter(root) as writer:  # the admin's command line: no actor, anything goes
        for index, match in enumerate(
            (["module=pool"], ["category=storage", "level=critical"], ["module=srm"], ["module=*"])
        ):
            at = now + pd.Timedelta(microseconds=index)  # each its own id
            acks.add_silence(writer, acks.parse_matchers(match), "admin", "work", at, at + pd.Timedelta(hours=1), at)
    page = _page_of(monkeypatch, root, Identity("bob"))
    page.board._guarded_update()
    listed = [str(v) for v in page.actions.silence.options]
    assert len(listed) == 2 and all("pool" not in t and "storage" not in t for t in listed)
    html = page.board._html.object
    assert "{&quot;module&quot;: [&quot;srm&quot;]}" in html and "pool" not in html and "storage" not in html
    assert len(queries.silences(loaders.shared_store(root))) == 4
    # bob may not end a silence of everything (it mutes what he cannot see)
    page.actions.silence.value = next(v for k, v in page.actions.silence.options.items() if "*" in k)
    _click(page.actions.expire_button)
    assert (
        page.actions.status
        == "not done: a silence without module= or category= would also mute what you cannot see: name the modules or categories (only a reader who sees everything may silence more)"
    )


def test_an_incident_naming_a_hidden_module_is_not_listed(tmp_path, monkeypatch):
    site = EventSite(
        tmp_path / "store",
        {"ce": "availability", "pool": "storage"},
        notifications=notifying(hook_url="http://127.0.0.1:9/x", group_by=["site"]),
    )
    site.run({})
    site.run({"ce": {"health": 0.1}, "pool": {"health": 0.1}})
    everything = queries.incidents(loaders.shared_store(site.root))
    assert len(everything) == 1 and everything["category"].iloc[0] == ""  # one incident for the site
    page = _page_of(monkeypatch, site.root, Identity("bob"))
    assert page.actions.incident.options == {} and "pool" not in page.board._html.object
    assert Scope.of(page.actions.store.hidden).incident(everything.iloc[0]).startswith("incident ")


def test_an_acknowledgement_of_a_hidden_incident_is_not_shown(site):
    root = site.root
    everything = queries.incidents(loaders.shared_store(root)).set_index("category")["incident_id"]
    with StoreWriter(root) as writer:  # the admin's command line
        for category, comment in (("storage", "swapping disk of pool p01"), ("availability", "CE restarted")):
            acks.acknowledge(writer, loaders.shared_store(root), everything[category], "admin", comment)
    viewer = Viewer(Identity("bob"), ACCESS, ACTORS)
    store = viewed_store(root, hidden_for(viewer, loaders.shared_store(root)))
    assert queries.latest_acks(store)["comment"].tolist() == ["CE restarted"]
    _, actions = queries.shift_incidents(store, utcnow() - pd.Timedelta(hours=1), utcnow())
    assert actions["comment"].tolist() == ["CE restarted"]
    assert len(queries.latest_acks(loaders.shared_store(root))) == 2


def test_a_message_about_a_category_holding_a_hidden_module_is_not_listed(tmp_path):
    """bob sees availability but not its module srm (a module rule): the category's stored level
    counts srm, so the undelivered message about that level is not his to read."""
    site = EventSite(
        tmp_path / "store",
        {"ce": "availability", "srm": "availability"},
        notifications=notifying(hook_url="http://127.0.0.1:9/x", match={"kind": ["category_level_changed"]}),
    )
    site.run({})
    site.run({"srm": {"health": 0.1}})
    root = site.root
    assert len(site.table("outbox")) == 1  # the category's message, not delivered (nothing listens)
    viewer = Viewer(Identity("bob"), (Rule("module", "srm", ("storage",)),))
    seen = viewed_store(root, hidden_for(viewer, loaders.shared_store(root)))
    assert seen.sql("SELECT count(*) AS n FROM outbox")["n"].iloc[0] == 0
    admin = Viewer(Identity("alice", ("storage",)), (Rule("module", "srm", ("storage",)),))
    assert (
        viewed_store(root, hidden_for(admin, loaders.shared_store(root)))
        .sql("SELECT count(*) AS n FROM outbox")["n"]
        .iloc[0]
        == 1
    )
