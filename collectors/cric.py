"""``cric_topology``: which names and hosts belong to which site, from CRIC.

Every source names a site its own way (CMS site, PhEDEx node, processing site name, ATLAS RSE, a
host), so putting SAM tests, transfers and downtimes side by side needs CRIC's mapping. ``kind`` says
what ``url`` returns: ``cms_sites`` (``/api/cms/site/query/?json``, objects keyed by site; rows of
type ``cms`` and ``facility``), ``site_names`` (``preset=site-names``: site_name/type/alias with types
``cms``/``psn``/``phedex``, or ``preset=data-processing``: phedex_name/psn_name) or
``atlas_ddmendpoints`` (``/api/atlas/ddmendpoint/query/?json``; rows of type ``rse`` with endpoint and,
where a URL gives one, host). Table ``topology``: one row per (site, type, name). :func:`site_of`
maps a host, URL or name onto a site with it. A malformed record (no name; a table row of the wrong
length or holding a value that is not a name) is missing, named, and the rest is the topology.
"""

from __future__ import annotations

import pandas as pd
import param

from hfpanel.collector import ParseResult
from hfpanel.cric import COLUMNS, KINDS, read
from hfpanel.http import HttpCollector
from hfpanel.tabular import load_json
from hfpanel.topology import site_of  # noqa: F401  (re-exported: the helper lives with the runner)


class CricTopologyCollector(HttpCollector):
    """Site names, aliases, RSEs and hosts from CRIC; table ``topology``."""

    default_instruction = (
        "The site's topology from CRIC (sites, hosts, RSEs). If this fails, hosts lose their site "
        "labels elsewhere; check CRIC's availability and the module's credentials."
    )

    payload_suffix = "json"
    accept = "application/json"

    kind = param.Selector(
        default="cms_sites",
        objects=list(KINDS),
        doc=("What url returns: cms_sites (keyed by site), site_names (desc/result table), atlas_ddmendpoints."),
    )

    def parse(self, payload: bytes) -> ParseResult:
        rows, missing, expected = read(self.kind, load_json(payload))
        table = pd.DataFrame(rows, columns=COLUMNS).drop_duplicates(["site", "type", "name"], ignore_index=True)
        table["tier"] = table["tier"].astype("Int64")
        sites = table["site"].nunique()
        return ParseResult(
            tables={"topology": table},
            metrics={"sites": float(sites), "rows": float(len(table))},
            message=f"{sites} sites, {len(table)} names",
            missing=missing,
            expected=expected,
        )
