"""One run: fetch, parse and rate every due module concurrently, then write the run at once.

Each module runs in its own daemon thread with its own deadline, so a hung source costs that
module its status (-1, "no information", with the reason) and nothing else. The runner is the only
code that writes module results into the store.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time as _time
import uuid

import pandas as pd

from . import __version__, stored_config
from .clock import utc_naive, utcnow
from .collector import ParseResult, SourceError
from .config import DUE_SLACK, Module, SiteConfig
from .downtime import DOWNTIME_COLLECTOR, downtime_reason, ongoing_outages
from .durations import format_duration
from .events.derive import ModuleRow, RunView
from .events.engine import EventEngine
from .labels import result_labels, to_json
from .levels import DOWNTIME, NOINFO_STATUS, OK
from .rating import is_downtime_rollup, partial, rate, rollup
from .store import Store, StoreWriter
from .store.reader import detail_table_name
from .topology import TOPOLOGY_COLLECTOR, attach_sites
from .units import format_bytes

log = logging.getLogger("hfpanel.runner")
#: the manifest state key naming the last module run committed (by any process)
LAST_RUN_KEY = "last_run"


@dataclasses.dataclass
class Outcome:
    """What one module produced in one run."""

    module: Module
    status: float = NOINFO_STATUS
    message: str = ""
    error: str = ""
    payload: bytes | None = None
    result: ParseResult | None = None
    source_url: str | None = None
    duration: float = 0.0
    inputs: dict = dataclasses.field(default_factory=dict)
    labels: dict = dataclasses.field(default_factory=dict)  # what this answer is about (hfpanel.labels)


@dataclasses.dataclass
class RunSummary:
    """What one ``run_once`` did. ``run_id`` is "" when no module was due and nothing was committed;
    ``next_due`` then says when the next module will be (and which)."""

    run_id: str
    time: pd.Timestamp
    statuses: pd.DataFrame  # this run's module_status rows
    categories: pd.DataFrame
    duration: float
    next_due: tuple[pd.Timestamp, str] | None = None

    @property
    def committed(self) -> bool:
        return bool(self.run_id)


def execute(module: Module, collector=None, run_time: float | None = None, levels=None) -> Outcome:
    """Fetch, parse and rate one module; every failure becomes a one-line reason. What arrived is
    rated; parts of the answer that did not arrive are the module's ``partial`` policy's to weigh."""
    outcome = Outcome(module)
    started = _time.monotonic()
    forced = None
    try:
        collector = collector or module.make_collector()
        collector.run_time = run_time
        outcome.source_url = collector.source_url()
        outcome.payload = collector.fetch()
        if len(outcome.payload) > collector.max_bytes:
            raise SourceError(f"document larger than the {format_bytes(collector.max_bytes)} limit")
        outcome.result = collector.parse(outcome.payload)
        rule = module.effective_rating(collector)
        rating = rate(rule, outcome.result, module.effective_partial(collector), levels)
        outcome.status, outcome.message, outcome.inputs = rating.status, rating.message, rating.inputs
        outcome.labels = result_labels(rule, outcome.result, rating.inputs)
    except SourceError as error:
        outcome.error = str(error)
        forced = error.status
    except Exception as error:  # a collector bug must not take the run down; say what it was
        log.exception("module %s failed unexpectedly", module.name)
        outcome.error = f"internal error in collector '{module.collector}': {type(error).__name__}: {error}"
    if outcome.error and forced is not None:  # a source whose silence is itself the verdict
        outcome.status, outcome.message = float(forced), outcome.error
    elif outcome.error:
        outcome.status, outcome.message = NOINFO_STATUS, f"no information: {outcome.error}"
    outcome.duration = _time.monotonic() - started
    return outcome


def run_modules(
    modules: list[Module], max_workers: int = 16, on_done=None, run_time: float | None = None, levels=None
) -> list[Outcome]:
    """Run modules concurrently, each with its own deadline (its collector's ``deadline()``)."""
    results: dict[str, Outcome] = {}
    started: dict[str, tuple[float, float]] = {}
    gate = threading.Semaphore(max_workers)
    lock = threading.Lock()

    def work(module: Module):
        with gate:
            try:
                collector = module.make_collector()
                deadline = collector.deadline()
            except Exception:  # reported by execute() below, with the reason
                collector, deadline = None, module.timeout + 1.0
            with lock:
                started[module.name] = (_time.monotonic(), deadline)
            outcome = execute(module, collector, run_time, levels)
            with lock:
                results.setdefault(module.name, outcome)
        if on_done:
            on_done(module)

    threads = {m.name: threading.Thread(target=work, args=(m,), daemon=True, name=f"module-{m.name}") for m in modules}
    for thread in threads.values():
        thread.start()
    pending = {m.name: m for m in modules}
    while pending:
        _time.sleep(0.02)
        now = _time.monotonic()
        with lock:
            for name, module in list(pending.items()):
                if name in results:
                    del pending[name]
                elif name in started and now - started[name][0] > started[name][1]:
                    reason = f"timed out after {format_duration(now - started[name][0])}"
                    results[name] = Outcome(
                        module, message=f"no information: {reason}", error=reason, duration=now - started[name][0]
                    )
                    log.warning("module %s %s; carrying on without it", name, reason)
                    del pending[name]
                    if on_done:
                        on_done(module)
    return [results[m.name] for m in modules]


class Runner:
    """Runs the modules of one site configuration into its store."""

    def __init__(self, config: SiteConfig, max_workers: int = 16):
        self.config = config
        self.max_workers = max_workers
        self._state: pd.DataFrame | None = None  # latest row per module, kept between runs
        #: reference tables other modules' results are read against (GOCDB downtimes, CRIC
        #: topology): the latest good one of each, kept between runs
        self._reference: dict[tuple[str, str], pd.DataFrame] = {}
        #: the configuration in force, stored once per change so every run can be explained later
        self._effective = stored_config.effective_config(config)
        self._digest = stored_config.digest(self._effective)
        self._stored_digests: set[str] | None = None
        #: derives each run's events, committed with the run (hfpanel.events)
        self.events = EventEngine(config)
        self._last_run: str | None = None  # the run this runner committed last

    def due(self, previous: pd.DataFrame, now: pd.Timestamp) -> list[Module]:
        return [
            m for m, when in self._due_times(previous) if when is None or when - pd.Timedelta(seconds=DUE_SLACK) <= now
        ]

    def next_due(self, previous: pd.DataFrame) -> tuple[pd.Timestamp, str] | None:
        """When the next module falls due, and which one (None when some module never ran)."""
        times = [(when, m.name) for m, when in self._due_times(previous)]
        if not times or any(when is None for when, _ in times):
            return None
        return min(times)

    def _due_times(self, previous: pd.DataFrame) -> list[tuple[Module, pd.Timestamp | None]]:
        """Each module with the time its interval runs out (None: it never ran)."""
        last = dict(zip(previous["module"], previous["time"])) if not previous.empty else {}
        return [
            (m, None if last.get(m.name) is None else pd.Timestamp(last[m.name]) + pd.Timedelta(seconds=m.interval))
            for m in self.config.modules
        ]

    def run_once(self, writer: StoreWriter, now=None, force: bool = False, progress=None, only=None) -> RunSummary:
        """Run every due module (all with ``force``; just the named ones with ``only``) and commit
        the run; ``now`` is for backfills."""
        wall_start = _time.monotonic()
        now = utc_naive(now) if now is not None else utcnow()
        self._forget_if_another_wrote(writer)
        previous = self._previous(writer, now)
        if only is not None:
            modules = [m for m in self.config.modules if m.name in set(only)]
        else:
            modules = self.config.modules if force else self.due(previous, now)
        if not modules:  # cron runs more often than the shortest interval: nothing to do, nothing to commit
            return RunSummary(
                "",
                now,
                pd.DataFrame(),
                pd.DataFrame(),
                _time.monotonic() - wall_start,
                next_due=self.next_due(previous),
            )
        if progress:
            progress.reset(total=len(modules))
        outcomes = run_modules(
            modules,
            self.max_workers,
            on_done=(lambda m: progress.update(1)) if progress else None,
            run_time=now.tz_localize("UTC").timestamp(),
            levels=self.config.levels,
        )
        run_id = f"{now.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        outages = ongoing_outages(self._reference_table(writer, outcomes, DOWNTIME_COLLECTOR, "downtimes"), now)
        topology = self._reference_table(writer, outcomes, TOPOLOGY_COLLECTOR, "topology")
        statuses = self._status_rows(run_id, now, outcomes, previous, outages)
        merged = (
            pd.concat([previous[~previous["module"].isin(statuses["module"])], statuses])
            if not previous.empty
            else statuses
        )
        merged = merged[merged["module"].isin([m.name for m in self.config.modules])]
        categories = self._category_rows(run_id, now, merged)
        tables = {
            "module_status": statuses,
            "category_status": categories,
            "metrics": self._metric_rows(run_id, now, outcomes),
            "raw_payloads": self._payload_rows(run_id, now, outcomes),
            **self._detail_tables(run_id, now, outcomes, topology),
        }
        end = utc_naive(now + pd.Timedelta(seconds=_time.monotonic() - wall_start))
        levels = merged["level"].value_counts()
        tables["runs"] = pd.DataFrame(
            [
                {
                    "run_id": run_id,
                    "time": now,
                    "start": now,
                    "end": end,
                    "site": self.config.site,
                    "config_hash": self._digest,
                    "version": __version__,
                    "modules": len(merged),
                    "modules_run": len(outcomes),
                    **{lvl: int(levels.get(lvl, 0)) for lvl in ("ok", "warning", "critical", "noinfo", "downtime")},
                }
            ]
        )
        if self._digest not in self._known_digests(writer):
            tables[stored_config.TABLE] = stored_config.config_row(self._effective, now)
        event_tables, state = self.events.after_run(writer, self._run_view(run_id, now, statuses, categories, outcomes))
        tables.update(event_tables)
        state = {**state, LAST_RUN_KEY: run_id}
        try:
            writer.write(tables, state=state)  # one atomic commit: runs, events and all visible together
        except BaseException:
            self.events.reset()  # its state ran ahead of the store
            raise
        self._stored_digests.add(self._digest)
        self._state = merged
        self._last_run = run_id
        return RunSummary(run_id, now, statuses, categories, _time.monotonic() - wall_start)

    def _known_digests(self, writer: StoreWriter) -> set[str]:
        """The configurations the store holds (read once; this runner is the only writer after)."""
        if self._stored_digests is None:
            self._stored_digests = set()
            if writer.has_table(stored_config.TABLE):
                with Store(writer.root) as store:
                    self._stored_digests = stored_config.stored_digests(store)
        return self._stored_digests

    def _run_view(self, run_id, now, statuses, categories, outcomes) -> RunView:
        """The run as event derivation reads it: module rows, category levels, metrics, keyed rows."""
        keyed = self.events.deriver.row_keys()
        rows = {}
        for o in outcomes:
            if o.result is None or o.status < 0 or o.module.name not in keyed:
                continue
            for table, columns in keyed[o.module.name].items():
                if table in o.result.tables:
                    rows[(o.module.name, table)] = self.events.deriver.keys_of(o.result.tables[table], columns)
        labels = {o.module.name: o.labels for o in outcomes if not o.error}  # as stored: none when it failed
        return RunView(
            run_id=run_id,
            time=now,
            modules=[
                ModuleRow(r.module, r.category, r.level, bool(r.stale), r.message, labels.get(r.module, {}))
                for r in statuses.itertuples()
            ],
            categories=dict(zip(categories["category"], categories["level"])) if not categories.empty else {},
            metrics={(o.module.name, k): float(v) for o in outcomes if o.result for k, v in o.result.metrics.items()},
            rows=rows,
        )

    def _forget_if_another_wrote(self, writer: StoreWriter) -> None:
        """Another process ran modules into this store since this runner's last run (the run after
        a transfer aggregation, an admin's ``collect --once``): what this runner remembers — each
        module's latest row, the events' and incidents' state — is behind the store, so it is read
        back from the store (where every run commits it) rather than trusted."""
        if self._last_run is not None and writer.state(LAST_RUN_KEY) != self._last_run:
            log.info("another process ran modules since run %s: reading the state back from the store", self._last_run)
            self._state = None
            self._last_run = None
            self.events.reset()

    # -- building the tables ----------------------------------------------------------------
    def _previous(self, writer: StoreWriter, now) -> pd.DataFrame:
        """Each module's latest row: from memory after this runner's own run, from the store before
        its first and after another process ran modules (``_forget_if_another_wrote``)."""
        if self._state is not None:
            return self._state
        if not writer.has_table("module_status"):
            return pd.DataFrame()
        with Store(writer.root) as store:
            return store.status_at(now)

    def set_reference_table(self, collector: str, table: str, frame: pd.DataFrame) -> None:
        """Use ``frame`` as the latest ``table`` of ``collector`` modules (e.g. downtimes known
        from elsewhere) until a module of that type produces a fresh one."""
        self._reference[(collector, table)] = frame

    def _reference_table(self, writer: StoreWriter, outcomes, collector: str, table: str) -> pd.DataFrame | None:
        """The ``table`` of this run's modules of type ``collector``, else the last one seen
        (from memory, or from the store on a runner's first run)."""
        key = (collector, table)
        fresh = [
            o.result.tables[table]
            for o in outcomes
            if o.module.collector == collector and o.result is not None and o.status >= 0 and table in o.result.tables
        ]
        if fresh:
            self._reference[key] = pd.concat(fresh, ignore_index=True)
        elif key not in self._reference and writer.manifest.catalog:
            modules = [m.name for m in self.config.modules if m.collector == collector]
            stored = []
            if modules:
                with Store(writer.root) as store:
                    stored = [frame for frame in (store.detail(m, table) for m in modules) if not frame.empty]
            self._reference[key] = pd.concat(stored, ignore_index=True) if stored else pd.DataFrame()
        return self._reference.get(key)

    def _status_rows(self, run_id, now, outcomes, previous, outages=None) -> pd.DataFrame:
        last_good = dict(zip(previous["module"], previous["last_good"])) if not previous.empty else {}
        rows = []
        for o in outcomes:
            m = o.module
            good = now if o.status >= 0 and not o.error else last_good.get(m.name)
            good = None if good is None or pd.isna(good) else pd.Timestamp(good)
            stale = good is None or (now - good).total_seconds() > m.max_age
            message = o.message
            if stale and o.status < 0 and good is not None:
                message += f" (last good data {format_duration((now - good).total_seconds())} ago)"
            level = self.config.levels.level(o.status)
            downtime = downtime_reason(m.hosts, o.inputs.get("bad_rows"), outages or {}) if level != OK else None
            if downtime:
                level, message = DOWNTIME, f"in downtime ({downtime}); {message}"
            rows.append(
                {
                    "run_id": run_id,
                    "time": now,
                    "category": m.category,
                    "module": m.name,
                    "title": m.title,
                    "collector": m.collector,
                    "status": float(o.status),
                    "level": level,
                    "downtime": downtime or "",
                    "message": message,
                    "error": o.error,
                    "missing": partial.to_json(o.result) if not o.error else "",
                    "stale": bool(stale),
                    "last_good": good,
                    "source_url": o.source_url or "",
                    "weight": m.weight,
                    "duration_s": round(o.duration, 3),
                    "labels": to_json(o.labels) if not o.error else "",
                }
            )
        frame = pd.DataFrame(rows)
        if not frame.empty:
            frame["last_good"] = pd.to_datetime(frame["last_good"]).astype("datetime64[us]")
        return frame

    def _category_rows(self, run_id, now, merged) -> pd.DataFrame:
        rows = []
        for category in self.config.categories:
            members = merged[merged["category"] == category.name] if not merged.empty else merged
            statuses = [float(s) for s in members.get("status", [])]
            weights = [float(w) for w in members.get("weight", [])]
            downtime = [lvl == DOWNTIME for lvl in members.get("level", [])]
            rating = rollup(category.rollup, statuses, weights, downtime)
            level = DOWNTIME if is_downtime_rollup(rating) else self.config.levels.level(rating.status)
            rows.append(
                {
                    "run_id": run_id,
                    "time": now,
                    "category": category.name,
                    "title": category.title,
                    "status": float(rating.status),
                    "level": level,
                    "message": rating.message,
                }
            )
        return pd.DataFrame(rows)

    def _metric_rows(self, run_id, now, outcomes) -> pd.DataFrame:
        rows = [
            {"run_id": run_id, "time": now, "module": o.module.name, "metric": name, "value": float(value)}
            for o in outcomes
            if o.result
            for name, value in o.result.metrics.items()
        ]
        return pd.DataFrame(rows)

    def _payload_rows(self, run_id, now, outcomes) -> pd.DataFrame:
        rows = [
            {
                "run_id": run_id,
                "time": now,
                "module": o.module.name,
                "ok": o.status >= 0,
                "size": len(o.payload),
                "payload": o.payload,
            }
            for o in outcomes
            if o.payload is not None
        ]
        return pd.DataFrame(rows)

    def _detail_tables(self, run_id, now, outcomes, topology=None) -> dict[str, pd.DataFrame]:
        """Every parsed module's tables: also of one whose rating says "no information" (too little of
        its answer arrived, or the rule found nothing to judge), since what did arrive explains it."""
        tables = {}
        for o in outcomes:
            if not o.result or o.error:
                continue
            for name, frame in o.result.tables.items():
                if frame is None or frame.empty:
                    continue
                frame = frame.rename(columns={c: f"source_{c}" for c in ("run_id", "time", "module")})
                frame = attach_sites(frame, topology)
                frame.insert(0, "module", o.module.name)
                frame.insert(0, "time", now)
                frame.insert(0, "run_id", run_id)
                tables[detail_table_name(o.module.name, name)] = frame
        return tables
