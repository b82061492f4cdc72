"""The analyst's plot builder as its own page: ``/plots?series=condor_held:held&window=30d&overlay=1``.

Thin: the PlotBuilder component does everything; its settings live in the URL so a link
reproduces the plot.
"""

from __future__ import annotations

import os

import panel as pn

from hfpanel.components.page import fit_narrow_screens, prepare_document, site_header, site_title
from hfpanel.components.plots import PlotBuilder
from hfpanel.queries.loaders import shared_store

pn.extension(notifications=True)


def build(store=None, config=None) -> pn.viewable.Viewable:
    builder = PlotBuilder(store=shared_store(store or os.environ["HFPANEL_STORE"]), config=config)
    if pn.state.curdoc is not None:
        builder.sync_url()
        prepare_document(f"{site_title(builder.store, builder.config)} — plots")
    header = site_header(builder.store, builder.config, active="plots", subtitle="plots")
    page = pn.Column(header, builder.__panel__(), sizing_mode="stretch_width")
    fit_narrow_screens(page)
    return page


if pn.state.served:
    build().servable(title="hfpanel — plots")
