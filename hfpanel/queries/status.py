"""The site's status at a time, as the overview shows it: every module with its age and staleness,
every category with its counts of modules by level.

Questions only (no rendering): the overview tiles, the notebooks, the CLI and the API share them.
"""

from __future__ import annotations

import pandas as pd

from ..clock import utcnow
from ..config import DEFAULTS
from ..durations import format_duration, parse_duration
from ..levels import DEFAULT_LEVELS, DOWNTIME, LEVELS, NOINFO, Levels
from ..units import fmt_age, fmt_time
from . import loaders

#: how old a module's row may be before it counts as stale when no site config says otherwise
DEFAULT_MAX_AGE = parse_duration(DEFAULTS["max_age"])
DEFAULT_INTERVAL = parse_duration(DEFAULTS["interval"])

MODULE_COLUMNS = [
    "category",
    "category_title",
    "module",
    "title",
    "status",
    "level",
    "message",
    "error",
    "time",
    "age_s",
    "max_age_s",
    "stale",
    "is_stale",
    "last_good",
    "last_good_text",
    "source_url",
    "collector",
    "run_id",
    "since",
    "since_exact",
    "for_s",
    "labels",  # JSON of what its collector said the answer is about (hfpanel.labels), "" / None for none
]
CATEGORY_COLUMNS = ["category", "title", "status", "level", "message", *LEVELS, "modules"]


def module_frame(store, time=None, config=None, reference=None, max_age=None) -> pd.DataFrame:
    """Every module as it was at ``time`` (None: now), with its age and whether it is stale.

    ``age_s`` is the time since the row was written, measured from ``reference`` (the viewed time,
    or the wall clock at now); ``is_stale`` is the stored ``stale`` flag or an age beyond the
    module's ``max_age`` (``max_age(module)``; default: from the config, else the configuration
    stored with the run, else one hour). A module with no row for longer than its interval plus its
    max_age at ``reference`` is no information then (``overdue_as_noinfo``: a stopped collector does
    not leave the site "ok"; the stored row is unchanged). ``since`` is the first run
    of the module's current level (``since_exact`` False: older than the history looked at) and
    ``for_s`` how long that is before ``reference``: what "CRITICAL for 1h 45m" says.
    """
    status = loaders.status_at(store, time) if store is not None else pd.DataFrame()
    if status.empty and config is None:
        return pd.DataFrame(columns=MODULE_COLUMNS)
    frame = status.copy() if not status.empty else pd.DataFrame(columns=list(MODULE_COLUMNS))
    if config is not None:  # modules the config names but the store has no row for (yet)
        missing = [m for m in config.modules if m.name not in set(frame.get("module", []))]
        if missing:
            extra = pd.DataFrame(
                [
                    {
                        "category": m.category,
                        "module": m.name,
                        "title": m.title,
                        "status": -1.0,
                        "level": NOINFO,
                        "message": "no information: no data in the store yet",
                        "error": "no data in the store yet",
                        "stale": True,
                        "collector": m.collector,
                    }
                    for m in missing
                ]
            )
            frame = pd.concat([frame.astype(object), extra], ignore_index=True) if not frame.empty else extra
    for column in MODULE_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    if reference is None:
        reference = time if time is not None else utcnow()
    times = pd.to_datetime(frame["time"])
    frame["age_s"] = (reference - times).dt.total_seconds()
    max_age = max_age or max_ages(store, time, config)
    frame["max_age_s"] = [max_age(m) for m in frame["module"]]
    stored_stale = frame["stale"].map(lambda v: bool(v) if not pd.isna(v) else False)
    frame["is_stale"] = stored_stale | (frame["age_s"].fillna(float("inf")) > frame["max_age_s"])
    frame["stale"] = stored_stale
    frame["error"] = frame["error"].fillna("").astype(str)
    frame["message"] = frame["message"].fillna("").astype(str)
    frame["title"] = [t if isinstance(t, str) and t else m for t, m in zip(frame["title"], frame["module"])]
    since = loaders.level_since(store, time) if store is not None else pd.DataFrame()
    if not since.empty:
        found = since.set_index("module")
        frame["since"] = pd.to_datetime(frame["module"].map(found["since"]))
        frame["since_exact"] = frame["module"].map(found["since_exact"]).fillna(False).astype(bool)
    else:
        frame["since"], frame["since_exact"] = pd.NaT, False
    # a row older than its max_age says nothing about the time looked at (the collector stopped)
    frame = overdue_as_noinfo(frame, reference, silence_limits(store, time, config))
    frame["for_s"] = (reference - pd.to_datetime(frame["since"])).dt.total_seconds()
    frame["last_good"] = pd.to_datetime(frame["last_good"])
    frame["last_good_text"] = [
        (f"{fmt_time(good)} ({fmt_age((reference - good).total_seconds())})" if not pd.isna(good) else "never")
        if lvl == NOINFO
        else ""
        for good, lvl in zip(frame["last_good"], frame["level"])
    ]
    titles = _category_titles(store, time, config)
    frame["category_title"] = [titles.get(c, c) for c in frame["category"]]
    order = _module_order(config)
    frame["_order"] = [order.get(m, (len(order), t)) for m, t in zip(frame["module"], frame["title"])]
    frame["_cat"] = [list(titles).index(c) if c in titles else len(titles) for c in frame["category"]]
    frame = frame.sort_values(["_cat", "_order"], key=None).drop(columns=["_order", "_cat"])
    return frame[MODULE_COLUMNS].reset_index(drop=True)


