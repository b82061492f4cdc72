"""WhyThisColour: the rule, the inputs and the boundaries that gave one module its level.

For a module at the viewed time it re-applies the module's rating rule (the site config's, else
the collector's default) to the data stored for that run — its metrics and detail tables — and
says in plain sentences which input decided: the metric against its thresholds, the weakest row,
the failing fraction; then the level boundaries, and for a module in downtime the downtime that
caused it.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from ..collector import ParseResult, SourceError, collector_class
from ..levels import DEFAULT_LEVELS, DOWNTIME, NOINFO, NOINFO_STATUS, Levels
from ..rating import Rating, format_number, map_value, rate, threshold_direction
from . import history
from .base import StoreView
from .style import CSS, LEVEL_COLORS, esc, fmt_status, fmt_time, level_of, pill

#: at most this many failing rows are named in a sentence (all are in ``data``)
NAMED_ROWS = 8


# -- the rule ---------------------------------------------------------------------------------------
def resolve_rule(module: str, config=None, collector: str | None = None) -> tuple[dict | None, str, bool]:
    """The rating rule of ``module``: (rule, where it comes from, known). ``known`` is False when
    neither a config nor the collector type can say (the rule is then unknown, not "none")."""
    entry = None
    if config is not None:
        try:
            entry = config.module(module)
        except StopIteration:
            entry = None
    if entry is not None and entry.rating:
        return dict(entry.rating), "the site config", True
    if entry is not None:
        try:
            rule = entry.make_collector().default_rating
        except Exception:  # a collector that cannot be built here: fall back to its class
            rule = _class_default(entry.collector)
        return (dict(rule) if rule else None), f"the default of collector '{entry.collector}'", True
    if collector:
        try:
            rule = _class_default(collector)
        except (KeyError, TypeError, ImportError):
            return None, f"unknown: collector '{collector}' is not installed here", False
        note = f"the default of collector '{collector}' (no site config given; a site config may override it)"
        return (dict(rule) if rule else None), note, True
    return None, "unknown: no site config and no collector type", False


def _class_default(collector: str):
    cls = collector_class(collector)
    rule = cls.__dict__.get("default_rating", getattr(cls, "default_rating", None))
    if isinstance(rule, property):  # computed from the module's parameters: try a default instance
        try:
            return cls().default_rating
        except Exception:
            return None
    return rule


def _num(value) -> str:
    return format_number(float(value)) if value is not None else "—"


def _st(value) -> str:
    """A status as the shifter reads it: 0.0, 0.5, 1.0, 0.93; -1 is no information."""
    if value is None or pd.isna(value):
        return "—"
    value = float(value)
    if value < 0:
        return "-1 (no information)"
    return f"{value:.1f}" if round(value, 1) == value else f"{value:.2f}"


def describe_rule(rule: dict | None) -> str:
    """The rule in one sentence (without a final full stop)."""
    if not rule:
        return "no rating rule: the module is fine whenever its data arrives and parses"
    kind = rule["type"]
    if kind == "threshold":
        above = threshold_direction(rule)
        side = "at or above" if above else "at or below"
        return (f"threshold on metric {rule['metric']}: warning {side} {_num(rule['warning'])}, "
                f"critical {side} {_num(rule['critical'])} ({'high' if above else 'low'} values are bad)")
    if kind == "weakest_link":
        text = f"weakest link over {rule.get('table', 'rows')}[{rule['column']}]: the worst row decides"
        if rule.get("map"):
            pairs = ", ".join(f"{k} → {_st(v)}" for k, v in rule["map"].items())
            text += f"; values count as {pairs}; any other value → {_st(rule.get('default', NOINFO_STATUS))}"
        else:
            text += "; the column holds statuses (1 fine … 0 critical)"
        if rule.get("label"):
            text += f"; rows are named by {rule['label']}"
        return text
    if kind == "fraction":
        states = "/".join(map(str, rule["states"]))
        return (f"fraction of the rows of table {rule.get('table', 'rows')} whose {rule['column']} is {states}: "
                f"warning at {float(rule['warning']):.0%}, critical at {float(rule['critical']):.0%} or more")
    if kind == "map":
        pairs = ", ".join(f"{k} → {_st(v)}" for k, v in rule["map"].items())
        return f"map of metric {rule['metric']}: {pairs}; any other value → {_st(rule.get('default', NOINFO_STATUS))}"
    return f"{kind} rating"


def level_reason(levels: Levels, status) -> str:
    """Why a status has its level, e.g. "critical below 0.33"."""
    if status is None or pd.isna(status) or status < 0:
        return "-1 means no information"
    if status >= levels.ok:
        return f"ok from {levels.ok:g}"
    if status >= levels.warning:
        return f"warning from {levels.warning:g} to below {levels.ok:g}"
    return f"critical below {levels.warning:g}"


# -- the inputs -------------------------------------------------------------------------------------
def row_statuses(rule: dict, table: pd.DataFrame) -> pd.Series:
    """Each row's status under a weakest_link rule (as ``rating`` computes it)."""
    column, mapping = rule["column"], rule.get("map")
    if mapping:
        default = rule.get("default", NOINFO_STATUS)
        return table[column].map(lambda v: float(map_value(mapping, v, default)))
    return pd.to_numeric(table[column], errors="coerce").fillna(NOINFO_STATUS)


