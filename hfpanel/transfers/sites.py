"""Host → site for transfer statistics: an exact map, regular expressions, then a CRIC feed.

FTS leaves ``src_site_name``/``dst_site_name`` empty and XRootD names only hosts, so sites are
resolved at aggregation time from the current topology (a topology change plus ``hfpanel transfers
recompute`` moves the matrix). A host nobody claims is shown as its domain (``cern.ch``,
``gla.ac.uk``), which still tells a shifter where the traffic goes, rather than "n/a".

Resolution runs in Python once per distinct host; the SQL only joins the small ``host_sites``
relation (``host, site, matched``) this module builds.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pyarrow as pa

from hfpanel.collector import ParseResult
from hfpanel.cric import COLUMNS
from hfpanel.cric import read as read_cric
from hfpanel.http import fetch_url
from hfpanel.rating.partial import summary
from hfpanel.topology import _REGISTRY_LABELS, site_of

log = logging.getLogger("hfpanel.transfers.sites")
UNKNOWN = "unknown"
HOST_SITES_SCHEMA = pa.schema([("host", pa.string()), ("site", pa.string()), ("matched", pa.bool_())])


def bare_host(value) -> str:
    """The lower-case host of a host name, ``host:port`` or URL (``davs://eoscms.cern.ch:443/…``)."""
    text = str(value or "").strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    return text.strip("[]").rstrip(".")


def domain_of(host) -> str:
    """What an unresolved host is shown as: its last two labels, three for registry domains
    (``ac.uk``, ``edu.au``); an IP address or a single label as itself; ``unknown`` when empty."""
    text = bare_host(host)
    if not text:
        return UNKNOWN
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    labels = text.split(".")
    if len(labels) <= 2:
        return text
    keep = 3 if len(labels[-1]) == 2 and labels[-2] in _REGISTRY_LABELS else 2
    return ".".join(labels[-keep:])


def topology_from_cric(doc) -> pd.DataFrame:
    """A ``topology`` frame (site, type, name, …, host) from any document ``collectors/cric.py``
    reads, recognising the kind by its shape (desc/result table, ATLAS endpoints, CMS sites)."""
    records = list(doc.values()) if isinstance(doc, dict) else doc
    if isinstance(doc, dict) and {"desc", "result"} <= set(doc):
        kind = "site_names"
    elif isinstance(records, list) and any(
        isinstance(r, dict) and ({"rc_site", "endpoint", "aprotocols", "se"} & set(r)) for r in records
    ):
        kind = "atlas_ddmendpoints"
    else:
        kind = "cms_sites"
    rows, missing, _ = read_cric(kind, doc)
    if missing:  # the topology of the readable records; the rest is named in the log
        log.warning("CRIC topology: %s unreadable, left out", summary(ParseResult(missing=missing)))
    return pd.DataFrame(rows, columns=COLUMNS)


def load_cric(source) -> pd.DataFrame:
    """Read a CRIC feed from a file path or a URL (``http(s)://``, ``file://``: hfpanel.http's fetch).

    ``source`` may be a string or a mapping ``{url|path, cert, key, timeout}``."""
    options = dict(source) if isinstance(source, dict) else {"url": str(source)}
    where = str(options.pop("url", None) or options.pop("path", ""))
    if "://" in where:
        payload = fetch_url(where, **{k: v for k, v in options.items() if k in ("cert", "key", "timeout", "verify")})
    else:
        payload = Path(where).expanduser().read_bytes()
    return topology_from_cric(json.loads(payload))


class SiteResolver:
    """Maps hosts to sites; one instance caches every host it has seen (topology is fixed)."""

    def __init__(self, hosts: dict | None = None, patterns: list | None = None, topology: pd.DataFrame | None = None):
        self.hosts = {bare_host(h): str(s) for h, s in (hosts or {}).items()}
        self.patterns = []
        for item in patterns or []:
            pattern, site = (item["pattern"], item["site"]) if isinstance(item, dict) else item
            self.patterns.append((re.compile(pattern, re.IGNORECASE), str(site)))
        self.topology = topology
        self._cache: dict[str, str | None] = {}

    @classmethod
    def from_config(cls, sites) -> SiteResolver:
        """From the ``transfers.sites`` section: ``{hosts: {...}, patterns: [...], cric: FILE|URL}``
        (a dict, or an object with those attributes such as hfpanel.transfers.config's)."""
        if sites is None:
            return cls()
        get = sites.get if isinstance(sites, dict) else (lambda key, default=None: getattr(sites, key, default))
        cric = get("cric", None)
        topology = None
        if cric is not None and not isinstance(cric, pd.DataFrame):
            topology = load_cric(cric)
        elif isinstance(cric, pd.DataFrame):
            topology = cric
        return cls(get("hosts", None), get("patterns", None), topology)

    def site(self, host) -> str | None:
        """The site of ``host`` (exact map, then patterns in order, then CRIC); None if unclaimed."""
        key = bare_host(host)
        if key in self._cache:
            return self._cache[key]
        found = self.hosts.get(key)
        if found is None and key:
            found = next((site for regex, site in self.patterns if regex.search(key)), None)
        if found is None and key and self.topology is not None and not self.topology.empty:
            found = site_of(key, self.topology)
        self._cache[key] = found
        return found

    def label(self, host) -> str:
        """What statistics show for ``host``: its site, else its domain."""
        return self.site(host) or domain_of(host)

    def relation(self, hosts) -> pa.Table:
        """The ``host_sites`` relation for these hosts (raw values as they appear in the rows)."""
        distinct = sorted({h for h in hosts if h is not None})
        sites = [self.site(h) for h in distinct]
        return pa.table(
            {
                "host": distinct,
                "site": [s if s is not None else domain_of(h) for h, s in zip(distinct, sites)],
                "matched": [s is not None for s in sites],
            },
            schema=HOST_SITES_SCHEMA,
        )
