"""Acknowledge an incident or silence alerts from the events page (``hfpanel ack`` and ``hfpanel
silence`` without a terminal).

``IncidentActions`` writes the same rows as the command line (``hfpanel.acks``, so both say
the same thing about the same mistake) through the store's writer, which the collector holds only
during a run: a served page waits for it in a thread (the other sessions carry on), a notebook
waits in place. The author is the signed-in reader (``page_access.session_actor``) when the site
has sign-in, not editable; else what the shifter types. ``on_change`` (e.g. the incident board's refresh) is called after each write.

With sign-in, a reader whom ``auth.acknowledge`` / ``auth.silence`` does not allow gets the reason in
place of that form (no dead button), and every write is checked again in ``hfpanel.acks`` with the
session's reader (``Actor``): allowed, and only on what they see — a request from an old or forged
page is refused there, in one line, and nothing is stored.
"""

from __future__ import annotations

import contextlib
import logging
import threading

import pandas as pd
import panel as pn
import param

from ..durations import parse_duration
from ..queries import events as queries
from .base import StoreView
from .page_access import session_actor
from .style import CSS, esc

log = logging.getLogger(__name__)

EXPIRES = {"never": "", "1 hour": "1h", "4 hours": "4h", "12 hours": "12h", "1 day": "1d"}
SILENCE_FOR = {"1 hour": "1h", "3 hours": "3h", "12 hours": "12h", "1 day": "1d", "3 days": "3d", "1 week": "7d"}
#: how long a click waits for the collector's run to release the store
WAIT_SECONDS = 60.0


