"""The route table of ``/api/v1``: every route once, with its parameters, its answer's schema and
the question (``hfpanel.queries``) that answers it. The server, the OpenAPI document and the
tests all read this table, so a route cannot exist without being documented and tested.

Routes are generic over what the store and the configuration hold (the JINR Tier-1 way: the API of
a module is generated, not written): ``/modules/{module}`` takes any module there is, and the
OpenAPI document lists the names the store and the configuration hold now.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pandas as pd

from ..auth.access import Viewer
from ..auth.identity import NOBODY_NEEDED
from ..events.model import COLUMNS as EVENT_COLUMNS
from ..labels import from_json
from ..queries import events as event_queries
from ..queries import feed, history, loaders, status
from ..queries import transfer_filters as tf
from ..queries import transfers as tq
from ..queries.viewed import hidden_for, incident_regex
from . import schemas as s
from .base import PREFIX
from .errors import ApiError
from .openapi import document
from .params import AT, SINCE, UNTIL, Param
from .render import records, rfc3339

#: how far back a history, metric or run list looks when no ``since`` is given
DEFAULT_WINDOW = pd.Timedelta(days=7)
CHANGES_WINDOW = pd.Timedelta(hours=24)


class ApiContext:
    """What a route may ask about: one read-only store, the site configuration (may be None) and
    the reader (``viewer``: which categories and modules they may see; everything by default)."""

    def __init__(self, store, config=None, viewer=None):
        self.store = store
        self.config = config
        self.viewer = viewer if viewer is not None else Viewer(NOBODY_NEEDED)

    def for_viewer(self, viewer) -> ApiContext:
        return ApiContext(self.store, self.config, viewer)

    @property
    def restricted(self) -> bool:
        return not self.viewer.sees_everything

    def module_categories(self) -> dict[str, str]:
        """module -> category, from the configuration and the store's latest rows."""
        found = {}
        frame = loaders.status_at(self.store)
        if not frame.empty:
            found.update(zip(frame["module"], frame["category"]))
        if self.config is not None:
            found.update({m.name: m.category for m in self.config.modules})
        return found

    def visible(self, module: str, category: str | None = None) -> bool:
        if not self.restricted:
            return True
        category = category if category is not None else self.module_categories().get(module)
        return self.viewer.module(module, category)

    def modules(self) -> list[str]:
        names = loaders.module_names(self.store, self.config)
        if not self.restricted:
            return names
        categories = self.module_categories()
        return [n for n in names if self.viewer.module(n, categories.get(n))]

    def only_visible(self, frame: pd.DataFrame, column: str = "module") -> pd.DataFrame:
        """The rows of ``frame`` about modules the reader may see."""
        if not self.restricted or frame.empty:
            return frame
        categories = self.module_categories()
        keep = [
            self.viewer.module(m, c if isinstance(c, str) else categories.get(m))
            for m, c in zip(frame[column], frame["category"] if "category" in frame.columns else [None] * len(frame))
        ]
        return frame[keep]

    def visible_categories(self, modules: pd.DataFrame) -> set | None:
        """The categories the reader sees (None: all): those of their modules, if their rules let them."""
        if not self.restricted:
            return None
        names = set(modules["category"]) | ({c.name for c in self.config.categories} if self.config else set())
        return {
            c for c in names if self.viewer.category(c) and (c in set(modules["category"]) or not self._hidden_in(c))
        }

    def _hidden_in(self, category: str) -> bool:
        return any(c == category and not self.visible(m, c) for m, c in self.module_categories().items())

    def only_visible_events(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Events about modules and categories the reader may see (site-wide events stay)."""
        if not self.restricted or frame.empty:
            return frame
        keep = [
            (self.viewer.module(m, c or None) if m else (self.viewer.category(c) if c else True))
            for m, c in zip(frame["module"].fillna(""), frame["category"].fillna(""))
        ]
        return frame[keep]

    def only_visible_incidents(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Incidents whose category and every module named in them the reader may see: the pages'
        own rule (``queries.viewed.incident_regex``), so ``sam_ce`` hidden never hides ``sam_ce2``."""
        if not self.restricted or frame.empty:
            return frame
        pattern = incident_regex(hidden_for(self.viewer, self.store, self.config))
        named = frame["subjects"].fillna("").str.contains(pattern, regex=True) if pattern else False
        shown = frame["category"].fillna("").map(lambda c: not c or self.viewer.category(c))
        return frame[shown & ~named]

    def categories(self) -> list[str]:
        modules = self.only_visible(status.module_frame(self.store, None, self.config))
        frame = status.category_frame(
            self.store, None, self.config, modules=modules, categories=self.visible_categories(modules)
        )
        return list(frame["category"])

    def tables(self) -> list[str]:
        names = history.detail_table_names(self.store)
        return sorted({t for tables in names.values() for t in tables})

    def site(self) -> tuple[str, str]:
        name = loaders.site_name(self.store)
        if self.config is not None:
            return self.config.site, self.config.title
        return name, name

    def module_config(self, module: str):
        if self.config is not None:
            try:
                return self.config.module(module)
            except KeyError:
                pass
        return loaders.stored_module(self.store, module)


@dataclasses.dataclass
class Table:
    """A tabular answer: JSON ``{**meta, "rows": [...], "next": url}`` or CSV. ``order`` names the
    column pages continue after (unique and ascending); else pages continue by position over an
    answer pinned by ``pin`` (the resolved "now", so a new run does not shift the pages)."""

    frame: pd.DataFrame
    columns: list[str]
    meta: dict = dataclasses.field(default_factory=dict)
    order: str | None = None
    pin: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Call:
    context: ApiContext
    args: dict


@dataclasses.dataclass(frozen=True)
class Route:
    path: str  # below PREFIX, with {name} for path parameters
    name: str
    summary: str
    answer: Callable[[Call], object]
    schema: dict
    path_params: tuple[Param, ...] = ()
    params: tuple[Param, ...] = ()
    table: bool = False  # paginated, JSON or CSV
    description: str = ""

    @property
    def url(self) -> str:
        return PREFIX + self.path


# -- helpers -----------------------------------------------------------------------------------------
def _run(context: ApiContext, at) -> pd.Series | None:
    return loaders.latest_run(context.store, at)


def _run_time(context: ApiContext, at):
    run = _run(context, at)
    return None if run is None else pd.Timestamp(run["time"])


def _window(call: Call, default=DEFAULT_WINDOW) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    until = call.args.get("until") or _run_time(call.context, None)
    if until is None:
        return None, None
    since = call.args.get("since") or until - default
    if since > until:
        raise ApiError(400, f"query parameter 'since' ({rfc3339(since)}) is after 'until' ({rfc3339(until)})")
    return since, until


MODULE_COLUMNS = list(s.COMPONENTS["ModuleStatus"]["properties"])
CATEGORY_COLUMNS = list(s.COMPONENTS["CategoryStatus"]["properties"])
HISTORY_COLUMNS = list(s.COMPONENTS["HistoryRow"]["properties"])
RUN_COLUMNS = list(s.COMPONENTS["Run"]["properties"])
CHANGE_COLUMNS = list(s.COMPONENTS["LevelChange"]["properties"])


def _module_frame(call: Call, at) -> pd.DataFrame:
    """Every module the reader may see, as ``queries.status`` answers (internal columns kept)."""
    return call.context.only_visible(status.module_frame(call.context.store, at, call.context.config))


def _modules(call: Call, at, frame=None) -> pd.DataFrame:
    """The modules as the API shows them (from ``frame``, a ``_module_frame`` already made)."""
    frame = frame if frame is not None else _module_frame(call, at)
    stored = frame["labels"] if "labels" in frame.columns else pd.Series([""] * len(frame), index=frame.index)
    frame = frame.assign(
        stale=frame["is_stale"].astype(bool),
        since_exact=frame["since_exact"].astype(bool),
        labels=stored.map(from_json),
    )
    return frame[MODULE_COLUMNS]


def _categories(call: Call, at, modules=None) -> pd.DataFrame:
    """Each category the reader sees, rolled up from the modules they see when some are hidden."""
    modules = modules if modules is not None else _module_frame(call, at)
    visible = call.context.visible_categories(modules)
    frame = status.category_frame(call.context.store, at, call.context.config, modules=modules, categories=visible)
    return frame[CATEGORY_COLUMNS]


def _pin_at(call: Call) -> tuple[pd.Timestamp | None, dict]:
    at = call.args.get("at")
    if at is None:
        at = _run_time(call.context, None)
    return at, ({"at": rfc3339(at)} if at is not None else {})


# -- the answers -------------------------------------------------------------------------------------
def answer_index(call: Call) -> dict:
    site, title = call.context.site()
    return {
        "site": site,
        "title": title,
        "openapi": PREFIX + "/openapi.json",
        "routes": [{"path": r.url, "summary": r.summary} for r in ROUTES],
    }


def answer_openapi(call: Call) -> dict:
    return document(call.context, ROUTES)


def answer_site(call: Call) -> dict:
    site, title = call.context.site()
    run = _run(call.context, None)
    seen = _module_frame(call, None)  # made once: the categories roll it up
    modules = _modules(call, None, seen)
    categories = _categories(call, None, seen)
    counts = modules["level"].value_counts()
    described = {c.name: c.description for c in call.context.config.categories} if call.context.config else {}
    return {
        "site": site,
        "title": title,
        "run_id": None if run is None else str(run["run_id"]),
        "time": None if run is None else rfc3339(run["time"]),
        "level": feed.overall_level(categories["level"]),
        "counts": {lvl: int(counts.get(lvl, 0)) for lvl in s.LEVELS},
        "categories": [
            {"name": c, "title": t, "description": described.get(c, "")}
            for c, t in zip(categories["category"], categories["title"])
        ],
        "modules": len(modules),
    }


def answer_status(call: Call) -> dict:
    at = call.args.get("at")
    run = _run(call.context, at)
    seen = _module_frame(call, at)
    categories = _categories(call, at, seen)
    modules = _modules(call, at, seen)
    counts = modules["level"].value_counts()
    return {
        "run_id": None if run is None else str(run["run_id"]),
        "time": None if run is None else rfc3339(run["time"]),
        "level": feed.overall_level(categories["level"]),
        "counts": {lvl: int(counts.get(lvl, 0)) for lvl in s.LEVELS},
        "categories": records(categories),
        "modules": records(modules),
    }


def answer_categories(call: Call) -> Table:
    at, pin = _pin_at(call)
    return Table(_categories(call, at), CATEGORY_COLUMNS, {"time": rfc3339(at)}, pin=pin)


def answer_category(call: Call) -> dict:
    at = call.args.get("at")
    name = call.args["category"]
    seen = _module_frame(call, at)
    modules = _modules(call, at, seen)
    categories = _categories(call, at, seen)
    row = categories[categories["category"] == name]
    if row.empty:
        raise ApiError(404, f"no category {name!r} at {rfc3339(at) or 'now'}")
    description = ""
    if call.context.config is not None:
        description = next((c.description for c in call.context.config.categories if c.name == name), "")
    return {
        "category": records(row)[0],
        "description": description,
        "modules": records(modules[modules["category"] == name]),
    }


def answer_modules(call: Call) -> Table:
    at, pin = _pin_at(call)
    frame = _modules(call, at)
    if call.args.get("category"):
        frame = frame[frame["category"] == call.args["category"]]
    if call.args.get("level"):
        frame = frame[frame["level"] == call.args["level"]]
    return Table(frame, MODULE_COLUMNS, {"time": rfc3339(at)}, pin=pin)


def answer_module(call: Call) -> dict:
    at, name = call.args.get("at"), call.args["module"]
    frame = _modules(call, at)
    row = frame[frame["module"] == name]
    if row.empty:
        raise ApiError(404, f"module {name!r} has no status at {rfc3339(at) or 'now'}")
    module = call.context.module_config(name)
    metrics = history.metrics(call.context.store, name, at)
    return {
        "module": records(row)[0],
        "instruction": getattr(module, "instruction", "") or "",
        "links": list(getattr(module, "links", None) or []),
        "interval_s": getattr(module, "interval", None),
        "metrics": {str(k): (None if pd.isna(v) else float(v)) for k, v in sorted(metrics.items())},
        "detail_tables": loaders.detail_tables(call.context.store, name),
    }


def answer_history(call: Call) -> Table:
    since, until = _window(call)
    name = call.args["module"]
    if until is None:
        return Table(pd.DataFrame(columns=HISTORY_COLUMNS), HISTORY_COLUMNS, {"since": None, "until": None})
    frame = loaders.module_history(call.context.store, name, since, until)
    for column in HISTORY_COLUMNS:
        if column not in frame.columns:
            frame = frame.assign(**{column: None})
    return Table(
        frame[HISTORY_COLUMNS],
        HISTORY_COLUMNS,
        {"module": name, "since": rfc3339(since), "until": rfc3339(until)},
        order="time",
        pin={"since": rfc3339(since), "until": rfc3339(until)},
    )


def answer_detail(call: Call) -> Table:
    name, table = call.args["module"], call.args["table"]
    if table not in loaders.detail_tables(call.context.store, name):
        raise ApiError(404, f"module {name!r} has no table {table!r}")
    at, pin = _pin_at(call)
    frame = history.detail_frame(call.context.store, name, table, at)
    shown = rfc3339(frame["time"].iloc[0]) if not frame.empty and "time" in frame.columns else None
    frame = history.source_columns(frame)
    return Table(frame, [str(c) for c in frame.columns], {"module": name, "table": table, "time": shown}, pin=pin)


def answer_metric(call: Call) -> Table:
    since, until = _window(call)
    name, metric = call.args["module"], call.args["metric"]
    frame = (
        history.metric_trend(call.context.store, name, metric, since, until)
        if until is not None
        else pd.DataFrame(columns=["time", "value"])
    )
    return Table(
        frame,
        ["time", "value"],
        {"module": name, "metric": metric, "since": rfc3339(since), "until": rfc3339(until)},
        order="time",
        pin={"since": rfc3339(since), "until": rfc3339(until)},
    )


def answer_runs(call: Call) -> Table:
    since, until = _window(call)
    frame = loaders.runs(call.context.store, since, until) if until is not None else pd.DataFrame()
    for column in RUN_COLUMNS:
        if column not in frame.columns:
            frame = frame.assign(**{column: None})
    if call.context.restricted:  # the site-wide counts would tell about modules the reader may not see
        frame = frame.assign(**{c: None for c in ("modules", "ok", "warning", "critical", "noinfo")})
    return Table(
        frame[RUN_COLUMNS],
        RUN_COLUMNS,
        {"since": rfc3339(since), "until": rfc3339(until)},
        order="time",
        pin={"since": rfc3339(since), "until": rfc3339(until)},
    )


def answer_changes(call: Call) -> Table:
    since, until = _window(call, CHANGES_WINDOW)
    frame = (
        call.context.only_visible(history.level_changes(call.context.store, since, until))
        if until is not None
        else pd.DataFrame(columns=CHANGE_COLUMNS)
    )
    return Table(
        frame[CHANGE_COLUMNS],
        CHANGE_COLUMNS,
        {"since": rfc3339(since), "until": rfc3339(until)},
        pin={"since": rfc3339(since), "until": rfc3339(until)},
    )


def answer_feed(call: Call) -> dict:
    try:
        answer = feed.feed(
            call.context.store,
            call.context.config,
            call.args.get("since_run"),
            call.args.get("at"),
            visible=call.context if call.context.restricted else None,
        )
    except feed.UnknownRun as error:
        raise ApiError(404, str(error)) from None
    answer["time"] = rfc3339(answer["time"])
    answer["changes_since"] = rfc3339(answer["changes_since"])
    for change in answer["changes"]:
        change["time"] = rfc3339(change["time"])
    return answer


def _events_open(call: Call) -> None:
    if not call.context.viewer.page("events"):
        raise ApiError(403, "the events are not open to you (auth.access: page events)")


def answer_events(call: Call) -> Table:
    _events_open(call)
    since, until = _window(call, CHANGES_WINDOW)
    frame = pd.DataFrame(columns=list(EVENT_COLUMNS))
    if until is not None:
        frame = event_queries.events(
            call.context.store,
            since,
            until,
            module=call.args.get("module"),
            kind=call.args.get("kind"),
            category=call.args.get("category"),
            levels=call.args.get("level"),
        )
        frame = call.context.only_visible_events(frame)
    return Table(
        frame[list(EVENT_COLUMNS)],
        list(EVENT_COLUMNS),
        {"since": rfc3339(since), "until": rfc3339(until)},
        pin={"since": rfc3339(since), "until": rfc3339(until)},
    )


def answer_incidents(call: Call) -> Table:
    from ..events.tables import INCIDENT_COLUMNS

    _events_open(call)
    frame = event_queries.incidents(
        call.context.store, include_resolved=call.args.get("state") == "all", since=call.args.get("since")
    )
    frame = call.context.only_visible_incidents(frame)
    return Table(frame, list(INCIDENT_COLUMNS), {"state": call.args.get("state") or "open"})


#: view -> (question, the columns it answers, what it is)
TRANSFER_VIEWS = {
    "matrix": (tq.matrix, tq.MATRIX_COLUMNS, "source site × destination site: counts, efficiency, throughput"),
    "timeline": (tq.timeline, tq.TIMELINE_COLUMNS, "per time bin: counts, efficiency, throughput"),
    "sites": (tq.sites, tq.SITE_COLUMNS, "per site: outgoing and incoming transfers"),
    "errors": (tq.errors, tq.ERROR_COLUMNS, "the top error patterns"),
    "xrootd_sites": (tq.xrootd_sites, tq.XROOTD_SITE_COLUMNS, "XRootD access per site"),
    "xrootd_timeline": (tq.xrootd_timeline, tq.XROOTD_TIME_COLUMNS, "XRootD access per bin and site"),
}


def answer_transfers(call: Call) -> Table:
    view = call.args["view"]
    if not call.context.viewer.page("transfers"):
        raise ApiError(403, "the transfer statistics are not open to you (auth.access: page transfers)")
    question, columns, _ = TRANSFER_VIEWS[view]
    try:
        filters = tf.make_filters(
            call.context.store,
            call.args.get("window") or "24h",
            call.args.get("end"),
            call.args.get("vo") or "",
            call.args.get("activity") or "",
            call.args.get("site") or "",
        )
    except ValueError as error:
        raise ApiError(400, f"query parameter 'window': {error}") from None
    if filters is None:
        return Table(pd.DataFrame(columns=columns), columns, {"view": view, "start": None, "end": None, "grain": None})
    frame = question(call.context.store, filters)
    meta = {"view": view, "start": rfc3339(filters.start), "end": rfc3339(filters.end), "grain": filters.grain}
    return Table(frame[columns], columns, meta, pin={"end": rfc3339(filters.end)})


# -- the table -----------------------------------------------------------------------------------------
MODULE = Param("module", "A module's name.", "name", required=True, choices=ApiContext.modules)
CATEGORY = Param("category", "A category's name.", "name", required=True, choices=ApiContext.categories)
TIME_META = {"time": s.NTIME}
WINDOW_META = {"since": s.NTIME, "until": s.NTIME}
SUMMARY = {"run_id": s.NSTR, "time": s.NTIME, "level": s.LEVEL, "counts": s.ref("Counts")}

ROUTES: list[Route] = [
    Route(
        "/",
        "index",
        "What this API offers: the site and every route.",
        answer_index,
        s.obj(
            {
                "site": s.STR,
                "title": s.STR,
                "openapi": s.STR,
                "routes": s.array(s.obj({"path": s.STR, "summary": s.STR})),
            }
        ),
    ),
    Route(
        "/openapi.json",
        "openapi",
        "This document: every route, its parameters and its answers (OpenAPI 3.1).",
        answer_openapi,
        {"type": "object", "required": ["openapi", "paths"]},
    ),
    Route(
        "/site",
        "site",
        "The site: name, latest run, overall level, modules per level, categories.",
        answer_site,
        s.obj(
            {
                "site": s.STR,
                "title": s.STR,
                **SUMMARY,
                "categories": s.array(s.obj({"name": s.STR, "title": s.STR, "description": s.STR})),
                "modules": s.INT,
            }
        ),
    ),
    Route(
        "/status",
        "status",
        "Every category and module at a time (default: the latest run).",
        answer_status,
        s.obj({**SUMMARY, "categories": s.array(s.ref("CategoryStatus")), "modules": s.array(s.ref("ModuleStatus"))}),
        params=(AT,),
    ),
    Route(
        "/categories",
        "categories",
        "Every category's rolled-up level and its modules per level.",
        answer_categories,
        s.table_answer(s.ref("CategoryStatus"), TIME_META),
        params=(AT,),
        table=True,
    ),
    Route(
        "/categories/{category}",
        "category",
        "One category and its modules.",
        answer_category,
        s.obj({"category": s.ref("CategoryStatus"), "description": s.STR, "modules": s.array(s.ref("ModuleStatus"))}),
        path_params=(CATEGORY,),
        params=(AT,),
    ),
    Route(
        "/modules",
        "modules",
        "Every module's status, age, staleness and since when; filter by category or level.",
        answer_modules,
        s.table_answer(s.ref("ModuleStatus"), TIME_META),
        params=(
            AT,
            Param("category", "Only this category's modules.", "name", choices=ApiContext.categories),
            Param("level", "Only modules at this level.", "name", choices=tuple(s.LEVELS)),
        ),
        table=True,
    ),
    Route(
        "/modules/{module}",
        "module",
        "One module: status, the shifter's instruction, links, metrics and its detail tables.",
        answer_module,
        s.obj(
            {
                "module": s.ref("ModuleStatus"),
                "instruction": s.STR,
                "links": s.array(s.ref("Link")),
                "interval_s": s.NNUM,
                "metrics": {"type": "object", "additionalProperties": s.NNUM},
                "detail_tables": s.array(s.STR),
            }
        ),
        path_params=(MODULE,),
        params=(AT,),
    ),
    Route(
        "/modules/{module}/history",
        "module_history",
        "One module's runs over a window (default: the 7 days before the latest run).",
        answer_history,
        s.table_answer(s.ref("HistoryRow"), {"module": s.STR, **WINDOW_META}),
        path_params=(MODULE,),
        params=(SINCE, UNTIL),
        table=True,
    ),
    Route(
        "/modules/{module}/detail/{table}",
        "module_detail",
        "A module's detail table (the collector's rows) from its latest good run at or before `at`.",
        answer_detail,
        s.table_answer(s.ref("DetailRow"), {"module": s.STR, "table": s.STR, **TIME_META}),
        path_params=(
            MODULE,
            Param("table", "A detail table's name.", "name", required=True, choices=ApiContext.tables),
        ),
        params=(AT,),
        table=True,
    ),
    Route(
        "/modules/{module}/metrics/{metric}",
        "module_metric",
        "One metric of one module over a window (default: the 7 days before the latest run).",
        answer_metric,
        s.table_answer(s.ref("MetricPoint"), {"module": s.STR, "metric": s.STR, **WINDOW_META}),
        path_params=(MODULE, Param("metric", "A metric's name.", required=True)),
        params=(SINCE, UNTIL),
        table=True,
    ),
    Route(
        "/runs",
        "runs",
        "The runs over a window (default: the 7 days before the latest run), with modules per level.",
        answer_runs,
        s.table_answer(s.ref("Run"), WINDOW_META),
        params=(SINCE, UNTIL),
        table=True,
    ),
    Route(
        "/changes",
        "changes",
        "Every module's level changes over a window (default: the 24 hours before the latest run).",
        answer_changes,
        s.table_answer(s.ref("LevelChange"), WINDOW_META),
        params=(SINCE, UNTIL),
        table=True,
    ),
    Route(
        "/events",
        "events",
        "What changed, as derived after each run (level changes, staleness, rows, metric jumps, …; docs/events.md).",
        answer_events,
        s.table_answer(s.ref("Event"), WINDOW_META),
        params=(
            SINCE,
            UNTIL,
            Param("module", "Only this module's events."),
            Param("category", "Only this category's events."),
            Param("kind", "Only events of this kind, e.g. level_changed."),
            Param("level", "Only events leaving the subject at this level.", "name", choices=tuple(s.LEVELS)),
        ),
        table=True,
        description="Default window: the 24 hours before the latest run.",
    ),
    Route(
        "/incidents",
        "incidents",
        "Incidents (events grouped by the notification rules): open ones, or all opened since a time.",
        answer_incidents,
        s.table_answer(s.ref("Incident"), {"state": s.STR}),
        params=(
            Param("state", "open (default) or all (resolved ones too).", "name", choices=("open", "all")),
            Param("since", "With state=all: only incidents opened since this time.", "time"),
        ),
        table=True,
    ),
    Route(
        "/feed",
        "feed",
        "The compact feed for phones and widgets: overall level, each category's level, what changed.",
        answer_feed,
        s.obj(
            {
                "site": s.STR,
                **SUMMARY,
                "categories": s.array(s.obj({"name": s.STR, "title": s.STR, "level": s.LEVEL, "status": s.NUM})),
                "changes_since": s.NTIME,
                "changes": s.array(
                    s.obj(
                        {
                            "module": s.STR,
                            "category": s.NSTR,
                            "time": s.TIME,
                            "from": s.nullable(s.LEVEL),
                            "to": s.LEVEL,
                        }
                    )
                ),
                "changes_truncated": s.BOOL,
            }
        ),
        params=(
            Param("since_run", "Changes after this run (a run_id the reader saw last; default: 24 hours)."),
            AT,
        ),
        description="Poll with If-None-Match: between runs, within the minute, the answer is a 304 without a body "
        "(each minute it is made again: a module silent too long turns no information without a run).",
    ),
    Route(
        "/transfers/{view}",
        "transfers",
        "Transfer statistics with the transfer views' filters.",
        answer_transfers,
        s.table_answer(s.ref("TransferRow"), {"view": s.STR, "start": s.NTIME, "end": s.NTIME, "grain": s.NSTR}),
        path_params=(Param("view", "Which view.", "name", required=True, choices=tuple(TRANSFER_VIEWS)),),
        params=(
            Param("window", "How long before `end`, e.g. 24h, 7d (longer than 3 days: daily bins).", default="24h"),
            Param("end", "End of the window (default: the newest statistics).", "time"),
            Param("vo", "Only this VO."),
            Param("activity", "Only this activity."),
            Param("site", "Only transfers from or to this site."),
        ),
        table=True,
        description="Views: " + "; ".join(f"{k}: {v[2]}" for k, v in TRANSFER_VIEWS.items()) + ".",
    ),
]
