"""CERN MONIT through Grafana's datasource proxy: one ``_msearch`` client for every MONIT collector.

SAM/ETF results and the CMS HammerCloud job records both live in MONIT's OpenSearch, reached with a
Grafana API token at ``<grafana>/api/datasources/proxy/<id>/_msearch``. The request (NDJSON header
and query lines, a time range, a ``query_string``), paging with ``search_after`` and the error
shapes (a Grafana ``{"message": ...}`` document, an ES ``error`` or non-200 ``status`` per
response) are the same for both, so they are written once here:

* :class:`MonitCollector` -- params ``url`` (the Grafana base), ``datasource_id``, ``index``,
  ``window``, ``page_size``, ``max_pages``; ``fetch()`` pages and returns ONE payload, a JSON list
  of the raw page documents (a single raw document also parses, e.g. a fixture). The window ends
  at the run's time (``Collector.now()``); every page shares the module's one time budget.
* :func:`msearch_hits` -- the pure half: ``[(path, hits list)]`` of every response of every page,
  raising ``SourceError`` with the reason Grafana or Elasticsearch gave, and what the answers say
  they left out (failed shards, a server-side timeout) as missing parts for the rating to weigh.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, ClassVar

import param

from hfpanel import opensearch
from hfpanel.collector import Missing, SourceError
from hfpanel.durations import parse_duration
from hfpanel.http import HttpCollector, redact_url
from hfpanel.tabular import json_path, load_json

__all__ = ["Hits", "MonitCollector", "any_of", "msearch_hits", "quote", "typed"]

_AUTH_WORDS = ("unauthori", "api key", "token", "expired", "login", "permission", "forbidden", "access denied")


def quote(value: Any) -> str:
    """A value as an exact ``query_string`` phrase: ``"T2_DE_DESY"``."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def any_of(field: str, values) -> str:
    """``data.Site:("T2_A" OR "T2_B")``: a ``query_string`` term matching any of ``values`` exactly."""
    return f"{field}:({' OR '.join(map(quote, values))})"


def typed(record: dict, key: str, kind, where: str):
    """``record[key]`` if it is a ``kind`` (bools are not numbers), else ``SourceError`` naming ``where.key``."""
    value = record.get(key) if isinstance(record, dict) else None
    if isinstance(value, kind) and not isinstance(value, bool):
        return value
    got = "missing" if value is None else f"{type(value).__name__} {str(value)[:40]!r}"
    expected = {str: "text", dict: "an object", list: "a list"}.get(kind, "a number")
    raise SourceError(f"{where}.{key}: {got}, expected {expected}")


def _es_reason(error: Any) -> str:
    if isinstance(error, dict):
        cause = (error.get("root_cause") or [{}])[0] if isinstance(error.get("root_cause"), list) else {}
        kind = cause.get("type") or error.get("type") or "error"
        return f"{kind}: {cause.get('reason') or error.get('reason') or json.dumps(error)[:200]}"
    return str(error)[:200]


@dataclasses.dataclass
class Hits:
    """The hits of every response of every page (``[(path, hits)]``) and what the answers say they
    left out (failed shards, a server-side timeout: :mod:`hfpanel.opensearch`), with how many shards
    were asked."""

    hits: list[tuple[str, list]]
    missing: list[Missing]
    expected: dict[str, int]

    def __iter__(self):
        return iter(self.hits)


def msearch_hits(payload: bytes) -> Hits:
    """The hits of every response of every page (pages may be one document or a list), and what the
    answers say is missing from them."""
    doc = load_json(payload)
    pages = doc if isinstance(doc, list) else [doc]
    out, missing, shards = [], [], 0
    several = len(pages) > 1 or any(isinstance(p, dict) and len(p.get("responses") or []) > 1 for p in pages)
    for number, page in enumerate(pages, 1):
        where = f"page {number}: " if len(pages) > 1 else ""
        if not isinstance(page, dict):
            raise SourceError(f"{where}expected an _msearch answer (an object), got {type(page).__name__}")
        if "responses" not in page and isinstance(page.get("message"), str):
            message = " ".join(page["message"].split())[:200]
            hint = " (bearer token expired or rejected?)" if any(w in message.lower() for w in _AUTH_WORDS) else ""
            raise SourceError(f"{where}Grafana: {message}{hint}")
        if "error" in page and "responses" not in page:
            raise SourceError(f"{where}Elasticsearch error: {_es_reason(page['error'])}")
        responses = json_path(page, "responses")
        if not isinstance(responses, list):
            raise SourceError(f"{where}path 'responses' holds {type(responses).__name__}, not a list")
        for index, response in enumerate(responses):
            path = f"{where}responses.{index}"
            if not isinstance(response, dict):
                raise SourceError(f"{path} is {type(response).__name__}, not an object")
            if response.get("error"):
                raise SourceError(f"Elasticsearch error in {path}: {_es_reason(response['error'])}")
            if response.get("status", 200) != 200:
                raise SourceError(f"Elasticsearch answered status {response['status']} in {path}")
            try:
                hits = json_path(response, "hits.hits")
            except SourceError as error:
                raise SourceError(f"{path}: {error}") from None
            if not isinstance(hits, list):
                raise SourceError(f"{path}.hits.hits holds {type(hits).__name__}, not a list")
            out.append((f"{path}.hits.hits", hits))
            gaps, total = opensearch.gaps(response, path if several else "")
            missing += gaps
            shards += total
    return Hits(out, missing, {opensearch.SHARD: shards} if shards else {})


