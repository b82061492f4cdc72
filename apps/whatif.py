"""The what-if page: ``/whatif?since=2026-11-01T00:00:00&until=2026-11-08T00:00:00&changes=<YAML>``.

Thin: ``WhatIfView`` does everything; window and changes live in the URL so a link reproduces the
comparison. Nothing is written to the store.
"""

from __future__ import annotations

import os

import panel as pn

from hfpanel.components.page import prepare_document, site_header, site_title
from hfpanel.components.whatif import WhatIfView
from hfpanel.queries.loaders import shared_store

pn.extension("tabulator", notifications=True)


def build(store=None, config=None) -> pn.viewable.Viewable:
    view = WhatIfView(store=shared_store(store or os.environ["HFPANEL_STORE"]), config=config)
    if pn.state.curdoc is not None:
        view.sync_url()
        prepare_document(f"{site_title(view.store, view.config)} — what if")
    header = site_header(view.store, view.config, active="whatif", subtitle="what if")
    return pn.Column(header, view.__panel__(), sizing_mode="stretch_width")


if pn.state.served:
    build().servable(title="hfpanel — what if")
