"""Panel components over a store: each renders in a notebook cell and in the served app.

    import panel as pn
    from hfpanel.components import StatusOverview, ModuleView, TimeTravel, Dashboard
    pn.extension("tabulator")
    StatusOverview(store="data/demo-store")                      # now
    StatusOverview(store="data/demo-store", time="2026-11-20 14:00")  # as it was then

Every component takes ``store`` (a ``hfpanel.store.Store`` or a path), ``time`` (None = now, else
naive UTC) and optionally ``config`` (a SiteConfig or the path of a site.yaml), updates in place
when they change, and exposes what it shows as ``.data``.
"""

from ..queries.loaders import shared_store
from ..queries.status import category_frame, module_frame
from .base import StoreView, to_time
from .changes import WhatChanged
from .dashboard import Dashboard
from .module_view import ModuleView
from .overview import StatusOverview
from .plots import PlotBuilder, plot
from .search import Search
from .strip import StatusStrip
from .timetravel import TimeTravel
from .why import WhyThisColour

__all__ = [
    "StoreView",
    "StatusOverview",
    "ModuleView",
    "TimeTravel",
    "Dashboard",
    "StatusStrip",
    "WhatChanged",
    "WhyThisColour",
    "Search",
    "PlotBuilder",
    "plot",
    "shared_store",
    "module_frame",
    "category_frame",
    "to_time",
]