def _next_after(doc: Any, page_size: int) -> list | None:
    """The ``sort`` of the last hit when the page is full (another page may follow), else None."""
    try:
        hits = doc["responses"][-1]["hits"]["hits"]
        last = hits[-1]["sort"] if len(hits) >= page_size else None
    except (KeyError, IndexError, TypeError):
        return None
    return last if isinstance(last, list) and last else None


class MonitCollector(HttpCollector):
    """Base of the MONIT collectors: subclasses give ``query_string()``, ``time_field``, ``sort`` and parse."""

    payload_suffix = "json"
    accept = "application/json"
    #: date field the window applies to
    time_field: ClassVar[str] = "metadata.timestamp"
    #: sort clauses; the last ones break ties so that search_after never skips a document
    sort: ClassVar[list] = [{"metadata.timestamp": "asc"}]
    #: ``_source`` fields to return (None: all); MONIT documents carry many more than a collector reads
    source_fields: ClassVar[list | None] = None

    url = param.String(default="", doc="Grafana base URL, e.g. https://monit-grafana.cern.ch (no path).")
    datasource_id = param.Integer(
        default=9677,
        bounds=(0, None),
        doc=("Grafana datasource id of the MONIT index (differs between Grafana organisations)."),
    )
    index = param.String(default="monit_prod_sam3_enr_*", doc="Index pattern searched.")
    window = param.String(default="2h", doc="How far back to look, e.g. 2h (from now).")
    page_size = param.Integer(default=10_000, bounds=(1, 10_000), doc="Hits per request; full pages are followed up.")
    max_pages = param.Integer(default=20, bounds=(1, 1000), doc="Give up (an error) beyond this many pages.")

    def __init__(self, **params):
        super().__init__(**params)
        try:
            parse_duration(self.window)  # a config error, not a run-time one
        except ValueError as error:
            raise ValueError(f"window: {error}") from None

    def query_string(self) -> str:
        raise NotImplementedError

    def msearch_url(self) -> str:
        return f"{self.url.rstrip('/')}/api/datasources/proxy/{self.datasource_id}/_msearch"

    def msearch_body(self, start_ms: int, end_ms: int, search_after: list | None = None) -> str:
        header = {"search_type": "query_then_fetch", "ignore_unavailable": True, "index": [self.index]}
        time_range = {"range": {self.time_field: {"gte": start_ms, "lte": end_ms, "format": "epoch_millis"}}}
        text = {"query_string": {"analyze_wildcard": True, "query": self.query_string()}}
        query = {"size": self.page_size, "query": {"bool": {"filter": [time_range, text]}}, "sort": self.sort}
        if self.source_fields:
            query["_source"] = self.source_fields
        if search_after is not None:
            query["search_after"] = search_after
        return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in (header, query))

    def source_url(self) -> str | None:
        return redact_url(self.url) if self.url else None

    def fetch(self) -> bytes:
        if not self.url:
            raise SourceError("no url configured (the Grafana base, e.g. https://monit-grafana.cern.ch)")
        end = int(self.now() * 1000)  # the run's time: a backfill asks for the window as it was then
        start = end - int(parse_duration(self.window) * 1000)
        pages, after = [], None
        for number in range(1, self.max_pages + 1):
            with self.param.update(url=self.msearch_url(), method="POST", body=self.msearch_body(start, end, after)):
                raw = self.http_fetch()
            try:
                doc = load_json(raw)
            except SourceError as error:
                if number == 1:
                    return raw  # parse() gives the same reason, and the runner archives what came
                raise SourceError(f"page {number}: {error}") from None
            pages.append(raw)
            following = _next_after(doc, self.page_size)
            if following is None or following == after:  # a last page, or a server ignoring search_after
                return b"[" + b",".join(pages) + b"]"
            after = following
        raise SourceError(
            f"more than {self.max_pages} pages of {self.page_size} results: narrow the query or raise max_pages"
        )