class IncidentActions(StoreView):
    """Forms to acknowledge an open incident (comment, expiry, sticky; or remove the acknowledgement),
    to silence what matches ``LABEL=VALUE …`` for a while, and to end a silence. ``.status`` is the
    last outcome, one line."""

    status = param.String(default="", doc="What the last action did (or why it did nothing).")
    busy = param.Boolean(default=False, doc="A write is waiting for the store.")

    _watched = ("store",)

    def __init__(self, on_change=None, **params):
        super().__init__(**params)
        self.on_change = on_change
        self._actor = session_actor(self.store)
        user = self._user = self._actor.author if self._actor is not None else None
        self.author = pn.widgets.TextInput(
            label="Your name", value=user or "", disabled=bool(user), width=180, placeholder="who acknowledges"
        )
        self.incident = pn.widgets.Select(label="Incident", options={}, width=380)
        self.comment = pn.widgets.TextInput(label="Comment", placeholder="what you are doing about it", width=300)
        self.expires = pn.widgets.Select(label="Expires", options=EXPIRES, value="", width=110)
        self.sticky = pn.widgets.Checkbox(label="sticky (survives changes of level)", value=False)
        self.ack_button = pn.widgets.Button(label="Acknowledge", color="primary", width=120, align="end")
        self.unack_button = pn.widgets.Button(label="Remove acknowledgement", width=190, align="end")
        self.matchers = pn.widgets.TextInput(
            label="Silence what matches", placeholder="module=sam_ce level=critical", width=300
        )
        self.silence_for = pn.widgets.Select(label="For", options=SILENCE_FOR, value="3h", width=110)
        self.silence_comment = pn.widgets.TextInput(label="Why", placeholder="e.g. intervention on the CE", width=260)
        self.silence_button = pn.widgets.Button(label="Silence", color="warning", width=100, align="end")
        self.silence = pn.widgets.Select(label="Silence in force", options={}, width=380)
        self.expire_button = pn.widgets.Button(label="End silence", width=120, align="end")
        self._status = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(2, 10))
        self.ack_button.on_click(lambda _: self._submit(self._acknowledge))
        self.unack_button.on_click(lambda _: self._submit(lambda: self._acknowledge(remove=True)))
        self.silence_button.on_click(lambda _: self._submit(self._add_silence))
        self.expire_button.on_click(lambda _: self._submit(self._expire_silence))
        self.param.watch(self._show_status, ["status", "busy"])
        buttons = [self.ack_button, self.unack_button, self.silence_button, self.expire_button]
        self.param.watch(lambda event: [setattr(b, "disabled", event.new) for b in buttons], "busy")
        acknowledging = self._refused("acknowledge") or [
            pn.Row(self.incident, self.comment, self.expires, self.ack_button),
            pn.Row(self.sticky, self.unack_button),
        ]
        silencing = self._refused("silence") or [
            pn.Row(self.matchers, self.silence_for, self.silence_comment, self.silence_button),
            pn.Row(self.silence, self.expire_button),
        ]
        self._layout = pn.Card(
            self.author,
            *acknowledging,
            *silencing,
            self._status,
            title="Acknowledge or silence",
            collapsed=False,
            sizing_mode="stretch_width",
            stylesheets=[CSS],
        )
        self._start()

    def _refused(self, action: str) -> list:
        """In place of a form the reader may not use: why not (one line), else nothing."""
        reason = self._actor.viewer.may(action) if self._actor is not None else None
        if not reason:
            return []
        text = f"{reason[0].upper()}{reason[1:]}."
        return [pn.pane.HTML(f'<div class="hf-small" data-refused="{action}">{esc(text)}</div>', stylesheets=[CSS])]

    # -- what the forms offer ---------------------------------------------------------------------
    def _update(self) -> None:
        if self.store is None:
            return
        frame = queries.incidents(self.store)
        self.incident.options = {
            f"{r['level'].upper()} {r['rule']} · {r['category'] or r['group_key']} · {r['summary']}"[:120]
            + (f" (acknowledged by {r['acked_by']})" if r["acked_by"] else ""): r["incident_id"]
            for _, r in frame.iterrows()
        }
        silences = queries.silences(self.store)
        self.silence.options = {
            f"{r['matchers']} until {r['end']:%Y-%m-%d %H:%M} ({r['author']}: {r['comment']})"[:120]: r["silence_id"]
            for _, r in silences.iterrows()
        }
        for select in (self.incident, self.silence):  # the first one, unless the chosen one is still there
            choices = list(select.options.values())
            if select.value not in choices:
                select.value = choices[0] if choices else None

    # -- the actions --------------------------------------------------------------------------------
    def _submit(self, action) -> None:
        """Run ``action`` (which returns a line saying what it did, or raises ``ValueError`` with
        why not): in a thread on a served page, in place elsewhere."""
        if self.busy:
            return
        self.busy, self.status = True, "waiting for the store (the collector may be in a run)…"

        def work():
            try:
                outcome = action()
            except ValueError as error:
                outcome = f"not done: {error}"
            except Exception as error:  # the store, the disk: one line on the page, one in the log
                log.error("events page: %s failed: %s", getattr(action, "__name__", "action"), error)
                outcome = f"not done: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            self.param.update(status=outcome, busy=False)
            if not outcome.startswith("not done"):
                self._guarded_update()
                if self.on_change is not None:
                    self.on_change()

        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            threading.Thread(target=work, name="hfpanel-ack", daemon=True).start()
        else:
            work()

    @contextlib.contextmanager
    def _writing(self):
        """The store's writer, waited for up to ``WAIT_SECONDS``; a locked or read-only store is a
        ``ValueError`` saying so."""
        from ..store import StoreLocked, StoreWriter

        with contextlib.ExitStack() as stack:
            try:
                writer = stack.enter_context(StoreWriter(self.store.root, wait=WAIT_SECONDS))
            except StoreLocked as error:
                raise ValueError(str(error)) from None
            except OSError as error:
                raise ValueError(f"this server cannot write the store: {error.strerror or error}") from None
            yield writer

    @property
    def _author(self) -> str:
        """The signed-in name (a disabled field's value sent back by a browser counts for nothing), or
        the one typed."""
        return self._user or self.author.value

    def _acknowledge(self, remove: bool = False) -> str:
        from ..acks import acknowledge
        from ..clock import utcnow

        if self._actor is not None:  # before waiting for the store; acks checks it all again
            self._actor.check("acknowledge")
        if not self.incident.value:
            raise ValueError("no open incident to acknowledge")
        now = utcnow()
        expires = now + pd.Timedelta(seconds=parse_duration(self.expires.value)) if self.expires.value else None
        with self._writing() as writer:
            row, incident = acknowledge(
                writer,
                self.store,
                self.incident.value,
                self._author,
                self.comment.value,
                expires,
                self.sticky.value,
                remove,
                now,
                actor=self._actor,
            )
        self.comment.value = ""
        what = "acknowledgement removed from" if remove else "acknowledged"
        return f"{what} {incident['incident_id']} by {row['author']} (the next run applies it)"

    def _add_silence(self) -> str:
        from ..acks import add_silence, parse_matchers
        from ..clock import utcnow

        matchers = parse_matchers(self.matchers.value.replace(",", " ").split(), "Silence what matches")
        if self._actor is not None:
            self._actor.check_matchers(matchers)
        now = utcnow()
        end = now + pd.Timedelta(seconds=parse_duration(self.silence_for.value))
        with self._writing() as writer:
            row = add_silence(
                writer, matchers, self._author, self.silence_comment.value, now, end, now, actor=self._actor
            )
        self.matchers.value = self.silence_comment.value = ""
        return f"silenced {row['matchers']} until {row['end']:%Y-%m-%d %H:%M} UTC ({row['silence_id']})"

    def _expire_silence(self) -> str:
        from ..acks import expire_silence

        if self._actor is not None:
            self._actor.check("silence")
        if not self.silence.value:
            raise ValueError("no silence in force to end")
        with self._writing() as writer:
            row = expire_silence(writer, self.store, self.silence.value, self._author, actor=self._actor)
        return f"ended {row['silence_id']}"

    def _show_status(self, *_) -> None:
        css = "hf-small" if not self.status.startswith("not done") else "hf-small hf-noinfo"
        self._status.object = f'<div class="{css}" role="status">{esc(self.status)}</div>' if self.status else ""
