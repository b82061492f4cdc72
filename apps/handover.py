"""The shift handover page: ``/handover?from=2026-11-20T06:00:00&to=2026-11-20T14:00:00``.

Thin: ``HandoverView`` does everything; the shift lives in the URL so a link reproduces it.
"""

from __future__ import annotations

import os

import panel as pn

from hfpanel.components.handover import HandoverView
from hfpanel.components.page import prepare_document, site_header, site_title
from hfpanel.queries.loaders import shared_store

pn.extension(notifications=True)


def build(store=None, config=None) -> pn.viewable.Viewable:
    view = HandoverView(store=shared_store(store or os.environ["HFPANEL_STORE"]), config=config)
    if pn.state.curdoc is not None:
        view.sync_url()
        prepare_document(f"{site_title(view.store, view.config)} — shift handover")
    header = site_header(view.store, view.config, active="handover", subtitle="shift handover")
    return pn.Column(header, view.__panel__(), sizing_mode="stretch_width")


if pn.state.served:
    build().servable(title="hfpanel — shift handover")
