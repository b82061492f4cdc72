"""The served overview app: ``panel serve apps/overview.py`` or ``hfpanel serve``.

The store comes from ``build(store=...)`` (what ``hfpanel serve`` passes), else the environment
(``HFPANEL_STORE``, ``HFPANEL_CONFIG``) — never from the URL, which must not choose a folder on the
server. The view itself lives in the URL: ``?time=…&module=…``.
"""

from __future__ import annotations

import os

import panel as pn

from hfpanel.components import Dashboard
from hfpanel.components.page import prepare_document, site_title
from hfpanel.components.style import CSS, esc
from hfpanel.config import ConfigError

pn.extension(
    "tabulator", notifications=True, global_css=[":root { --body-bg: #f1f3f4; } body { background: #f1f3f4; }"]
)


def build(store=None, config=None, refresh: bool = True) -> pn.viewable.Viewable:
    """One session's page: the Dashboard, synced with the URL, refreshing while at now."""
    if store is None:
        store = os.environ.get("HFPANEL_STORE")
        config = config or os.environ.get("HFPANEL_CONFIG")
    if not store:
        return pn.pane.HTML(
            '<div class="hf-banner hf-banner-late">No store given: set HFPANEL_STORE or run '
            "<code>hfpanel serve --store DIR</code>.</div>",
            stylesheets=[CSS],
        )
    try:
        dashboard = Dashboard(store=store, config=config or None)
    except (FileNotFoundError, ValueError, ConfigError) as error:
        return pn.pane.HTML(
            f'<div class="hf-banner hf-banner-late">Cannot open the store: {esc(error)}</div>', stylesheets=[CSS]
        )
    if pn.state.curdoc is not None:
        dashboard.sync_url()
        if refresh:
            dashboard.start_refresh()
        prepare_document(f"{site_title(dashboard.store, dashboard.config)} — site status")
    return dashboard.__panel__()


if pn.state.served:
    build().servable(title="hfpanel — site status")
