"""A page's view in its URL query — declared per component, synced in one place.

A component that lives in a URL (the overview ``?time=…&module=…``, the transfer page
``?vo=cms&window=7d``, the plot builder ``?series=…&agg=max``) declares its fields::

    url_fields = (UrlField("time", codec=TIME), UrlField("module"), UrlField("color_by", key="color"))

and gets, from ``UrlSync``: ``url_params()`` (the view as query strings, defaults left out so links
stay short), ``apply_url_params()`` (all or nothing: a bad value raises ValueError naming its key),
``link()`` and ``sync_url(location)``, which keeps the view and the browser's query in step through
Panel's ``Location.sync``. A bad value in a pasted link is reported through ``url_problem()`` (a
toast, a note) and replaced in the URL by the value shown — never a traceback; the good fields of
the same link still apply.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import param

from ..clock import parse_time
from ..durations import parse_duration
from .style import iso


@dataclasses.dataclass(frozen=True)
class Codec:
    """How one field reads and writes its query text. ``parse`` raises ValueError with a reason."""

    to_text: Callable[[Any], str]
    parse: Callable[[str], Any]


def _text(value) -> str:
    return "" if value is None else str(value)


TEXT = Codec(_text, lambda text: text)
TIME = Codec(lambda v: iso(v) if v is not None else "", lambda text: parse_time(text) if text else None)
FLAG = Codec(lambda v: "1" if v else "", lambda text: text.strip().lower() in ("1", "true", "yes", "on"))


def _duration(text: str) -> str:
    parse_duration(text)
    return text


DURATION = Codec(_text, _duration)


def duration_or(*words: str) -> Codec:
    """A duration, or one of ``words`` (the plot builder's window: ``auto`` or ``7d``)."""
    return Codec(_text, lambda text: text if text in words else _duration(text))


def integer(low: int, high: int) -> Codec:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"must be {low} to {high}")
        return value

    return Codec(_text, parse)


def names(text: str) -> list[str]:
    """A list of names: comma-separated, or a JSON list when a name itself holds a comma."""
    text = (text or "").strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError as error:
            raise ValueError(f"not a JSON list: {text!r}") from error
        return [str(s) for s in items]
    return [s.strip() for s in text.split(",") if s.strip()]


def join_names(items) -> str:
    items = list(items or [])
    return json.dumps(items) if any("," in s for s in items) else ",".join(items)


NAMES = Codec(join_names, names)


@dataclasses.dataclass(frozen=True)
class UrlField:
    """Parameter ``name`` of the component as query key ``key`` (default: the same name)."""

    name: str
    key: str = ""
    codec: Codec | None = None
    #: an extra check of the parsed value (ValueError with the reason), e.g. the known choices
    check: Callable[[Any], None] | None = None

    @property
    def query_key(self) -> str:
        return self.key or self.name


def query_text(value) -> str:
    """A query value as the text it was in the URL (undoing Location's JSON decoding of ``site=123``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


class UrlSync:
    """Mixed into a ``param.Parameterized`` component that declares ``url_fields``."""

    url_fields: tuple[UrlField, ...] = ()

    # -- the fields --------------------------------------------------------------------------------------
    def _codec(self, field: UrlField) -> Codec:
        if field.codec is not None:
            return field.codec
        parameter = self.param[field.name]
        if isinstance(parameter, param.Selector):
            objects = list(parameter.objects)

            def choose(text: str):
                if text not in objects:
                    raise ValueError(f"one of {', '.join(repr(o) for o in objects)}")
                return text

            return Codec(_text, choose)
        return TEXT

    def _default_text(self, field: UrlField) -> str:
        return self._codec(field).to_text(self.param[field.name].default)

    def _parse_field(self, field: UrlField, text: str):
        """The value of ``text`` (the default when empty); ValueError naming the key otherwise."""
        text = (text or "").strip()
        try:
            value = self._codec(field).parse(text) if text else self.param[field.name].default
            if field.check is not None:
                field.check(value)
        except ValueError as error:
            raise ValueError(f"URL parameter {field.query_key!r}: {text!r}: {error}") from None
        return value

    # -- the view as a query -----------------------------------------------------------------------------
    def url_params(self) -> dict[str, str]:
        """The view as URL query strings (values at their default left out)."""
        out = {}
        for field in self.url_fields:
            text = self._codec(field).to_text(getattr(self, field.name))
            if text != self._default_text(field):
                out[field.query_key] = text
        return out

    def link(self, base: str = "") -> str:
        query = urlencode(self.url_params())
        return f"{base}?{query}" if query else base

    def apply_url_params(self, params: dict) -> None:
        """Set the view from URL query strings (missing keys mean the default); all or nothing: a
        bad value raises ValueError naming the key and nothing changes."""
        texts = {k: query_text(v[0] if isinstance(v, (list, tuple)) and v else v) for k, v in (params or {}).items()}
        new = {f.name: self._parse_field(f, texts.get(f.query_key, "")) for f in self.url_fields}
        self.param.update(**{k: v for k, v in new.items() if differs(getattr(self, k), v)})

    def url_problem(self, message: str) -> None:
        """Say that part of a pasted link was ignored (subclasses show it; the default logs nothing)."""

    # -- syncing with the browser ------------------------------------------------------------------------
    def sync_url(self, location=None) -> None:
        """Keep the view in the page's URL query and apply what the URL already holds."""
        import panel as pn

        location = location or pn.state.location
        if location is None:
            return
        keys = [f.query_key for f in self.url_fields]
        state_class = type(
            f"{type(self).__name__}Url", (param.Parameterized,), {key: param.Parameter(default="") for key in keys}
        )
        self._url_state, self._url_location, self._url_busy = state_class(), location, False
        location.sync(self._url_state, {key: key for key in keys})
        self._from_url()
        self._url_state.param.watch(lambda *_: self._from_url(), keys)
        self.param.watch(lambda *_: self._to_url(), [f.name for f in self.url_fields])
        self._to_url()

    def _from_url(self) -> None:
        """The URL changed (pasted, back button): apply each good field, report each bad one."""
        if getattr(self, "_url_busy", True):
            return
        new, problems = {}, []
        for field in self.url_fields:
            try:
                new[field.name] = self._parse_field(field, query_text(getattr(self._url_state, field.query_key)))
            except ValueError as error:
                problems.append(str(error))
        self._url_busy = True
        try:
            self.param.update(**{k: v for k, v in new.items() if differs(getattr(self, k), v)})
        finally:
            self._url_busy = False
        for problem in problems:
            self.url_problem(problem)
        self._to_url()

    def _to_url(self) -> None:
        """The view changed: write it into the URL (empty keys dropped so links stay short)."""
        if getattr(self, "_url_busy", True):
            return
        wanted = self.url_params()
        changes = {f.query_key: wanted.get(f.query_key, "") for f in self.url_fields}
        changes = {k: v for k, v in changes.items() if query_text(getattr(self._url_state, k)) != v}
        if changes:
            self._url_busy = True
            try:
                self._url_state.param.update(**changes)
            finally:
                self._url_busy = False
        location = self._url_location
        query = parse_qsl((location.search or "").lstrip("?"), keep_blank_values=True)
        mine = {f.query_key for f in self.url_fields}
        tidy = [(k, v) for k, v in query if not (k in mine and v == "")]
        if tidy != query:
            location.search = ("?" + urlencode(tidy)) if tidy else ""


def differs(old, new) -> bool:
    """Whether setting ``new`` changes ``old`` (Timestamps, None, lists and frames compare safely)."""
    if old is new:
        return False
    try:
        return bool(old != new)
    except (TypeError, ValueError):
        return True