def input_frame(rule: dict | None, result: ParseResult) -> pd.DataFrame:
    """The inputs a shifter wants to see, deciding ones first: the table's rows with their status
    (weakest_link) or whether they count (fraction), else the metrics."""
    kind = (rule or {}).get("type")
    if kind in ("weakest_link", "fraction"):
        table = result.tables.get(rule.get("table", "rows"), pd.DataFrame())
        if table.empty or rule["column"] not in table.columns:
            return table
        if kind == "weakest_link":
            statuses = row_statuses(rule, table)
            known = statuses[statuses >= 0]
            worst = known.min() if not known.empty else None
            front = pd.DataFrame({"row_status": statuses,
                                  "decides": statuses == worst if worst is not None else False}, index=table.index)
            order = statuses.where(statuses >= 0, 2.0).sort_values(kind="stable").index
        else:
            matches = table[rule["column"]].astype(str).isin([str(s) for s in rule["states"]])
            front = pd.DataFrame({"counts": matches}, index=table.index)
            order = (~matches).sort_values(kind="stable").index
        return pd.concat([front, table], axis=1).loc[order].reset_index(drop=True)
    frame = pd.DataFrame({"metric": list(result.metrics), "value": [float(v) for v in result.metrics.values()]})
    if kind in ("threshold", "map") and not frame.empty:
        frame.insert(0, "decides", frame["metric"] == rule["metric"])
        frame = frame.sort_values("decides", ascending=False, kind="stable").reset_index(drop=True)
    return frame


