"""Availability profiles: which modules count for a site's availability, and how they combine.

A profile groups service flavours the way WLCG's do: a site is available when *all* its groups are
(``combine: and``), a group of computing elements when *any* of them is (``combine: or``), a group
of storage services when all are. Profiles are configuration (``availability:`` in site.yaml) and
dated: the entry with the latest ``from`` on or before a day decides that day, so a change applies
from its date on and last month's report keeps last month's profile.

    availability:
      profiles:
        - name: wlcg
          from: 2026-11-01
          combine: and
          groups:
            - {name: CE, combine: or, modules: [sam_ce, sam_ce_2]}
            - {name: SE, combine: and, categories: [storage]}

Without a profile, a site's report uses ``default_profile``: every category a group of its modules
(AND), the site the AND of its groups — the honest worst case.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

AND, OR = "and", "or"
#: every key of a profile and of a group, with what it means (for the reference and the messages)
PROFILE_KEYS = {
    "name": "The profile's name (a report asks for one: hfpanel report ar --profile NAME).",
    "from": "The day this version of the profile applies from (YYYY-MM-DD, UTC); default: always.",
    "combine": "How the groups make the site: and (every group up) or or (any group up); default and.",
    "groups": "The service flavours that count: a list of groups.",
}
GROUP_KEYS = {
    "name": "The group's name, e.g. CE or SE (shown in the report).",
    "combine": "How the group's modules make the group: and or or; default and.",
    "modules": "Modules of the group, by name.",
    "categories": "Categories whose modules all belong to the group.",
}
EARLIEST = pd.Timestamp("1970-01-01")


@dataclasses.dataclass(frozen=True)
class Group:
    name: str
    combine: str
    modules: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    since: pd.Timestamp
    combine: str
    groups: tuple[Group, ...]

    @property
    def modules(self) -> list[str]:
        return list(dict.fromkeys(m for g in self.groups for m in g.modules))

    def as_dict(self) -> dict:
        """JSON-ready (stored with each run's effective configuration)."""
        return {
            "name": self.name,
            "from": f"{self.since:%Y-%m-%d}",
            "combine": self.combine,
            "groups": [{"name": g.name, "combine": g.combine, "modules": list(g.modules)} for g in self.groups],
        }


def _combine(value, where: str, problems: list) -> str:
    text = str(value or AND).strip().lower()
    if text not in (AND, OR):
        problems.append((where, f"key 'combine': must be 'and' or 'or', got {value!r}"))
        return AND
    return text


def _names(value, key: str, where: str, problems: list) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append((where, f"key '{key}': must be a list of names"))
        return []
    return value


def _group(raw, where: str, modules: dict[str, str], problems: list) -> Group | None:
    if not isinstance(raw, dict) or not raw.get("name"):
        problems.append((where, "key 'name': missing"))
        return None
    for key in sorted(set(raw) - set(GROUP_KEYS)):
        problems.append((where, f"unknown key '{key}' (known: {', '.join(sorted(GROUP_KEYS))})"))
    names = _names(raw.get("modules"), "modules", where, problems)
    for name in names:
        if name not in modules:
            problems.append((where, f"key 'modules': no module {name!r}"))
    categories = set(modules.values())
    for name in _names(raw.get("categories"), "categories", where, problems):
        if name not in categories:
            problems.append((where, f"key 'categories': no category {name!r} with modules"))
        names += [m for m, category in modules.items() if category == name]
    if not names:
        problems.append((where, "no module: give 'modules' or 'categories'"))
    return Group(str(raw["name"]), _combine(raw.get("combine"), where, problems), tuple(dict.fromkeys(names)))


def _profile(raw, where: str, modules: dict[str, str], problems: list) -> Profile | None:
    if not isinstance(raw, dict) or not raw.get("name"):
        problems.append((where, "key 'name': missing"))
        return None
    for key in sorted(set(raw) - set(PROFILE_KEYS)):
        problems.append((where, f"unknown key '{key}' (known: {', '.join(sorted(PROFILE_KEYS))})"))
    since = EARLIEST
    if raw.get("from") is not None:
        try:
            since = pd.Timestamp(str(raw["from"])).normalize()
        except ValueError:
            problems.append((where, f"key 'from': not a day: {raw['from']!r} (e.g. 2026-11-01)"))
    groups_raw = raw.get("groups")
    if not isinstance(groups_raw, list) or not groups_raw:
        problems.append((where, "key 'groups': a list of at least one group is needed"))
        groups_raw = []
    groups = [
        _group(
            item,
            f"{where} group {item.get('name') if isinstance(item, dict) else '#' + str(i + 1)!r}",
            modules,
            problems,
        )
        for i, item in enumerate(groups_raw)
    ]
    return Profile(
        str(raw["name"]), since, _combine(raw.get("combine"), where, problems), tuple(g for g in groups if g)
    )


def parse_profiles(raw, modules: dict[str, str]) -> tuple[list[Profile], list[tuple[str, str]]]:
    """The ``availability:`` section as profiles (oldest version first per name) and its problems as
    (where, what) pairs; ``modules`` maps each module name to its category."""
    if raw is None:
        return [], []
    problems: list[tuple[str, str]] = []
    if not isinstance(raw, dict):
        return [], [("", "key 'availability': must be a mapping with 'profiles'")]
    for key in sorted(set(raw) - {"profiles"}):
        problems.append(("section 'availability'", f"unknown key '{key}' (known: profiles)"))
    items = raw.get("profiles") or []
    if not isinstance(items, list):
        return [], [("section 'availability'", "key 'profiles': must be a list")]
    profiles = []
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        profile = _profile(
            item, f"availability profile {name!r}" if name else f"availability profile #{index + 1}", modules, problems
        )
        if profile is not None:
            profiles.append(profile)
    seen = set()
    for profile in profiles:
        if (profile.name, profile.since) in seen:
            problems.append((f"availability profile {profile.name!r}", f"two versions from {profile.since:%Y-%m-%d}"))
        seen.add((profile.name, profile.since))
    return sorted(profiles, key=lambda p: (p.name, p.since)), problems


def from_dicts(items: list[dict]) -> list[Profile]:
    """Profiles as stored (``Profile.as_dict``) back into objects."""
    return [
        Profile(
            item["name"],
            pd.Timestamp(item.get("from") or EARLIEST),
            item.get("combine", AND),
            tuple(Group(g["name"], g.get("combine", AND), tuple(g["modules"])) for g in item.get("groups", [])),
        )
        for item in items
    ]


def default_profile(modules: dict[str, str]) -> Profile:
    """Every category a group of its modules (AND), the site the AND of the groups."""
    categories = list(dict.fromkeys(modules.values()))
    groups = tuple(Group(c, AND, tuple(m for m, cat in modules.items() if cat == c)) for c in categories)
    return Profile("all", EARLIEST, AND, groups)


def names(profiles: list[Profile]) -> list[str]:
    return list(dict.fromkeys(p.name for p in profiles))


def versions(profiles: list[Profile], name: str) -> list[Profile]:
    """Every dated version of the profile ``name``, oldest first; KeyError naming the known ones."""
    found = sorted((p for p in profiles if p.name == name), key=lambda p: p.since)
    if not found:
        raise KeyError(f"no availability profile {name!r} (profiles: {', '.join(names(profiles)) or 'none'})")
    return found


def in_force(versions_: list[Profile], day: pd.Timestamp) -> Profile | None:
    """The version that applies on ``day``: the latest whose ``from`` is on or before it."""
    applying = [p for p in versions_ if p.since <= day]
    return applying[-1] if applying else None
