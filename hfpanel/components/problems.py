"""ProblemList: what is broken at the viewed time, worst first, and since when — the first screen.

A shifter's first question is "what is broken right now, and since when?". Every module that is
critical, without information, warning or in downtime is one line: its level, its title (a button
that opens the module view), "since 04:15 UTC — 1h 45m" from the stored history, the first line of
its shifter instruction and why (its message). An all-green site says so in one line. Counts per
level sit above the list; a click on one (here or in the page header) shows only that level.

The list is one browser model (``ProblemsView``) fed plain data: every text is set as text in the
browser, never as HTML, so nothing a source wrote can become markup.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param
from panel.custom import JSComponent

from ..durations import format_duration
from ..levels import CRITICAL, DOWNTIME, NOINFO, OK, SEVERITY, WARNING
from ..queries.status import module_frame
from ..units import fmt_time
from .base import StoreView
from .style import CSS, LEVEL_COLORS, LEVEL_TEXT, LEVEL_TINT

#: the levels listed as problems, worst first
PROBLEM_LEVELS = (CRITICAL, NOINFO, WARNING, DOWNTIME)
LEVEL_NAMES = {CRITICAL: "critical", NOINFO: "no information", WARNING: "warning", DOWNTIME: "downtime", OK: "ok"}
COLUMNS = ["module", "title", "category_title", "level", "since", "since_exact", "for_s", "message", "instruction"]


def since_words(level: str, since, exact: bool, for_s, viewed) -> str:
    """ "CRITICAL since 04:15 UTC — 1h 45m" (the date when it is not the viewed day; "at least" when
    the streak is older than the history looked at)."""
    word = LEVEL_NAMES.get(level, level).upper()
    if since is None or pd.isna(since):
        return word
    since = pd.Timestamp(since)
    clock = f"{since:%H:%M} UTC" if since.date() == pd.Timestamp(viewed).date() else fmt_time(since)
    lasted = format_duration(max(float(for_s), 0.0)) if for_s is not None and not pd.isna(for_s) else ""
    return f"{word} since {'at least ' if not exact else ''}{clock}" + (f" — {lasted}" if lasted else "")


def first_line(text) -> str:
    text = str(text or "").strip()
    return text.splitlines()[0].strip() if text else ""


class ProblemsView(JSComponent):
    """The list as one browser model; ``rows`` are dicts of text; a click sends ``select`` or ``level``."""

    rows = param.List(default=[])
    counts = param.List(default=[], doc="[level, label, count, colour, text colour] per level shown.")
    summary = param.String(default="")
    level = param.String(default="", doc="The level shown alone ('' for every problem).")
    focus = param.Integer(default=0, doc="Bumped to scroll the list into view.")
    _stylesheets = [
        CSS,
        """
.hf-problems { background: #fff; border-radius: 10px; box-shadow: 0 1px 3px rgba(60,64,67,.3); padding: 8px 10px;
               font-size: 15px; line-height: 1.35; }