def decision(rule: dict | None, rating: Rating, result: ParseResult, levels: Levels) -> str:
    """The sentence naming the input that decided, ending with the level it gives."""
    verdict = f"{levels.level(rating.status).upper()} — {level_reason(levels, rating.status)}"
    if not rule:
        return f"data arrived and parsed → {_st(rating.status)}; {verdict}"
    kind, inputs = rule["type"], rating.inputs
    if kind == "threshold":
        if inputs.get("value") is None:
            return f"{rule['metric']} has no value → no information"
        above = threshold_direction(rule)
        side = "at or above" if above else "at or below"
        if rating.status == 0.0:
            band = f"{side} the critical bound {_num(rule['critical'])}"
        elif rating.status == 0.5:
            band = f"{side} the warning bound {_num(rule['warning'])}"
        else:
            band = f"on the good side of the warning bound {_num(rule['warning'])}"
        return f"{rule['metric']} = {_num(inputs['value'])}, {band} → {_st(rating.status)}; {verdict}"
    where = f"{rule.get('table', 'rows')}[{rule['column']}]"
    if kind == "weakest_link":
        if not inputs.get("rows"):
            return f"weakest link over {where}: no rows → {_st(rating.status)}; {verdict}"
        if "worst_row" not in inputs:
            return f"weakest link over {where}: {rating.message} → no information"
        if rating.status >= 1.0:
            return f"weakest link over {where}: all {inputs['rows']} rows fine → {_st(rating.status)}; {verdict}"
        text = (f"weakest link over {where}: {inputs['worst_row']} = {inputs['worst_value']} → {_st(rating.status)}; "
                f"{verdict}")
        bad = inputs.get("bad_rows") or []
        if bad and rating.status < 1.0:
            named = ", ".join(bad[:NAMED_ROWS]) + (f" and {len(bad) - NAMED_ROWS} more" if len(bad) > NAMED_ROWS else "")
            text += f". {inputs['not_fine']} of {inputs['rows']} rows not fine: {named}"
        return text
    if kind == "fraction":
        if not inputs.get("rows"):
            return f"fraction over {where}: no rows → {_st(rating.status)}; {verdict}"
        states = "/".join(map(str, rule["states"]))
        text = (f"{inputs['matching']} of {inputs['rows']} rows ({inputs['fraction']:.0%}) have {rule['column']} "
                f"{states} (warning at {float(rule['warning']):.0%}, critical at {float(rule['critical']):.0%}) "
                f"→ {_st(rating.status)}; {verdict}")
        bad = inputs.get("bad_rows") or []
        if bad and rule.get("label"):
            text += f". Those rows: {', '.join(bad[:NAMED_ROWS])}" + (f" and {len(bad) - NAMED_ROWS} more"
                                                                       if len(bad) > NAMED_ROWS else "")
        return text
    if kind == "map":
        return f"{rule['metric']} = {_num(inputs.get('value'))} → {_st(rating.status)} (from the map); {verdict}"
    return f"{rating.message} → {_st(rating.status)}; {verdict}"


