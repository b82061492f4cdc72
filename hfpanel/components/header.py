"""PageHeader: the one header every page shares — the site's name, links to the other pages, and the
site's counts per level (a click shows those modules in the problem list of the status page).

``PAGES`` is the one list of pages: a new page adds its entry here and every header links to it.
"""

from __future__ import annotations

import param
from panel.custom import JSComponent

from ..levels import CRITICAL, DOWNTIME, NOINFO, OK, WARNING
from .style import CSS, LEVEL_COLORS

#: (path relative to the server root, title) of every page, in the order shown
PAGES = (
    ("./", "Site status"),
    ("plots", "Plots"),
    ("transfers", "Transfers"),
    ("availability", "Availability"),
    ("events", "Events"),
    ("whatif", "What if"),
    ("handover", "Handover"),
)
COUNT_LEVELS = (CRITICAL, NOINFO, WARNING, DOWNTIME, OK)


class PageHeader(JSComponent):
    """The top bar: ``title``, the page links (``active`` marked), and ``counts`` ({level: n}).

    On the status page a click on a count calls ``on_level(level)``; elsewhere the counts link to
    the status page's problem list (``./?level=…``)."""

    title = param.String(default="hfpanel")
    subtitle = param.String(default="")
    active = param.String(default="./", doc="The path of this page in PAGES.")
    pages = param.List(default=[list(p) for p in PAGES])
    counts = param.List(default=[], doc="[level, count, colour] per level, worst first.")
    local_counts = param.Boolean(default=False, doc="Counts act on this page (the status page) instead of linking.")
    _stylesheets = [
        CSS,
        """
.hf-topbar { flex-wrap: wrap; row-gap: 4px; }
.hf-nav { display: flex; flex-wrap: wrap; gap: 2px 14px; }
.hf-nav a { color: #8ab4f8; text-decoration: none; font-weight: 600; }
.hf-nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #8ab4f8; }
.hf-count { font: inherit; color: inherit; background: transparent; border: none; cursor: pointer; padding: 0 2px;
            text-decoration: none; display: inline-flex; align-items: center; gap: 4px; }
.hf-count:hover { text-decoration: underline; }
""",
    ]
    _esm = """
    export function render({ model, el }) {
      const bar = document.createElement('div')
      bar.className = 'hf-topbar'
      el.appendChild(bar)
      function draw() {
        bar.replaceChildren()
        const h1 = document.createElement('h1')
        h1.textContent = model.title
        const sub = document.createElement('span')
        sub.className = 'hf-sub'
        sub.textContent = model.subtitle
        const nav = document.createElement('nav')
        nav.className = 'hf-nav'
        nav.setAttribute('aria-label', 'pages')
        for (const [href, name] of model.pages) {
          const a = document.createElement('a')
          a.href = href
          a.textContent = name
          if (href === model.active) a.setAttribute('aria-current', 'page')
          nav.appendChild(a)
        }
        const sum = document.createElement('span')
        sum.className = 'hf-sum'
        for (const [level, count, color] of model.counts) {
          const item = model.local_counts ? document.createElement('button') : document.createElement('a')
          item.className = 'hf-count'
          item.dataset.level = level
          if (!model.local_counts) item.href = './?level=' + encodeURIComponent(level) + '#problems'
          else item.addEventListener('click', () => model.send_msg({level: level}))
          const dot = document.createElement('i')
          dot.className = 'hf-dot'
          dot.style.background = color
          const n = document.createElement('b')
          n.textContent = String(count)
          item.append(dot, n, document.createTextNode(' ' + level))
          sum.appendChild(item)
        }
        bar.append(h1, sub, nav, sum)
      }
      draw()
      model.on(['title', 'subtitle', 'active', 'pages', 'counts', 'local_counts'], draw)
    }
    """

    def __init__(self, on_level=None, **params):
        super().__init__(**params)
        self._on_level = on_level

    def set_counts(self, counts: dict[str, int]) -> None:
        self.counts = [[lvl, int(counts.get(lvl, 0)), LEVEL_COLORS[lvl]] for lvl in COUNT_LEVELS]

    def _handle_msg(self, msg) -> None:
        if "level" in msg and self._on_level:
            self._on_level(str(msg["level"]))
