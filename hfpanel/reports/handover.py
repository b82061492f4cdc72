"""The shift handover: what the next shifter must know, from the store, as Markdown (to paste into an
e-log), PDF and a page.

For a shift (since, until]: what changed level during it (from the ``events`` table when the store
has one, else from the stored history), other events of the shift (stale, silent, flapping…), what is
not green at its end and since when, downtimes starting in the next shift (GOCDB's as last
announced, and downtimes added after the fact), and A/R of the month so far. Every item links to the
time-travel view at its time (``/?time=…&module=…``). Incidents (the notification tables of
hfpanel.events) opened, acknowledged and resolved during the shift, with who acknowledged or
silenced and why, and those still open at its end; a store without them says so.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import textwrap
from urllib.parse import urlencode

import pandas as pd

from ..availability import corrections
from ..clock import parse_time
from ..durations import format_duration
from ..levels import SEVERITY
from ..queries import history
from ..queries.availability import announced_downtimes, ar_report
from ..queries.events import events as event_log
from ..queries.events import shift_incidents
from ..queries.since import with_since
from ..queries.status import overdue_as_noinfo, silence_limits
from ..units import fmt_time, iso
from .export import percent

SHIFT = pd.Timedelta(hours=8)
NOT_GREEN = ("critical", "noinfo", "warning", "downtime")
LEVEL_WORDS = {"critical": "CRITICAL", "noinfo": "NO INFO", "warning": "WARNING", "downtime": "DOWNTIME", "ok": "OK"}
_MD = re.compile(r"([\\`*_\[\]|#])")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


def md(text) -> str:
    """Text from a source made inert in Markdown: no HTML, no emphasis, links or tables of its own."""
    return _MD.sub(r"\\\1", html.escape(" ".join(str(text if text is not None else "").split()), quote=False))


@dataclasses.dataclass
class Handover:
    site: str
    since: pd.Timestamp
    until: pd.Timestamp
    base_url: str
    changes: pd.DataFrame  # time, module, category, before, after, text
    events: pd.DataFrame  # other events of the shift
    open: pd.DataFrame  # not green at the end: module, title, level, since, message
    downtimes: pd.DataFrame  # starting in the next shift: start, end, what, reason
    ar: object | None  # ARReport of the month so far, or None
    events_stored: bool
    #: incidents opened, resolved or open at the end (``queries.events.shift_incidents``)
    incidents: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    #: acknowledgements and silences given during the shift, who and why
    actions: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    incidents_stored: bool = False
    #: the modules of the site at the end of the shift (a downtime of one links to its view)
    modules: frozenset = frozenset()

    def link(self, time, module: str = "") -> str:
        query = {"time": iso(time), **({"module": module} if module else {})}
        return f"{self.base_url.rstrip('/')}/?{urlencode(query)}"


def handover(store, since=None, until=None, base_url: str = "", next_shift: pd.Timedelta = SHIFT) -> Handover:
    """The handover of the shift (since, until]; ``until`` defaults to the latest run, ``since`` to
    eight hours before it. ValueError when the window is empty or the store has no run."""
    until = parse_time(until)
    run = store.latest_run(until)
    if run is None:
        raise ValueError("the store has no run at or before the end of the shift")
    until = until if until is not None else pd.Timestamp(run["time"])
    since = parse_time(since) if since is not None else until - SHIFT
    if since is None or since >= until:
        raise ValueError("a shift needs a start before its end")
    site = "" if pd.isna(run.get("site")) else str(run.get("site") or "")
    stored = store.has_table("events")
    if stored:
        log = event_log(store, since + pd.Timedelta(microseconds=1), until)
        level = log[log["kind"] == "level_changed"]
        changes = pd.DataFrame(
            {
                "time": level["time"],
                "module": level["module"],
                "category": level["category"],
                "before": level["before"],
                "after": level["after"],
                "text": level["text"],
            }
        )
        others = log[~log["kind"].isin(["level_changed", "category_level_changed"])]
    else:
        found = history.level_changes(store, since, until)
        changes = pd.DataFrame(
            {
                "time": found["time"],
                "module": found["module"],
                "category": found["category"],
                "before": found["from_level"],
                "after": found["to_level"],
                "text": found["message"],
            }
        )
        others = pd.DataFrame(columns=["time", "module", "kind", "text"])
    status = store.status_at(until)
    if not status.empty:  # at the shift's end a row older than its max_age is no information, not "green"
        status = with_since(status, store, until)
        status = overdue_as_noinfo(status, until, silence_limits(store, until))
    open_rows = status[status["level"].isin(NOT_GREEN)] if not status.empty else status
    if not open_rows.empty:
        open_rows = open_rows.assign(order=open_rows["level"].map(SEVERITY)).sort_values(["order", "since", "module"])
    downtimes = _next_downtimes(store, until, until + next_shift)
    incidents, actions = shift_incidents(store, since, until)
    month_start = until.normalize().replace(day=1)
    try:
        ar = ar_report(store, month_start, until) if until > month_start else None
    except (KeyError, ValueError):
        ar = None
    return Handover(
        site,
        since,
        until,
        base_url,
        changes.reset_index(drop=True),
        others.reset_index(drop=True),
        open_rows.reset_index(drop=True),
        downtimes,
        ar,
        stored,
        incidents,
        actions,
        store.has_table("incidents"),
        frozenset(status["module"]) if not status.empty else frozenset(),
    )


def _next_downtimes(store, start, end) -> pd.DataFrame:
    announced = announced_downtimes(store, start, end)
    announced = announced[pd.to_datetime(announced["start"]) >= start]
    rows = [
        {
            "start": row.start,
            "end": row.end,
            "what": f"{row.hostname}",
            "reason": f"GOCDB {row.id} {str(row.severity).lower()} ({str(row.kind).lower()})"
            + (f": {row.description}" if row.description else ""),
        }
        for row in announced.itertuples()
    ]
    added = corrections.in_force(corrections.load(store), corrections.DOWNTIME, start, end)
    rows += [
        {"start": r.start, "end": r.end, "what": r.module or "whole site", "reason": f"added by {r.who}: {r.reason}"}
        for r in added.itertuples()
        if pd.Timestamp(r.start) >= start
    ]
    return pd.DataFrame(rows, columns=["start", "end", "what", "reason"])


def to_markdown(h: Handover) -> str:
    """The handover as Markdown for an e-log: every source text escaped, every item a permalink."""
    out = [
        f"# Shift handover — {md(h.site or 'site')}",
        "",
        f"Shift {fmt_time(h.since)} to {fmt_time(h.until)} · [status at handover]({h.link(h.until)})",
        "",
        f"## Changed level during the shift ({len(h.changes)})",
        "",
    ]
    if h.changes.empty:
        out.append("Nothing changed level.")
    for row in h.changes.itertuples():
        out.append(
            f"- [{fmt_time(row.time)}]({h.link(row.time, row.module)}) **{md(row.module)}** "
            f"{LEVEL_WORDS.get(row.before, md(row.before))} → {LEVEL_WORDS.get(row.after, md(row.after))}: {md(row.text)}"
        )
    out += _incidents_markdown(h)
    out += ["", f"## Other events during the shift ({len(h.events)})", ""]
    if not h.events_stored:
        out.append("This store keeps no events yet.")
    elif h.events.empty:
        out.append("No other events.")
    for row in h.events.itertuples():
        out.append(f"- [{fmt_time(row.time)}]({h.link(row.time, row.module)}) {md(row.kind)}: {md(row.text)}")
    out += ["", f"## Not green at handover ({len(h.open)})", ""]
    if h.open.empty:
        out.append("Every module is ok.")
    for row in h.open.itertuples():
        since = (
            f" since {'≥ ' if not getattr(row, 'since_exact', True) else ''}{fmt_time(row.since)}"
            if getattr(row, "since", None) is not None and not pd.isna(row.since)
            else ""
        )
        out.append(
            f"- **{LEVEL_WORDS.get(row.level, md(row.level))}** [{md(row.module)}]({h.link(h.until, row.module)})"
            f"{since}: {md(row.message)}"
        )
    out += ["", f"## Downtimes starting in the next shift ({len(h.downtimes)})", ""]
    if h.downtimes.empty:
        out.append("None announced.")
    for row in h.downtimes.itertuples():
        module = row.what if row.what in h.modules else ""
        out.append(
            f"- [{fmt_time(row.start)}]({h.link(row.start, module)}) to {fmt_time(row.end)} {md(row.what)}: {md(row.reason)}"
        )
    out += ["", "## Availability this month so far", ""]
    if h.ar is None or h.ar.result.summary.empty:
        out.append("Not computed (no runs this month).")
    else:
        out += ["| scope | name | A | R | unknown |", "| --- | --- | --- | --- | --- |"]
        for row in h.ar.result.summary[h.ar.result.summary["scope"] != "module"].itertuples():
            out.append(
                f"| {row.scope} | {md(row.name)} | {percent(row.availability)} | {percent(row.reliability)} "
                f"| {100 * row.unknown_share:.1f} % |"
            )
    return "\n".join(out) + "\n"


def _module_of(subjects) -> str:
    """The first module an incident's alerts name (for its time-travel link), or ""."""
    try:
        found = [str(a.get("subject", "")) for a in json.loads(subjects or "[]")]
    except (TypeError, ValueError, AttributeError):
        return ""
    modules = [s.split("/", 1)[1] for s in found if s.startswith("module/")]
    return modules[0] if modules else ""


