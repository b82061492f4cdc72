"""Who may acknowledge and silence from the pages (``auth.acknowledge`` / ``auth.silence``), and on
what (``hfpanel.auth.acting.Scope``): the configuration's messages name the key, an anonymous reader
or a token never acts, and a reader who does not see everything acts only on what they see."""

from __future__ import annotations

import json

import pytest

from hfpanel.auth.access import Viewer
from hfpanel.auth.acting import Actor, Refused, Scope
from hfpanel.auth.identity import NOBODY_NEEDED, Identity
from hfpanel.auth.settings import Rule
from hfpanel.config import parse_config
from hfpanel.config_error import ConfigError
from hfpanel.queries.viewed import Hidden

SITE = {
    "site": {"name": "X"},
    "categories": [{"name": "availability"}, {"name": "storage"}],
    "modules": [
        {"name": "sam_ce", "category": "availability", "collector": "command", "params": {"argv": ["true"]}},
        {"name": "sam_srm", "category": "availability", "collector": "command", "params": {"argv": ["true"]}},
        {"name": "dcache_pools", "category": "storage", "collector": "command", "params": {"argv": ["true"]}},
    ],
}
SIGNED_IN = {"mode": "basic", "users_file": "users.yaml"}
ACTORS = (Rule("acknowledge", "", ("shifters",)), Rule("silence", "", ("admins",), ("/DC=org/CN=Carol",)))


def _auth(tmp_path, section: dict):
    return parse_config({**SITE, "store": str(tmp_path / "store"), "auth": section}).auth


def test_the_configuration_says_who_may_act(tmp_path):
    auth = _auth(tmp_path, {**SIGNED_IN, "acknowledge": {"groups": ["shifters"]}, "silence": {"dns": ["/DC=o/CN=A"]}})
    assert auth.actors == (Rule("acknowledge", "", ("shifters",)), Rule("silence", "", (), ("/DC=o/CN=A",)))
    assert _auth(tmp_path, SIGNED_IN).actors == ()  # not named: every signed-in reader


@pytest.mark.parametrize(
    "section, message",
    [
        (
            {"acknowledge": {"groups": ["shifters"], "who": "x"}},
            "key 'auth.acknowledge.who': unknown (known: groups, dns)",
        ),
        ({"silence": ["admins"]}, "key 'auth.silence': must be a mapping {groups: [...], dns: [...]}"),
        ({"silence": {}}, "key 'auth.silence': give groups or dns (who may silence)"),
        ({"acknowledge": {"groups": [1]}}, "key 'auth.acknowledge.groups': must be a list of text"),
    ],
)
def test_configuration_mistakes_name_the_key(tmp_path, section, message):
    with pytest.raises(ConfigError) as error:
        _auth(tmp_path, {**SIGNED_IN, **section})
    assert message in str(error.value)


def test_an_actor_rule_without_sign_in_is_a_mistake(tmp_path):
    with pytest.raises(ConfigError, match=r"key 'auth.acknowledge': needs sign-in \(auth.mode basic, oidc or x509\)"):
        _auth(tmp_path, {"acknowledge": {"groups": ["shifters"]}})


def test_who_may_act():
    def may(identity, actors=ACTORS):
        return Viewer(identity, (), actors)

    carol = Identity("carol", ("admins",), "x509", "/DC=org/CN=Carol")
    dana = Identity("dana", (), "x509", "/DC=org/CN=Dana")
    assert may(Identity("alice", ("shifters",))).may("acknowledge") is None
    assert may(Identity("bob")).may("acknowledge") == "acknowledging needs group shifters (you are bob)"
    assert may(carol).may("silence") is None and may(carol).may("acknowledge") is not None
    assert may(dana).may("silence") == (
        "silencing needs group admins or a certificate DN the site lists (you are dana)"
    )
    assert may(Identity("eve", ("shifters", "other"))).may("acknowledge") is None
    assert may(None).may("acknowledge") == "acknowledging needs you to sign in"
    assert may(Identity("token:ci", via="token", scopes=("read",))).may("silence") == (
        "silencing is for signed-in people, not API tokens"
    )
    assert may(NOBODY_NEEDED).may("silence") is None  # no sign-in: the local admin
    assert may(Identity("bob"), actors=()).may("silence") is None  # no rule: any signed-in reader
    # an empty DN is no DN: a rule listing "" does not open the action to every session
    assert may(Identity("frank"), (Rule("silence", "", (), ("",)),)).may("silence") is not None


