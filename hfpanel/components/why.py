"""WhyThisColour: the rule, the inputs and the boundaries that gave one module its level.

For a module at the viewed time it re-applies the module's rating rule (the site config's, else
the collector's default) to the data stored for that run — its metrics and detail tables — and
says in plain sentences which input decided: the metric against its thresholds, the weakest row,
the failing fraction; then the level boundaries, and for a module in downtime the downtime that
caused it.
"""

from __future__ import annotations

import json

import pandas as pd
import panel as pn
import param

from ..collector import ParseResult, SourceError, collector_class
from ..durations import format_duration
from ..levels import DEFAULT_LEVELS, DOWNTIME, NOINFO, NOINFO_STATUS, Levels
from ..queries import history, loaders
from ..queries.status import silence_limits
from ..rating import PartialPolicy, Rating, describe_rule, partial, rate, rating_type
from ..stored_config import stored_module
from .base import StoreView
from .style import CSS, LEVEL_COLORS, esc, fmt_status, fmt_time, level_of, pill
from .tables import formatters


# -- the rule ---------------------------------------------------------------------------------------
def resolve_rule(
    module: str, config=None, collector: str | None = None, stored: dict | None = None
) -> tuple[dict | None, str, bool]:
    """The rating rule of ``module``: (rule, where it comes from, known) — the rule stored with the run
    (what was applied), else today's config's, else the collector's default. ``known`` is False when
    none of them can say (the rule is then unknown, not "none")."""
    today = _rule_of_today(module, config, collector)
    if stored is not None and "rating" in stored:
        rule = dict(stored["rating"]) if stored["rating"] else None
        if config is not None and today is not None and today[2] and _same_rule(today[0], rule):
            return today  # today's config says the same: name where it is written
        note = " (today's site config gives another rule)" if today is not None and config is not None else ""
        return rule, f"the configuration in force at that run{note}", True
    if today is not None:
        return today
    return None, "unknown: no site config and no collector type", False


def _rule_of_today(module: str, config, collector: str | None):
    entry = None
    if config is not None:
        try:
            entry = config.module(module)
        except KeyError:
            entry = None
    if entry is not None:
        source = "the site config" if entry.rating else f"the default of collector '{entry.collector}'"
        try:
            return entry.effective_rating(), source, True
        except Exception:  # a collector that cannot be built here: fall back to its class
            rule = _class_default(entry.collector)
            return (dict(rule) if rule else None), source, True
    if collector:
        try:
            rule = _class_default(collector)
        except (KeyError, TypeError, ImportError):
            return None, f"unknown: collector '{collector}' is not installed here", False
        note = f"the default of collector '{collector}' (no site config given; a site config may override it)"
        return (dict(rule) if rule else None), note, True
    return None


def _same_rule(a: dict | None, b: dict | None) -> bool:
    """Equal rules, also when JSON made a map's keys text."""
    return (
        json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)
        or json.loads(json.dumps(a, default=str)) == b
    )


def _class_default(collector: str):
    cls = collector_class(collector)
    rule = cls.__dict__.get("default_rating", getattr(cls, "default_rating", None))
    if isinstance(rule, property):  # computed from the module's parameters: try a default instance
        try:
            return cls().default_rating
        except Exception:
            return None
    return rule


