"""StatusOverview: every category as a tile, its modules inside, as they were at the viewed time."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from ..levels import LEVELS, NOINFO, SEVERITY
from . import data
from ..clock import utcnow
from .base import DEFAULT_MAX_AGE, StoreView
from .style import BUTTON_CSS, CSS, esc, fmt_age, fmt_time
from .tiles import CategoryTile

MODULE_COLUMNS = ["category", "category_title", "module", "title", "status", "level", "message", "error",
                  "time", "age_s", "max_age_s", "stale", "is_stale", "last_good", "last_good_text", "source_url",
                  "collector", "run_id"]
CATEGORY_COLUMNS = ["category", "title", "status", "level", "message", *LEVELS, "modules"]


def module_frame(store, time=None, config=None, reference=None, max_age=None) -> pd.DataFrame:
    """Every module as it was at ``time`` (None: now), with its age and whether it is stale.

    ``age_s`` is the time since the row was written, measured from ``reference`` (the viewed time,
    or the wall clock at now); ``is_stale`` is the stored ``stale`` flag or an age beyond the
    module's ``max_age`` (from the config, else the default of one hour).
    """
    status = data.status_at(store, time) if store is not None else pd.DataFrame()
    if status.empty and config is None:
        return pd.DataFrame(columns=MODULE_COLUMNS)
    frame = status.copy() if not status.empty else pd.DataFrame(columns=list(MODULE_COLUMNS))
    if config is not None:  # modules the config names but the store has no row for (yet)
        missing = [m for m in config.modules if m.name not in set(frame.get("module", []))]
        if missing:
            extra = pd.DataFrame([{"category": m.category, "module": m.name, "title": m.title, "status": -1.0,
                                   "level": NOINFO, "message": "no information: no data in the store yet",
                                   "error": "no data in the store yet", "stale": True, "collector": m.collector}
                                  for m in missing])
            frame = pd.concat([frame.astype(object), extra], ignore_index=True) if not frame.empty else extra
    for column in MODULE_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    if reference is None:
        reference = time if time is not None else utcnow()
    times = pd.to_datetime(frame["time"])
    frame["age_s"] = (reference - times).dt.total_seconds()
    frame["max_age_s"] = [max_age(m) if max_age else DEFAULT_MAX_AGE for m in frame["module"]]
    stored_stale = frame["stale"].map(lambda v: bool(v) if not pd.isna(v) else False)
    frame["is_stale"] = stored_stale | (frame["age_s"].fillna(float("inf")) > frame["max_age_s"])
    frame["stale"] = stored_stale
    frame["error"] = frame["error"].fillna("").astype(str)
    frame["message"] = frame["message"].fillna("").astype(str)
    frame["title"] = [t if isinstance(t, str) and t else m for t, m in zip(frame["title"], frame["module"])]
    frame["last_good"] = pd.to_datetime(frame["last_good"])
    frame["last_good_text"] = [
        (f"{fmt_time(good)} ({fmt_age((reference - good).total_seconds())})" if not pd.isna(good) else "never")
        if lvl == NOINFO else "" for good, lvl in zip(frame["last_good"], frame["level"])]
    titles = _category_titles(store, time, config)
    frame["category_title"] = [titles.get(c, c) for c in frame["category"]]
    order = _module_order(config)
    frame["_order"] = [order.get(m, (len(order), t)) for m, t in zip(frame["module"], frame["title"])]
    frame["_cat"] = [list(titles).index(c) if c in titles else len(titles) for c in frame["category"]]
    frame = frame.sort_values(["_cat", "_order"], key=None).drop(columns=["_order", "_cat"])
    return frame[MODULE_COLUMNS].reset_index(drop=True)


def _module_order(config) -> dict:
    if config is None:
        return {}
    return {m.name: (i, "") for i, m in enumerate(config.modules)}


def _category_titles(store, time, config) -> dict:
    """Category name -> title, in display order (config order, else the store's)."""
    titles = {}
    if config is not None:
        titles.update({c.name: c.title for c in config.categories})
    stored = data.category_status_at(store, time) if store is not None else pd.DataFrame()
    if not stored.empty:
        for name, title in zip(stored["category"], stored["title"]):
            titles.setdefault(name, title if isinstance(title, str) and title else name)
    return titles


def category_frame(store, time=None, config=None, modules: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per category: its rolled-up status and level (as the runner stored it; the worst
    module when the store has none) and how many of its modules are at each level."""
    modules = modules if modules is not None else module_frame(store, time, config)
    stored = data.category_status_at(store, time) if store is not None else pd.DataFrame()
    stored = stored.set_index("category") if not stored.empty else stored
    titles = _category_titles(store, time, config)
    for name in modules["category"]:
        titles.setdefault(name, name)
    rows = []
    for name, title in titles.items():
        members = modules[modules["category"] == name]
        counts = members["level"].value_counts()
        row = {"category": name, "title": title, **{lvl: int(counts.get(lvl, 0)) for lvl in LEVELS},
               "modules": len(members)}
        if not stored.empty and name in stored.index:
            found = stored.loc[name]
            row.update(status=float(found["status"]), level=str(found["level"]), message=str(found["message"] or ""))
        elif len(members):
            worst = min(members["level"], key=lambda lvl: SEVERITY.get(lvl, 1))
            row.update(status=float(members["status"].min()), level=worst, message="worst of its modules")
        else:
            row.update(status=-1.0, level=NOINFO, message="no modules")
        rows.append(row)
    return pd.DataFrame(rows, columns=CATEGORY_COLUMNS)


class StatusOverview(StoreView):
    """Every category as a tile (title, rolled-up level as colour and word, module counts) with its
    modules inside (title, status, level, message, age, stale badge, reason for no information).

    Clicking a module's title sets ``selected`` (the app opens the ModuleView for it).
    ``data`` is the module frame shown, ``categories`` the tile frame.
    """

    selected = param.String(default="", doc="The module last clicked (its name).")
    category = param.String(default="", doc="Show only this category ('' for all of them).")

    _watched = ("store", "time", "config", "selected", "category")

    def __init__(self, **params):
        super().__init__(**params)
        self._tiles: dict[str, CategoryTile] = {}
        self._modules = pd.DataFrame(columns=MODULE_COLUMNS)
        self._all_modules = self._modules
        self._categories = pd.DataFrame(columns=CATEGORY_COLUMNS)
        self._note = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", visible=False)
        self._all = pn.widgets.Button(label="← All categories", color="light", margin=(4, 8), visible=False,
                                      stylesheets=[BUTTON_CSS], css_classes=["hf-all-categories"])
        self._all.on_click(lambda event: setattr(self, "category", ""))
        self._grid = pn.FlexBox(sizing_mode="stretch_width", flex_wrap="wrap", align_items="flex-start",
                                justify_content="flex-start")
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
        modules = module_frame(self.store, self.time, self.config, reference=self.reference_time(),
                               max_age=self.max_age)
        categories = category_frame(self.store, self.time, self.config, modules)
        self._all_modules = modules
        focus = self.category.strip()
        self._all.visible = bool(focus)
        if focus:
            categories = categories[categories["category"] == focus].reset_index(drop=True)
            modules = modules[modules["category"] == focus].reset_index(drop=True)
        self._modules, self._categories = modules, categories
        if focus and categories.empty:
            self._show_note(f"There is no category <code>{esc(focus)}</code> here. "
                            "Use “All categories” to see the whole site.")
        elif self._all_modules.empty:
            when = "" if self.time is None else f" at or before {fmt_time(self.time)}"
            self._show_note(f"No runs in the store{esc(when)} — nothing to show yet. "
                            "Run <code>hfpanel collect</code> (or go forward in time).")
        else:
            self._note.visible = False
        wanted = []
        for _, category in categories.iterrows():
            tile = self._tiles.get(category["category"])
            if tile is None:
                tile = self._tiles[category["category"]] = CategoryTile(self.select, self.focus)
            tile.update(category, modules[modules["category"] == category["category"]], self.selected,
                        focused=bool(focus))
            wanted.append(tile.panel)
        if list(self._grid.objects) != wanted:
            self._grid.objects = wanted

    def _show_note(self, text: str) -> None:
        self._note.object = f'<div class="hf-banner hf-banner-live">{text}</div>'
        self._note.visible = True
