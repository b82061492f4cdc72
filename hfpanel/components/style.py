"""Level colours, CSS and the small text helpers every component uses.

Everything that came from a source (messages, errors, titles, detail cells, URLs) goes through
``esc`` before it is put into HTML; links only keep http(s) URLs, so a ``javascript:`` URL from a
source can never become clickable.
"""

from __future__ import annotations

import html
from urllib.parse import urlparse

from ..levels import COLORS, CRITICAL, DOWNTIME, NOINFO, OK, WARNING
from ..units import fmt_age, fmt_status, fmt_time, is_missing, iso  # noqa: F401  (re-exported)

#: background / text colour per level; chosen for contrast on a wall display (WCAG AA for large text)
LEVEL_COLORS = COLORS
LEVEL_TEXT = {OK: "#ffffff", WARNING: "#202124", CRITICAL: "#ffffff", NOINFO: "#ffffff", DOWNTIME: "#ffffff"}
#: a light tint of each level for backgrounds of whole rows and cards
LEVEL_TINT = {OK: "#e6f4ea", WARNING: "#fef7e0", CRITICAL: "#fce8e6", NOINFO: "#f1f3f4", DOWNTIME: "#e8f0fe"}
LEVEL_WORDS = {OK: "ok", WARNING: "warning", CRITICAL: "critical", NOINFO: "noinfo", DOWNTIME: "downtime"}
LEVEL_ORDER = (OK, WARNING, CRITICAL, NOINFO, DOWNTIME)


def esc(value) -> str:
    """HTML-escape any value (None and NaN become an empty string)."""
    return "" if is_missing(value) else html.escape(str(value), quote=True)


def safe_url(url) -> str | None:
    """The URL if it is an http(s) link, else None (no javascript:, data: or relative links)."""
    if not url or not isinstance(url, str):
        return None
    try:
        scheme = urlparse(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def link(url, title=None) -> str:
    """An escaped link that opens in a new tab, or the escaped text when the URL is not http(s)."""
    good = safe_url(url)
    text = esc(title or url)
    if good is None:
        return f'<span class="hf-badlink">{text}</span>'
    return f'<a href="{esc(good)}" target="_blank" rel="noopener noreferrer">{text}</a>'


def level_of(value) -> str:
    return value if value in LEVEL_COLORS else NOINFO


def pill(level, text=None, big: bool = False) -> str:
    level = level_of(level)
    cls = "hf-pill hf-pill-big" if big else "hf-pill"
    return (
        f'<span class="{cls}" style="background:{LEVEL_COLORS[level]};color:{LEVEL_TEXT[level]}">'
        f"{esc(text or LEVEL_WORDS[level])}</span>"
    )


def stale_badge() -> str:
    return '<span class="hf-stale" title="no fresh data: older than expected">stale</span>'


#: one stylesheet for the HTML panes (loaded into each pane's shadow root)
CSS = """
:host { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #202124; }
@media (max-width: 600px) { :host { font-size: 15px; } }
.hf-pill { display: inline-block; padding: 1px 9px; border-radius: 10px; font-weight: 700; font-size: 0.85em;
           letter-spacing: .02em; text-transform: uppercase; white-space: nowrap; }
.hf-pill-big { font-size: 1.15em; padding: 3px 14px; border-radius: 14px; }
.hf-stale { display: inline-block; padding: 0 7px; border-radius: 8px; font-size: 0.78em; font-weight: 700;
            text-transform: uppercase; color: #7a2e00; background: #ffe0b2; border: 1px solid #e37400; margin-left: 6px; }
.hf-muted { color: #5f6368; }
.hf-since { font-weight: 700; color: #3c4043; }
.hf-small { font-size: 0.85em; }
.hf-badlink { color: #5f6368; text-decoration: line-through dotted; }
a { color: #1a73e8; }
.hf-tile { border-radius: 10px; padding: 12px 16px; color: #fff; }
.hf-tile h2 { margin: 0 0 4px 0; font-size: 1.45em; font-weight: 700; }
.hf-tile .hf-word { font-size: 1.6em; font-weight: 800; text-transform: uppercase; letter-spacing: .04em; }
.hf-tile .hf-counts { margin-top: 6px; font-size: 1.0em; }
.hf-tile .hf-counts .hf-chip { display: inline-block; margin-right: 8px; white-space: nowrap; padding: 1px 9px;
            border-radius: 10px; background: rgba(255,255,255,.92); color: #202124; font-size: .9em; }
.hf-tile .hf-msg { font-size: 0.85em; opacity: .9; margin-top: 2px; }
.hf-dot { display: inline-block; width: .75em; height: .75em; border-radius: 50%; margin-right: 5px;
          vertical-align: -0.05em; }
.hf-row { line-height: 1.35; font-size: 15px; }
.hf-row .hf-line1 { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.hf-row .hf-message { margin-top: 2px; overflow-wrap: anywhere; }
.hf-row .hf-error { margin-top: 2px; color: #a50e0e; overflow-wrap: anywhere; }
.hf-banner { border-radius: 8px; padding: 8px 14px; font-size: 1.1em; font-weight: 600; }
.hf-banner-past { background: #fef7e0; border: 2px solid #f9ab00; color: #202124; }
.hf-banner-live { background: #e8f0fe; border: 1px solid #aecbfa; color: #174ea6; }
.hf-banner-late { background: #fce8e6; border: 2px solid #c5221f; color: #a50e0e; }
.hf-kv { border-collapse: collapse; }
.hf-kv th { text-align: left; font-weight: 600; color: #5f6368; padding: 2px 14px 2px 0; vertical-align: top; white-space: nowrap; }
.hf-kv td { padding: 2px 0; vertical-align: top; overflow-wrap: anywhere; }
.hf-instruction { background: #e8f0fe; border-left: 4px solid #1a73e8; padding: 8px 12px; border-radius: 4px; }
.hf-noinfo { background: #f1f3f4; border-left: 4px solid #5f6368; padding: 8px 12px; border-radius: 4px; }
.hf-header { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
.hf-header h1 { margin: 0; font-size: 1.7em; }
.hf-topbar { display: flex; align-items: center; gap: 18px; flex-wrap: wrap; background: #202124; color: #fff;
             padding: 10px 18px; border-radius: 8px; }
.hf-topbar h1 { margin: 0; font-size: 1.6em; font-weight: 700; }
.hf-topbar .hf-sub { color: #bdc1c6; }
.hf-topbar .hf-sum { margin-left: auto; font-size: 1.15em; }
.hf-topbar .hf-sum span { white-space: nowrap; margin-left: 16px; }
"""

#: stylesheet for the module buttons (Bokeh buttons look like links to the module view)
BUTTON_CSS = """
.bk-btn { font-weight: 700; font-size: 15px; text-align: left; padding: 2px 6px;
          border: none; background: transparent; color: #174ea6; white-space: normal; }
.bk-btn:hover { text-decoration: underline; background: #e8f0fe; }
"""
