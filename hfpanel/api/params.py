"""Parameters of the API's routes: declared once, read with one-line errors, documented in OpenAPI.

A value a client sends is only ever parsed into a typed value (a time, a whole number, one of the
names the store holds); it reaches SQL as a bound parameter through ``hfpanel.queries``, never as text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ..clock import TIME_EXAMPLE, parse_time
from ..durations import parse_duration
from . import schemas
from .errors import ApiError


@dataclasses.dataclass(frozen=True)
class Param:
    """One path or query parameter. ``kind``: text, time, int, duration or name (one of
    ``choices(context)``: an unknown name in the path is a 404, in the query a 400)."""

    name: str
    doc: str
    kind: str = "text"
    required: bool = False
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    choices: Callable | tuple | None = None
    max_length: int = 200

    def options(self, context) -> list[str] | None:
        if self.choices is None:
            return None
        return list(self.choices(context)) if callable(self.choices) else list(self.choices)

    def schema(self, context) -> dict:
        """The parameter's JSON Schema (names listed from what the store and config hold now)."""
        if self.kind == "time":
            return {"type": "string", "description": f"a time in UTC or 'now' ({TIME_EXAMPLE})"}
        if self.kind == "int":
            schema = {"type": "integer"}
            if self.minimum is not None:
                schema["minimum"] = self.minimum
            if self.maximum is not None:
                schema["maximum"] = self.maximum
            if self.default is not None:
                schema["default"] = self.default
            return schema
        if self.kind == "duration":
            return {"type": "string", "pattern": r"^\d+(\.\d+)?\s*[smhdw]?$", "default": self.default}
        options = self.options(context)
        schema = dict(schemas.STR)
        if options is not None:
            schema["enum"] = options
        else:
            schema["maxLength"] = self.max_length
        if self.default is not None:
            schema["default"] = self.default
        return schema

    def read(self, raw: str | None, context, where: str):
        """The typed value of ``raw`` (None when absent and optional); ApiError with one line otherwise."""
        label = f"{where} parameter '{self.name}'"
        if raw is None or raw == "":
            if self.required:
                raise ApiError(400, f"{label}: missing")
            return self.default if self.kind != "duration" else parse_duration(self.default) if self.default else None
        if len(raw) > max(self.max_length, 64):
            raise ApiError(400, f"{label}: longer than {max(self.max_length, 64)} characters")
        if self.kind == "time":
            try:
                return parse_time(raw)
            except ValueError as error:
                raise ApiError(400, f"{label}: {error}") from None
        if self.kind == "int":
            try:
                value = int(raw)
            except ValueError:
                raise ApiError(400, f"{label}: not a whole number: {raw!r}") from None
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                raise ApiError(400, f"{label}: {value} is outside {self.minimum}…{self.maximum}")
            return value
        if self.kind == "duration":
            try:
                return parse_duration(raw)
            except ValueError as error:
                raise ApiError(400, f"{label}: {error}") from None
        options = self.options(context)
        if options is not None and raw not in options:
            if where == "path":
                raise ApiError(404, f"no {self.name} {raw!r}")
            shown = ", ".join(options[:20]) + (" …" if len(options) > 20 else "")
            raise ApiError(400, f"{label}: {raw!r} is not one of {shown}")
        return raw


LIMIT = Param("limit", "Rows per page.", "int", default=500, minimum=1, maximum=10_000)
CURSOR = Param("cursor", "Where the previous page ended: pass the `next` URL of an answer as it is.", max_length=2000)
FORMAT = Param("format", "json (default) or csv (also chosen by `Accept: text/csv`).", choices=("json", "csv"))
AT = Param("at", "The status as it was at this time (default: the latest run).", "time")
SINCE = Param("since", "Start of the window (default: a window before `until`).", "time")
UNTIL = Param("until", "End of the window (default: the latest run).", "time")
