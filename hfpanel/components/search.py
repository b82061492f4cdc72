"""Search: find a host, a module, a message — in modules, categories and detail rows.

Type a host name and see every module that mentions it: its title or message, or any text cell
of its detail tables as of the viewed time (the module's latest successful run). Each detail table
costs one SQL over that run's day partition, with the query bound as an ILIKE parameter.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from ..queries import history, loaders
from .base import StoreView
from .style import BUTTON_CSS, CSS, esc, fmt_time

RESULT_COLUMNS = ["kind", "module", "category", "title", "where", "snippet"]
#: hits listed per module in the page (all are in ``data``)
SHOWN_HITS = 5
SNIPPET_CHARS = 140


def find(text, query: str) -> int:
    """Where ``query`` occurs in ``text``, case-insensitively (-1: nowhere)."""
    if not isinstance(text, str) or not text:
        return -1
    return text.casefold().find(query.casefold())


def snippet(text: str, query: str, width: int = SNIPPET_CHARS) -> str:
    """The part of ``text`` around the first occurrence of ``query`` (whole when short)."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    at = max(find(text, query), 0)
    start = max(0, min(at - width // 3, len(text) - width))
    return ("…" if start else "") + text[start : start + width] + ("…" if start + width < len(text) else "")


def highlight(text: str, query: str) -> str:
    """``text`` escaped, every occurrence of ``query`` in <mark>."""
    out, low, q, pos = [], text.casefold(), query.casefold(), 0
    if not q or len(low) != len(text):  # case folding changed lengths: no marks, still escaped
        return esc(text)
    while True:
        at = low.find(q, pos)
        if at < 0:
            out.append(esc(text[pos:]))
            break
        out.append(esc(text[pos:at]) + "<mark>" + esc(text[at : at + len(q)]) + "</mark>")
        pos = at + len(q)
    return "".join(out)


class _ModuleHits:
    """One module's block of results: a button (selects the module) and its hits."""

    def __init__(self, on_select):
        self.module = ""
        self.button = pn.widgets.Button(label="", color="light", width=200, margin=(4, 4), stylesheets=[BUTTON_CSS])
        self.button.on_click(lambda event: on_select(self.module))
        self.html = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 8))
        self.panel = pn.Row(
            self.button,
            self.html,
            sizing_mode="stretch_width",
            margin=(2, 0),
            styles={"border-bottom": "1px solid #e8eaed"},
        )

    def update(self, module: str, title: str, hits: pd.DataFrame, query: str, selected: bool) -> None:
        self.module = module
        self.button.label = title  # a Bokeh button label is text, never HTML
        items = [
            f'<li><span class="hf-muted">{esc(h.where)}:</span> {highlight(h.snippet, query)}</li>'
            for h in hits.head(SHOWN_HITS).itertuples()
        ]
        if len(hits) > SHOWN_HITS:
            items.append(f'<li class="hf-muted">… and {len(hits) - SHOWN_HITS} more</li>')
        self.html.object = (
            f'<div data-module="{esc(module)}"><code>{esc(module)}</code> '
            f'<span class="hf-muted">{len(hits)} hit{"s" if len(hits) != 1 else ""}</span>'
            f'<ul style="margin:2px 0;padding-left:18px">{"".join(items)}</ul></div>'
        )
        self.panel.styles = {"border-bottom": "1px solid #e8eaed", "background": "#e8f0fe" if selected else "#ffffff"}


