"""Replays: archived raw payloads parsed again with today's collector code, kept beside the truth.

After a parser fix a site wants to see what its history would have said. ``replay_payloads`` reads
every archived payload since a time (of one module, or all), parses and rates it with today's
configuration, and commits the results in one atomic commit as a *replay*: rows of
``replay_module_status`` and ``replay_metrics`` (keyed by the original ``run_id`` and ``time``, and
the ``replay_id``) and one row of ``replay_runs`` saying what was replayed, when and with which
version. The stored runs are never changed and every reader ignores replays unless it asks for one
(``replay_rows``; ``hfpanel report ar --replay ID``).
"""

from __future__ import annotations

import dataclasses
import uuid

import pandas as pd

from . import __version__, stored_config
from .clock import utcnow
from .collector import SourceError
from .rating import rate

RUNS, STATUS, METRICS = "replay_runs", "replay_module_status", "replay_metrics"


@dataclasses.dataclass
class ReplaySummary:
    replay_id: str
    payloads: int
    failed: int
    modules: list[str]
    changed: int  # rows whose level differs from the stored one


def _py(value):
    return pd.Timestamp(value).to_pydatetime()


def payload_days(store, since, until) -> list[pd.Timestamp]:
    """The day partitions of ``raw_payloads`` in [since, until]."""
    low, high = pd.Timestamp(since).normalize(), pd.Timestamp(until)
    days = sorted({pd.Timestamp(p.split("/")[1][4:]) for p in store.parts("raw_payloads")})
    return [d for d in days if low <= d <= high]


def replay_payloads(
    store, writer, config, since, until=None, module: str | None = None, progress=None
) -> ReplaySummary:
    """Parse and rate every archived payload in [since, until] (of ``module``) with ``config``'s code
    and rules; commit them as one replay with ``writer``. Returns what was done."""
    until = pd.Timestamp(until) if until is not None else utcnow()
    modules = {m.name: m for m in config.modules if module is None or m.name == module}
    collectors, rules = {}, {}
    replay_id = f"replay-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    replayed_at = utcnow()
    status_rows, metric_rows, failed = [], [], 0
    names = list(modules)
    stored = {}
    if store.has_table("module_status"):
        frame = (
            store.sql(
                f"SELECT run_id, module, level, downtime FROM {store.scan('module_status', since, until)} "
                "WHERE time >= ? AND time <= ?",
                [_py(since), _py(until)],
            )
            if "downtime" in store.sql("SELECT * FROM module_status LIMIT 0").columns
            else pd.DataFrame()
        )
        stored = {(r, m): (lvl, dt or "") for r, m, lvl, dt in frame.itertuples(index=False)} if not frame.empty else {}
    for day in payload_days(store, since, until):
        frame = (
            store.sql(
                f"SELECT run_id, time, module, payload FROM {store.scan('raw_payloads', day, day)} "
                f"WHERE time >= ? AND time <= ? AND module IN ({', '.join('?' * len(names))}) ORDER BY time",
                [_py(since), _py(until), *names],
            )
            if names
            else pd.DataFrame()
        )
        for run_id, when, name, payload in frame.itertuples(index=False):
            spec = modules[name]
            if name not in collectors:
                collectors[name] = spec.make_collector()
                rules[name] = spec.effective_rating(collectors[name])
            collector = collectors[name]
            collector.run_time = pd.Timestamp(when).tz_localize("UTC").timestamp()
            error, metrics = "", {}
            try:
                result = collector.parse(bytes(payload))
                rating = rate(rules[name], result)
                status, message, metrics = rating.status, rating.message, result.metrics
            except SourceError as problem:
                status, message, error = -1.0, f"no information: {problem}", str(problem)
            except Exception as problem:  # a parser bug: that payload, not the replay
                status, message = -1.0, f"no information: internal error in collector: {type(problem).__name__}"
                error = f"{type(problem).__name__}: {problem}"
            failed += bool(error)
            level = config.levels.level(status)
            old_level, downtime = stored.get((run_id, name), ("", ""))
            if downtime and level != "ok":
                level = "downtime"
            status_rows.append(
                {
                    "replay_id": replay_id,
                    "replayed_at": replayed_at,
                    "run_id": run_id,
                    "time": pd.Timestamp(when),
                    "category": spec.category,
                    "module": name,
                    "title": spec.title,
                    "collector": spec.collector,
                    "status": float(status),
                    "level": level,
                    "stored_level": old_level,
                    "downtime": downtime,
                    "message": message,
                    "error": error,
                    "weight": spec.weight,
                }
            )
            metric_rows += [
                {
                    "replay_id": replay_id,
                    "run_id": run_id,
                    "time": pd.Timestamp(when),
                    "module": name,
                    "metric": k,
                    "value": float(v),
                }
                for k, v in metrics.items()
            ]
            if progress:
                progress(1)
    statuses = pd.DataFrame(status_rows)
    changed = int((statuses["level"] != statuses["stored_level"]).sum()) if not statuses.empty else 0
    effective = stored_config.effective_config(config)
    run = pd.DataFrame(
        [
            {
                "replay_id": replay_id,
                "time": replayed_at,
                "since": pd.Timestamp(since),
                "until": until,
                "modules": ",".join(sorted(set(statuses["module"]))) if not statuses.empty else "",
                "payloads": len(statuses),
                "failed": failed,
                "changed": changed,
                "version": __version__,
                "config_hash": stored_config.digest(effective),
            }
        ]
    )
    if not statuses.empty:
        writer.write({STATUS: statuses, METRICS: pd.DataFrame(metric_rows), RUNS: run})
    return ReplaySummary(replay_id, len(statuses), failed, sorted(set(statuses.get("module", []))), changed)


def replays(store) -> pd.DataFrame:
    """Every replay made, newest first."""
    if not store.has_table(RUNS):
        return pd.DataFrame(columns=["replay_id", "time", "since", "until", "modules", "payloads", "failed", "changed"])
    return store.sql(f"SELECT * EXCLUDE (day) FROM {RUNS} ORDER BY time DESC")


def resolve(store, replay: str) -> str:
    """A replay id ('latest' for the newest); KeyError naming the known ones."""
    known = replays(store)
    if replay == "latest" and not known.empty:
        return str(known["replay_id"].iloc[0])
    if replay not in set(known["replay_id"]):
        raise KeyError(f"no replay {replay!r} (replays: {', '.join(known['replay_id']) or 'none'})")
    return replay


def with_replay(store, rows: pd.DataFrame, replay: str, since, until) -> pd.DataFrame:
    """``rows`` (module rows with ``module``, ``time``, ``level``, ``status``) with the replay's rows
    in place of the stored ones it replayed: the reader's choice of a replay."""
    replay = resolve(store, replay)
    found = store.sql(
        f"SELECT time, module, level, status, downtime FROM {store.scan(STATUS, since, until)} "
        "WHERE replay_id = ? AND time >= ? AND time <= ?",
        [replay, _py(since), _py(until)],
    )
    if found.empty:
        return rows
    keyed = rows.set_index(["module", "time"]).index
    replaced = found.set_index(["module", "time"])
    hit = keyed.isin(replaced.index)
    out = rows.copy()
    for column in ("level", "status", "downtime"):
        if column in out:
            out.loc[hit, column] = replaced.loc[keyed[hit], column].to_numpy()
    return out
