"""Attach hosts to sites everywhere, with the topology a ``cric_topology`` module keeps in the store.

Sources name hosts (SAM tests, condor slots, downtimes, dCache doors); shifters think in sites. When
the site config has a ``cric_topology`` module, the runner adds a ``site`` column to every detail
table that has a host column and no site of its own.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pandas as pd

log = logging.getLogger("hfpanel.topology")
TOPOLOGY_COLLECTOR = "cric_topology"
#: columns that name a host, in the order they are tried
HOST_COLUMNS = ("host", "hostname", "dst_hostname", "machine", "Machine", "remote_host", "Host")
_REGISTRY_LABELS = {"ac", "co", "com", "edu", "gov", "net", "org", "or", "ne", "go"}


def site_of(host_or_name: str, topology: pd.DataFrame) -> str | None:
    """The site a host, URL or name belongs to: an exact name/host/site match first, then the
    longest domain shared with exactly one site's hosts (``xrootd.desy.de`` -> the site of
    ``dcache-se.desy.de``); None when unknown or ambiguous."""
    value = str(host_or_name or "").strip()
    value = (urlsplit(value).hostname or value) if "://" in value else value
    if not value or topology is None or topology.empty:
        return None
    lower = value.lower()
    for column in ("name", "host", "site"):
        if column in topology.columns:
            hits = topology.loc[topology[column].astype(str).str.lower() == lower, "site"].dropna().unique()
            if len(hits) == 1:
                return str(hits[0])
    if "host" not in topology.columns or "." not in lower:
        return None
    hosts = topology.dropna(subset=["host", "site"])
    labels = lower.split(".")
    for start in range(1, len(labels) - 1):  # parent domains, longest first, never a bare TLD
        domain = ".".join(labels[start:])
        if start == len(labels) - 2 and len(labels[-1]) == 2 and labels[-2] in _REGISTRY_LABELS:
            break  # ac.uk, co.uk, edu.au: shared by unrelated sites
        sites = hosts.loc[hosts["host"].astype(str).str.lower().str.endswith("." + domain), "site"].unique()
        if len(sites):
            return str(sites[0]) if len(sites) == 1 else None
    return None


def attach_sites(frame: pd.DataFrame, topology: pd.DataFrame | None) -> pd.DataFrame:
    """``frame`` with a ``site`` column from its host column (each distinct host looked up once)."""
    if topology is None or topology.empty or frame.empty or "site" in frame.columns:
        return frame
    if "host" not in topology.columns or topology["host"].isna().all():
        return frame  # a topology of site names only cannot place hosts (and looking costs per host)
    column = next((c for c in HOST_COLUMNS if c in frame.columns), None)
    if column is None:
        return frame
    try:
        sites = {host: site_of(host, topology) for host in frame[column].dropna().unique()}
    except (KeyError, TypeError, ValueError, AttributeError):  # an odd topology must not cost the run
        log.exception("cannot attach sites to hosts in column %r; left without", column)
        return frame
    return frame.assign(site=frame[column].map(sites))