class Search(StoreView):
    """A search box over modules (name, title, message, error, instruction), categories (name,
    title) and every text cell of the detail tables, as of the viewed time; case-insensitive.

    ``data``: the results (kind "module"/"category"/"detail", module, category, title, where,
    snippet); clicking a module's button sets ``selected``.
    """

    query = param.String(default="", doc="What to look for (case-insensitive substring).")
    selected = param.String(default="", allow_refs=True, doc="The module last picked from the results.")
    min_length = param.Integer(default=2, bounds=(1, None), doc="Shorter queries find nothing.")
    limit = param.Integer(default=500, bounds=(1, None), doc="At most this many matching rows per detail table.")

    _watched = ("store", "time", "config", "query", "selected", "min_length", "limit")
    _follows = {**StoreView._follows, "selected": "module"}

    def __init__(self, **params):
        super().__init__(**params)
        self._results = pd.DataFrame(columns=RESULT_COLUMNS)
        self._blocks: list[_ModuleHits] = []
        self._input = pn.widgets.TextInput.from_param(
            self.param.query, label="Search", width=420, placeholder="host, module, message, error …"
        )
        self._summary = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._categories = pn.pane.HTML(
            "", stylesheets=[CSS], sizing_mode="stretch_width", margin=(0, 10), visible=False
        )
        self._list = pn.Column(sizing_mode="stretch_width", margin=(0, 6))
        self._layout = pn.Column(self._input, self._summary, self._categories, self._list, sizing_mode="stretch_width")
        self._start()

    def __panel__(self):
        return self._layout

    # -- what is shown -------------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        return self._results

    def frame(self) -> pd.DataFrame:
        return self.data

    @property
    def modules(self) -> list[str]:
        """The modules with a hit, in the order shown."""
        hits = self._results[self._results["module"] != ""]
        return list(dict.fromkeys(hits["module"]))

    def search(self, query: str) -> pd.DataFrame:
        self.query = query
        return self.data

    def select(self, module: str) -> None:
        self.selected = module

    # -- computing -----------------------------------------------------------------------------
    def _update(self) -> None:
        query = (self.query or "").strip()
        if self.store is None or len(query) < self.min_length:
            self._results = pd.DataFrame(columns=RESULT_COLUMNS)
            hint = (
                "No store given."
                if self.store is None
                else f"Type at least {self.min_length} characters: a host, a module, a word of a message."
            )
            self._render(query, hint)
            return
        frames = [self._search_modules(query), self._search_categories(query), self._search_details(query)]
        frames = [f for f in frames if not f.empty]
        self._results = (
            pd.concat(frames, ignore_index=True)[RESULT_COLUMNS] if frames else pd.DataFrame(columns=RESULT_COLUMNS)
        )
        self._render(query)

    def _titles(self) -> dict:
        status = loaders.status_at(self.store, self.time)
        titles = dict(zip(status["module"], status["title"])) if not status.empty else {}
        if self.config is not None:
            titles.update({m.name: m.title for m in self.config.modules})
        return {k: v for k, v in titles.items() if isinstance(v, str) and v}

    def _search_modules(self, query: str) -> pd.DataFrame:
        status = loaders.status_at(self.store, self.time)
        records = {}
        if not status.empty:
            for row in status.itertuples():
                records[row.module] = {
                    "module": row.module,
                    "category": row.category,
                    "title": row.title,
                    "message": row.message,
                    "error": row.error,
                    "instruction": "",
                }
        if self.config is not None:
            for module in self.config.modules:
                entry = records.setdefault(
                    module.name,
                    {
                        "module": module.name,
                        "category": module.category,
                        "title": module.title,
                        "message": "",
                        "error": "",
                    },
                )
                entry["instruction"] = module.instruction
        rows = []
        for entry in records.values():
            for field in ("module", "title", "message", "error", "instruction"):
                text = entry.get(field)
                if find(text, query) >= 0:
                    rows.append(
                        {
                            "kind": "module",
                            "module": entry["module"],
                            "category": entry["category"],
                            "title": entry["title"] if isinstance(entry["title"], str) else entry["module"],
                            "where": "name" if field == "module" else field,
                            "snippet": snippet(text, query),
                        }
                    )
        return pd.DataFrame(rows, columns=RESULT_COLUMNS)

    def _search_categories(self, query: str) -> pd.DataFrame:
        titles = {}
        stored = loaders.category_status_at(self.store, self.time)
        if not stored.empty:
            titles.update(zip(stored["category"], stored["title"]))
        if self.config is not None:
            titles.update({c.name: c.title for c in self.config.categories})
        rows = []
        for name, title in titles.items():
            for field, text in (("name", name), ("title", title)):
                if find(text, query) >= 0:
                    rows.append(
                        {
                            "kind": "category",
                            "module": "",
                            "category": name,
                            "title": title if isinstance(title, str) else name,
                            "where": f"category {field}",
                            "snippet": snippet(text, query),
                        }
                    )
                    break
        return pd.DataFrame(rows, columns=RESULT_COLUMNS)

    def _search_details(self, query: str) -> pd.DataFrame:
        titles = self._titles()
        status = loaders.status_at(self.store, self.time)
        categories = dict(zip(status["module"], status["category"])) if not status.empty else {}
        rows = []
        for module, tables in history.detail_table_names(self.store).items():
            for table in tables:
                found = history.search_detail(self.store, module, table, query, self.time, self.limit)
                if found.empty:
                    continue
                columns = found["_columns"].iloc[0]
                for record in found[columns].itertuples(index=False):
                    hits = [(c, v) for c, v in zip(columns, record) if find(v, query) >= 0]
                    if not hits:
                        continue
                    where = f"{table}[{', '.join(c for c, _ in hits)}]"
                    text = " · ".join(f"{c}={snippet(v, query, SNIPPET_CHARS // len(hits))}" for c, v in hits)
                    rows.append(
                        {
                            "kind": "detail",
                            "module": module,
                            "category": categories.get(module, ""),
                            "title": titles.get(module, module),
                            "where": where,
                            "snippet": text,
                        }
                    )
        return pd.DataFrame(rows, columns=RESULT_COLUMNS)

    # -- rendering -----------------------------------------------------------------------------
    def _render(self, query: str, hint: str = "") -> None:
        results = self._results
        if hint:
            self._summary.object = f'<div class="hf-muted">{esc(hint)}</div>'
        else:
            when = "now" if self.time is None else f"as of {fmt_time(self.time)}"
            modules = self.modules
            self._summary.object = (
                f"<div><b>{len(results)} result{'s' if len(results) != 1 else ''}</b> for "
                f'“{esc(query)}” <span class="hf-muted">{esc(when)} · {len(modules)} '
                f"module{'s' if len(modules) != 1 else ''}</span></div>"
            )
        categories = results[results["kind"] == "category"]
        self._categories.object = (
            (
                "<b>Categories:</b> "
                + ", ".join(
                    f"{highlight(str(r.title), query)} <span class='hf-muted'>(<code>{esc(r.category)}</code>)</span>"
                    for r in categories.itertuples()
                )
            )
            if not categories.empty
            else ""
        )
        self._categories.visible = not categories.empty
        modules = self.modules
        while len(self._blocks) < len(modules):
            self._blocks.append(_ModuleHits(self.select))
        for block, module in zip(self._blocks, modules):
            hits = results[results["module"] == module]
            block.update(module, str(hits["title"].iloc[0]), hits, query, module == self.selected)
        wanted = [b.panel for b in self._blocks[: len(modules)]]
        if list(self._list.objects) != wanted:
            self._list.objects = wanted