class WhyThisColour(StoreView):
    """Why ``module`` has its colour at the viewed time, in sentences a shifter understands.

    ``sentences``: the explanation (plain text); ``data``: the inputs (the rated table's rows with
    ``row_status``/``decides`` or ``counts``, failing first; or the metrics with ``decides``);
    ``rule``/``rule_source``: the rating rule and where it came from; ``rating``: the rule
    re-applied to the stored data; ``row``: the module's stored status row.
    """

    module = param.String(default="", doc="The module explained (its name).")

    _watched = ("store", "time", "config", "module")

    def __init__(self, **params):
        super().__init__(**params)
        self._sentences: list[str] = []
        self._inputs = pd.DataFrame()
        self._row = None
        self._rule, self._rule_source, self._rating = None, "", None
        self._shown_inputs = None
        self._text = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._caption = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(6, 10, 0, 10))
        self._table = pn.widgets.Tabulator(pd.DataFrame(), disabled=True, show_index=False, pagination="local",
                                           page_size=10, sizing_mode="stretch_width", layout="fit_data_table",
                                           margin=(4, 10), visible=False)
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
        return self.config.levels if self.config is not None else DEFAULT_LEVELS

    # -- computing -----------------------------------------------------------------------------
    def _stored_result(self, row) -> ParseResult:
        """The metrics and detail tables of the row's run, as the collector produced them."""
        metrics = history.metrics(self.store, self.module, self.time)
        tables = {}
        for name in history.detail_table_names(self.store).get(self.module, []):
            frame = history.detail_frame(self.store, self.module, name, self.time)
            if not frame.empty and pd.Timestamp(frame["time"].max()) == pd.Timestamp(row["time"]):
                tables[name] = history.source_columns(frame)
        rule = self._rule or {}
        if rule.get("type") in ("weakest_link", "fraction"):
            name = rule.get("table", "rows")
            table = tables.get(name, pd.DataFrame())
            if rule["column"] not in table.columns:  # an all-empty column is not stored
                table = table.assign(**{rule["column"]: pd.Series([None] * len(table), dtype=object)})
            tables[name] = table
        return ParseResult(tables=tables, metrics=metrics)

    def _update(self) -> None:
        self._sentences, self._inputs, self._row, self._rating = [], pd.DataFrame(), None, None
        self._rule, self._rule_source = None, ""
        if self.store is None or not self.module:
            self._show(['Pick a module to see why it has its colour.'], None)
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
        sentences = [f"{title} is {stored_level.upper()} (status {fmt_status(status)}) in the run of "
                     f"{fmt_time(row['time'])}."]
        self._rule, self._rule_source, known = resolve_rule(self.module, self.config, row.get("collector"))
        sentences.append(f"Rating rule, from {self._rule_source}: {describe_rule(self._rule)}." if known
                         else f"Rating rule: {self._rule_source}.")
        error = row.get("error")
        if isinstance(error, str) and error:
            good = row.get("last_good")
            sentences.append(f"No information: the source failed — {error}. The rule was not applied. "
                             + (f"Last good data: {fmt_time(good)}." if good is not None and not pd.isna(good)
                                else "There was no good data before."))
        elif known:
            result = self._stored_result(row)
            try:
                rating = rate(self._rule, result)
            except SourceError as problem:
                sentences.append(f"The rule cannot be applied to the stored data: {problem} → no information.")
                rating = Rating(NOINFO_STATUS, str(problem))
            else:
                sentences.append(decision(self._rule, rating, result, levels) + ".")
            self._rating = rating
            self._inputs = input_frame(self._rule, result)
            if abs(rating.status - status) > 1e-9:
                sentences.append(f"Note: the stored status is {fmt_status(status)}, the rule above gives "
                                 f"{fmt_status(rating.status)} on the stored data (the rule or the levels may have "
                                 "changed since that run).")
        sentences.append(f"Levels: ok from {levels.ok:g}, warning from {levels.warning:g}, critical below "
                         f"{levels.warning:g}, -1 no information; status {fmt_status(status)} → "
                         f"{levels.level(status).upper()}.")
        if stored_level == DOWNTIME:
            reason = row.get("downtime")
            would = levels.level(status)
            sentences.append(f"Shown as DOWNTIME instead of {would.upper()}: "
                             + (f"{reason}." if isinstance(reason, str) and reason else
                                "an announced downtime covers the hosts that made it bad."))
            entry = self.module_config(self.module)
            if entry is not None and entry.hosts:
                sentences.append(f"This module watches the hosts {', '.join(entry.hosts)}.")
        message = row.get("message")
        if isinstance(message, str) and message:
            sentences.append(f"Message of that run: {message}")
        self._sentences = sentences
        self._show(sentences, stored_level)

    def _show(self, sentences: list[str], level) -> None:
        self._sentences = sentences
        head = ""
        if level is not None:
            head = (f'<div class="hf-header" data-module="{esc(self.module)}" data-level="{esc(level)}" '
                    f'style="border-left:8px solid {LEVEL_COLORS[level_of(level)]};padding-left:10px">'
                    f"<b style='font-size:1.15em'>Why this colour?</b>{pill(level)}</div>")
        items = "".join(f"<li>{esc(s)}</li>" for s in sentences)
        self._text.object = f'{head}<ul style="margin:4px 0;padding-left:20px;line-height:1.45">{items}</ul>'
        frame = self._inputs
        if frame is not self._shown_inputs:
            self._shown_inputs = frame
            formatters = {str(c): {"type": "plaintext"} for c in frame.columns
                          if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])}
            self._table.param.update(value=frame, formatters=formatters)
        self._table.visible = not frame.empty
        self._caption.object = ("<b>Inputs</b> <span class='hf-muted'>(the rows or metrics the rule looked at; "
                                "deciding ones first)</span>") if not frame.empty else ""
        self._caption.visible = not frame.empty
        if level == NOINFO and frame.empty:
            self._caption.visible = False
