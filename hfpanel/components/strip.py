"""StatusStrip: the last hours of every category and module as strips of coloured cells.

HappyFace 4's home page: one row per category and per module, one cell per run (15-minute runs
over 24 hours: 96 cells), coloured by the level stored for that run. A module that runs every
30 minutes or hourly has no row in most runs: its result holds until its next run is due, so those
cells are drawn in its colour, joined to the run that produced it (no zebra stripes); a run that
should have brought a result and did not is marked "no run" (a white cell with a cross). Clicking a
cell sets ``time`` to that run (link it to TimeTravel).

All strips come from one SQL over the window's day partitions only (``history.strip``), so the
view costs the same on a store holding a day or a year.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import panel as pn
import param

from ..durations import format_duration
from ..queries import history, loaders
from .base import StoreView, to_time
from .strip_canvas import CODE, MISSING, StripCanvas
from .style import CSS, LEVEL_COLORS, LEVEL_WORDS, esc, fmt_status, fmt_time

#: the fill of a cell without a row (the module was not configured yet)
EMPTY_COLOR = "#f1f3f4"
#: the fill of a run that should have brought a result and did not (drawn with a cross)
MISSING_COLOR = "#ffffff"
ROW_PX = 17
#: the hover text of a cell is cut to this many characters
HOVER_CHARS = 160


def _code(level: str, state: str) -> str:
    """The canvas's character of a cell: the level's, in capitals when the result is held; "x" for
    a missing run."""
    if state == "missing":
        return MISSING
    code = CODE.get(level, ".")
    return code.upper() if state == "held" else code


def _hover(level: str, status: str, message: str, state: str, result: str, every: float) -> str:
    """The hover text of a cell: what it shows, and for a cell without a run of its own, why."""
    if state == "missing":
        return f"no run: a result was due (runs every {format_duration(every)}); last result {result}"
    if not state:
        return ""
    text = f"{level} · status {status}"
    if state == "held":
        text += f"\nheld: the result of {result} (runs every {format_duration(every)})"
    return text + (f"\n{message}" if message else "")


class StatusStrip(StoreView):
    """Every category and module over the last ``hours`` as a strip of cells, one per run.

    The window ends at the latest run at or before ``end`` (None: the latest run); when the viewed
    ``time`` lies before the window, the window moves to end at it, so time travel far back shows
    the day before that moment. Clicking a cell sets ``time`` to the cell's run (with more runs than
    ``max_cells``, a cell is a time bin showing its worst level; a click goes to its last run) and,
    for a module's cell, ``selected`` to the module.

    ``data``: one row per filled cell (kind, category, name, title, cell, time of the row, run_time
    of the cell, level, status, message); ``cells``: the cells (cell, time = its run, first, runs);
    ``matrix()``: level per module × run time ("" for an empty cell).
    """

    hours = param.Number(default=24.0, bounds=(0.01, None), doc="How many hours the strips cover.")
    category = param.String(default="", doc="Show only this category ('' for all).")
    end = param.ClassSelector(
        class_=pd.Timestamp,
        allow_None=True,
        default=None,
        doc="Where the window ends (naive UTC); None: the latest run.",
    )
    max_cells = param.Integer(
        default=400, bounds=(10, None), doc="At most this many cells per strip; more runs are binned."
    )
    selected = param.String(default="", allow_refs=True, doc="The module of the cell last clicked.")

    _watched = ("store", "time", "config", "hours", "category", "end", "max_cells")
    _follows = {**StoreView._follows, "selected": "module"}

    def __init__(self, **params):
        if params.get("end") is not None:
            params["end"] = to_time(params["end"])
        super().__init__(**params)
        self._rows = pd.DataFrame(columns=["kind", "category", "name", "title", "y"])
        self._data = pd.DataFrame(columns=history.STRIP_COLUMNS + ["run_time"])
        self._cells = pd.DataFrame(columns=history.CELL_COLUMNS)
        self._window: tuple[pd.Timestamp, pd.Timestamp] | None = None
        self._every: dict[str, float] = {}
        self._plot_key = None
        self._grid_frame = pd.DataFrame()
        self._head = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._plot = StripCanvas(
            on_click=self._click_cell,
            row_px=ROW_PX,
            sizing_mode="stretch_width",
            margin=(0, 10),
            colors={
                **{CODE[k]: v for k, v in LEVEL_COLORS.items()},
                **{CODE[k].upper(): v for k, v in LEVEL_COLORS.items()},
                MISSING: MISSING_COLOR,
            },
        )
        self._layout = pn.Column(self._head, self._plot, sizing_mode="stretch_width")
        self._start()

    def __panel__(self):
        return self._layout

    # -- what is shown -------------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        return self._data

    def frame(self) -> pd.DataFrame:
        return self.data

    @property
    def cells(self) -> pd.DataFrame:
        return self._cells

    @property
    def rows(self) -> pd.DataFrame:
        """The strips in display order: kind ("category"/"module"), category, name, title, y."""
        return self._rows

    @property
    def grid(self) -> pd.DataFrame:
        """What is drawn: one rectangle per strip × cell (name, kind, cell, color, level_text, …)."""
        return self._grid_frame

    @property
    def marked_cell(self) -> int:
        """The cell outlined as the viewed run (-1: none)."""
        return self._plot.marked

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The window shown: (since, until], until being a run's time."""
        return self._window

    @property
    def run_times(self) -> list[pd.Timestamp]:
        return [pd.Timestamp(t) for t in self._cells["time"]]

    def matrix(self, kind: str = "module") -> pd.DataFrame:
        """Level per strip (index: module or category name) × cell (columns: the cell's run time);
        "" where the cell is empty."""
        names = list(self._rows.loc[self._rows["kind"] == kind, "name"])
        filled = self._data[self._data["kind"] == kind]
        table = filled.pivot(index="name", columns="run_time", values="level") if not filled.empty else pd.DataFrame()
        table = table.reindex(index=names, columns=self.run_times)
        table.columns.name, table.index.name = "time", kind
        return table.fillna("").astype(object)

    def level_at(self, name: str, when, kind: str = "module") -> str:
        """The level shown in the cell of run ``when`` ("" when empty or not shown)."""
        found = self._data[
            (self._data["kind"] == kind) & (self._data["name"] == name) & (self._data["run_time"] == pd.Timestamp(when))
        ]
        return "" if found.empty else str(found["level"].iloc[0])

    # -- clicking ------------------------------------------------------------------------------
    def click(self, x=None, y=None) -> None:
        """The plot's tap handler: (x, y) in plot coordinates (cell i spans x in [i, i+1), strip r
        spans y in [-r-1, -r))."""
        if x is None or y is None or self._cells.empty:
            return
        cell, row = int(math.floor(float(x))), int(math.floor(-float(y)))
        if not (0 <= cell < len(self._cells)) or not (0 <= row < len(self._rows)):
            return
        self._click_cell(row, cell)

    def _click_cell(self, row: int, cell: int) -> None:
        if not (0 <= cell < len(self._cells)) or not (0 <= row < len(self._rows)):
            return
        strip = self._rows.iloc[row]
        self.select_cell(strip["name"], cell, strip["kind"])

    def select_cell(self, name: str, cell: int, kind: str = "module") -> None:
        """What a click on a cell does: ``time`` to the cell's run (and ``selected`` to the module)."""
        run = pd.Timestamp(self._cells["time"].iloc[int(cell)])
        self.param.update(time=run, **({"selected": name} if kind == "module" else {}))

    # -- rendering -----------------------------------------------------------------------------
    def _resolve_window(self):
        latest = history.window_end(self.store, self.end)
        if latest is None:
            return None
        span = pd.Timedelta(hours=float(self.hours))
        until = latest
        if self.time is not None and self.time <= latest - span:  # time travel before the window
            until = history.window_end(self.store, self.time) or self.time
        return until - span, until

    def _update(self) -> None:
        window = self._resolve_window() if self.store is not None else None
        self._window = window
        if window is None:
            self._set_empty("No store given." if self.store is None else "The store has no runs yet.")
            return
        since, until = window
        self._every = self._intervals(until)
        answer = history.strip(self.store, since, until, self.category or None, self.max_cells, intervals=self._every)
        cells, rows = answer["cells"], answer["rows"]
        self._cells = cells
        self._rows = self._display_rows(rows)
        run_time = dict(zip(cells["cell"], cells["time"]))
        self._data = (
            rows.assign(run_time=rows["cell"].map(run_time))
            if not rows.empty
            else pd.DataFrame(columns=history.STRIP_COLUMNS + ["run_time"])
        )
        self._render_head(since, until)
        labels = tuple(zip(self._rows["kind"], self._rows["name"], self._rows["title"]))
        key = (since, until, self.category, self.max_cells, labels, tuple(sorted(self._every.items())))
        if key != self._plot_key:
            self._plot_key = key
            self._draw(key)
            self._plot.visible = not cells.empty and not self._rows.empty
        self._plot.marked = self._viewed_cell()

    def _intervals(self, until) -> dict[str, float]:
        """How often each module runs (seconds): the site config's, else the configuration stored
        with the window's last run (a store served without ``--config``)."""
        if self.config is not None:
            return {m.name: float(m.interval) for m in self.config.modules}
        stored = loaders.stored_config(self.store, until) or {}
        return {m["name"]: float(m["interval"]) for m in stored.get("modules", []) if m.get("interval")}

    def _set_empty(self, text: str) -> None:
        self._rows = self._rows.iloc[0:0]
        self._data = self._data.iloc[0:0]
        self._cells = self._cells.iloc[0:0]
        self._head.object = f'<div class="hf-banner hf-banner-live">{esc(text)}</div>'
        self._plot.visible = False
        self._plot_key = None
        self._grid_frame = pd.DataFrame()

    def _viewed_cell(self) -> int:
        """The cell holding the run shown at ``time`` (-1 at now or before the window)."""
        if self.time is None or self._cells.empty:
            return -1
        firsts = pd.to_datetime(self._cells["first"]).to_numpy()
        last = pd.Timestamp(self._cells["time"].iloc[-1])
        if self.time > last and history.window_end(self.store, self.time) != last:
            return -1  # the viewed run is a later one, outside the window
        return int(np.searchsorted(firsts, np.datetime64(self.time), side="right")) - 1

    def _display_rows(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Category strips, each followed by its modules: in config order, then the others by name
        (categories) and title (modules)."""
        titles: dict[str, str] = {}
        members: dict[str, dict[str, str]] = {}
        configured = []
        if self.config is not None:
            for category in self.config.categories:
                if not self.category or category.name == self.category:
                    titles[category.name], members[category.name] = category.title, {}
                    configured.append(category.name)
            for module in self.config.modules:
                if module.category in members:
                    members[module.category][module.name] = module.title
        if not rows.empty:
            # rows come ordered by kind, name, cell: the last of each strip is its latest
            latest = rows.drop_duplicates(["kind", "name"], keep="last")
            named = lambda title, name: title if isinstance(title, str) and title else name  # noqa: E731
            for row in latest[latest["kind"] == "category"].itertuples():
                titles.setdefault(row.name, named(row.title, row.name))
                members.setdefault(row.name, {})
            modules = latest[latest["kind"] == "module"]
            labels = [named(t, n) for t, n in zip(modules["title"], modules["name"])]
            for label, name, category in sorted(zip(labels, modules["name"], modules["category"])):
                titles.setdefault(category, category)
                members.setdefault(category, {}).setdefault(name, label)
        order = configured + sorted(c for c in titles if c not in configured)
        out = []
        for category in order:
            out.append(("category", category, category, titles[category]))
            out += [("module", category, name, title) for name, title in members.get(category, {}).items()]
        frame = pd.DataFrame(out, columns=["kind", "category", "name", "title"])
        frame["y"] = range(len(frame))
        return frame

    def _render_head(self, since, until) -> None:
        runs = int(self._cells["runs"].sum()) if not self._cells.empty else 0
        binned = not self._cells.empty and runs > len(self._cells)
        what = (
            f"{len(self._cells)} cells of {runs} runs (each cell: the worst level of its runs)"
            if binned
            else f"{runs} runs, one cell each"
        )
        scope = f" · category <b>{esc(self.category)}</b>" if self.category else ""
        legend = "".join(
            f'<span style="white-space:nowrap;margin-left:12px"><i class="hf-dot" style="background:{color}">'
            f"</i>{esc(LEVEL_WORDS[level])}</span>"
            for level, color in LEVEL_COLORS.items()
        )
        legend += (
            '<span style="white-space:nowrap;margin-left:12px" title="a run that should have brought a result '
            'and did not">'
            f'<i class="hf-dot" style="background:{MISSING_COLOR};border:1px solid #5f6368;border-radius:0"></i>'
            "no run</span>"
            '<span style="white-space:nowrap;margin-left:12px" title="the module was not configured yet">'
            f'<i class="hf-dot" style="background:{EMPTY_COLOR};border:1px solid #bdc1c6"></i>no row</span>'
            '<span style="margin-left:12px">A result holds until the module\'s next run is due: '
            "its colour carries on, joined.</span>"
        )
        self._head.object = (
            f'<div class="hf-header"><b style="font-size:1.15em">Last {self.hours:g} h</b>'
            f'<span class="hf-muted">{esc(fmt_time(since))} – {esc(fmt_time(until))} · {esc(what)}'
            f"{scope}</span></div>"
            f'<div class="hf-small hf-muted">Click a cell to view the site as it was at that run.'
            f"{legend}</div>"
        )

    def _grid(self) -> pd.DataFrame:
        """One rectangle per strip × cell with its colour and hover text."""
        strips, cells, filled = self._rows, self._cells, self._data
        n_rows, n_cells = len(strips), len(cells)
        size = n_rows * n_cells
        position = {key: i for i, key in enumerate(zip(strips["kind"], strips["name"]))}
        rows = np.array([position.get(key, -1) for key in zip(filled["kind"], filled["name"])], dtype=int)
        known = rows >= 0
        at = rows[known] * n_cells + filled["cell"].to_numpy(dtype=int)[known]
        level = np.full(size, "", dtype=object)
        state = np.full(size, "", dtype=object)
        status = np.full(size, np.nan)
        message = np.full(size, "", dtype=object)
        result = np.full(size, "", dtype=object)
        level[at] = filled["level"].to_numpy(dtype=object)[known]
        state[at] = filled["state"].to_numpy(dtype=object)[known]
        result[at] = [fmt_time(t) for t in filled["time"].to_numpy()[known]]
        status[at] = filled["status"].to_numpy(dtype=float)[known]
        messages = filled["message"].to_numpy(dtype=object)[known]
        message[at] = [str(m)[:HOVER_CHARS] if isinstance(m, str) else "" for m in messages]
        firsts, lasts, runs = pd.to_datetime(cells["first"]), pd.to_datetime(cells["time"]), cells["runs"].to_numpy()
        when = [
            fmt_time(last) if n == 1 else f"{fmt_time(first)} – {fmt_time(last)} ({n} runs)"
            for first, last, n in zip(firsts, lasts, runs)
        ]
        texts: dict = {}
        cell = np.tile(np.arange(n_cells), n_rows)
        row = np.repeat(np.arange(n_rows), n_cells)
        return pd.DataFrame(
            {
                "kind": np.repeat(strips["kind"].to_numpy(dtype=object), n_cells),
                "name": np.repeat(strips["name"].to_numpy(dtype=object), n_cells),
                "strip": np.repeat(strips["title"].astype(str).to_numpy(dtype=object), n_cells),
                "row": row,
                "cell": cell,
                "x0": cell.astype(float),
                "x1": cell + 1.0,
                "y0": -row - 1.0 + 0.06,
                "y1": -row - 0.06,
                "level": level,
                "state": state,
                "color": [
                    MISSING_COLOR if st == "missing" else LEVEL_COLORS.get(lvl, EMPTY_COLOR) if lvl else EMPTY_COLOR
                    for lvl, st in zip(level, state)
                ],
                "level_text": [
                    "no run" if st == "missing" else LEVEL_WORDS.get(lvl, lvl) if lvl else "no row"
                    for lvl, st in zip(level, state)
                ],
                "result": result,
                "status_text": [
                    (texts.get(s) or texts.setdefault(s, fmt_status(s))) if lvl else "—"
                    for s, lvl in zip(status, level)
                ],
                "when": np.tile(np.array(when, dtype=object), n_rows),
                "message": message,
            }
        )

    def _draw(self, key) -> None:
        """Hand the canvas what it draws (computed once per window and store content: every
        session at now shows the same strips)."""
        if self._cells.empty or self._rows.empty:
            self._grid_frame = pd.DataFrame()
            self._plot.param.update(codes="", n_cells=0, labels=[], kinds=[], ticks=[], when=[], texts=[], text_of=[])
            return
        self._grid_frame, drawing = loaders.cached("strip_drawing", self.store, key, self._drawing)
        self._plot.param.update(**drawing)

    def _drawing(self) -> tuple[pd.DataFrame, dict]:
        """The grid and the canvas parameters: a level code per cell, labels, ticks, hover texts."""
        grid = self._grid()
        n_cells = len(self._cells)
        last = pd.to_datetime(self._cells["time"])
        long = (last.iloc[-1] - last.iloc[0]) > pd.Timedelta(hours=30)
        ticks = [[i, stamp.strftime("%m-%d %H:%M" if long else "%H:%M")] for i, stamp in enumerate(last)]
        labels = [
            str(t).upper() if k == "category" else "\u2003" + str(t)
            for k, t in zip(self._rows["kind"], self._rows["title"])
        ]
        default = history.DEFAULT_INTERVAL
        hover = [
            _hover(lvl, st, msg, state, result, self._every.get(name, default))
            for lvl, st, msg, state, result, name in zip(
                grid["level_text"], grid["status_text"], grid["message"], grid["state"], grid["result"], grid["name"]
            )
        ]
        index, texts = pd.factorize(pd.Series(hover))
        index = np.where(np.array(hover, dtype=object) == "", -1, index)
        return grid, dict(
            codes="".join(_code(lvl, state) for lvl, state in zip(grid["level"], grid["state"])),
            n_cells=n_cells,
            labels=labels,
            kinds=list(self._rows["kind"]),
            ticks=ticks,
            when=list(grid["when"].iloc[:n_cells]),
            texts=[str(t) for t in texts],
            text_of=index.tolist(),
        )
