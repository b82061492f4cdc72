"""The compact picture for phones, desktop widgets and other dashboards (HappyFace's XML feed, as
JSON): the site's overall level, each category's level, and what changed since a run the reader
last saw. Panel-free, like every question here; the API's ``/feed`` serves it.
"""

from __future__ import annotations

import pandas as pd

from ..levels import LEVELS, NOINFO, SEVERITY
from . import history, loaders, status

#: how far back "what changed" looks when the reader names no run of its own
DEFAULT_CHANGES_WINDOW = pd.Timedelta(hours=24)
#: at most this many changes (the newest): a widget shows a few lines, not a day of flapping
MAX_CHANGES = 50


class UnknownRun(LookupError):
    """The reader named a run the store does not hold (pruned, or never there)."""


def overall_level(levels) -> str:
    """The site's one word: the worst level of its categories (no information when there are none)."""
    levels = [lvl for lvl in levels if lvl in SEVERITY]
    return min(levels, key=SEVERITY.get) if levels else NOINFO


def run_time(store, run_id: str) -> pd.Timestamp:
    """The time of the run ``run_id`` (``UnknownRun`` when the store holds none)."""

    def compute():
        if not store.has_table("runs"):
            return None
        found = store.sql("SELECT time FROM runs WHERE run_id = ? LIMIT 1", [run_id])
        return None if found.empty else pd.Timestamp(found["time"].iloc[0])

    when = loaders.cached("feed.run_time", store, (run_id,), compute)
    if when is None:
        raise UnknownRun(f"no run {run_id!r} in the store")
    return when


def feed(store, config=None, since_run: str | None = None, at=None, visible=None) -> dict:
    """The compact feed at ``at`` (None: the latest run): site, run, overall level, the level of each
    category, counts of modules by level, and the level changes after ``since_run`` (else the last
    24 hours), newest first, at most ``MAX_CHANGES``.

    ``visible`` (with ``only_visible(frame)`` and ``visible_categories(modules)``, as the API's
    context has) keeps to what a reader may see: counts, categories and changes of those only."""
    run = loaders.latest_run(store, at)
    modules = status.module_frame(store, at, config)
    shown = None
    if visible is not None:
        modules = visible.only_visible(modules)
        shown = visible.visible_categories(modules)
    categories = status.category_frame(store, at, config, modules=modules, categories=shown)
    counts = modules["level"].value_counts() if not modules.empty else pd.Series(dtype=int)
    answer = {
        "site": loaders.site_name(store) or (config.site if config is not None else ""),
        "run_id": None if run is None else str(run["run_id"]),
        "time": None if run is None else pd.Timestamp(run["time"]),
        "level": overall_level(categories["level"]),
        "counts": {lvl: int(counts.get(lvl, 0)) for lvl in LEVELS},
        "categories": [
            {"name": row.category, "title": row.title, "level": row.level, "status": float(row.status)}
            for row in categories.itertuples()
        ],
        "changes_since": None,
        "changes": [],
        "changes_truncated": False,
    }
    if run is None:
        return answer
    until = pd.Timestamp(run["time"])
    since = run_time(store, since_run) if since_run else until - DEFAULT_CHANGES_WINDOW
    answer["changes_since"] = since
    if since >= until:
        return answer
    changes = history.level_changes(store, since, until)
    if visible is not None:
        changes = visible.only_visible(changes)
    answer["changes_truncated"] = len(changes) > MAX_CHANGES
    newest = changes.sort_values(["time", "module"], ascending=[False, True]).head(MAX_CHANGES)
    answer["changes"] = [
        {
            "module": row.module,
            "category": row.category,
            "time": pd.Timestamp(row.time),
            "from": row.from_level,
            "to": row.to_level,
        }
        for row in newest.itertuples()
    ]
    return answer
