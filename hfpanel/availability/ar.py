"""Availability and reliability with the WLCG definitions, computed from stored module rows.

Each module row holds from its time until the module's next row, at most its validity (the module's
``max_age``): after that, and before the first row, nothing is known. Every instant of a module is
in one state:

* UP — ok or warning;
* DOWN — critical (and an unscheduled downtime, whose time counts against the site);
* UNKNOWN — no information, no row, or a row too old;
* SCHEDULED DOWNTIME — a scheduled GOCDB outage of one of the module's hosts (stored GOCDB tables,
  or a downtime added after the fact), or a row the runner marked as in a scheduled downtime;
* EXCLUDED — a period a person excluded with a reason (a monitoring fault): counted like UNKNOWN.

Then, with T the time looked at:  A = UP / (T − UNKNOWN),  R = UP / (T − UNKNOWN − SCHEDULED DOWNTIME)
(the WLCG worked example: 5 h ok, 9 h critical, 6 h unknown, 4 h scheduled downtime → A 27.78 %,
R 35.71 %). A scope with nothing known has no A/R (NaN, "unknown") and its unknown share is 100 %:
never 100 % available for want of data.

Groups and the site combine their members' states at every instant as ARGO does: AND is the worst
of UP < UNKNOWN < DOWN < SCHEDULED DOWNTIME, OR the best. Pure: frames in, frames out.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..levels import COLORS, CRITICAL, DOWNTIME, NOINFO, OK
from .profiles import AND, Profile, in_force

UP, UNKNOWN, DOWN, SD, EXCLUDED = 0, 1, 2, 3, 4
STATE_NAMES = {UP: "up", UNKNOWN: "unknown", DOWN: "down", SD: "scheduled downtime", EXCLUDED: "excluded"}
#: each state's colour: its level's (excluded: a light grey, to tell it from unknown)
STATE_COLORS = {
    "up": COLORS[OK],
    "down": COLORS[CRITICAL],
    "unknown": COLORS[NOINFO],
    "scheduled downtime": COLORS[DOWNTIME],
    "excluded": "#bdc1c6",
}
#: where a state ranks when members combine (EXCLUDED ranks as UNKNOWN)
RANK = np.array([0, 1, 2, 3, 1])
#: how long a row holds when the module's configuration does not say (its max_age)
DEFAULT_VALIDITY = 3600.0
HOUR_COLUMNS = ["hours", "hours_up", "hours_down", "hours_unknown", "hours_downtime", "hours_excluded"]
COLUMNS = ["scope", "name", "day", *HOUR_COLUMNS, "availability", "reliability", "unknown_share", "profile"]
DAY = np.int64(86_400 * 10**9)


@dataclasses.dataclass
class ARResult:
    """``daily``: one row per scope (site, group, module), name and day; ``summary``: the same over the
    whole window; ``segments``: every scope's states over time (for strips); the downtimes
    and exclusions that were applied."""

    daily: pd.DataFrame
    summary: pd.DataFrame
    segments: pd.DataFrame
    downtimes: pd.DataFrame
    exclusions: pd.DataFrame

    def site(self) -> pd.Series | None:
        found = self.summary[self.summary["scope"] == "site"]
        return None if found.empty else found.iloc[0]


def availability(up, unknown, downtime=0.0, total=None, excluded=0.0):
    """(A, R) from hours (or any one unit); NaN where nothing was known."""
    up, unknown, downtime = (np.asarray(x, dtype=float) for x in (up, unknown, downtime))
    total, excluded = np.asarray(total, dtype=float), np.asarray(excluded, dtype=float)
    known = total - unknown - excluded
    reliable = known - downtime
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(known > 1e-9, up / np.where(known > 1e-9, known, 1), np.nan)
        r = np.where(reliable > 1e-9, up / np.where(reliable > 1e-9, reliable, 1), np.nan)
    return a, r


def row_states(rows: pd.DataFrame, warning: float = 0.33) -> np.ndarray:
    """The state of each stored module row (see the module's docstring)."""
    level = rows["level"].astype(str).to_numpy()
    states = np.full(len(rows), UNKNOWN, dtype=np.int8)
    states[np.isin(level, ("ok", "warning"))] = UP
    states[level == "critical"] = DOWN
    downtime = level == "downtime"
    if downtime.any():
        text = (
            rows["downtime"].fillna("").astype(str).str.lower() if "downtime" in rows else pd.Series([""] * len(rows))
        )
        scheduled = text.str.contains("scheduled").to_numpy() & ~text.str.contains("unscheduled").to_numpy()
        status = rows["status"].astype(float).to_numpy()
        underlying = np.where(status < 0, UNKNOWN, np.where(status < warning, DOWN, UP))
        states[downtime] = np.where(scheduled[downtime], SD, underlying[downtime])
    return states


def _ns(values) -> np.ndarray:
    return pd.to_datetime(pd.Series(values)).astype("datetime64[ns]").to_numpy().astype(np.int64)


def _intervals(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, scope) of a downtime/exclusion frame as arrays (scope "" is every module)."""
    if frame.empty:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, dtype=object)
    return _ns(frame["start"]), _ns(frame["end"]), frame["module"].fillna("").astype(str).to_numpy()


def _inside(starts: np.ndarray, intervals: tuple, module: str) -> np.ndarray:
    """Which instants lie in an interval that applies to ``module``."""
    mask = np.zeros(len(starts), dtype=bool)
    lows, highs, scope = intervals
    for low, high in zip(lows[(scope == "") | (scope == module)], highs[(scope == "") | (scope == module)]):
        mask |= (starts >= low) & (starts < high)
    return mask


def combine(states: list[np.ndarray], how: str, size: int = 0) -> np.ndarray:
    """Members' states into one at every instant: AND the worst, OR the best; EXCLUDED when that
    result is unknown only because of exclusions. Without members nothing is known."""
    if not states:
        return np.full(size, UNKNOWN, dtype=np.int8)
    stack = np.vstack(states)
    ranks = RANK[stack]
    picked = ranks.max(axis=0) if how == AND else ranks.min(axis=0)
    result = picked.astype(np.int8)
    excluded_only = (picked == UNKNOWN) & ~(stack == UNKNOWN).any(axis=0)
    result[excluded_only] = EXCLUDED
    return result


def _empty_frame(columns) -> pd.DataFrame:
    return pd.DataFrame(columns=columns)


def compute(
    rows: pd.DataFrame,
    start,
    end,
    versions: list[Profile],
    validity: dict[str, float] | None = None,
    downtimes: pd.DataFrame | None = None,
    exclusions: pd.DataFrame | None = None,
    warning: float = 0.33,
    with_segments: bool = True,
) -> ARResult:
    """A/R of ``[start, end)`` from module rows (``module``, ``time``, ``level``, ``status``, optional
    ``downtime``; include each module's last row before ``start``), per module, group and site and per
    UTC day. ``versions`` are the dated versions of one profile; ``downtimes`` (start, end, module —
    empty for every module) are scheduled downtimes, ``exclusions`` (start, end, module, …) periods
    that count as unknown. ``with_segments=False`` leaves ``segments`` empty (no strip wanted)."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    validity = validity or {}
    downtimes = downtimes if downtimes is not None else pd.DataFrame(columns=["start", "end", "module"])
    exclusions = exclusions if exclusions is not None else pd.DataFrame(columns=["start", "end", "module"])
    modules = list(dict.fromkeys(m for p in versions for m in p.modules))
    rows = rows[rows["module"].isin(modules)].sort_values("time", kind="stable") if not rows.empty else rows
    lo, hi = np.int64(start.value), np.int64(end.value)
    first_day = np.int64(start.normalize().value)
    days = np.arange(first_day, hi, DAY)
    # every instant a state can change: row times, rows running out, downtimes, exclusions, days
    points = [np.array([lo, hi]), days]
    per_module = {}
    if not rows.empty:  # times and states of every row at once, then each module's share by position
        all_times, all_states = _ns(rows["time"]), row_states(rows, warning)
        for module, at in rows.groupby("module", sort=False).indices.items():
            times = all_times[at]
            ends = times + np.int64(validity.get(module, DEFAULT_VALIDITY) * 1e9)
            per_module[module] = (times, ends, all_states[at])
            points += [times, ends]
    down, excluded = _intervals(downtimes), _intervals(exclusions)
    for lows, highs, _ in (down, excluded):
        points += [lows, highs]
    bounds = np.unique(np.clip(np.concatenate(points), lo, hi))
    seg_start, seg_len = bounds[:-1], np.diff(bounds)
    day_index = ((seg_start - first_day) // DAY).astype(np.int64)
    day_list = [pd.Timestamp(d) for d in days]

    states = {}
    for module in modules:
        state = np.full(len(seg_start), UNKNOWN, dtype=np.int8)
        if module in per_module:
            times, ends, row_state = per_module[module]
            index = np.searchsorted(times, seg_start, side="right") - 1
            valid = (index >= 0) & (seg_start < ends[np.maximum(index, 0)])
            state = np.where(valid, row_state[np.maximum(index, 0)], UNKNOWN).astype(np.int8)
        state[_inside(seg_start, down, module)] = SD
        state[_inside(seg_start, excluded, module)] = EXCLUDED
        states[module] = state

    out, segments = [], []

    def account(scope: str, name: str, state: np.ndarray, mask: np.ndarray, profile: str) -> None:
        hours = {}
        for code, column in (
            (UP, "up"),
            (DOWN, "down"),
            (UNKNOWN, "unknown"),
            (SD, "downtime"),
            (EXCLUDED, "excluded"),
        ):
            weights = np.where(mask & (state == code), seg_len, 0) / 3.6e12
            hours[f"hours_{column}"] = np.bincount(day_index, weights=weights, minlength=len(days))
        hours["hours"] = np.bincount(day_index, weights=np.where(mask, seg_len, 0) / 3.6e12, minlength=len(days))
        used = np.bincount(day_index, weights=mask.astype(float), minlength=len(days)) > 0
        for i in np.flatnonzero(used):
            out.append(
                {
                    "scope": scope,
                    "name": name,
                    "day": day_list[i],
                    "profile": profile,
                    **{k: v[i] for k, v in hours.items()},
                }
            )
        segments.append((scope, name, state, mask))

    everything = np.ones(len(seg_start), dtype=bool)
    for module in modules:
        account("module", module, states[module], everything, "")
    for version in versions:
        in_use = np.array([in_force(versions, d) is version for d in day_list], dtype=bool)
        if not in_use.any():
            continue
        mask = in_use[day_index]
        label = version.name + (f" from {version.since:%Y-%m-%d}" if version.since.year > 1970 else "")
        group_states = []
        for group in version.groups:
            state = combine([states[m] for m in group.modules], group.combine, len(seg_start))
            account("group", group.name, state, mask, label)
            group_states.append(state)
        account("site", version.name, combine(group_states, version.combine, len(seg_start)), mask, label)
    daily = pd.DataFrame(out, columns=COLUMNS) if out else _empty_frame(COLUMNS)
    daily = _with_ratios(daily)
    return ARResult(
        daily=daily,
        summary=summarise(daily),
        segments=_segments(segments if with_segments else [], seg_start, seg_len),
        downtimes=downtimes,
        exclusions=exclusions,
    )


def _with_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    a, r = availability(
        frame["hours_up"], frame["hours_unknown"], frame["hours_downtime"], frame["hours"], frame["hours_excluded"]
    )
    unknown = (frame["hours_unknown"] + frame["hours_excluded"]) / frame["hours"].where(frame["hours"] > 0)
    return frame.assign(availability=a, reliability=r, unknown_share=unknown.fillna(1.0))


def summarise(daily: pd.DataFrame) -> pd.DataFrame:
    """The daily rows summed over the window, per scope and name, with A/R from the sums."""
    if daily.empty:
        return _empty_frame([c for c in COLUMNS if c != "day"])
    order = {"site": 0, "group": 1, "module": 2}
    summed = daily.groupby(["scope", "name"], sort=False)[HOUR_COLUMNS].sum().reset_index()
    used = daily[["scope", "name", "profile"]].drop_duplicates()
    used = used[used["profile"] != ""].groupby(["scope", "name"], sort=False)["profile"].agg(", ".join)
    summed["profile"] = [used.get((s, n), "") for s, n in zip(summed["scope"], summed["name"])]
    summed = _with_ratios(summed)
    summed = (
        summed.assign(_order=summed["scope"].map(order)).sort_values("_order", kind="stable").drop(columns="_order")
    )
    return summed.reset_index(drop=True)[[c for c in COLUMNS if c != "day"]]


def _segments(items, seg_start, seg_len) -> pd.DataFrame:
    """Consecutive equal states of the site and groups as (scope, name, start, end, state)."""
    columns = ["scope", "name", "start", "end", "state"]
    rows = []
    ends = seg_start + seg_len
    for scope, name, state, mask in items:
        index = np.flatnonzero(mask)
        if not len(index):
            continue
        breaks = np.flatnonzero((np.diff(state[index]) != 0) | (np.diff(index) != 1)) + 1
        for run in np.split(index, breaks):
            rows.append(
                (
                    scope,
                    name,
                    pd.Timestamp(seg_start[run[0]]),
                    pd.Timestamp(ends[run[-1]]),
                    STATE_NAMES[int(state[run[0]])],
                )
            )
    return pd.DataFrame(rows, columns=columns)
