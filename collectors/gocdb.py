"""``gocdb_downtimes``: a site's declared downtimes from the GOCDB programmatic interface.

A site in an announced OUTAGE is expected to fail its tests. The runner shows modules whose hosts are
in an ongoing OUTAGE as "downtime" (:mod:`hfpanel.downtime`) from the ``downtimes`` table: one row per
downtime and affected service, columns ``COLUMNS`` (fixed; times naive UTC). ``parse`` cannot know
"now", so the runner decides what is ongoing: no default rating here. ``fetch()`` asks ``get_downtime``
(``nested``: ``get_downtime_nested_services``) for ``site`` from today to ``window`` ahead, keeping
parameters already in ``url``, and follows paging (``<meta><link rel="next">``) into one ``<pages>``.
A downtime without ID, severity or dates (or with dates that are not numbers), or naming a service
without a host, is missing, named by its ID: the others still put their modules in downtime.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pandas as pd
import param
from lxml import etree

from hfpanel.collector import ParseResult, SourceError, each
from hfpanel.durations import parse_duration
from hfpanel.http import HttpCollector
from hfpanel.tabular import reject_markup

COLUMNS = [
    "id",
    "hostname",
    "service_type",
    "endpoint",
    "site",
    "severity",
    "classification",
    "start",
    "end",
    "description",
    "url",
]
SERVICE_FIELDS = {"hostname": "HOSTNAME", "service_type": "SERVICE_TYPE", "endpoint": "ENDPOINT", "site": "HOSTED_BY"}
REQUIRED = {
    "id": "ID",
    "severity": "SEVERITY",
    "classification": "CLASSIFICATION",
    "start": "START_DATE",
    "end": "END_DATE",
}
WINDOW_KEYS = {"windowstart", "windowend", "ongoing_only", "startdate", "enddate", "all_lastmonth", "id"}
_HTML = re.compile(rb"<(!doctype\s+html|html)", re.IGNORECASE)


def xml_root(payload: bytes):
    """The root element, parsed as safely as ``http_xml`` does (no entities, no network)."""
    if not payload.strip():
        raise SourceError("empty document")
    try:
        root = etree.fromstring(payload, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except etree.XMLSyntaxError as exc:
        root, problem = None, exc.msg
    if root is None and not _HTML.search(payload[:2000]):
        raise SourceError(f"malformed XML: {problem}")
    if root is None or str(root.tag).lower() == "html":
        reject_markup(payload[:50_000].decode("utf-8", errors="replace"), "GOCDB XML")
    return root


def _fields(element) -> dict:
    """Texts of the child elements by tag; empty ones are left out, as GOCDB does."""
    return {child.tag: (child.text or "").strip() or None for child in element if isinstance(child.tag, str)}


def _rows(element) -> list[dict]:
    """One row per affected service of a ``DOWNTIME`` element (flat or nested form), numbers as text."""
    key, fields = element.get("ID", ""), _fields(element)
    base = {
        "id": key,
        "severity": fields.get("SEVERITY"),
        "classification": element.get("CLASSIFICATION"),
        "start": fields.get("START_DATE"),
        "end": fields.get("END_DATE"),
        "description": fields.get("DESCRIPTION"),
        "url": fields.get("GOCDB_PORTAL_URL"),
    }
    for name, tag in REQUIRED.items():
        if not base[name]:
            raise SourceError(f"downtime {key} has no {tag}" if key else "a DOWNTIME element has no ID")
        if name in ("id", "start", "end") and not base[name].strip().lstrip("-").isdigit():
            raise SourceError(f"downtime {key}: {tag} is {base[name][:40]!r}, expected a whole number")
    services = element.find("SERVICES")
    rows = [
        {**base, **{name: service.get(tag) for name, tag in SERVICE_FIELDS.items()}}
        for service in ([fields] if services is None else map(_fields, services.iterfind("SERVICE")))
    ]
    if not all(row["hostname"] for row in rows):
        raise SourceError(f"downtime {key} names a service without HOSTNAME")
    return rows


class GocdbDowntimeCollector(HttpCollector):
    """Downtimes of a GOCDB site, ongoing and ``window`` ahead; table ``downtimes``."""

    default_instruction = (
        "Announced downtimes of the site: modules whose hosts are in an ongoing outage show "
        "'downtime' instead of red. No action unless a downtime runs past its announced end."
    )

    payload_suffix = "xml"
    event_keys = {"downtimes": ["id", "hostname"]}  # a downtime announced or withdrawn
    accept = "application/xml"

    site = param.String(default="", doc="GOCDB site (topentity), e.g. 'DESY-HH'; empty: every site (large!).")
    window = param.Parameter(default="7d", doc="How far ahead announced downtimes are included, e.g. '7d'.")
    nested = param.Boolean(default=False, doc="Ask get_downtime_nested_services (one DOWNTIME per downtime).")

    def __init__(self, **params):
        super().__init__(**params)
        try:
            parse_duration(self.window)
        except ValueError as error:  # a configuration mistake: config check names it
            raise ValueError(f"window: {error}") from None

    def query_url(self, now: datetime | None = None) -> str:
        parts = urlsplit(self.url)
        query = dict(parse_qsl(parts.query))
        query.setdefault("method", "get_downtime_nested_services" if self.nested else "get_downtime")
        if self.site:
            query.setdefault("topentity", self.site)
        if not WINDOW_KEYS & set(query):  # from the run's day (Collector.now()), not the wall clock's
            now = now or datetime.fromtimestamp(self.now(), timezone.utc)
            ahead = now + timedelta(seconds=parse_duration(self.window))
            query.update(windowstart=f"{now:%Y-%m-%d}", windowend=f"{ahead:%Y-%m-%d}")
        return parts._replace(query=urlencode(query, safe=",")).geturl()

    def source_url(self) -> str | None:
        return self.query_url() if self.url else None

    def fetch(self) -> bytes:
        if not self.url:
            raise SourceError("no url configured (the GOCDB PI, e.g. https://goc.egi.eu/gocdbpi/public/)")
        url, pages = self.query_url(), []
        while url and len(pages) < 100:
            with self.param.update(url=url):
                pages.append(self.http_fetch())
            try:
                link = xml_root(pages[-1]).xpath("string(meta/link[@rel='next']/@href)")
            except SourceError:
                link = ""  # parse() says what is wrong with the page
            url = urljoin(url, link) if link and urljoin(url, link) != url else None
        if url:
            raise SourceError("GOCDB answer has more than 100 pages; narrow the query")
        pages = [re.sub(rb"^\s*<\?xml[^>]*\?>", b"", page) for page in pages] if len(pages) > 1 else pages
        return pages[0] if len(pages) == 1 else b"<pages>\n" + b"\n".join(pages) + b"\n</pages>\n"

    def parse(self, payload: bytes) -> ParseResult:
        root, elements = xml_root(payload), []
        for page in root.iterchildren("results") if root.tag == "pages" else [root]:
            error = page if page.tag == "error" else page.find("error")
            if error is not None:
                raise SourceError(f"GOCDB answered with an error: {' '.join(error.itertext()).strip()[:200]}")
            if page.tag != "results":
                raise SourceError(f"expected GOCDB <results>, got <{page.tag}>")
            elements.extend(page.iterchildren("DOWNTIME"))
        found, missing = each(elements, _rows, "downtime", key=lambda i, e: e.get("ID") or f"#{i + 1}")
        rows = [row for rows_of_one in found for row in rows_of_one]
        table = (
            pd.DataFrame(rows, columns=COLUMNS)
            .drop_duplicates(ignore_index=True)
            .astype({"id": "int64", "start": "int64", "end": "int64"})
        )
        for column in ("start", "end"):
            table[column] = pd.to_datetime(table[column], unit="s").astype("datetime64[us]")
        ids = lambda mask: float(table.loc[mask, "id"].nunique())  # noqa: E731
        metrics = {
            "downtimes": ids(slice(None)),
            "outages": ids(table["severity"] == "OUTAGE"),
            "unscheduled": ids(table["classification"] == "UNSCHEDULED"),
        }
        message = (
            f"{metrics['downtimes']:g} downtimes ({metrics['outages']:g} outages) on "
            f"{table['hostname'].nunique()} hosts"
        )
        return ParseResult(
            tables={"downtimes": table},
            metrics=metrics,
            message=message,
            missing=missing,
            expected={"downtime": len(elements)} if missing else {},
        )
