"""The availability page: ``/availability?month=2026-11&profile=wlcg``.

Thin: ``AvailabilityView`` does everything; month and profile live in the URL so a link reproduces
the report. The store comes from ``build(store=...)`` (``hfpanel serve``) or ``HFPANEL_STORE``.
"""

from __future__ import annotations

import os

import panel as pn

from hfpanel.components.availability import AvailabilityView
from hfpanel.components.page import prepare_document, site_header, site_title
from hfpanel.queries.loaders import shared_store

pn.extension("tabulator", notifications=True)


def build(store=None, config=None) -> pn.viewable.Viewable:
    view = AvailabilityView(store=shared_store(store or os.environ["HFPANEL_STORE"]), config=config)
    if pn.state.curdoc is not None:
        view.sync_url()
        prepare_document(f"{site_title(view.store, view.config)} — availability")
    header = site_header(view.store, view.config, active="availability", subtitle="availability and reliability")
    return pn.Column(header, view.__panel__(), sizing_mode="stretch_width")


if pn.state.served:
    build().servable(title="hfpanel — availability")
