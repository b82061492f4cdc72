"""ModuleView: everything about one module at the viewed time, for the shifter who clicked it."""

from __future__ import annotations

import io

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the backend, loaded without notebook side effects)
import pandas as pd
import panel as pn
import param

from ..durations import format_duration
from ..labels import from_json
from ..levels import NOINFO
from ..queries import loaders
from ..queries.status import module_frame
from .base import StoreView
from .problems import since_words
from .style import CSS, LEVEL_COLORS, esc, fmt_status, fmt_time, level_of, link, pill, stale_badge
from .tables import formatters

#: columns of a detail table that are the store's bookkeeping, not the source's content
BOOKKEEPING = ("run_id", "time", "module")


def _history_plot(history: pd.DataFrame, marker, title: str):
    """Status over time: a step line with one dot per run in its level's colour."""
    opts = dict(
        responsive=True,
        height=210,
        ylim=(-1.15, 1.15),
        xlabel="time (UTC)",
        ylabel="status",
        yticks=[(-1, "no info"), (0, "0"), (0.5, "0.5"), (1, "1")],
        toolbar=None,
        default_tools=[],
        show_grid=True,
        padding=(0.03, 0.05),
    )
    if history.empty:
        return hv.Curve([], "time", "status").opts(title=f"{title}: no history", **opts)
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(history["time"]),
            "status": history["status"].astype(float),
            "level": history["level"].astype(str),
            "message": history["message"].fillna("").astype(str).str.slice(0, 120),
        }
    )
    frame["color"] = [LEVEL_COLORS[level_of(lvl)] for lvl in frame["level"]]
    curve = hv.Curve(frame, "time", "status").opts(interpolation="steps-post", color="#9aa0a6", line_width=2)
    dots = hv.Scatter(frame, "time", ["status", "level", "message", "color"]).opts(
        color="color", size=8, tools=["hover"], line_color="white"
    )
    plot = curve * dots
    if marker is not None:
        plot = plot * hv.VLine(marker).opts(color="#1a73e8", line_dash="dashed", line_width=2)
    return plot.opts(title=title, **opts)


