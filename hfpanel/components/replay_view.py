"""What would have been sent: ``hfpanel events replay`` on the events page.

``ReplayView`` re-derives the events and incidents of the chosen window before the latest run with
the rules in force, or with a proposed ``notifications:`` section pasted into the page (checked with
the same precise messages as ``hfpanel config check``), and lists every message that would have
been sent and when. Nothing is sent, nothing is written. A served page replays in a thread.
"""

from __future__ import annotations

import logging
import threading

import pandas as pd
import panel as pn
import param

from ..durations import parse_duration
from .base import StoreView
from .style import CSS, esc

log = logging.getLogger(__name__)

WINDOWS = {"1 day": "1d", "3 days": "3d", "7 days": "7d", "30 days": "30d"}


def proposed_config(config, text: str):
    """``config`` with the keys of the ``notifications:`` section in ``text`` (YAML; the section itself
    or a mapping holding it) in place of those in force — a paste of ``rules:`` keeps the receivers;
    ``config`` itself when ``text`` is blank. ``ConfigError`` names mistakes."""
    import yaml

    from ..config import ConfigError, parse_config

    if not (text or "").strip():
        return config
    try:
        rules = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError([f"proposed rules: invalid YAML: {getattr(error, 'problem', error)}"]) from None
    if not isinstance(rules, dict):
        raise ConfigError(["proposed rules: must be a notifications: section (a mapping)"])
    if config is None or config.path is None:
        raise ConfigError(["proposed rules need the site's configuration (hfpanel serve --config site.yaml)"])
    site = yaml.safe_load(config.path.read_text())
    section = rules.get("notifications", rules)
    if not isinstance(section, dict):
        raise ConfigError(["proposed rules: must be a notifications: section (a mapping)"])
    # what the paste names replaces the section's key in force (rules, inhibit…); receivers stay
    merged = {**(site.get("notifications") or {}), **section}
    return parse_config({**site, "notifications": merged}, source="proposed rules", path=config.path)


class ReplayView(StoreView):
    """The messages the rules (in force, or ``rules`` pasted) would have sent over ``window``
    before the latest run. ``.data`` is the message list shown (one row per message)."""

    window = param.Selector(default="1d", objects=list(WINDOWS.values()), doc="How far back to replay.")
    rules = param.String(default="", doc="A proposed notifications: section (YAML); empty: the rules in force.")
    status = param.String(default="", doc="What the last replay did, one line.")
    busy = param.Boolean(default=False)

    _watched = ("store",)

    def __init__(self, **params):
        super().__init__(**params)
        self.data = pd.DataFrame()
        self.window_select = pn.widgets.Select.from_param(self.param.window, label="Replay the last", options=WINDOWS)
        self.rules_input = pn.widgets.TextAreaInput.from_param(
            self.param.rules,
            label="Proposed rules (a notifications: section; empty: the rules in force)",
            height=120,
            sizing_mode="stretch_width",
            placeholder="rules:\n  - name: critical\n    match: {level: [critical]}\n    for: 4 runs\n    receivers: [shifters]",
        )
        self.button = pn.widgets.Button(label="Replay (sends nothing)", color="primary", width=190, align="end")
        self.button.on_click(lambda _: self._submit())
        self.param.watch(lambda event: setattr(self.button, "disabled", event.new), "busy")
        self._result = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._layout = pn.Card(
            pn.Row(self.window_select, self.button),
            self.rules_input,
            self._result,
            title="What would have been sent (replay)",
            collapsed=True,
            sizing_mode="stretch_width",
            stylesheets=[CSS],
        )
        self._start()

    def _update(self) -> None:
        """Nothing until asked: a replay costs seconds to minutes."""

    def _submit(self) -> None:
        if self.busy or self.store is None:
            return
        self.busy = True
        self._result.object = '<div class="hf-small" role="status">replaying…</div>'

        def work():
            try:
                self._replay()
            except Exception as error:  # contained here: one line on the page, one in the log
                log.error("events page: replay failed: %s", error)
                self._show_problems([f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"])
            finally:
                self.busy = False

        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            threading.Thread(target=work, name="hfpanel-replay", daemon=True).start()
        else:
            work()

    def _replay(self) -> None:
        from ..config import ConfigError
        from ..events.replay import replay

        try:
            config = proposed_config(self.config, self.rules)
        except ConfigError as error:
            self._show_problems(error.problems)
            return
        if config is None or not config.notifications.notify.rules:
            self._show_problems(["no rules: configure a notifications: section, or paste one above"])
            return
        latest = self.store.latest_run(None)
        if latest is None:
            self._show_problems(["the store has no runs yet"])
            return
        until = pd.Timestamp(latest["time"])
        since = until - pd.Timedelta(seconds=parse_duration(self.window))
        result = replay(self.store, config, since, until)
        messages = result.messages
        shown = (
            messages.groupby("message_id", sort=False)
            .agg(
                time=("time", "first"),
                kind=("kind", "first"),
                receivers=("receiver", ", ".join),
                subject=("subject", "first"),
            )
            .reset_index(drop=True)
            if not messages.empty
            else pd.DataFrame(columns=["time", "kind", "receivers", "subject"])
        )
        self.data = shown
        incidents = messages["incident_id"].nunique() if not messages.empty else 0
        which = "the proposed rules" if self.rules.strip() else "the rules in force"
        summary = (
            f"<b>{len(shown)} messages</b> would have been sent with {which} from {since:%Y-%m-%d %H:%M} to "
            f"{until:%Y-%m-%d %H:%M} UTC ({result.runs} runs, {len(result.events)} events, {incidents} incidents; "
            f"replayed in {result.seconds:.1f} s, nothing sent)"
        )
        rows = "".join(
            f"<tr><td>{r['time']:%Y-%m-%d %H:%M}</td><td>{esc(r['kind'])}</td><td>{esc(r['receivers'])}</td>"
            f"<td>{esc(r['subject'])}</td></tr>"
            for _, r in shown.iterrows()
        )
        table = (
            "<table class='hf-table' style='width:100%'><thead><tr><th>when</th><th>kind</th><th>to</th>"
            f"<th>message</th></tr></thead><tbody>{rows}</tbody></table>"
            if rows
            else ""
        )
        self._result.object = f'<div class="hf-small" role="status">{summary}</div>{table}'

    def _show_problems(self, problems) -> None:
        self.data = pd.DataFrame()
        items = "".join(f"<li>{esc(p)}</li>" for p in problems[:8])
        self._result.object = f'<div class="hf-noinfo" role="alert"><b>Not replayed.</b><ul>{items}</ul></div>'