.hf-problems h2 { font-size: 1.15em; margin: 2px 4px 6px 4px; }
.hf-pcounts { display: flex; flex-wrap: wrap; gap: 6px; margin: 0 4px 6px 4px; }
.hf-pcount { font: inherit; border: none; border-radius: 12px; padding: 2px 10px; cursor: pointer; font-weight: 700; }
.hf-pcount[aria-pressed="true"] { outline: 3px solid #1a73e8; }
.hf-prow { display: grid; grid-template-columns: 118px minmax(0, 1fr); gap: 2px 10px; padding: 6px 8px;
           border-radius: 6px; margin: 3px 0; border-left: 8px solid; }
.hf-plevel { font-weight: 700; font-size: .8em; text-transform: uppercase; letter-spacing: .03em; }
.hf-ptitle { font: inherit; font-weight: 700; text-align: left; border: none; background: transparent;
             color: #174ea6; cursor: pointer; padding: 0; overflow-wrap: anywhere; }
.hf-ptitle:hover { text-decoration: underline; }
.hf-psince { font-weight: 600; }
.hf-pwhat, .hf-pmsg { color: #3c4043; overflow-wrap: anywhere; display: -webkit-box; -webkit-box-orient: vertical;
  overflow: hidden; }
.hf-pwhat { -webkit-line-clamp: 3; line-clamp: 3; }
.hf-pmsg { color: #5f6368; font-size: .92em; -webkit-line-clamp: 2; line-clamp: 2; }
.hf-pall { font-weight: 700; color: #188038; margin: 4px; }
@media (max-width: 600px) { .hf-prow { grid-template-columns: minmax(0, 1fr); } }
""",
    ]
    _esm = """
    export function render({ model, el }) {
      const box = document.createElement('section')
      box.className = 'hf-problems'
      box.id = 'problems'
      const head = document.createElement('h2')
      const counts = document.createElement('div')
      counts.className = 'hf-pcounts'
      const list = document.createElement('div')
      box.append(head, counts, list)
      el.appendChild(box)

      function text(tag, cls, value, hover) {
        const node = document.createElement(tag)
        if (cls) node.className = cls
        node.textContent = value
        if (hover) node.title = hover
        return node
      }
      function draw() {
        head.textContent = model.summary
        counts.replaceChildren()
        for (const [level, label, count, color, fg] of model.counts) {
          const b = text('button', 'hf-pcount', count + ' ' + label)
          b.style.background = color
          b.style.color = fg
          b.setAttribute('aria-pressed', model.level === level ? 'true' : 'false')
          b.dataset.level = level
          b.addEventListener('click', () => model.send_msg({level: model.level === level ? '' : level}))
          counts.appendChild(b)
        }
        list.replaceChildren()
        for (const row of model.rows) {
          if (row.all_ok) { list.appendChild(text('div', 'hf-pall', row.text)); continue }
          const line = document.createElement('div')
          line.className = 'hf-prow'
          line.dataset.module = row.module
          line.dataset.level = row.level
          line.style.borderLeftColor = row.color
          line.style.background = row.tint
          const level = text('div', 'hf-plevel', row.level_text)
          level.style.color = row.color === '#f9ab00' ? '#8a5a00' : row.color
          const title = text('button', 'hf-ptitle', row.title)
          title.addEventListener('click', () => model.send_msg({select: row.module}))
          const left = document.createElement('div')
          left.append(level)
          const right = document.createElement('div')
          const since = text('div', 'hf-psince', row.since)
          right.append(title, since)
          // a long instruction or message: its first lines here (a list of problems stays a list, on a
          // phone too), all of it on hover and in the module view a click opens
          if (row.instruction) right.append(text('div', 'hf-pwhat', '→ ' + row.instruction, row.instruction))
          if (row.message) right.append(text('div', 'hf-pmsg', row.message, row.message))
          line.append(left, right)
          list.appendChild(line)
        }
      }
      draw()
      model.on(['rows', 'counts', 'summary', 'level'], draw)
      model.on('focus', () => box.scrollIntoView({behavior: 'smooth', block: 'start'}))
    }
    """

    def __init__(self, on_select=None, on_level=None, **params):
        super().__init__(**params)
        self._on_select, self._on_level = on_select, on_level

    def _handle_msg(self, msg) -> None:
        """A click in the browser (tests call this too: it is what a click sends)."""
        if "select" in msg and self._on_select:
            self._on_select(str(msg["select"]))
        elif "level" in msg and self._on_level:
            self._on_level(str(msg["level"]))


class ProblemList(StoreView):
    """Every module not ok at the viewed time, worst first, with since when and what to do.

    ``selected`` is the module last clicked (the page opens it); ``level`` shows one level alone.
    ``data``: one row per problem (module, title, category_title, level, since, since_exact, for_s,
    message, instruction), in the order shown.
    """

    selected = param.String(default="", allow_refs=True, doc="The module last clicked (its name).")
    level = param.String(default="", allow_refs=True, doc="Show only this level ('' for every problem).")

    _watched = ("store", "time", "config", "level")
    _follows = {**StoreView._follows, "selected": "module"}

    def __init__(self, **params):
        super().__init__(**params)
        self._data = pd.DataFrame(columns=COLUMNS)
        self._all = pd.DataFrame(columns=COLUMNS)
        self._counts: dict[str, int] = {}
        self.view = ProblemsView(
            on_select=self._select, on_level=self.show_level, sizing_mode="stretch_width", margin=(4, 8)
        )
        self._layout = pn.Column(self.view, sizing_mode="stretch_width")
        self._start()

    # -- what is shown -------------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        return self._data

    @property
    def counts(self) -> dict[str, int]:
        """Modules per level at the viewed time (every level, ok included)."""
        return self._counts

    def show_level(self, level: str) -> None:
        """Show only ``level`` ('' for all) and bring the list into view (what a count's click does)."""
        self.level = level if level in (*PROBLEM_LEVELS, "") else ""
        self.view.focus += 1

    def _select(self, module: str) -> None:
        self.selected = module

    # -- computing -----------------------------------------------------------------------------
    def _update(self) -> None:
        self._counts = {}
        if self.store is None:
            self._show([], "No store given.")
            return
        modules = module_frame(
            self.store, self.time, self.config, reference=self.reference_time(), max_age=self.max_age
        )
        self._counts = {lvl: int((modules["level"] == lvl).sum()) for lvl in (*PROBLEM_LEVELS, OK)}
        problems = modules[modules["level"].isin(PROBLEM_LEVELS)].copy()
        problems["instruction"] = [
            first_line(getattr(self.module_config(m), "instruction", "")) for m in problems["module"]
        ]
        problems["_order"] = problems["level"].map(SEVERITY)
        problems = problems.sort_values(["_order", "since", "title"], na_position="last", kind="stable")
        self._all = problems[COLUMNS].reset_index(drop=True)
        shown = self._all[self._all["level"] == self.level] if self.level else self._all
        self._data = shown.reset_index(drop=True)
        when = "now" if self.time is None else f"at {fmt_time(self.time)}"
        if modules.empty:
            summary = f"No module has a row in the store {when}."
        elif self._all.empty:
            summary = f"All {len(modules)} modules ok {when}."
        else:
            summary = f"{len(self._all)} of {len(modules)} modules need attention {when}" + (
                f" — showing {LEVEL_NAMES[self.level]} only" if self.level else ""
            )
        self._show(self._data, summary, all_ok=self._all.empty and not modules.empty)

    def _show(self, frame, summary: str, all_ok: bool = False) -> None:
        viewed = self.time if self.time is not None else self.reference_time()
        rows = [
            {
                "module": r["module"],
                "title": r["title"],
                "level": r["level"],
                "level_text": LEVEL_NAMES.get(r["level"], r["level"]),
                "since": since_words(r["level"], r["since"], bool(r["since_exact"]), r["for_s"], viewed),
                "instruction": r["instruction"],
                "message": " ".join(str(r["message"] or "").split())[:300],
                "color": LEVEL_COLORS[r["level"]],
                "tint": LEVEL_TINT[r["level"]],
            }
            for r in (frame.to_dict("records") if len(frame) else [])
        ]
        if all_ok:
            rows = [{"all_ok": True, "text": "✔ Every module is ok — nothing needs attention."}]
        counts = [
            [lvl, LEVEL_NAMES[lvl], n, LEVEL_COLORS[lvl], LEVEL_TEXT[lvl]]
            for lvl, n in self._counts.items()
            if n and lvl != OK
        ]
        self.view.param.update(rows=rows, summary=summary, counts=counts, level=self.level)
