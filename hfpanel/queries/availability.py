"""The store's questions behind an availability/reliability report: module rows of a window, the
GOCDB scheduled outages stored by ``gocdb_downtimes`` modules, the corrections recorded after the
fact, and the profile and validity in force (today's configuration when given, else the one stored
with the runs). ``ar_report`` answers with the corrected figures and the original ones side by side.
"""

from __future__ import annotations

import dataclasses
import re

import pandas as pd

from .. import stored_config
from ..availability import corrections
from ..availability.ar import ARResult, compute
from ..availability.profiles import default_profile, from_dicts, names, versions
from ..clock import parse_time
from ..store.reader import detail_table_name

DOWNTIME_COLLECTOR = "gocdb_downtimes"
MONTH = re.compile(r"^\d{4}-\d{2}$")
DOWNTIME_COLUMNS = ["start", "end", "module", "source", "reason", "who"]


@dataclasses.dataclass
class ARReport:
    """A window's A/R for one profile: ``result`` with the corrections applied, ``original`` without."""

    site: str
    profile: str
    profiles: list[str]
    start: pd.Timestamp
    end: pd.Timestamp
    result: ARResult
    original: ARResult
    corrections: pd.DataFrame


def month_window(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """'2026-11' → [2026-11-01, 2026-12-01); ValueError saying what to write."""
    if not isinstance(month, str) or not MONTH.match(month.strip()):
        raise ValueError(f"not a month: {month!r} (e.g. 2026-11)")
    try:
        start = pd.Timestamp(month.strip() + "-01")
    except ValueError:
        raise ValueError(f"not a month: {month!r} (e.g. 2026-11)") from None
    return start, start + pd.offsets.MonthBegin(1)


def _columns(store, table: str) -> set[str]:
    return set(store.sql(f'SELECT * FROM "{table}" LIMIT 0').columns)


def module_rows(store, start, end, lookback: float) -> pd.DataFrame:
    """Module rows in [start − lookback, end): the one before the window decides its first instants."""
    if not store.has_table("module_status"):
        return pd.DataFrame(columns=["module", "category", "time", "level", "status", "downtime", "collector"])
    since = pd.Timestamp(start) - pd.Timedelta(seconds=lookback)
    have = _columns(store, "module_status")
    extra = ", ".join(c if c in have else f"'' AS {c}" for c in ("downtime", "collector"))
    return store.sql(
        f"SELECT module, category, time, level, status, {extra} FROM {store.scan('module_status', since, end)} "
        "WHERE time >= ? AND time < ? ORDER BY time",
        [since.to_pydatetime(), pd.Timestamp(end).to_pydatetime()],
        arrow=True,
    )


ANNOUNCED_COLUMNS = ["id", "hostname", "severity", "kind", "start", "end", "description"]


def gocdb_modules(store) -> list[str]:
    """Modules that stored a GOCDB ``downtimes`` table."""
    suffix = "__downtimes"
    return [
        t[len("detail__") : -len(suffix)] for t in store.tables() if t.startswith("detail__") and t.endswith(suffix)
    ]


def announced_downtimes(store, start, end, modules: list[str] | None = None) -> pd.DataFrame:
    """Every downtime stored by GOCDB modules (``modules``; default all) overlapping [start, end), each
    as last announced: one row per downtime and host."""
    frames = []
    for module in gocdb_modules(store) if modules is None else modules:
        table = detail_table_name(module, "downtimes")
        if not store.has_table(table):
            continue
        have = _columns(store, table)
        description = "arg_max(description, time)" if "description" in have else "''"
        frames.append(
            store.sql(
                f"SELECT id, hostname, arg_max(severity, time) AS severity, arg_max(classification, time) AS kind, "
                f'arg_max(start, time) AS start, arg_max("end", time) AS "end", {description} AS description '
                f"FROM {store.scan(table, pd.Timestamp(start) - pd.Timedelta(days=31), end)} GROUP BY id, hostname"
            )
        )
    if not frames:
        return pd.DataFrame(columns=ANNOUNCED_COLUMNS)
    frame = pd.concat(frames, ignore_index=True)
    overlapping = (pd.to_datetime(frame["end"]) > pd.Timestamp(start)) & (
        pd.to_datetime(frame["start"]) < pd.Timestamp(end)
    )
    return frame[overlapping].sort_values(["start", "id"]).reset_index(drop=True)[ANNOUNCED_COLUMNS]


def gocdb_outages(store, start, end, hosts: dict[str, list[str]], gocdb: list[str]) -> pd.DataFrame:
    """Scheduled OUTAGEs stored by ``gocdb_downtimes`` modules overlapping [start, end), one row per
    module whose ``hosts`` they hit (each downtime as last announced)."""
    frame = announced_downtimes(store, start, end, gocdb)
    frame = frame[
        (frame["severity"].astype(str).str.upper() == "OUTAGE") & (frame["kind"].astype(str).str.upper() == "SCHEDULED")
    ]
    rows = [
        (item.start, item.end, module, "gocdb", f"GOCDB {item.id} on {item.hostname}", "")
        for item in frame.itertuples()
        for module, watched in hosts.items()
        if item.hostname in watched
    ]
    return pd.DataFrame(rows, columns=DOWNTIME_COLUMNS).drop_duplicates(ignore_index=True)


def _modules(effective: dict | None, config, rows: pd.DataFrame) -> list[dict]:
    """Each module's name, category, hosts and max_age: today's config, else the stored one, else the rows."""
    if config is not None:
        return [
            {"name": m.name, "category": m.category, "collector": m.collector, "hosts": m.hosts, "max_age": m.max_age}
            for m in config.modules
        ]
    if effective:
        return effective.get("modules", [])
    pairs = rows.drop_duplicates("module")[["module", "category"]] if not rows.empty else rows
    return [{"name": m, "category": c} for m, c in zip(pairs.get("module", []), pairs.get("category", []))]


@dataclasses.dataclass
class ARInputs:
    """What an A/R computation of a window reads from the store (``ar.compute``'s arguments)."""

    site: str
    profile: str
    profiles: list[str]
    start: pd.Timestamp
    end: pd.Timestamp
    rows: pd.DataFrame
    versions: list
    validity: dict
    outages: pd.DataFrame  # announced in GOCDB
    added: pd.DataFrame  # downtimes added after the fact
    excluded: pd.DataFrame
    corrections: pd.DataFrame
    warning: float

    def compute(self, rows: pd.DataFrame | None = None, corrected: bool = True, segments: bool = True) -> ARResult:
        """A/R of these inputs (of other module rows, e.g. a what-if's), with or without the corrections;
        ``segments=False`` skips the strips' segments (a summary is all that is wanted)."""
        rows = self.rows if rows is None else rows
        if not corrected:
            return compute(
                rows, self.start, self.end, self.versions, self.validity, self.outages, None, self.warning, segments
            )
        downtimes = pd.concat([self.outages, self.added], ignore_index=True) if not self.added.empty else self.outages
        return compute(
            rows, self.start, self.end, self.versions, self.validity, downtimes, self.excluded, self.warning, segments
        )


def ar_inputs(
    store, start, end, profile: str | None = None, config=None, replay: str | None = None, read_rows=None
) -> ARInputs:
    """Everything an A/R of [start, end) for ``profile`` reads (default: the first configured; without
    any, every category AND'ed). KeyError naming the known profiles when ``profile`` is not one.
    ``read_rows(start, end, lookback)`` may give the module rows from what a caller has read already
    (None: read them here), as ``module_rows`` would."""
    start, end = parse_time(start), parse_time(end)
    if start is None or end is None or end <= start:
        raise ValueError("an A/R window needs a start before its end")
    # the configuration of the window's last run; for a window before every run, the latest one
    effective = stored_config.config_at(store, end - pd.Timedelta(microseconds=1)) or stored_config.config_at(store)
    if config is not None:
        found = list(getattr(config, "availability", []) or [])
        levels_warning = config.levels.warning
    else:
        found = from_dicts((effective or {}).get("availability", []))
        levels_warning = float(((effective or {}).get("levels") or {}).get("warning", 0.33))
    probe = module_rows(store, start, end, 0) if not found and not effective and config is None else pd.DataFrame()
    modules = _modules(effective, config, probe)
    if not found:
        found = [default_profile({m["name"]: m.get("category", "") for m in modules})]
    chosen = profile or names(found)[0]
    chosen_versions = versions(found, chosen)
    validity = {m["name"]: float(m.get("max_age") or 3600.0) for m in modules}
    lookback = max(validity.values(), default=3600.0)
    rows = read_rows(start, end, lookback) if read_rows is not None else None
    rows = module_rows(store, start, end, lookback) if rows is None else rows
    if replay:  # the reader's choice: a replay's rows in place of the stored ones it replayed
        from ..replay import with_replay

        rows = with_replay(store, rows, replay, start - pd.Timedelta(days=1), end)
    gocdb = sorted(set(rows.loc[rows["collector"] == DOWNTIME_COLLECTOR, "module"])) if not rows.empty else []
    gocdb += [m["name"] for m in modules if m.get("collector") == DOWNTIME_COLLECTOR and m["name"] not in gocdb]
    hosts = {m["name"]: list(m.get("hosts") or []) for m in modules if m.get("hosts")}
    outages = gocdb_outages(store, start, end, hosts, gocdb)
    recorded = corrections.load(store)
    added = corrections.in_force(recorded, corrections.DOWNTIME, start, end)
    added = added.assign(source="added")[DOWNTIME_COLUMNS]
    excluded = corrections.in_force(recorded, corrections.EXCLUSION, start, end)
    run = store.latest_run(end - pd.Timedelta(microseconds=1))
    site = "" if run is None or "site" not in run.index or pd.isna(run["site"]) else str(run["site"])
    return ARInputs(
        site,
        chosen,
        names(found),
        start,
        end,
        rows,
        chosen_versions,
        validity,
        outages,
        added,
        excluded,
        recorded,
        levels_warning,
    )


def ar_report(store, start, end, profile: str | None = None, config=None, replay: str | None = None) -> ARReport:
    """A/R of [start, end) for ``profile``, corrected and original (see ``ar_inputs``)."""
    inputs = ar_inputs(store, start, end, profile, config, replay)
    return ARReport(
        inputs.site,
        inputs.profile,
        inputs.profiles,
        inputs.start,
        inputs.end,
        inputs.compute(),
        inputs.compute(corrected=False),
        inputs.corrections,
    )


def ar_month(store, month: str, profile: str | None = None, config=None) -> ARReport:
    """``ar_report`` of a month, cached per store content (every session asking costs one computation)."""
    from .loaders import cached

    start, end = month_window(month)
    key = (month, profile or "", getattr(config, "config_hash", ""))
    return cached("ar_month", store, key, lambda: ar_report(store, start, end, profile, config))
