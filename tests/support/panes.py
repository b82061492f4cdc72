"""What a component would send to the browser, for tests that read it without a server."""

from __future__ import annotations

import panel as pn

from hfpanel.components.tiles import TileView


def html_of(component) -> str:
    """All HTML the component's HTML panes and tile views would send to the browser."""
    root = component.__panel__()
    panes = [str(p.object) for p in root.select(pn.pane.HTML) if p.object]
    tiles = [t.html for t in root.select(TileView) if t.html]
    return "\n".join(panes + tiles)
