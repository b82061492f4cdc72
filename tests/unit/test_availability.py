"""Availability/reliability with the WLCG definitions (hfpanel.availability.ar) and its profiles."""

import math

import pandas as pd
import pytest

from hfpanel.availability.ar import availability, compute
from hfpanel.availability.profiles import AND, OR, Group, Profile, default_profile, parse_profiles
from hfpanel.config import ConfigError, parse_config

T0 = pd.Timestamp("2026-11-03")
LEVEL = {"o": ("ok", 1.0), "w": ("warning", 0.5), "c": ("critical", 0.0), "n": ("noinfo", -1.0)}


def hourly(module: str, script: str, start=T0, downtime_hours=()) -> pd.DataFrame:
    """One row an hour: o ok, w warning, c critical, n no information, d critical in a scheduled downtime."""
    rows = []
    for i, letter in enumerate(script):
        level, status = LEVEL.get(letter, ("downtime", 0.0))
        text = f"ce1: scheduled GOCDB downtime {i} until later" if letter == "d" else ""
        rows.append(
            {
                "module": module,
                "time": start + pd.Timedelta(hours=i),
                "level": level,
                "status": status,
                "downtime": text,
            }
        )
    return pd.DataFrame(rows)


def one(module="sam_ce") -> list[Profile]:
    return [Profile("p", pd.Timestamp("1970-01-01"), AND, (Group("CE", AND, (module,)),))]


def site_row(result):
    return result.summary[result.summary["scope"] == "site"].iloc[0]


def test_the_published_worked_example_gives_a_27_78_and_r_35_71():
    """5 h OK, 9 h CRITICAL, 6 h UNKNOWN, 4 h scheduled downtime: A = 5/18, R = 5/14."""
    rows = hourly("sam_ce", "o" * 5 + "c" * 9 + "n" * 6 + "d" * 4)
    result = compute(rows, T0, T0 + pd.Timedelta(days=1), one(), {"sam_ce": 3600})
    site = site_row(result)
    assert round(100 * site["availability"], 2) == 27.78
    assert round(100 * site["reliability"], 2) == 35.71
    assert (site["hours_up"], site["hours_down"], site["hours_unknown"], site["hours_downtime"]) == (5, 9, 6, 4)
    # and the formula on its own, as the documents write it
    a, r = availability(5, 6, 4, total=24)
    assert (round(100 * float(a), 2), round(100 * float(r), 2)) == (27.78, 35.71)


def test_warning_counts_as_up():
    result = compute(hourly("sam_ce", "w" * 24), T0, T0 + pd.Timedelta(days=1), one(), {"sam_ce": 3600})
    assert site_row(result)["availability"] == 1.0


def test_a_site_without_data_is_unknown_never_100_percent():
    empty = pd.DataFrame(columns=["module", "time", "level", "status"])
    result = compute(empty, T0, T0 + pd.Timedelta(days=2), one())
    site = site_row(result)
    assert math.isnan(site["availability"]) and math.isnan(site["reliability"])
    assert site["unknown_share"] == 1.0 and site["hours_unknown"] == 48
    assert len(result.daily[result.daily["scope"] == "site"]) == 2


def test_a_row_holds_only_for_its_validity_then_nothing_is_known():
    """One ok row at 00:00 with a 1 h validity: the other 23 h are unknown, not up."""
    result = compute(hourly("sam_ce", "o"), T0, T0 + pd.Timedelta(days=1), one(), {"sam_ce": 3600})
    site = site_row(result)
    assert (site["hours_up"], site["hours_unknown"]) == (1, 23)
    assert site["availability"] == 1.0 and round(site["unknown_share"], 3) == round(23 / 24, 3)


def test_the_row_before_the_window_decides_its_first_instants():
    rows = hourly("sam_ce", "c" + "o" * 24, start=T0 - pd.Timedelta(minutes=30))
    result = compute(rows, T0, T0 + pd.Timedelta(days=1), one(), {"sam_ce": 3600})
    assert site_row(result)["hours_down"] == 0.5


def test_or_takes_the_best_and_and_the_worst():
    rows = pd.concat([hourly("ce1", "c" * 12 + "o" * 12), hourly("ce2", "o" * 12 + "c" * 12), hourly("se", "o" * 24)])
    validity = {"ce1": 3600, "ce2": 3600, "se": 3600}
    ce_or = Profile("p", pd.Timestamp("1970-01-01"), AND, (Group("CE", OR, ("ce1", "ce2")), Group("SE", AND, ("se",))))
    result = compute(rows, T0, T0 + pd.Timedelta(days=1), [ce_or], validity)
    assert site_row(result)["availability"] == 1.0
    ce_and = Profile(
        "p", pd.Timestamp("1970-01-01"), AND, (Group("CE", AND, ("ce1", "ce2")), Group("SE", AND, ("se",)))
    )
    result = compute(rows, T0, T0 + pd.Timedelta(days=1), [ce_and], validity)
    assert site_row(result)["availability"] == 0.0


def test_and_with_an_unknown_member_is_unknown_unless_another_is_down():
    rows = pd.concat([hourly("a", "o" * 12 + "c" * 12), hourly("b", "n" * 24)])
    profile = Profile("p", pd.Timestamp("1970-01-01"), AND, (Group("G", AND, ("a", "b")),))
    site = site_row(compute(rows, T0, T0 + pd.Timedelta(days=1), [profile], {"a": 3600, "b": 3600}))
    assert (site["hours_unknown"], site["hours_down"], site["hours_up"]) == (12, 12, 0)


