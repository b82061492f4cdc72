"""What if: re-rate a window of stored history with other rules, beside what was stored.

A site wants to know what a stricter threshold, a k-of-n roll-up instead of the worst, or another
no-information policy would have shown last week — without touching what the store says happened.
``what_if(store, since, until, ratings=…, rollups=…, noinfo=…, levels=…)`` applies the rating types of
``hfpanel.rating`` again to what each collector produced in each stored run (its metrics and detail
tables), rolls the categories up again at every run as the runner does, and answers with the stored
and the what-if levels side by side, per module and category and run, a summary of what changed, and
the A/R both ways. Nothing is written.

Changes (also the YAML the page takes)::

    ratings: {sam_ce: {type: threshold, metric: health, warning: 0.8, critical: 0.5}}   # per module
    rollups: {storage: {type: k_of_n, k: 1}}                                              # per category
    noinfo: {noinfo_warning: 0.5, noinfo_unknown: 0.75}                                   # every category
    levels: {ok: 0.8, warning: 0.4}
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .. import stored_config
from ..clock import parse_time
from ..collector import ParseResult, SourceError
from ..config import SiteConfig, load_config
from ..levels import DOWNTIME, NOINFO, NOINFO_STATUS, OK, Levels
from ..queries import whatif as q
from ..rating import NoInfoPolicy, check_rating, check_rollup, is_downtime_rollup, partial, rate, rating_type, rollup
from ..rating.threshold import high_is_bad

KEYS = ("ratings", "rollups", "noinfo", "levels")
#: the rows before the window read for the roll-ups (modules that did not run in it) and A/R
LOOKBACK = pd.Timedelta(days=1)
LEVEL_ORDER = ("critical", "noinfo", "warning", "downtime", "ok")


class WhatIfError(ValueError):
    """Changes that cannot be applied; ``problems`` lists each as 'where: what is wrong'."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclasses.dataclass
class Changes:
    ratings: dict = dataclasses.field(default_factory=dict)
    rollups: dict = dataclasses.field(default_factory=dict)
    noinfo: dict = dataclasses.field(default_factory=dict)
    levels: dict = dataclasses.field(default_factory=dict)

    def any(self) -> bool:
        return bool(self.ratings or self.rollups or self.noinfo or self.levels)


def parse_changes(data=None, *, ratings=None, rollups=None, noinfo=None, levels=None) -> Changes:
    """Changes from a mapping or YAML text (or keyword arguments), each rule checked as the site
    configuration checks it; WhatIfError names every problem."""
    if isinstance(data, str):
        try:
            data = yaml.safe_load(data) or {}
        except yaml.YAMLError as error:
            raise WhatIfError([f"not YAML: {getattr(error, 'problem', error)}"]) from None
    data = dict(data or {})
    for key, value in (("ratings", ratings), ("rollups", rollups), ("noinfo", noinfo), ("levels", levels)):
        if value is not None:
            data[key] = value
    problems = [f"unknown key '{k}' (known: {', '.join(KEYS)})" for k in sorted(set(data) - set(KEYS))]
    for key in KEYS:
        if data.get(key) is not None and not isinstance(data[key], dict):
            problems.append(f"key '{key}': must be a mapping")
            data[key] = {}
    changes = Changes(**{k: dict(data.get(k) or {}) for k in KEYS})
    for module, rule in changes.ratings.items():
        problems += [f"ratings.{module}: {p}" for p in check_rating(rule)]
    for category, raw in list(changes.rollups.items()):
        rule, found = check_rollup(raw, 10**6)
        changes.rollups[category] = rule
        problems += [f"rollups.{category}: {p}" for p in found]
    _, found = check_rollup({"type": "worst", **changes.noinfo}, 1)
    problems += [f"noinfo: {p.replace('rollup.', '')}" for p in found]
    try:
        Levels(**changes.levels)
    except (TypeError, ValueError) as error:
        problems.append(f"levels: {error}")
    if problems:
        raise WhatIfError(problems)
    return changes


