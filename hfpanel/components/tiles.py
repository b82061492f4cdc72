"""The building blocks of the overview: a category tile with its module rows.

Each tile and row is built once and updated in place (``update(...)``), so a refresh never resets
a user's scroll position or selection.
"""

from __future__ import annotations

import pandas as pd
import param
from panel.custom import JSComponent

from ..durations import format_duration
from .style import (
    CSS,
    LEVEL_COLORS,
    LEVEL_ORDER,
    LEVEL_TEXT,
    LEVEL_TINT,
    esc,
    fmt_status,
    fmt_time,
    level_of,
    pill,
    stale_badge,
)

#: data younger than this at the time viewed is not worth a word (every module of the run shown)
STALE_WORDS_AFTER = 60.0


def tile_html(row) -> str:
    """The coloured head of a category tile: title, level word, module counts, roll-up message."""
    level = level_of(row["level"])
    counts = "".join(
        f'<span class="hf-chip"><i class="hf-dot" style="background:{LEVEL_COLORS[lvl]}"></i><b>{int(row[lvl])}</b> {lvl}</span>'
        for lvl in LEVEL_ORDER
        if int(row[lvl])
    )
    return (
        f'<div class="hf-tile" data-category="{esc(row["category"])}" data-level="{esc(level)}" '
        f'style="background:{LEVEL_COLORS[level]};color:{LEVEL_TEXT[level]}">'
        f'<div style="display:flex;justify-content:space-between;align-items:baseline;gap:12px">'
        f'<h2>{esc(row["title"])}</h2><span class="hf-word">{esc(level)}</span></div>'
        f'<div class="hf-counts">{counts or "no modules"}</div>'
        f'<div class="hf-msg">{esc(row.get("message", ""))}</div></div>'
    )


def row_html(row) -> str:
    """A module's line in its tile: level, status, age, stale badge, message, reason for no info."""
    level = level_of(row["level"])
    parts = [pill(level), f'<span class="hf-muted">status {esc(fmt_status(row["status"]))}</span>']
    since, lasted = row.get("since"), row.get("for_s")
    if level != "ok" and since is not None and not pd.isna(since) and not pd.isna(lasted):
        exact = "" if row.get("since_exact", True) else "at least "
        parts.append(
            f'<span class="hf-since" title="{esc(level)} since {exact}{esc(fmt_time(since))}">'
            f"for {exact}{esc(format_duration(max(float(lasted), 0.0)))}</span>"
        )
    age = row.get("age_s")
    if age is not None and not pd.isna(age) and age >= STALE_WORDS_AFTER:
        parts.append(
            f'<span class="hf-muted" title="how old the data is at the time viewed">'
            f"data {esc(format_duration(age))} old</span>"
        )
    if row["is_stale"]:
        parts.append(stale_badge())
    out = (
        f'<div class="hf-row" data-module="{esc(row["module"])}" data-level="{esc(level)}">'
        f'<div class="hf-line1">{"".join(parts)}</div>'
    )
    message = row.get("message") or ""
    error = row.get("error") or ""
    if error:
        out += f'<div class="hf-error"><b>No information:</b> {esc(error)}</div>'
        last_good = row.get("last_good_text")
        if last_good:
            out += f'<div class="hf-muted hf-small">last good data {esc(last_good)}</div>'
    elif message:
        out += f'<div class="hf-message">{esc(message)}</div>'
    return out + "</div>"


#: the module and category buttons inside a tile (plain HTML buttons, styled like links)
TILE_CSS = """
.hf-tilebox { border-radius: 10px; background: #fff; box-shadow: 0 1px 3px rgba(60,64,67,.3); padding: 0 0 6px 0; }
.hf-catbtn, .hf-modbtn { font: inherit; font-weight: 700; font-size: 15px; text-align: left; border: none;
            background: transparent; color: #174ea6; cursor: pointer; padding: 2px 6px; border-radius: 4px; }
.hf-catbtn { margin: 4px 8px 0 8px; }
.hf-catbtn:hover, .hf-modbtn:hover { text-decoration: underline; background: #e8f0fe; }
.hf-modbtn { flex: 0 0 165px; max-width: 165px; white-space: normal; overflow-wrap: anywhere; }
.hf-module-row { display: flex; gap: 8px; align-items: flex-start; margin: 4px 6px; padding: 2px 0;
            border-radius: 6px; }
.hf-module-row .hf-row { flex: 1 1 auto; min-width: 0; padding: 0 8px; }
@media (max-width: 480px) { .hf-modbtn { flex-basis: 120px; } }
"""


def module_row_html(row, selected: bool) -> str:
    """A module's line: its title as a button (opens the module view), then its state."""
    level = level_of(row["level"])
    outline = "3px solid #1a73e8" if selected else "1px solid transparent"
    tint = LEVEL_TINT[level] if level != "ok" else "#ffffff"
    return (
        f'<div class="hf-module-row" style="border-left:8px solid {LEVEL_COLORS[level]};outline:{outline};'
        f'background:{tint}"><button class="hf-modbtn" data-select="{esc(row["module"])}">'
        f"{esc(row['title'])}</button>{row_html(row)}</div>"
    )


class TileView(JSComponent):
    """A whole category tile as ONE browser model: head, module rows, buttons.

    A tile made of Panel widgets costs three Bokeh models per module (about 400 for a 100-module
    site), and building, sending and laying them out is what made a page load take seconds. Here
    the HTML is built in Python (escaped there), and a click on a button comes back as a message.
    """

    html = param.String(default="")
    _stylesheets = [CSS, TILE_CSS]
    _esm = """
    export function render({ model, el }) {
      const box = document.createElement('div')
      box.innerHTML = model.html
      box.addEventListener('click', (event) => {
        const button = event.target.closest('button')
        if (!button) return
        if (button.dataset.select !== undefined) model.send_msg({select: button.dataset.select})
        if (button.dataset.focus !== undefined) model.send_msg({focus: button.dataset.focus})
      })
      model.on('html', () => { box.innerHTML = model.html })
      el.appendChild(box)
    }
    """

    def __init__(self, on_select, on_focus, **params):
        super().__init__(**params)
        self._on_select, self._on_focus = on_select, on_focus

    def _handle_msg(self, msg) -> None:
        """A button was clicked in the browser (tests call this too: it is what a click sends)."""
        if "select" in msg:
            self._on_select(str(msg["select"]))
        elif "focus" in msg:
            self._on_focus(str(msg["focus"]))


class CategoryTile:
    """A category: a button that narrows the overview to it, its coloured head, its module rows."""

    def __init__(self, on_select, on_focus):
        self.category = ""
        self.focused = False
        self.view = TileView(
            on_select, on_focus, sizing_mode="stretch_width", min_width=320, margin=(8, 8), styles={"flex": "1 1 460px"}
        )
        self.panel = self.view

    def update(self, category_row, modules, selected: str, focused: bool = False) -> None:
        self.category, self.focused = str(category_row["category"]), focused
        title = (
            ""
            if focused
            else (
                f'<button class="hf-catbtn" data-focus="{esc(self.category)}">{esc(category_row["title"])} ›</button>'
            )
        )
        rows = "".join(module_row_html(module, module["module"] == selected) for module in modules.to_dict("records"))
        html = f'<div class="hf-tilebox">{title}{tile_html(category_row)}<div style="padding:6px 0">{rows}</div></div>'
        if html != self.view.html:
            self.view.html = html