BOB = Scope.of(
    Hidden(
        modules=frozenset({"sam_ce", "dcache_pools"}),
        categories=frozenset({"storage"}),
        partial=frozenset({"availability"}),
        visible=frozenset({"sam_srm", "condor_queue"}),
        shown=frozenset({"jobs"}),
    )
)


def _incident(*subjects, category="availability"):
    return {"incident_id": "inc-1", "category": category, "subjects": json.dumps([{"subject": s} for s in subjects])}


def test_an_incident_is_theirs_only_when_they_see_all_of_it():
    assert Scope().incident(_incident("module/sam_ce")) is None  # sees everything
    assert BOB.incident(_incident("module/sam_srm", "row/sam_srm/errors/key=1")) is None
    assert BOB.incident(_incident("module/condor_queue", "site/X", category="")) is None
    assert BOB.incident(_incident("module/sam_srm", "module/sam_ce")) == (
        "incident inc-1 includes 1 of its 2 subjects you cannot see (ask someone who sees them all)"
    )
    assert "sam_ce" not in BOB.incident(_incident("module/sam_srm", "module/sam_ce"))  # never a hidden name
    assert BOB.incident(_incident("category/availability")) is not None  # its roll-up counts sam_ce
    assert BOB.incident(_incident("module/new_one", category="")) is not None  # unknown: closed
    assert BOB.incident(_incident(category="storage")) == "incident inc-1 is about a category you cannot see"


@pytest.mark.parametrize(
    "matchers, refusal",
    [
        ({"module": ["sam_srm"]}, None),
        ({"module": ["sam_srm", "condor_*"], "level": ["critical"]}, None),
        ({"category": ["jobs"]}, None),
        ({"module": ["sam_srm"], "category": ["storage"]}, None),  # both must match: sam_srm's alerts only
        ({"module": ["sam_*"]}, "module=sam_* matches modules you cannot see"),
        ({"module": ["sam_ce"]}, "module=sam_ce matches modules you cannot see"),
        ({"module": ["ghost"]}, "module=ghost names no module you can see"),
        ({"category": ["availability"]}, "category=availability covers modules you cannot see"),
        ({"category": ["storage"]}, "category=storage covers modules you cannot see"),
        ({"category": ["nowhere"]}, "category=nowhere names no category you can see"),
        ({"level": ["critical"]}, "a silence without module= or category= would also mute what you cannot see"),
        ({"module": ["*"], "vo": ["atlas"]}, "a silence without module= or category="),  # * also matches no module
    ],
)
def test_a_silence_is_theirs_only_when_confined_to_what_they_see(matchers, refusal):
    found = BOB.matchers(matchers)
    assert (found is None) if refusal is None else (found or "").startswith(refusal)
    assert Scope().matchers(matchers) is None


def test_an_actor_checks_both_and_gives_the_signed_in_name():
    alice = Actor(Viewer(Identity("alice", ("shifters",)), (), ACTORS), BOB)
    assert alice.author == "alice" and Actor(Viewer(NOBODY_NEEDED)).author is None
    alice.check_incident(_incident("module/sam_srm"))
    with pytest.raises(Refused, match="silencing needs group admins"):
        alice.check_matchers({"module": ["sam_srm"]})
    with pytest.raises(Refused, match="subjects you cannot see"):
        alice.check_incident(_incident("module/sam_ce"))