def max_ages(store, at=None, config=None):
    """``module -> seconds`` its rows stay fresh (its ``max_age``; older rows are marked stale):
    the site config's when one is given, else the one stored with the run at ``at`` (a
    ``--store``-only command), else the default."""
    known = _durations(store, at, config)
    return lambda module: known.get(module, (None, DEFAULT_MAX_AGE))[1]


def silence_limits(store, at=None, config=None):
    """``module -> (interval, max_age)`` in seconds, from the same place as ``max_ages``: a module
    with no new row for longer than their sum is silent (as the events engine's ``silent``)."""
    known = _durations(store, at, config)
    return lambda module: known.get(module, (DEFAULT_INTERVAL, DEFAULT_MAX_AGE))


def _durations(store, at, config) -> dict:
    if config is not None:
        return {m.name: (float(m.interval), float(m.max_age)) for m in config.modules}
    effective = loaders.stored_config(store, at) if store is not None else None
    return {
        m["name"]: (
            float(m["interval"]) if isinstance(m.get("interval"), (int, float)) else DEFAULT_INTERVAL,
            float(m["max_age"]) if isinstance(m.get("max_age"), (int, float)) else DEFAULT_MAX_AGE,
        )
        for m in (effective or {}).get("modules", [])
    }


def overdue_as_noinfo(frame: pd.DataFrame, reference, limits) -> pd.DataFrame:
    """``frame`` (rows of ``status_at``) as it stands at ``reference``: a module with no new row for
    longer than its interval plus its max_age (``limits(module)``, see ``silence_limits``) is no
    information then, whatever its last row said — a collector that stopped running must not leave
    the site "ok". The message says how old the data is and what it said; ``since`` (when present)
    is the moment the module fell silent."""
    if frame.empty:
        return frame
    reference = pd.Timestamp(reference)
    ages = (reference - pd.to_datetime(frame["time"])).dt.total_seconds()
    parts = [limits(m) for m in frame["module"]]
    allowed = pd.Series([i + a for i, a in parts], index=frame.index, dtype=float)
    late = (ages > allowed) & (frame["level"] != NOINFO)
    if not late.any():
        return frame
    frame = frame.copy()
    for index, (interval, max_age) in zip(frame.index, parts):
        if not late[index]:
            continue
        said = " ".join(str(frame.at[index, "message"] or "").split())
        frame.at[index, "message"] = (
            f"no information: last run {format_duration(ages[index])} ago, longer than its interval + max age "
            f"({format_duration(interval)} + {format_duration(max_age)}; it said: {frame.at[index, 'level']}"
            + (f", {said})" if said else ")")
        )
        frame.at[index, "status"] = -1.0
        frame.at[index, "level"] = NOINFO
        if "since" in frame.columns:
            frame.at[index, "since"] = pd.to_datetime(frame.at[index, "time"]) + pd.Timedelta(seconds=allowed[index])
            frame.at[index, "since_exact"] = True
    return frame