def test_a_profile_change_applies_from_its_date_on():
    """CE alone until the 4th, CE OR CE2 from then: day 1 is down, day 2 up."""
    rows = pd.concat([hourly("ce1", "c" * 48), hourly("ce2", "o" * 48)])
    old = Profile("wlcg", pd.Timestamp("2026-01-01"), AND, (Group("CE", AND, ("ce1",)),))
    new = Profile("wlcg", pd.Timestamp("2026-11-04"), AND, (Group("CE", OR, ("ce1", "ce2")),))
    result = compute(rows, T0, T0 + pd.Timedelta(days=2), [old, new], {"ce1": 3600, "ce2": 3600})
    daily = result.daily[result.daily["scope"] == "site"].set_index("day")
    assert daily.loc[T0, "availability"] == 0.0
    assert daily.loc[T0 + pd.Timedelta(days=1), "availability"] == 1.0
    assert daily.loc[T0, "profile"] == "wlcg from 2026-01-01"
    assert site_row(result)["availability"] == 0.5


def test_added_downtimes_and_exclusions_change_r_and_a_and_are_reported():
    rows = hourly("sam_ce", "o" * 12 + "c" * 12)
    added = pd.DataFrame([{"start": T0 + pd.Timedelta(hours=12), "end": T0 + pd.Timedelta(hours=16), "module": ""}])
    excluded = pd.DataFrame(
        [{"start": T0 + pd.Timedelta(hours=16), "end": T0 + pd.Timedelta(hours=24), "module": "sam_ce", "reason": "x"}]
    )
    result = compute(rows, T0, T0 + pd.Timedelta(days=1), one(), {"sam_ce": 3600}, added, excluded)
    site = site_row(result)
    assert (site["hours_downtime"], site["hours_excluded"], site["hours_down"]) == (4, 8, 0)
    assert site["availability"] == 12 / 16 and site["reliability"] == 1.0
    assert list(result.segments[result.segments["scope"] == "site"]["state"]) == [
        "up",
        "scheduled downtime",
        "excluded",
    ]


def test_unscheduled_downtime_counts_as_down():
    rows = hourly("sam_ce", "c" * 24).assign(level="downtime", downtime="ce1: unscheduled GOCDB downtime 7 until x")
    site = site_row(compute(rows, T0, T0 + pd.Timedelta(days=1), one(), {"sam_ce": 3600}))
    assert site["hours_down"] == 24 and site["hours_downtime"] == 0


def test_default_profile_ands_every_category():
    profile = default_profile({"a": "x", "b": "x", "c": "y"})
    assert [(g.name, g.combine, g.modules) for g in profile.groups] == [("x", AND, ("a", "b")), ("y", AND, ("c",))]


BASE = {
    "site": {"name": "S"},
    "store": "/tmp/x",
    "categories": [{"name": "ce"}, {"name": "se"}],
    "modules": [
        {"name": "sam_ce", "category": "ce", "collector": "command", "params": {"argv": ["true"]}},
        {"name": "sam_se", "category": "se", "collector": "command", "params": {"argv": ["true"]}},
    ],
}


def test_profiles_are_read_from_the_configuration_and_stored_with_it():
    from hfpanel.stored_config import effective_config

    data = {
        **BASE,
        "availability": {
            "profiles": [
                {
                    "name": "wlcg",
                    "from": "2026-11-01",
                    "combine": "AND",
                    "groups": [
                        {"name": "CE", "combine": "or", "categories": ["ce"]},
                        {"name": "SE", "modules": ["sam_se"]},
                    ],
                }
            ]
        },
    }
    config = parse_config(data)
    (profile,) = config.availability
    assert profile.since == pd.Timestamp("2026-11-01") and profile.groups[0].modules == ("sam_ce",)
    assert effective_config(config)["availability"][0]["groups"][0] == {
        "name": "CE",
        "combine": "or",
        "modules": ["sam_ce"],
    }
    assert "availability" not in effective_config(parse_config(BASE))


def test_profile_mistakes_are_named_precisely():
    data = {
        **BASE,
        "availability": {
            "profiles": [
                {
                    "name": "wlcg",
                    "from": "soon",
                    "colour": "red",
                    "groups": [
                        {"name": "CE", "combine": "xor", "modules": ["nope"]},
                        {"name": "SE", "categories": ["tape"]},
                    ],
                }
            ]
        },
    }
    with pytest.raises(ConfigError) as error:
        parse_config(data, source="site.yaml")
    problems = "\n".join(error.value.problems)
    assert "availability profile 'wlcg': unknown key 'colour'" in problems
    assert "key 'from': not a day: 'soon'" in problems
    assert "group 'CE': key 'combine': must be 'and' or 'or', got 'xor'" in problems
    assert "group 'CE': key 'modules': no module 'nope'" in problems
    assert "group 'SE': key 'categories': no category 'tape'" in problems
    assert parse_profiles({"profiles": "x"}, {})[1] == [("section 'availability'", "key 'profiles': must be a list")]
