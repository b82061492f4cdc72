"""The transfer page's view in the URL query: ``?vo=cms&activity=Production&site=X&window=7d``
(plus ``end``, ``color``, ``src``/``dst`` and ``view``). Values at their default stay out of
the URL so links are short; a bad value in a pasted link is a message, never a traceback.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

import panel as pn
import param

from ..base import to_time
from ..style import esc, iso
from .filters import window_length

#: page parameter -> URL query key
URL_KEYS = {"vo": "vo", "activity": "activity", "site": "site", "window": "window", "end": "end",
            "color_by": "color", "src": "src", "dst": "dst", "view": "view"}
DEFAULTS = {"window": "24h", "color_by": "efficiency", "view": "matrix"}


class _UrlState(param.Parameterized):
    """The query ("" = default). Untyped: Panel's Location decodes values as JSON where it can."""

    vo = param.Parameter(default="")
    activity = param.Parameter(default="")
    site = param.Parameter(default="")
    window = param.Parameter(default="")
    end = param.Parameter(default="")
    color = param.Parameter(default="")
    src = param.Parameter(default="")
    dst = param.Parameter(default="")
    view = param.Parameter(default="")


def _text(value) -> str:
    """A query value as typed (undoing Location's JSON decoding of ``site=123``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


class UrlSync:
    """Mixed into TransferPage: its parameters named in ``URL_KEYS`` ⇄ the page's URL query."""

    _url = None
    _location = None
    _syncing = False

    # -- the URL ------------------------------------------------------------------------------------------
    def url_params(self) -> dict[str, str]:
        """The view as URL query strings (values at their default left out)."""
        out = {}
        for name, key in URL_KEYS.items():
            value = getattr(self, name)
            text = iso(value) if name == "end" and value is not None else ("" if value is None else str(value))
            if text != DEFAULTS.get(name, ""):
                out[key] = text
        return out

    def link(self, base: str = "transfers") -> str:
        query = urlencode(self.url_params())
        return f"{base}?{query}" if query else base

    def apply_url_params(self, params: dict) -> None:
        """Set the view from URL query strings (missing = default); a bad value raises ValueError
        naming the key, and nothing changes."""
        get = lambda key: _text(params.get(key, "")).strip()  # noqa: E731
        new = {name: get(key) or DEFAULTS.get(name, "") for name, key in URL_KEYS.items()}
        try:
            new["end"] = to_time(new["end"]) if new["end"] else None
        except ValueError as error:
            raise ValueError(f"URL parameter 'end': {error}") from None
        for name in ("color_by", "view"):
            if new[name] not in self.param[name].objects:
                raise ValueError(f"URL parameter {URL_KEYS[name]!r}: {new[name]!r} is not one of "
                                 f"{', '.join(self.param[name].objects)}")
        try:
            window_length(new["window"])
        except ValueError as error:
            raise ValueError(f"URL parameter 'window': {error}") from None
        self.param.update(**{k: v for k, v in new.items() if getattr(self, k) != v})

    def sync_url(self, location=None) -> None:
        """Keep the view in the page's URL query and apply what the URL already holds."""
        location = location or pn.state.location
        if location is None:
            return
        self._url, self._location = _UrlState(), location
        location.sync(self._url, {name: name for name in URL_KEYS.values()})
        self._apply_url()
        self._url.param.watch(lambda *_: self._apply_url(), list(URL_KEYS.values()))
        self._push_url()

    def _apply_url(self) -> None:
        if self._url is None or self._syncing:
            return
        values = {key: _text(getattr(self._url, key)) for key in URL_KEYS.values()}
        try:
            self.apply_url_params({k: v for k, v in values.items() if v})
        except ValueError as error:
            self._note.object = f'<div class="hf-noinfo">Ignoring the link: {esc(error)}</div>'
        self._push_url()

    def _push_url(self) -> None:
        if self._url is None:
            return
        wanted = self.url_params()
        changes = {key: wanted.get(key, "") for key in URL_KEYS.values()}
        changes = {k: v for k, v in changes.items() if _text(getattr(self._url, k)) != v}
        if changes:
            self._syncing = True
            try:
                self._url.param.update(**changes)
            finally:
                self._syncing = False
            self._tidy_url()

    def _tidy_url(self) -> None:
        """Drop empty keys (``vo=&site=``) so links stay short."""
        query = parse_qsl((self._location.search or "").lstrip("?"), keep_blank_values=True)
        tidy = [(k, v) for k, v in query if not (k in URL_KEYS.values() and v == "")]
        if tidy != query:
            self._location.search = ("?" + urlencode(tidy)) if tidy else ""