def _matchers(text) -> str:
    """A silence's stored matchers (JSON) as ``module=pool, category=storage``."""
    try:
        found = json.loads(text or "{}")
        return ", ".join(
            f"{k}={'|'.join(map(str, v if isinstance(v, list) else [v]))}" for k, v in sorted(found.items())
        )
    except (TypeError, ValueError, AttributeError):
        return str(text)


def _incident_words(row) -> str:
    return f"**{md(row.summary or row.incident_id)}** ({md(row.rule)}, {LEVEL_WORDS.get(row.level, md(row.level))})"


def _incidents_markdown(h: Handover) -> list[str]:
    """Incidents opened, acknowledged (or silenced) and resolved during the shift, with who and why,
    and those still open at its end."""
    out = ["", "## Incidents", ""]
    if not h.incidents_stored:
        return [*out, "This store keeps no incidents (no notification rules were configured)."]
    inc = h.incidents
    opened, resolved, still = (inc[inc[c]] for c in ("opened_in_shift", "resolved_in_shift", "open_at_end"))
    out.append(f"Opened during the shift ({len(opened)}):" if len(opened) else "None opened during the shift.")
    for row in opened.itertuples():
        later = "still open" if row.open_at_end else f"resolved {fmt_time(row.resolved)}"
        out.append(
            f"- [{fmt_time(row.opened)}]({h.link(row.opened, _module_of(row.subjects))}) {_incident_words(row)}: {later}"
        )
    out += [
        "",
        f"Acknowledged or silenced during the shift ({len(h.actions)}):"
        if len(h.actions)
        else "Nobody acknowledged or silenced anything during the shift.",
    ]
    for row in h.actions.itertuples():
        who = f"**{md(row.author)}**" + (f": {md(row.comment)}" if row.comment else " (no reason given)")
        if row.kind == "silence":
            verb = "silence ended early:" if row.action == "expire" else "silenced"
            out.append(f"- {fmt_time(row.time)} {verb} {md(_matchers(row.summary))} — {who}")
            continue
        verb = "acknowledgement taken back by" if row.action == "unack" else "acknowledged by"
        name = f"**{md(row.summary or row.incident_id)}**"
        out.append(f"- [{fmt_time(row.time)}]({h.link(row.time, _module_of(row.subjects))}) {name} {verb} {who}")
    out += ["", f"Resolved during the shift ({len(resolved)}):" if len(resolved) else "None resolved during the shift."]
    for row in resolved.itertuples():
        lasted = format_duration((pd.Timestamp(row.resolved) - pd.Timestamp(row.opened)).total_seconds())
        out.append(
            f"- [{fmt_time(row.resolved)}]({h.link(row.resolved, _module_of(row.subjects))}) {_incident_words(row)}: "
            f"after {lasted} (opened {fmt_time(row.opened)})"
        )
    out += ["", f"Still open at handover ({len(still)}):" if len(still) else "No incident is open at handover."]
    for row in still.itertuples():
        ack = (
            f"acknowledged by **{md(row.acked_by)}**" + (f": {md(row.ack_comment)}" if row.ack_comment else "")
            if row.acked_by
            else "not acknowledged"
        )
        out.append(
            f"- [{fmt_time(row.opened)}]({h.link(row.opened, _module_of(row.subjects))}) {_incident_words(row)} "
            f"open since {fmt_time(row.opened)}, {ack}"
        )
    return out


def write_pdf(h: Handover, path) -> None:
    """The Markdown as a plain PDF (matplotlib's PdfPages: text pages, links printed)."""
    from pathlib import Path

    from matplotlib.figure import Figure

    from .pdf import A4, PdfPages, plain

    path = Path(path)
    lines = []
    for line in to_markdown(h).splitlines():
        line = html.unescape(_LINK.sub(r"\1 <\2>", line).replace("**", "").replace("\\", ""))
        lines += textwrap.wrap(line, 140, subsequent_indent="    ") or [""]
    tmp = path.with_name(f".{path.name}.tmp")
    per_page = 52
    with PdfPages(tmp, metadata={"Title": f"{h.site} shift handover", "Creator": "hfpanel"}) as pdf:
        for first in range(0, len(lines), per_page):
            figure = Figure(figsize=(A4[1], A4[0]))
            for i, line in enumerate(lines[first : first + per_page]):
                bold = line.startswith("#")
                figure.text(
                    0.05,
                    0.96 - i * 0.0178,
                    plain(line.lstrip("# ")),
                    fontsize=11 if bold else 7.5,
                    weight="bold" if bold else "normal",
                    family="DejaVu Sans",
                )
            pdf.savefig(figure)
    tmp.replace(path)
