"""The building blocks of the overview: a category tile with its module rows.

Each tile and row is built once and updated in place (``update(...)``), so a refresh never resets
a user's scroll position or selection.
"""

from __future__ import annotations

import panel as pn

from .style import (BUTTON_CSS, CSS, LEVEL_COLORS, LEVEL_ORDER, LEVEL_TEXT, LEVEL_TINT, esc, fmt_age,
                    fmt_status, level_of, pill, stale_badge)


def tile_html(row) -> str:
    """The coloured head of a category tile: title, level word, module counts, roll-up message."""
    level = level_of(row["level"])
    counts = "".join(
        f'<span class="hf-chip"><i class="hf-dot" style="background:{LEVEL_COLORS[lvl]}"></i><b>{int(row[lvl])}</b> {lvl}</span>'
        for lvl in LEVEL_ORDER if int(row[lvl]))
    return (f'<div class="hf-tile" data-category="{esc(row["category"])}" data-level="{esc(level)}" '
            f'style="background:{LEVEL_COLORS[level]};color:{LEVEL_TEXT[level]}">'
            f'<div style="display:flex;justify-content:space-between;align-items:baseline;gap:12px">'
            f'<h2>{esc(row["title"])}</h2><span class="hf-word">{esc(level)}</span></div>'
            f'<div class="hf-counts">{counts or "no modules"}</div>'
            f'<div class="hf-msg">{esc(row.get("message", ""))}</div></div>')


def row_html(row) -> str:
    """A module's line in its tile: level, status, age, stale badge, message, reason for no info."""
    level = level_of(row["level"])
    parts = [pill(level), f'<span class="hf-muted">status {esc(fmt_status(row["status"]))}</span>',
             f'<span class="hf-muted" title="time since this row was written">{esc(fmt_age(row["age_s"]))}</span>']
    if row["is_stale"]:
        parts.append(stale_badge())
    out = (f'<div class="hf-row" data-module="{esc(row["module"])}" data-level="{esc(level)}">'
           f'<div class="hf-line1">{"".join(parts)}</div>')
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


class ModuleRow:
    """One module inside a tile: a button with its title (opens the module view) and its state."""

    def __init__(self, on_select):
        self.module = ""
        self._on_select = on_select
        self.button = pn.widgets.Button(label="", color="light", width=165, margin=(4, 4),
                                        stylesheets=[BUTTON_CSS])
        self.button.on_click(lambda event: self._on_select(self.module))
        self.html = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 8))
        self.panel = pn.Row(self.button, self.html, sizing_mode="stretch_width", margin=(2, 0),
                            css_classes=["hf-module-row"])

    def update(self, row, selected: bool) -> None:
        level = level_of(row["level"])
        self.module = row["module"]
        self.button.label = str(row["title"])  # Bokeh renders a button label as text, never as HTML
        self.html.object = row_html(row)
        border = "3px solid #1a73e8" if selected else "1px solid transparent"
        self.panel.styles = {"border-left": f"8px solid {LEVEL_COLORS[level]}", "outline": border,
                             "background": LEVEL_TINT[level] if level != "ok" else "#ffffff",
                             "border-radius": "6px"}


class CategoryTile:
    """A category: its coloured tile head and the rows of its modules."""

    def __init__(self, on_select):
        self._on_select = on_select
        self.head = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=0)
        self.rows: list[ModuleRow] = []
        self.body = pn.Column(sizing_mode="stretch_width", margin=(6, 6))
        self.panel = pn.Column(self.head, self.body, sizing_mode="stretch_width", min_width=420, margin=(8, 8),
                               styles={"border-radius": "10px", "background": "#ffffff", "flex": "1 1 460px",
                                       "box-shadow": "0 1px 3px rgba(60,64,67,.3)"})

    def update(self, category_row, modules, selected: str) -> None:
        self.head.object = tile_html(category_row)
        while len(self.rows) < len(modules):
            self.rows.append(ModuleRow(self._on_select))
        for row_view, (_, module) in zip(self.rows, modules.iterrows()):
            row_view.update(module, module["module"] == selected)
        wanted = [r.panel for r in self.rows[:len(modules)]]
        if list(self.body.objects) != wanted:
            self.body.objects = wanted

