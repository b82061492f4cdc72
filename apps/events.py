"""The events page: ``/events?window=1d&module=sam_ce&kind=level_changed``.

Thin: ``EventsPage`` (the incident board and the event log) does everything; the log's filters
live in the URL so a pasted link reproduces the view. The store comes from ``build(store=...)``
(``hfpanel serve``) or ``HFPANEL_STORE``.
"""

from __future__ import annotations

import os

import panel as pn

from hfpanel.components.events import EventsPage
from hfpanel.components.page import prepare_document, site_header, site_title
from hfpanel.queries.loaders import shared_store

pn.extension(notifications=True)


def build(store=None, config=None) -> pn.viewable.Viewable:
    page = EventsPage(store=shared_store(store or os.environ["HFPANEL_STORE"]), config=config)
    if pn.state.curdoc is not None:
        page.log.sync_url()
        prepare_document(f"{site_title(page.store, page.config)} — events")
    header = site_header(page.store, page.config, active="events", subtitle="events and incidents")
    return pn.Column(header, page.__panel__(), sizing_mode="stretch_width")


if pn.state.served:
    build().servable(title="hfpanel — events")
