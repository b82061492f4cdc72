"""StatusOverview: every category as a tile, its modules inside, as they were at the viewed time."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from ..levels import SEVERITY
from ..queries.status import CATEGORY_COLUMNS, MODULE_COLUMNS, category_frame, module_frame
from .base import StoreView
from .style import BUTTON_CSS, CSS, esc, fmt_time
from .tiles import CategoryTile


class StatusOverview(StoreView):
    """Every category as a tile (title, rolled-up level as colour and word, module counts) with its
    modules inside (title, status, level, message, age, stale badge, reason for no information).

    Clicking a module's title sets ``selected`` (the app opens the ModuleView for it).
    ``data`` is the module frame shown, ``categories`` the tile frame.
    """

    selected = param.String(default="", allow_refs=True, doc="The module last clicked (its name).")
    category = param.String(default="", allow_refs=True, doc="Show only this category ('' for all of them).")
    order = param.Selector(
        default="worst first",
        objects=["worst first", "as configured"],
        doc="The order of the tiles: the worst category first, or the site config's order.",
    )

    _watched = ("store", "time", "config", "selected", "category", "order")
    _follows = {**StoreView._follows, "selected": "module", "category": "category"}

    def __init__(self, **params):
        super().__init__(**params)
        self._tiles: dict[str, CategoryTile] = {}
        self._modules = pd.DataFrame(columns=MODULE_COLUMNS)
        self._all_modules = self._modules
        self._categories = pd.DataFrame(columns=CATEGORY_COLUMNS)
        self._note = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", visible=False)
        self._all = pn.widgets.Button(
            label="← All categories",
            color="light",
            margin=(4, 8),
            visible=False,
            stylesheets=[BUTTON_CSS],
            css_classes=["hf-all-categories"],
        )
        self._all.on_click(lambda event: setattr(self, "category", ""))
        self._grid = pn.FlexBox(
            sizing_mode="stretch_width", flex_wrap="wrap", align_items="flex-start", justify_content="flex-start"
        )
        self._layout = pn.Column(self._all, self._note, self._grid, sizing_mode="stretch_width")
        self._start()

    def __panel__(self):
        return self._layout

    # -- what is shown -------------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """The modules as shown: one row per module, in display order (only ``category``'s when set)."""
        return self._modules

    @property
    def all_modules(self) -> pd.DataFrame:
        """Every module of the site, whatever ``category`` is."""
        return self._all_modules

    @property
    def categories(self) -> pd.DataFrame:
        """The category tiles as shown: level, status, message and counts of modules by level."""
        return self._categories

    def frame(self) -> pd.DataFrame:
        return self.data

    def level_of(self, module: str) -> str | None:
        found = self._all_modules[self._all_modules["module"] == module]
        return None if found.empty else str(found["level"].iloc[0])

    def select(self, module: str) -> None:
        self.selected = module

    def focus(self, category: str) -> None:
        """Show only ``category`` ('' for all)."""
        self.category = category

    # -- rendering -----------------------------------------------------------------------------
    def _update(self) -> None:
        if self.store is None:
            self._show_note("No store given.")
            return
        modules = module_frame(
            self.store, self.time, self.config, reference=self.reference_time(), max_age=self.max_age
        )
        categories = category_frame(self.store, self.time, self.config, modules)
        self._all_modules = modules
        if self.order == "worst first":  # stable: equally bad categories keep the configured order
            categories = categories.sort_values("level", key=lambda s: s.map(SEVERITY), kind="stable")
            categories = categories.reset_index(drop=True)
        focus = self.category.strip()
        self._all.visible = bool(focus)
        if focus:
            categories = categories[categories["category"] == focus].reset_index(drop=True)
            modules = modules[modules["category"] == focus].reset_index(drop=True)
        self._modules, self._categories = modules, categories
        if focus and categories.empty:
            self._show_note(
                f"There is no category <code>{esc(focus)}</code> here. Use “All categories” to see the whole site."
            )
        elif self._all_modules.empty:
            when = "" if self.time is None else f" at or before {fmt_time(self.time)}"
            self._show_note(
                f"No runs in the store{esc(when)} — nothing to show yet. "
                "Run <code>hfpanel collect</code> (or go forward in time)."
            )
        else:
            self._note.visible = False
        wanted = []
        for _, category in categories.iterrows():
            tile = self._tiles.get(category["category"])
            if tile is None:
                tile = self._tiles[category["category"]] = CategoryTile(self.select, self.focus)
            tile.update(
                category, modules[modules["category"] == category["category"]], self.selected, focused=bool(focus)
            )
            wanted.append(tile.panel)
        if list(self._grid.objects) != wanted:
            self._grid.objects = wanted

    def _show_note(self, text: str) -> None:
        self._note.object = f'<div class="hf-banner hf-banner-live">{text}</div>'
        self._note.visible = True