class WhyThisColour(StoreView):
    """Why ``module`` has its colour at the viewed time, in sentences a shifter understands.

    ``sentences``: the explanation (plain text); ``data``: the inputs (the rated table's rows with
    ``row_status``/``decides`` or ``counts``, failing first; or the metrics with ``decides``);
    ``rule``/``rule_source``: the rating rule and where it came from; ``rating``: the rule
    re-applied to the stored data; ``row``: the module's stored status row.
    """

    module = param.String(default="", allow_refs=True, doc="The module explained (its name).")

    _watched = ("store", "time", "config", "module")
    _follows = {**StoreView._follows, "module": "module"}

    def __init__(self, **params):
        super().__init__(**params)
        self._sentences: list[str] = []
        self._inputs = pd.DataFrame()
        self._row = None
        self._rule, self._rule_source, self._rating = None, "", None
        self._shown_inputs = None
        self._text = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._caption = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(6, 10, 0, 10))
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(),
            disabled=True,
            show_index=False,
            pagination="local",
            page_size=10,
            sizing_mode="stretch_width",
            layout="fit_data_table",
            margin=(4, 10),
            visible=False,
        )
        self._layout = pn.Column(self._text, self._caption, self._table, sizing_mode="stretch_width")
        self._start()

    def __panel__(self):
        return self._layout

    # -- what is shown -------------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        return self._inputs

    def frame(self) -> pd.DataFrame:
        return self.data

    @property
    def sentences(self) -> list[str]:
        return list(self._sentences)

    @property
    def text(self) -> str:
        return "\n".join(self._sentences)

    @property
    def rule(self) -> dict | None:
        return self._rule

    @property
    def rule_source(self) -> str:
        return self._rule_source

    @property
    def rating(self) -> Rating | None:
        return self._rating

    @property
    def row(self) -> pd.Series | None:
        return self._row

    @property
    def levels(self) -> Levels:
        """The level boundaries: today's config's, else those stored with the run viewed."""
        if self.config is not None:
            return self.config.levels
        stored = loaders.stored_config(self.store, self.time) if self.store is not None else None
        return Levels(**stored["levels"]) if stored and stored.get("levels") else DEFAULT_LEVELS

    # -- computing -----------------------------------------------------------------------------
    def _stored_result(self, row) -> ParseResult:
        """The metrics and detail tables of the row's run, as the collector produced them."""
        metrics = history.metrics(self.store, self.module, self.time)
        tables = {}
        for name in history.detail_table_names(self.store).get(self.module, []):
            frame = history.detail_frame(self.store, self.module, name, self.time)
            if not frame.empty and pd.Timestamp(frame["time"].max()) == pd.Timestamp(row["time"]):
                tables[name] = history.source_columns(frame)
        missing, expected = partial.from_json(row.get("missing"))
        return ParseResult(tables=tables, metrics=metrics, missing=missing, expected=expected)

    def _partial_policy(self, stored: dict | None) -> PartialPolicy:
        """The partial-answer policy of the run: stored with it, else today's config's, else the default."""
        if stored is not None and stored.get("partial") is not None:
            return PartialPolicy.of(stored["partial"])
        entry = self.module_config(self.module)
        try:
            return entry.effective_partial() if entry is not None else PartialPolicy()
        except Exception:  # a collector not installed here
            return PartialPolicy()

    def _update(self) -> None:
        self._sentences, self._inputs, self._row, self._rating = [], pd.DataFrame(), None, None
        self._rule, self._rule_source = None, ""
        if self.store is None or not self.module:
            self._show(["Pick a module to see why it has its colour."], None)
            return
        row = history.status_row(self.store, self.module, self.time)
        when = "now" if self.time is None else f"at {fmt_time(self.time)}"
        if row is None:
            self._show([f"{self.module} has no row in the store {when}."], None)
            return
        self._row = row
        levels, stored_level = self.levels, level_of(row["level"])
        title = row["title"] if isinstance(row.get("title"), str) and row.get("title") else self.module
        status = float(row["status"])
        sentences = [
            f"{title} is {stored_level.upper()} (status {fmt_status(status)}) in the run of {fmt_time(row['time'])}."
        ]
        shown_level = stored_level
        age = (self.reference_time() - pd.Timestamp(row["time"])).total_seconds()
        interval, max_age = silence_limits(self.store, self.time, self.config)(self.module)
        if age > interval + max_age and stored_level != NOINFO:  # as the overview shows it
            shown_level = NOINFO
            sentences.insert(
                0,
                f"{title} has NO INFORMATION {when}: its last run is {format_duration(age)} old, longer than its "
                f"interval + max age ({format_duration(interval)} + {format_duration(max_age)}; the collector "
                "has not run it since). That run said:",
            )
        stored = stored_module(loaders.stored_config(self.store, self.time), self.module)
        self._rule, self._rule_source, known = resolve_rule(self.module, self.config, row.get("collector"), stored)
        sentences.append(
            f"Rating rule, from {self._rule_source}: {describe_rule(self._rule)}."
            if known
            else f"Rating rule: {self._rule_source}."
        )
        error = row.get("error")
        if isinstance(error, str) and error:
            good = row.get("last_good")
            sentences.append(
                f"No information: the source failed — {error}. The rule was not applied. "
                + (
                    f"Last good data: {fmt_time(good)}."
                    if good is not None and not pd.isna(good)
                    else "There was no good data before."
                )
            )
        elif known:
            kind = rating_type(self._rule)
            result = kind.prepare(self._rule, self._stored_result(row))
            policy = self._partial_policy(stored)
            try:
                rating = rate(self._rule, result, policy, levels)
            except SourceError as problem:
                sentences.append(f"The rule cannot be applied to the stored data: {problem} → no information.")
                rating = Rating(NOINFO_STATUS, str(problem))
            else:
                before = Rating(rating.inputs.get("rated_status", rating.status), rating.message, rating.inputs)
                sentences.append(kind.decision(self._rule, before, levels) + ".")
                if result.missing:
                    sentences.append(policy.decision(rating, result, levels) + ".")
            self._rating = rating
            self._inputs = kind.inputs(self._rule, result)
            if abs(rating.status - status) > 1e-9:
                sentences.append(
                    f"Note: the stored status is {fmt_status(status)}, the rule above gives "
                    f"{fmt_status(rating.status)} on the stored data (the rule or the levels may have "
                    "changed since that run)."
                )
        sentences.append(
            f"Levels: ok from {levels.ok:g}, warning from {levels.warning:g}, critical below "
            f"{levels.warning:g}, -1 no information; status {fmt_status(status)} → "
            f"{levels.level(status).upper()}."
        )
        if stored_level == DOWNTIME:
            reason = row.get("downtime")
            would = levels.level(status)
            sentences.append(
                f"Shown as DOWNTIME instead of {would.upper()}: "
                + (
                    f"{reason}."
                    if isinstance(reason, str) and reason
                    else "an announced downtime covers the hosts that made it bad."
                )
            )
            entry = self.module_config(self.module)
            if entry is not None and entry.hosts:
                sentences.append(f"This module watches the hosts {', '.join(entry.hosts)}.")
        message = row.get("message")
        if isinstance(message, str) and message:
            sentences.append(f"Message of that run: {message}")
        self._sentences = sentences
        self._show(sentences, shown_level)

    def _show(self, sentences: list[str], level) -> None:
        self._sentences = sentences
        head = ""
        if level is not None:
            head = (
                f'<div class="hf-header" data-module="{esc(self.module)}" data-level="{esc(level)}" '
                f'style="border-left:8px solid {LEVEL_COLORS[level_of(level)]};padding-left:10px">'
                f"<b style='font-size:1.15em'>Why this colour?</b>{pill(level)}</div>"
            )
        items = "".join(f"<li>{esc(s)}</li>" for s in sentences)
        self._text.object = f'{head}<ul style="margin:4px 0;padding-left:20px;line-height:1.45">{items}</ul>'
        frame = self._inputs
        if frame is not self._shown_inputs:
            self._shown_inputs = frame
            self._table.param.update(value=frame, formatters=formatters(frame))
        self._table.visible = not frame.empty
        self._caption.object = (
            (
                "<b>Inputs</b> <span class='hf-muted'>(the rows or metrics the rule looked at; "
                "deciding ones first)</span>"
            )
            if not frame.empty
            else ""
        )
        self._caption.visible = not frame.empty
        if level == NOINFO and frame.empty:
            self._caption.visible = False