@dataclasses.dataclass
class WhatIf:
    """Stored and what-if side by side. ``modules`` / ``categories``: one row per run and name with
    ``level`` (stored) and ``whatif_level``; ``summary``: per name, runs at each level both ways, how
    many runs changed, and the level changes (the ``level_changed`` events) each way; ``ar`` / ``ar_whatif``: A/R summaries (None without a profile's modules)."""

    since: pd.Timestamp
    until: pd.Timestamp
    changes: Changes
    modules: pd.DataFrame
    categories: pd.DataFrame
    summary: pd.DataFrame
    ar: pd.DataFrame | None = None
    ar_whatif: pd.DataFrame | None = None
    notes: list = dataclasses.field(default_factory=list)
    #: with a site configuration that has notification rules: the events and messages its rules give
    #: over the window replayed with the stored levels (``messages``) and with the what-if levels
    #: (``whatif_messages``); ``events_compared``: events per kind both ways
    messages: pd.DataFrame | None = None
    whatif_messages: pd.DataFrame | None = None
    events_compared: pd.DataFrame | None = None

    def notifications_side_by_side(self) -> pd.DataFrame:
        """Per notification rule and kind of message (firing, resolved, reminders…): how many
        incidents and messages the stored levels and the what-if levels would have given (empty
        without notification rules)."""
        columns = ["rule", "kind", "incidents", "messages", "whatif_incidents", "whatif_messages"]
        if self.messages is None or self.whatif_messages is None:
            return pd.DataFrame(columns=columns)

        def count(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
            if frame.empty:
                return pd.DataFrame(columns=["rule", "kind", f"{prefix}incidents", f"{prefix}messages"])
            return (
                frame.groupby(["rule", "kind"])
                .agg(
                    **{f"{prefix}incidents": ("incident_id", "nunique"), f"{prefix}messages": ("message_id", "nunique")}
                )
                .reset_index()
            )

        merged = count(self.messages, "").merge(
            count(self.whatif_messages, "whatif_"), on=["rule", "kind"], how="outer"
        )
        counts = [c for c in columns if c not in ("rule", "kind")]
        return merged.reindex(columns=columns).fillna({c: 0 for c in counts}).astype({c: int for c in counts})

    def changed(self) -> pd.DataFrame:
        """The summary rows whose levels differ in at least one run."""
        return self.summary[self.summary["runs_changed"] > 0]

    def ar_side_by_side(self) -> pd.DataFrame:
        """Stored and what-if A/R per scope (empty when nothing could be computed)."""
        if self.ar is None or self.ar_whatif is None:
            return pd.DataFrame(columns=["scope", "name", "availability", "reliability"])
        keys = ["scope", "name"]
        left = self.ar[[*keys, "availability", "reliability"]]
        right = self.ar_whatif[[*keys, "availability", "reliability"]].rename(
            columns={"availability": "whatif_availability", "reliability": "whatif_reliability"}
        )
        return left.merge(right, on=keys, how="outer")


def levels_of(levels: Levels, status: np.ndarray, downtime: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """Each status's level (as ``Levels.level``), "downtime" where a row was in a downtime and not ok,
    "noinfo" where its source failed."""
    level = np.where(
        np.isnan(status) | (status < 0),
        NOINFO,
        np.where(status >= levels.ok, OK, np.where(status >= levels.warning, "warning", "critical")),
    )
    level = np.where(downtime & (level != OK), DOWNTIME, level)
    return np.where(failed, NOINFO, level)


def rerate_module(rows: pd.DataFrame, rule: dict | None, metrics: dict, tables: dict) -> np.ndarray:
    """New statuses of one module's stored rows under ``rule``: a row whose source failed stays
    without information; a rule the stored data cannot answer gives no information."""
    kind = rating_type(rule)
    out = np.empty(len(rows))
    for i, (run_id, when, error) in enumerate(zip(rows["run_id"], rows["time"], rows["error"])):
        if error:
            out[i] = NOINFO_STATUS
            continue
        result = ParseResult(
            tables={name: by_time[when] for name, by_time in tables.items() if when in by_time},
            metrics=metrics.get(run_id, {}),
        )
        try:
            out[i] = rate(rule, kind.prepare(rule, result)).status
        except (SourceError, KeyError, ValueError, TypeError):
            out[i] = NOINFO_STATUS
    return out


def threshold_many(rule: dict, values: np.ndarray) -> np.ndarray:
    """``threshold``'s status for many values at once (what ``Threshold.evaluate`` gives each: a
    test holds them equal); NaN — a missing metric or value — is no information."""
    warning, critical = float(rule["warning"]), float(rule["critical"])
    if high_is_bad(rule):
        status = np.where(values >= critical, 0.0, np.where(values >= warning, 0.5, 1.0))
    else:
        status = np.where(values <= critical, 0.0, np.where(values <= warning, 0.5, 1.0))
    return np.where(np.isnan(values), NOINFO_STATUS, status)


#: roll-ups ``rollup_many`` computes for every run at once
VECTOR_ROLLUPS = ("worst", "weighted")


def rollup_many(rule: dict, s: np.ndarray, w: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rating.rollup`` of a ``worst`` or ``weighted`` roll-up for many runs at once (a test holds it
    equal to ``rollup``, run by run): ``s`` statuses (runs × members, NaN for a member without a row),
    ``w`` weights, ``d`` 1 where a member is in downtime. Returns (status, in_downtime) per run."""
    policy = NoInfoPolicy.of(rule)
    present = ~np.isnan(s)
    down = present & (np.nan_to_num(d) > 0)
    known = present & ~down & (np.nan_to_num(s, nan=-1.0) >= 0)
    in_downtime, counted = down.sum(axis=1), present.sum(axis=1) - down.sum(axis=1)
    n_known = known.sum(axis=1)
    missing = counted - n_known
    share = np.where(counted > 0, missing / np.maximum(counted, 1), 0.0)
    values = np.where(known, s, np.inf)
    worst = values.min(axis=1)
    if rule.get("type") == "weighted":
        weights = np.where(known, np.nan_to_num(w), 0.0)
        total = weights.sum(axis=1)
        mean = (np.where(known, s, 0.0) * weights).sum(axis=1) / np.where(total > 0, total, 1.0)
        value = np.where(total > 0, mean, worst)
    else:
        value = worst
    value = np.where((share > policy.warning) & (value > policy.cap), policy.cap, value)
    unknown = (n_known == 0) | ((share > policy.unknown) & (missing > 0))
    status = np.where(unknown, NOINFO_STATUS, value)
    return status, (n_known == 0) & (in_downtime > 0)


def _members_at(rows: pd.DataFrame, times: list[pd.Timestamp], columns: list[str]) -> tuple[list[str], list]:
    """For every run time, each module's latest value of each of ``columns`` at or before it (as the
    runner merges a run's rows with the modules that did not run): the modules, and one (runs ×
    modules) array per column, NaN before a module's first row. Rows oldest first; of rows at the
    same time the later one wins (as a pivot's "last")."""
    t_codes, t_values = pd.factorize(rows["time"], sort=True)
    m_codes, modules = pd.factorize(rows["module"], sort=True)
    keep = ~pd.Series(t_codes * len(modules) + m_codes).duplicated(keep="last").to_numpy()
    t_codes, m_codes = t_codes[keep], m_codes[keep]
    out = []
    runs = (
        np.searchsorted(
            np.asarray(t_values, dtype="datetime64[ns]"),
            pd.DatetimeIndex(times).values.astype("datetime64[ns]"),
            side="right",
        )
        - 1
    )
    for column in columns:
        wide = np.full((len(t_values), len(modules)), np.nan)
        wide[t_codes, m_codes] = rows[column].to_numpy(float, na_value=np.nan)[keep]
        wide = pd.DataFrame(wide).ffill().to_numpy()  # each module's latest row at or before each time
        picked = wide[np.maximum(runs, 0)]
        picked[runs < 0] = np.nan
        out.append(picked)
    return list(modules), out


COLUMNS = ["time", "category", "whatif_status", "whatif_level"]


def rollup_runs(rows, times, rules: dict, policy: dict, levels: Levels, categories: list[str]) -> pd.DataFrame:
    """Each category's status and level at every run time, rolled up from ``rows`` (status, weight,
    level of every module) with ``rules[category]`` and the no-information ``policy`` keys."""
    if rows.empty or not times:
        return pd.DataFrame(columns=COLUMNS)
    modules, (status, weight, downtime) = _members_at(
        rows.assign(dt=(rows["level"] == DOWNTIME).astype(float)), times, ["status", "weight", "dt"]
    )
    of = rows.drop_duplicates("module", keep="last").set_index("module")["category"]
    index = pd.DatetimeIndex(times)
    out = []
    for category in categories:
        members = [i for i, m in enumerate(modules) if of.get(m) == category]
        rule = {**(rules.get(category) or {"type": "worst"}), **policy}
        s, w, d = (frame[:, members] for frame in (status, weight, downtime))
        if rule.get("type", "worst") in VECTOR_ROLLUPS:
            values, in_downtime = rollup_many(rule, s, w, d)
            level = levels_of(levels, values, np.zeros(len(values), bool), np.zeros(len(values), bool))
            level = np.where(in_downtime, DOWNTIME, level)
            out.append(pd.DataFrame(dict(zip(COLUMNS, (index, category, values.astype(float), level)))))
            continue
        seen, found = {}, []  # runs mostly repeat the run before: roll each distinct set of inputs up once
        for i, when in enumerate(index):
            present = ~np.isnan(s[i])
            key = (s[i][present].tobytes(), w[i][present].tobytes(), d[i][present].tobytes(), present.tobytes())
            if key not in seen:
                rating = rollup(rule, list(s[i][present]), list(w[i][present]), [bool(x) for x in d[i][present]])
                seen[key] = (
                    float(rating.status),
                    DOWNTIME if is_downtime_rollup(rating) else levels.level(rating.status),
                )
            found.append((when, category, *seen[key]))
        out.append(pd.DataFrame(found, columns=COLUMNS))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=COLUMNS)


def _summary(frame: pd.DataFrame, kind: str, name_column: str) -> pd.DataFrame:
    """Per name (oldest run first): runs, runs changed, the level changes each way (the
    ``level_changed`` events each would have raised in the window) and runs per level each way —
    counted for every name at once."""
    if frame.empty:
        return pd.DataFrame()
    frame = frame.sort_values([name_column, "time"], kind="stable")
    codes, names = pd.factorize(frame[name_column], sort=True)
    both, labels = pd.factorize(pd.concat([frame["level"], frame["whatif_level"]], ignore_index=True))
    before, after = both[: len(frame)], both[len(frame) :]
    n = len(names)
    same = codes[1:] == codes[:-1]

    def count(flags: np.ndarray, at: np.ndarray = codes) -> np.ndarray:
        return np.bincount(at, weights=flags, minlength=n).astype(int)

    out = {
        "kind": kind,
        "name": list(names),
        "runs": np.bincount(codes, minlength=n),
        "runs_changed": count(before != after),
        "level_changes": count(same & (before[1:] != before[:-1]), codes[1:]),
        "whatif_level_changes": count(same & (after[1:] != after[:-1]), codes[1:]),
    }
    index = {label: i for i, label in enumerate(labels)}
    for prefix, values in (("", before), ("whatif_", after)):
        for level in LEVEL_ORDER:
            out[f"{prefix}{level}"] = count(values == index.get(level, -2))
    return pd.DataFrame(out)


def what_if(store, since, until, changes=None, profile: str | None = None, config=None, **kwargs) -> WhatIf:
    """Stored levels and A/R of (since, until] beside those the ``changes`` would have given.

    ``changes`` is a ``Changes``, a mapping or YAML text; or give ``ratings=``, ``rollups=``,
    ``noinfo=``, ``levels=`` directly. With ``config`` (the site configuration, a SiteConfig or a
    path) that has notification rules, its rules are replayed over the window with the stored and
    with the what-if levels: the events and messages each would have given. Nothing is written to
    the store and nothing is sent."""
    since, until = parse_time(since), parse_time(until)
    if since is None or until is None or until <= since:
        raise WhatIfError(["a what-if window needs a start before its end"])
    changes = changes if isinstance(changes, Changes) else parse_changes(changes, **kwargs)
    effective = stored_config.config_at(store, until) or stored_config.config_at(store) or {}
    stored_levels = effective.get("levels") or {}
    levels = Levels(**{**stored_levels, **changes.levels})
    rules = {c["name"]: c.get("rollup") for c in effective.get("categories", [])}
    rules.update(changes.rollups)
    notes = []
    rows = q.status_rows(store, since, until)
    unknown = sorted(set(changes.ratings) - set(rows["module"].unique()))
    if unknown:
        raise WhatIfError([f"ratings.{m}: no module {m!r} has rows in this window" for m in unknown])
    unknown = sorted(set(changes.rollups) - set(rows["category"].unique()) - set(rules))
    if unknown:
        raise WhatIfError([f"rollups.{c}: no category {c!r}" for c in unknown])
    rows = rows.reset_index(drop=True)
    whatif_status = rows["status"].to_numpy(float, na_value=np.nan).copy()
    failed = rows["error"].ne("").to_numpy(bool)
    at = rows.groupby("module", sort=False).indices  # module -> positions of its rows (one pass, not one per module)
    fast = {m: r for m, r in changes.ratings.items() if r.get("type") == "threshold"}
    values = q.metric_values(store, {m: r["metric"] for m, r in fast.items()}, since, until)
    if fast:  # the common case, at numpy speed: every module's value beside its row in one join
        values = values.drop_duplicates(["run_id", "module"], keep="last")  # one value per row, whatever is stored
        found = rows[["run_id", "module"]].merge(values, on=["run_id", "module"], how="left", sort=False)
        value = found["value"].to_numpy(float, na_value=np.nan)
        del found, values  # a year of rows is large: keep one copy at a time
    for module, rule in changes.ratings.items():
        mine = at[module]
        if module in fast:
            whatif_status[mine] = np.where(failed[mine], NOINFO_STATUS, threshold_many(rule, value[mine]))
            continue
        tables = q.module_tables(store, module, since, until) if "column" in rule else {}
        metrics = q.module_metrics(store, module, since, until)
        whatif_status[mine] = rerate_module(rows.iloc[mine], rule, metrics, tables)
    partial_rows = rows["missing"].ne("").to_numpy(bool)
    for module in changes.ratings:  # a run whose answer was partial is re-rated as partial, as it was decided
        mine = at[module][partial_rows[at[module]]]
        if len(mine):
            policy = (stored_config.stored_module(effective, module) or {}).get("partial")
            whatif_status[mine] = partial.reapply(whatif_status[mine], rows["missing"].to_numpy()[mine], policy, levels)
    rows["whatif_status"] = whatif_status
    rows["whatif_level"] = levels_of(levels, whatif_status, rows["downtime"].ne("").to_numpy(bool), failed)
    module_frame = rows[["time", "category", "module", "status", "level", "whatif_status", "whatif_level"]]
    times = q.run_times(store, since, until)
    stored_categories = q.category_rows(store, since, until)
    policy = {k: v for k, v in changes.noinfo.items() if k in NoInfoPolicy.KEYS}
    lookback = q.status_rows(store, since - LOOKBACK, since)  # modules that did not run in the window
    base = pd.concat([lookback.assign(whatif_status=lookback["status"], whatif_level=lookback["level"]), rows])
    redone = rollup_runs(
        base[["time", "module", "category", "weight"]].assign(status=base["whatif_status"], level=base["whatif_level"]),
        times,
        rules,
        policy,
        levels,
        sorted(set(stored_categories["category"].unique()) | set(rules)),
    )
    # a category none of the changes touch keeps what was stored (a re-roll-up under today's
    # configuration could differ for reasons that are not the question)
    touched = set(rules) if changes.noinfo or changes.levels else set(changes.rollups)
    touched |= set(rows.loc[rows["module"].isin(list(changes.ratings)), "category"].unique())
    redone = redone[redone["category"].isin(touched)]
    categories = stored_categories.merge(redone, on=["time", "category"], how="left")
    categories["whatif_level"] = categories["whatif_level"].fillna(categories["level"])
    categories["whatif_status"] = categories["whatif_status"].fillna(categories["status"])
    summary = pd.concat(
        [_summary(categories, "category", "category"), _summary(module_frame, "module", "module")], ignore_index=True
    )
    ar = ar_whatif = None
    try:
        from ..queries.availability import ar_inputs

        window = base[["module", "category", "time", "level", "status", "downtime", "collector"]].assign(
            whatif_level=base["whatif_level"], whatif_status=base["whatif_status"]
        )

        def read_rows(start, end, lookback):
            """The A/R's rows from those read above, when they reach back far enough."""
            first = start - pd.Timedelta(seconds=lookback)
            if first <= since - LOOKBACK:
                return None
            return window[((window["time"] >= first) & (window["time"] < end)).to_numpy()]

        inputs = ar_inputs(store, since, until, profile, read_rows=read_rows)
        if "whatif_level" in inputs.rows:  # the rows read above, each with its what-if level beside
            whatif_rows = inputs.rows.assign(level=inputs.rows["whatif_level"], status=inputs.rows["whatif_status"])
        else:  # modules valid for longer than the rows read above reach back: the A/R read its own
            merged = inputs.rows.merge(
                rows[["module", "time", "whatif_status", "whatif_level"]], on=["module", "time"], how="left"
            )
            whatif_rows = merged.assign(
                level=merged["whatif_level"].fillna(merged["level"]),
                status=merged["whatif_status"].fillna(merged["status"]),
            )
        # only the summaries: no strips (segments) to build
        ar, ar_whatif = (inputs.compute(r, segments=False).summary for r in (None, whatif_rows))
    except (KeyError, ValueError) as error:
        notes.append(f"A/R not computed: {error}")
    result = WhatIf(since, until, changes, module_frame, categories, summary, ar, ar_whatif, notes)
    if config is not None:
        _notifications(store, config, result)
    return result


def _notifications(store, config, result: WhatIf) -> None:
    """The site's notification rules replayed over the window twice — with the stored levels and with
    the what-if ones — so the events and messages each would have given stand side by side."""
    from ..events.replay import replay

    if not isinstance(config, SiteConfig):
        config = load_config(Path(config))
    if not config.notifications.notify.rules:
        result.notes.append("notifications not compared: the site configuration has no notification rules")
        return
    modules = result.modules[["time", "module", "whatif_level"]].rename(columns={"whatif_level": "level"})
    categories = result.categories[["time", "category", "whatif_level"]].rename(columns={"whatif_level": "level"})
    stored = replay(store, config, result.since, result.until)
    changed = replay(store, config, result.since, result.until, module_levels=modules, category_levels=categories)
    result.messages, result.whatif_messages = stored.messages, changed.messages
    kinds = (
        stored.events["kind"]
        .value_counts()
        .rename("events")
        .to_frame()
        .join(changed.events["kind"].value_counts().rename("whatif_events"), how="outer")
    )
    result.events_compared = kinds.fillna(0).astype(int).rename_axis("kind").reset_index()
