"""Since when: how long each module and category has been at its current level.

A shifter's first question is "what is broken, and since when". The answer comes from the stored
history: the start of the unbroken streak of runs at the level the subject has at the viewed time.
The streak is looked for in growing windows (most changes are recent, a site-wide scan of a year is
not needed to learn that a CE failed an hour ago); a streak longer than the widest window is
reported as "since at least" that window's start (``since_exact`` False).
"""

from __future__ import annotations

import pandas as pd

from ..clock import utc_naive

#: the windows searched, widest last
WINDOWS = (pd.Timedelta(days=2), pd.Timedelta(days=14), pd.Timedelta(days=92))
COLUMNS = ["since", "since_exact"]


def _streaks(store, table: str, key: str, at: pd.Timestamp, window: pd.Timedelta, subjects) -> pd.DataFrame:
    """For each subject: the first time of its current-level streak within ``window`` before ``at``,
    and whether a run at another level (or the window's start) bounds it."""
    since = at - window
    placeholders = ", ".join("?" for _ in subjects)
    return store.sql(
        f"""
        WITH h AS (
            SELECT {key} AS subject, time, level FROM {store.scan(table, since, at)}
            WHERE time > ? AND time <= ? AND {key} IN ({placeholders})
        ),
        now_level AS (SELECT subject, arg_max(level, time) AS level FROM h GROUP BY subject),
        other AS (
            SELECT h.subject, max(h.time) AS last_other FROM h JOIN now_level n USING (subject)
            WHERE h.level IS DISTINCT FROM n.level GROUP BY h.subject
        )
        SELECT h.subject, min(h.time) AS since, any_value(o.last_other) IS NOT NULL AS bounded
        FROM h JOIN now_level n USING (subject) LEFT JOIN other o USING (subject)
        WHERE h.level IS NOT DISTINCT FROM n.level AND (o.last_other IS NULL OR h.time > o.last_other)
        GROUP BY h.subject
        """,
        [since.to_pydatetime(), at.to_pydatetime(), *subjects],
    )


def level_since(store, at=None, table: str = "module_status", key: str = "module", subjects=None) -> pd.DataFrame:
    """``subject`` → ``since`` (first run of the current level) and ``since_exact``.

    ``at`` is the viewed time (None: the latest run); ``subjects`` limits the question (default:
    every subject that has a row in the last window)."""
    if not store.has_table(table):
        return pd.DataFrame(columns=[key, *COLUMNS])
    run = store.latest_run(at)
    if run is None:
        return pd.DataFrame(columns=[key, *COLUMNS])
    at = utc_naive(run["time"])
    if subjects is None:
        latest = store.sql(
            f"SELECT DISTINCT {key} FROM {store.scan(table, at - WINDOWS[0], at)} WHERE time > ? AND time <= ?",
            [(at - WINDOWS[0]).to_pydatetime(), at.to_pydatetime()],
        )
        subjects = list(latest[key])
    pending, found = list(subjects), []
    for window in WINDOWS:
        if not pending:
            break
        frame = _streaks(store, table, key, at, window, pending)
        done = frame[frame["bounded"]] if window is not WINDOWS[-1] else frame
        found.append(done.assign(since_exact=done["bounded"]))
        pending = [s for s in pending if s not in set(done["subject"])]
    if not found:
        return pd.DataFrame(columns=[key, *COLUMNS])
    result = pd.concat(found, ignore_index=True).rename(columns={"subject": key})
    result["since"] = pd.to_datetime(result["since"])
    return result[[key, *COLUMNS]].reset_index(drop=True)


def with_since(frame: pd.DataFrame, store, at=None, table: str = "module_status", key: str = "module") -> pd.DataFrame:
    """``frame`` (rows keyed by ``key``, e.g. ``status_at``) with ``since`` and ``since_exact`` added."""
    if frame.empty or key not in frame.columns:
        return frame.assign(since=pd.Series(dtype="datetime64[us]"), since_exact=pd.Series(dtype=bool))
    since = level_since(store, at, table, key, subjects=list(frame[key]))
    merged = frame.drop(columns=[c for c in COLUMNS if c in frame.columns]).merge(since, on=key, how="left")
    merged["since_exact"] = merged["since_exact"].fillna(False).astype(bool)
    return merged
