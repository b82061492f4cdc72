"""Transfer monitoring views (FTS transfers and XRootD access) over the statistics tables of
``docs/transfers.md``; each renders in a notebook cell and in the served ``/transfers`` page.

    import panel as pn
    from hfpanel.components.transfers import TransferMatrix, TopErrors
    pn.extension("tabulator")
    matrix = TransferMatrix(store="data/store", vo="cms", window="7d", color_by="volume")
    matrix                                        # click a cell for that pair's transfers and errors
    matrix.data                                   # the pairs: transfers, efficiency, bytes, throughput
    matrix.select_pair("T1_US_FNAL", "T2_CH_CERN"); matrix.pair_errors

Every view takes ``store`` (a Store or a path), ``vo``, ``activity``, ``site``, ``window`` and
``end`` (default: the viewed ``time``, else the newest statistics bin) and exposes its frame as
``.data``. Without transfer tables a view says "No transfer data yet" instead of failing.
"""

from ...queries.transfer_filters import WINDOWS, Filters, make_filters
from .common import TransferView
from .errors import TopErrors
from .matrix import TransferMatrix
from .sites import SiteHistory, SiteStatistics
from .timeline import TransferTimeline
from .xrootd import XRootDAccess

__all__ = [
    "TransferView",
    "TransferMatrix",
    "TransferTimeline",
    "SiteStatistics",
    "SiteHistory",
    "TopErrors",
    "XRootDAccess",
    "Filters",
    "make_filters",
    "WINDOWS",
]
