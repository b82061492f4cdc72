"""RucioRulesView: HappyFace 4's "Queued Data Transfers" for a ``rucio_rules`` module.

One button per rule state with its count (all six states, zeros too, coloured by how much a shifter
should care: STUCK/SUSPENDED red, REPLICATING amber, WAITING_APPROVAL/INJECT blue, OK green) and a
table of the rules in the chosen state (every cell shown as plain text, never HTML)::

    view = RucioRulesView(store="data/store", module="rucio_rules", time=None)
    view.state = "STUCK"     # what clicking the STUCK button does
    view.data                # the rules shown
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from ..queries import loaders
from .base import StoreView
from .style import CSS, esc, fmt_time
from .tables import formatters

STATES = ("OK", "REPLICATING", "STUCK", "SUSPENDED", "WAITING_APPROVAL", "INJECT")
#: background / text colour of each state's button
STATE_COLORS = {
    "STUCK": ("#c5221f", "#ffffff"),
    "SUSPENDED": ("#c5221f", "#ffffff"),
    "REPLICATING": ("#f9ab00", "#202124"),
    "WAITING_APPROVAL": ("#1a73e8", "#ffffff"),
    "INJECT": ("#1a73e8", "#ffffff"),
    "OK": ("#188038", "#ffffff"),
    None: ("#5f6368", "#ffffff"),
}
#: the columns shown, the error first (what a shifter reads); those the store dropped as empty are left out
COLUMNS = (
    "state",
    "error",
    "rse_expression",
    "account",
    "activity",
    "locks_ok",
    "locks_replicating",
    "locks_stuck",
    "age_s",
    "did",
    "created_at",
    "updated_at",
    "stuck_at",
    "did_type",
    "bytes",
    "rule_id",
)


def _button_css(state, chosen: bool, empty: bool) -> str:
    background, text = STATE_COLORS[state]
    ring = "box-shadow: 0 0 0 3px #202124; text-decoration: underline;" if chosen else ""
    return (
        f".bk-btn {{ background: {background} !important; color: {text} !important; border: none !important; "
        f"font-weight: 700; opacity: {0.45 if empty and not chosen else 1}; {ring} }}\n"
        ".bk-btn:hover { filter: brightness(0.92); }"
    )


class RucioRulesView(StoreView):
    """Rule counts per state as buttons; the rules of the chosen state in a table.

    ``data`` is the table shown (the chosen state's rules, newest module run at or before ``time``),
    ``counts`` the number of rules per state, ``buttons`` the buttons by state (``None``: all rules).
    """

    module = param.String(default="rucio_rules", doc="The rucio_rules module shown.")
    state = param.Selector(
        default="STUCK",
        objects=[None, *STATES],
        allow_None=True,
        doc="The state whose rules are listed; None lists every rule.",
    )

    _watched = ("store", "time", "config", "module", "state")

    def __init__(self, **params):
        super().__init__(**params)
        self._rules = pd.DataFrame()
        self._shown = pd.DataFrame()
        self.counts: dict[str, int] = dict.fromkeys(STATES, 0)
        self.buttons = {
            state: pn.widgets.Button(label=state or "ALL", width=170 if state else 90, margin=(4, 4))
            for state in (*STATES, None)
        }
        for state, button in self.buttons.items():
            button.on_click(lambda event, state=state: setattr(self, "state", state))
        self._head = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(),
            disabled=True,
            show_index=False,
            sortable=True,
            pagination="local",
            page_size=15,
            sizing_mode="stretch_width",
            layout="fit_data_table",
            margin=(4, 10),
            min_height=120,
        )
        self._layout = pn.Column(
            self._head, pn.Row(*self.buttons.values(), margin=(0, 6)), self._table, sizing_mode="stretch_width"
        )
        self._start()

    def __panel__(self):
        return self._layout

    @property
    def data(self) -> pd.DataFrame:
        """The rules shown: those in the chosen state (all rules when ``state`` is None)."""
        return self._shown

    def frame(self) -> pd.DataFrame:
        return self.data

    def _update(self) -> None:
        rules = states = pd.DataFrame()
        if self.store is not None and self.module:
            rules = loaders.detail(self.store, self.module, "rules", self.time)
            states = loaders.detail(self.store, self.module, "states", self.time)
        self.counts = {s: 0 for s in STATES}
        if not states.empty:
            self.counts.update({str(s): int(n) for s, n in zip(states["state"], states["count"]) if s in self.counts})
        for state, button in self.buttons.items():
            count = sum(self.counts.values()) if state is None else self.counts[state]
            button.param.update(
                label=f"{state or 'ALL'}  {count}", stylesheets=[_button_css(state, state == self.state, count == 0)]
            )
        self._rules = rules
        shown = rules if self.state is None or rules.empty else rules[rules["state"] == self.state]
        if not shown.empty:
            shown = shown[[c for c in COLUMNS if c in shown.columns]].reset_index(drop=True)
        self._shown = shown
        self._render_head(rules)
        self._table.param.update(value=shown, formatters=formatters(shown))
        self._table.visible = not shown.empty

    def _render_head(self, rules: pd.DataFrame) -> None:
        chosen = self.state or "all"
        if self.store is None or not self.module:
            self._head.object = '<div class="hf-muted">No store or module chosen.</div>'
            return
        when = fmt_time(rules["time"].max()) if "time" in rules and not rules.empty else None
        asof = (
            f"as of <b>{esc(when)}</b>"
            if when
            else "no rules stored" + ("" if self.time is None else f" at or before {esc(fmt_time(self.time))}")
        )
        self._head.object = (
            f'<div class="hf-rucio-head" data-module="{esc(self.module)}" data-state="{esc(chosen)}">'
            f'<b>Rucio rules</b> <span class="hf-muted">— module <code>{esc(self.module)}</code>, {asof}; '
            f"{len(self._shown)} {esc(chosen)} rule{'s' if len(self._shown) != 1 else ''} listed</span></div>"
        )