def _module_order(config) -> dict:
    if config is None:
        return {}
    return {m.name: (i, "") for i, m in enumerate(config.modules)}


def _category_titles(store, time, config) -> dict:
    """Category name -> title, in display order (config order, else the store's)."""
    titles = {}
    if config is not None:
        titles.update({c.name: c.title for c in config.categories})
    stored = loaders.category_status_at(store, time) if store is not None else pd.DataFrame()
    if not stored.empty:
        for name, title in zip(stored["category"], stored["title"]):
            titles.setdefault(name, title if isinstance(title, str) and title else name)
    return titles


def category_frame(store, time=None, config=None, modules: pd.DataFrame | None = None, categories=None) -> pd.DataFrame:
    """One row per category: its rolled-up status and level (as the runner stored it; the worst
    module when the store has none) and how many of its modules are at each level.

    ``categories`` (a set of names) restricts the answer to what a reader may see; ``modules`` is
    then only the modules they may see, and each category is the worst of those (the stored
    roll-up would let a hidden module's level through)."""
    restricted = categories is not None
    modules = modules if modules is not None else module_frame(store, time, config)
    stored = loaders.category_status_at(store, time) if store is not None and not restricted else pd.DataFrame()
    stored = stored.set_index("category") if not stored.empty else stored
    titles = _category_titles(store, time, config)
    for name in modules["category"]:
        titles.setdefault(name, name)
    if restricted:
        titles = {name: title for name, title in titles.items() if name in categories}
    rules = None
    rows = []
    for name, title in titles.items():
        members = modules[modules["category"] == name]
        counts = members["level"].value_counts()
        row = {
            "category": name,
            "title": title,
            **{lvl: int(counts.get(lvl, 0)) for lvl in LEVELS},
            "modules": len(members),
        }
        outdated = "is_stale" in members.columns and bool(members["is_stale"].fillna(False).astype(bool).any())
        if not stored.empty and name in stored.index and not outdated:
            found = stored.loc[name]
            row.update(status=float(found["status"]), level=str(found["level"]), message=str(found["message"] or ""))
        elif len(members):  # as the runner rolls up, over the modules as they stand (and as the reader sees them)
            rules = rules or _rollup_rules(store, time, config)
            row.update(_rolled_up(rules, name, members))
        else:
            row.update(status=-1.0, level=NOINFO, message="no modules")
        rows.append(row)
    return pd.DataFrame(rows, columns=CATEGORY_COLUMNS)


def _rollup_rules(store, time, config) -> tuple[dict, dict, Levels]:
    """Each category's ``rollup`` rule, each module's weight and the levels: today's config when
    given, else the configuration stored with the run at ``time``, else the defaults (worst, 1)."""
    if config is not None:
        return (
            {c.name: c.rollup for c in config.categories},
            {m.name: float(m.weight) for m in config.modules},
            config.levels,
        )
    effective = (loaders.stored_config(store, time) if store is not None else None) or {}
    stored_levels = effective.get("levels") or {}
    try:
        levels = Levels(**stored_levels) if stored_levels else DEFAULT_LEVELS
    except (TypeError, ValueError):
        levels = DEFAULT_LEVELS
    return (
        {c.get("name"): c.get("rollup") for c in effective.get("categories", [])},
        {m.get("name"): float(m.get("weight") or 1.0) for m in effective.get("modules", [])},
        levels,
    )


def _rolled_up(rules, category: str, members: pd.DataFrame) -> dict:
    """The category's status, level and message from ``members`` by its roll-up rule, with the
    no-information policy ("n of m without information"): the same ``rating.rollup`` the runner uses."""
    from ..rating import is_downtime_rollup, rollup

    rule_of, weight_of, levels = rules
    statuses = [float(s) if pd.notna(s) else -1.0 for s in members["status"]]
    weights = [weight_of.get(m, 1.0) for m in members["module"]]
    downtime = [lvl == DOWNTIME for lvl in members["level"]]
    try:
        rating = rollup(rule_of.get(category), statuses, weights, downtime)
    except Exception:  # a rule today's code no longer understands: the worst module, said so
        rating = rollup(None, statuses, weights, downtime)
    level = DOWNTIME if is_downtime_rollup(rating) else levels.level(rating.status)
    return {"status": float(rating.status), "level": level, "message": rating.message}
