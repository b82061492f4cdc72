"""The transfer monitoring page: ``/transfers?vo=cms&activity=Production&site=T2_CH_CERN&window=7d``.

Thin: ``TransferPage`` does everything; its filters live in the URL so a pasted link reproduces
the view. The store comes from ``build(store=...)`` (``hfpanel serve``) or ``HFPANEL_STORE``.
"""

from __future__ import annotations

import os

import panel as pn

from hfpanel.components.page import prepare_document, site_title
from hfpanel.components.transfers.page import TransferPage
from hfpanel.queries.loaders import shared_store

pn.extension("tabulator", notifications=True)


def build(store=None, config=None) -> pn.viewable.Viewable:
    page = TransferPage(store=shared_store(store or os.environ["HFPANEL_STORE"]), config=config)
    if pn.state.curdoc is not None:
        page.sync_url()
        page.start_refresh()
        prepare_document(f"{site_title(page.store, page.config)} — transfers")
    return page.__panel__()


if pn.state.served:
    build().servable(title="hfpanel — transfers")
