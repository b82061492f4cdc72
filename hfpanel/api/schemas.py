"""JSON Schemas of the API's answers: the OpenAPI document's ``components`` and the contract the
route-by-route test checks every answer against. One declaration per shape; routes name them.
"""

from __future__ import annotations

from ..levels import LEVELS

TIME = {"type": "string", "format": "date-time", "description": "UTC, RFC 3339 (ends in Z)"}
LEVEL = {"type": "string", "enum": list(LEVELS)}


def nullable(schema: dict) -> dict:
    """``schema`` or null (JSON Schema 2020-12, as OpenAPI 3.1 reads it)."""
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema.get("type")
    out = dict(schema)
    out["type"] = [kind, "null"] if isinstance(kind, str) else [*kind, "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


def obj(properties: dict, required=None, extra: bool = False, description: str = "") -> dict:
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else list(required),
        "additionalProperties": extra,
    }
    if description:
        schema["description"] = description
    return schema


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


STR, NUM, INT, BOOL = {"type": "string"}, {"type": "number"}, {"type": "integer"}, {"type": "boolean"}
NSTR, NNUM, NINT, NTIME = nullable(STR), nullable(NUM), nullable(INT), nullable(TIME)

COMPONENTS = {
    "Error": obj(
        {"error": obj({"status": INT, "message": STR})},
        description="Every refusal: the HTTP status and one line saying what is wrong.",
    ),
    "Counts": obj({lvl: INT for lvl in LEVELS}, description="Modules at each level."),
    "Run": obj(
        {
            "run_id": STR,
            "time": TIME,
            "start": NTIME,
            "end": NTIME,
            "site": NSTR,
            "config_hash": NSTR,
            "version": NSTR,
            "modules": NINT,
            "ok": NINT,
            "warning": NINT,
            "critical": NINT,
            "noinfo": NINT,
        },
        required=["run_id", "time"],
    ),
    "ModuleStatus": obj(
        {
            "category": STR,
            "category_title": NSTR,
            "module": STR,
            "title": STR,
            "status": NNUM,
            "level": nullable(LEVEL),
            "message": STR,
            "error": STR,
            "time": NTIME,
            "age_s": NNUM,
            "max_age_s": NNUM,
            "stale": BOOL,
            "last_good": NTIME,
            "since": NTIME,
            "since_exact": BOOL,
            "for_s": NNUM,
            "source_url": NSTR,
            "collector": NSTR,
            "run_id": NSTR,
            "labels": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "What its collector said this answer is about (failing hosts, pools); see docs/events.md.",
            },
        },
        description="A module as it was at the time asked: stale = stored as stale or older than its max_age.",
    ),
    "CategoryStatus": obj(
        {
            "category": STR,
            "title": STR,
            "status": NUM,
            "level": LEVEL,
            "message": STR,
            **{lvl: INT for lvl in LEVELS},
            "modules": INT,
        }
    ),
    "HistoryRow": obj(
        {
            "run_id": STR,
            "time": TIME,
            "category": NSTR,
            "status": NNUM,
            "level": nullable(LEVEL),
            "message": NSTR,
            "error": NSTR,
            "stale": nullable(BOOL),
            "duration_s": NNUM,
        },
        required=["run_id", "time", "status", "level"],
    ),
    "MetricPoint": obj({"time": TIME, "value": NNUM}),
    "LevelChange": obj(
        {
            "module": STR,
            "category": NSTR,
            "title": NSTR,
            "time": TIME,
            "from_level": nullable(LEVEL),
            "to_level": LEVEL,
            "from_status": NNUM,
            "to_status": NNUM,
            "from_time": NTIME,
            "message": NSTR,
        }
    ),
    "DetailRow": {
        "type": "object",
        "description": "One row of a collector's table: its own columns, as the source gave them.",
        "additionalProperties": True,
    },
    "TransferRow": {
        "type": "object",
        "description": "One row of a transfer view (columns per view; see the view's description).",
        "additionalProperties": True,
    },
    "Event": obj(
        {
            "event_id": STR,
            "run_id": NSTR,
            "time": TIME,
            "site": NSTR,
            "category": NSTR,
            "module": NSTR,
            "subject": STR,
            "kind": STR,
            "level": NSTR,
            "before": NSTR,
            "after": NSTR,
            "value": NNUM,
            "text": NSTR,
            "labels": NSTR,
        },
        description="One event (docs/events.md): what changed, when, about what.",
    ),
    "Incident": {
        "type": "object",
        "description": "An incident's latest version (hfpanel.events: rule, status, level, opened, resolved, "
        "acknowledgement, the alerts and subjects it groups).",
        "properties": {"incident_id": STR, "status": STR, "opened": NTIME, "resolved": NTIME, "level": NSTR},
        "required": ["incident_id", "status"],
        "additionalProperties": True,
    },
    "Link": obj({"title": STR, "url": STR}, required=["url"], extra=True),
}


def table_answer(row: dict, meta: dict | None = None) -> dict:
    """The JSON shape of every paginated table: its meta keys, ``rows`` and the ``next`` cursor URL."""
    meta = meta or {}
    properties = {
        **meta,
        "rows": array(row),
        "next": nullable({"type": "string", "description": "the URL of the next page (null on the last)"}),
    }
    return obj(properties)
