"""What every served page shares: the document set up for phones and the shared header.

``prepare_document`` gives the page a title and the viewport a phone needs (without it a phone
lays the page out 980 px wide and zooms it out to unreadable text); ``site_header`` is the
``PageHeader`` of a page other than the status page, with the site's name and counts.
"""

from __future__ import annotations

import panel as pn

from ..queries import loaders
from ..queries.status import module_frame
from .header import PageHeader

#: on every layout of a page: rows wrap, and a narrow screen may squeeze a layout below the sum of
#: its children's widths (which Panel otherwise makes its minimum width)
NARROW_CSS = ":host { min-width: 0 !important; }"
WRAP_CSS = ":host { min-width: 0 !important; flex-wrap: wrap; }"
#: Panel's page template with the viewport of a phone added to its head
PHONE_READY = (
    "{% block preamble %}{{ super() }}"
    '<meta name="viewport" content="width=device-width, initial-scale=1">{% endblock %}'
)


def prepare_document(title: str) -> None:
    """Title the served page and make it lay out at the device's width (no-op outside a server)."""
    document = pn.state.curdoc
    if document is None:
        return
    document.title = title
    document.template = PHONE_READY


def fit_narrow_screens(*roots) -> None:
    """Let every row under ``roots`` (layouts or components) wrap and no layout insist on the sum of
    its children's widths (Panel's computed minimum), so that a phone (375 px) gets one column and
    no horizontal scroll. Call once the page's layouts are built."""
    layouts = []
    for root in roots:
        panel = root.__panel__() if isinstance(root, pn.viewable.Viewer) else root
        layouts += list(panel.select(pn.layout.ListPanel))
    for layout in dict.fromkeys(layouts):
        css = WRAP_CSS if isinstance(layout, pn.Row) else NARROW_CSS
        if css not in layout.stylesheets:
            layout.stylesheets = [*layout.stylesheets, css]


def site_title(store, config=None) -> str:
    if config is not None:
        return config.title
    return (loaders.site_name(store) if store is not None else "") or "hfpanel"


def site_header(store, config, active: str, subtitle: str = "") -> PageHeader:
    """The header of a page that is not the status page: name, links, and the site's counts
    (linking to the status page's problem list)."""
    header = PageHeader(
        title=site_title(store, config), active=active, subtitle=subtitle, sizing_mode="stretch_width", margin=(4, 10)
    )
    # as the status page counts them (a module whose data is older than its max_age: no information)
    status = module_frame(store, None, config) if store is not None else None
    if status is not None and not status.empty:
        header.set_counts(status["level"].value_counts().to_dict())
    return header