class ModuleView(StoreView):
    """One module: status, level, message, the reason when there is no information, age, last good
    data, the shifter instruction and links, its detail table as of the viewed time and its
    recent history.

    ``data`` is the detail table shown; ``status`` the module's row; ``history`` its recent rows.
    """

    module = param.String(default="", allow_refs=True, doc="The module shown (its name); empty shows a hint.")
    table = param.String(default="rows", doc="Which of the module's detail tables to show.")
    history_hours = param.Number(default=48, bounds=(1, None), doc="How far back the history plot goes.")

    _watched = ("store", "time", "config", "module", "table", "history_hours")
    _follows = {**StoreView._follows, "module": "module"}

    def __init__(self, **params):
        super().__init__(**params)
        self._status = pd.Series(dtype=object)
        self._detail = pd.DataFrame()
        self._history = pd.DataFrame()
        self._shown_detail = None
        self._shown_table = "rows"
        self._plot_key = None
        self._head = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._close = pn.widgets.Button(label="✕ Close", color="light", width=90, align="start")
        self._close.on_click(lambda event: setattr(self, "module", ""))
        self._facts = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._instruction = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._asof = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(8, 10, 0, 10))
        self._tables = pn.widgets.Select(label="Detail table", options=["rows"], value="rows", width=220, visible=False)
        # the table asked for (``table``) may differ from the one shown (a module without it shows
        # "rows"), so the widget reports choices rather than mirroring the parameter
        self._tables.param.watch(self._on_table, "value")
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(),
            disabled=True,
            show_index=False,
            sortable=True,
            pagination="local",
            page_size=15,
            sizing_mode="stretch_width",
            layout="fit_data_table",
            header_filters=False,
            margin=(4, 10),
            min_height=120,
        )
        self._csv = pn.widgets.FileDownload(
            callback=self.csv_bytes,
            filename="detail.csv",
            label="⬇ CSV",
            color="light",
            width=110,
            margin=(4, 10),
            visible=False,
        )
        self._parquet = pn.widgets.FileDownload(
            callback=self.parquet_bytes,
            filename="detail.parquet",
            label="⬇ Parquet",
            color="light",
            width=130,
            margin=(4, 4),
            visible=False,
        )
        self._plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", height=230, margin=(4, 10), linked_axes=False)
        self._content = pn.Column(
            self._facts,
            self._instruction,
            self._asof,
            self._tables,
            pn.Row(self._csv, self._parquet),
            self._table,
            pn.pane.HTML("<b>Recent history</b>", stylesheets=[CSS], margin=(8, 10, 0, 10)),
            self._plot,
            sizing_mode="stretch_width",
        )
        self._layout = pn.Column(
            pn.Row(self._head, self._close, sizing_mode="stretch_width"),
            self._content,
            sizing_mode="stretch_width",
            styles={"background": "#ffffff", "border-radius": "10px", "box-shadow": "0 1px 3px rgba(60,64,67,.3)"},
        )
        self._start()

    def __panel__(self):
        return self._layout

    # -- what is shown -------------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """The detail table shown (from the module's latest successful run at or before the time)."""
        return self._detail

    def frame(self) -> pd.DataFrame:
        return self.data

    @property
    def shown(self) -> pd.DataFrame:
        """The detail table as shown: without the store's bookkeeping columns."""
        frame = self._detail
        return frame.drop(columns=[c for c in BOOKKEEPING if c in frame.columns]) if not frame.empty else frame

    def download_name(self, suffix: str) -> str:
        """``<module>-<table>-<run time>.<suffix>`` (the run the detail comes from)."""
        when = self.detail_time
        stamp = when.strftime("%Y%m%dT%H%M%S") if when is not None else "none"
        return f"{self.module or 'module'}-{self._shown_table}-{stamp}.{suffix}"

    def csv_bytes(self) -> io.BytesIO:
        """The detail table as shown, as CSV (what the CSV button downloads)."""
        return io.BytesIO(self.shown.to_csv(index=False).encode("utf-8"))

    def parquet_bytes(self) -> io.BytesIO:
        """The detail table as shown, as Parquet (what the Parquet button downloads)."""
        out = io.BytesIO()
        self.shown.reset_index(drop=True).to_parquet(out, index=False)
        out.seek(0)
        return out

    @property
    def status(self) -> pd.Series:
        """The module's row as shown (status, level, message, error, age_s, is_stale, last_good…)."""
        return self._status

    @property
    def history(self) -> pd.DataFrame:
        return self._history

    @property
    def detail_time(self) -> pd.Timestamp | None:
        """The run the detail table comes from ("as of")."""
        if self._detail.empty or "time" not in self._detail:
            return None
        return pd.Timestamp(self._detail["time"].max())

    # -- rendering -----------------------------------------------------------------------------
    def _on_table(self, event) -> None:
        if event.new and event.new != self.table:
            self.table = event.new

    def _update(self) -> None:
        if self.store is None or not self.module:
            self._status, self._detail, self._history = pd.Series(dtype=object), pd.DataFrame(), pd.DataFrame()
            self._head.object = (
                '<div class="hf-muted" style="font-size:1.1em">Select a module in the overview '
                "to see its details.</div>"
            )
            self._close.visible = False
            self._content.visible = False
            return
        self._close.visible = True
        self._content.visible = True
        modules = module_frame(
            self.store, self.time, self.config, reference=self.reference_time(), max_age=self.max_age
        )
        found = modules[modules["module"] == self.module]
        row = found.iloc[0] if not found.empty else None
        self._status = row if row is not None else pd.Series({"module": self.module, "level": NOINFO}, dtype=object)
        self._render_head(row)
        self._render_facts(row)
        self._render_instruction(row)
        self._render_detail()
        self._render_history(row)

    def _render_head(self, row) -> None:
        if row is None:
            self._head.object = (
                f'<h2 style="margin:4px 0">{esc(self.module)}</h2>'
                f'<div class="hf-noinfo">This module has no row in the store '
                f"{'now' if self.time is None else 'at or before ' + esc(fmt_time(self.time))}.</div>"
            )
            return
        level = level_of(row["level"])
        badges = pill(level, big=True) + (stale_badge() if row["is_stale"] else "")
        self._head.object = (
            f'<div class="hf-module-head" data-module="{esc(row["module"])}" data-level="{esc(level)}" '
            f'style="border-left:10px solid {LEVEL_COLORS[level]};padding-left:12px">'
            f'<div class="hf-muted hf-small">{esc(row["category_title"])} · module <code>{esc(row["module"])}</code></div>'
            f'<h2 style="margin:2px 0 6px 0;font-size:1.6em">{esc(row["title"])}</h2>'
            f'<div class="hf-header">{badges}<span style="font-size:1.1em">status '
            f"<b>{esc(fmt_status(row['status']))}</b></span></div>"
            f'<div class="hf-since-line" style="font-size:1.1em;margin-top:4px">{esc(self._since(row))}</div></div>'
        )

    def _since(self, row) -> str:
        """ "CRITICAL since 04:15 UTC — 1h 45m", from the stored history."""
        viewed = self.time if self.time is not None else self.reference_time()
        return since_words(row["level"], row.get("since"), bool(row.get("since_exact", True)), row.get("for_s"), viewed)

    def _render_facts(self, row) -> None:
        if row is None:
            self._facts.object = ""
            return
        items = []
        if row["error"]:
            items.append(f'<div class="hf-noinfo"><b>No information:</b> {esc(row["error"])}</div>')
        rows = [
            ("Message", esc(row["message"]) or '<span class="hf-muted">—</span>'),
            (
                "Data written",
                f'{esc(fmt_time(row["time"]))} <span class="hf-muted">'
                f"({esc(format_duration(max(float(row['age_s']), 0.0)))} old "
                f"{'at the time viewed' if self.time is not None else 'now'})</span>",
            ),
            ("Last good data", esc(fmt_time(row["last_good"])) if not pd.isna(row["last_good"]) else "never"),
            (
                "Stale",
                (
                    "yes — "
                    + (
                        "marked stale by the collector run"
                        if row["stale"]
                        else f"older than expected ({esc(format_duration(row['max_age_s']))})"
                    )
                )
                if row["is_stale"]
                else "no",
            ),
        ]
        if row.get("collector"):
            rows.append(("Collector", esc(row["collector"])))
        if labels := from_json(row.get("labels")):  # what notification rules can match (docs/events.md)
            shown = ", ".join(f"<code>{esc(k)}={esc(v)}</code>" for k, v in labels.items())
            rows.append(("Labels", f'{shown} <span class="hf-muted">(rules can match these)</span>'))
        items.append(
            '<table class="hf-kv">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"
        )
        self._facts.object = "".join(items)

    def _render_instruction(self, row) -> None:
        module = self.module_config(self.module)
        parts = []
        if module is not None and module.instruction:
            text = esc(module.instruction).replace("\n", "<br>")
            parts.append(f'<div class="hf-instruction"><b>What to do:</b><br>{text}</div>')
        links = [(link.get("title") or link["url"], link["url"]) for link in module.links] if module is not None else []
        source = row["source_url"] if row is not None and isinstance(row["source_url"], str) else ""
        if source and source not in [u for _, u in links]:
            links.append(("Source", source))
        if links:
            parts.append(
                '<div style="margin-top:6px"><b>Links:</b> '
                + " · ".join(link(url, title) for title, url in links)
                + "</div>"
            )
        self._instruction.object = "".join(parts)
        self._instruction.visible = bool(parts)

    def _render_detail(self) -> None:
        names = loaders.detail_tables(self.store, self.module)
        table = self.table if self.table in names else (names[0] if names else "rows")
        self._tables.param.update(options=names or ["rows"], value=table, visible=len(names) > 1)
        frame = loaders.detail(self.store, self.module, table, self.time) if names else pd.DataFrame()
        self._detail = frame
        self._shown_table = table
        when = self.detail_time
        if frame.empty:
            self._asof.object = (
                '<b>Detail</b> <span class="hf-muted">— no detail rows '
                f"{'yet' if self.time is None else 'at or before ' + esc(fmt_time(self.time))}</span>"
            )
        else:
            note = ""
            if self._status.get("error") and when is not None:
                note = " (the last successful run; the newer ones had no information)"
            self._asof.object = (
                f'<b>Detail</b> <span class="hf-muted">— table <code>{esc(table)}</code>, '
                f"{len(frame)} rows,</span> <b>as of {esc(fmt_time(when))}</b>"
                f'<span class="hf-muted">{esc(note)}</span>'
            )
        shown = frame.drop(columns=[c for c in BOOKKEEPING if c in frame.columns]) if not frame.empty else frame
        if frame is not self._shown_detail:  # cached frames: same object means same content
            self._shown_detail = frame
            # numbers in their units (raw values kept for sorting and downloads), text as plain text
            self._table.param.update(value=shown, formatters=formatters(shown))
        self._table.visible = not frame.empty
        self._csv.param.update(filename=self.download_name("csv"), visible=not frame.empty)
        self._parquet.param.update(filename=self.download_name("parquet"), visible=not frame.empty)

    def _render_history(self, row) -> None:
        end = self.time if self.time is not None else None
        # rounded so that sessions at "now" share one cached history per module for ten minutes
        start = (self.reference_time() - pd.Timedelta(hours=self.history_hours)).floor("10min")
        history = loaders.module_history(self.store, self.module, start, end)
        self._history = history
        title = row["title"] if row is not None else self.module
        key = (id(history), self.time, title, self.history_hours)
        if key != self._plot_key:  # a refresh without new data leaves the plot alone
            self._plot_key = key
            self._plot.object = _history_plot(history, self.time, f"{title} — last {self.history_hours:g} h")
