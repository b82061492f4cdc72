"""``http_xml``: one row per XML element chosen by XPath (GOCDB downtimes, OSG topology, feeds).

Each selected element becomes a record: its attributes, plus one column per child element holding
the child's text (``<SEVERITY>OUTAGE</SEVERITY>`` -> ``SEVERITY = "OUTAGE"``). Rules, kept simple so
the columns are predictable:

* A child that has children of its own (``<AFFECTED_ENDPOINTS><ENDPOINT>…``) becomes a JSON string:
  a list with one object per grandchild, built by these same rules.
* An empty child (``<AFFECTED_ENDPOINTS/>``) gives null; a child tag that repeats gives a JSON list.
* When an attribute and a child share a name (GOCDB's ``PRIMARY_KEY``), the attribute becomes ``@name``.
* Namespaces are dropped from column names (XPath can still use ``*[local-name()='x']``).
* All values stay text; metrics convert to numbers where needed, ``where`` compares as text.

Parsing is hardened: no entity expansion, no network access, no huge trees.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import param
from lxml import etree

from hfpanel.collector import ParseResult, SourceError
from hfpanel.http import HttpCollector
from hfpanel.tabular import TableSelection, reject_markup

_HTML = re.compile(rb"<(!doctype\s+html|html)", re.IGNORECASE)


def _name(node) -> str:
    return etree.QName(node).localname


def _record(element) -> dict:
    children = [child for child in element if isinstance(child.tag, str)]  # skip comments, PIs
    names = [_name(child) for child in children]
    record = {(f"@{n}" if n in names else n): v for n, v in ((_name(a), v) for a, v in element.attrib.items())}
    found: dict[str, list] = {}
    for name, child in zip(names, children):
        grand = [g for g in child if isinstance(g.tag, str)]
        found.setdefault(name, []).append([_record(g) for g in grand] if grand else (child.text or "").strip() or None)
    record.update({name: values[0] if len(values) == 1 else values for name, values in found.items()})
    return record


def _cells(record: dict) -> dict:
    return {k: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v for k, v in record.items()}


class HttpXmlCollector(HttpCollector, TableSelection):
    """Fetch an XML document; one row per element selected by ``rows``; select rows; metrics."""

    payload_suffix = "xml"
    accept = "application/xml"

    rows = param.String(
        default="/*/*",
        doc=("XPath selecting one element per row, e.g. '//DOWNTIME' (default '/*/*': the root's children)."),
    )

    def check_selection(self) -> None:
        super().check_selection()
        try:
            etree.XPath(self.rows)
        except etree.XPathSyntaxError as exc:
            raise ValueError(f"rows: invalid XPath {self.rows!r}: {exc}") from None

    def parse(self, payload: bytes) -> ParseResult:
        if not payload.strip():
            raise SourceError("empty document")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
        try:
            root = etree.fromstring(payload, parser)
        except etree.XMLSyntaxError as exc:
            if _HTML.search(payload[:2000]):
                reject_markup(payload[:50_000].decode("utf-8", errors="replace"), "XML")
            raise SourceError(f"malformed XML: {exc.msg}") from None
        if _name(root).lower() == "html":
            reject_markup(payload[:50_000].decode("utf-8", errors="replace"), "XML")
        try:
            selected = root.xpath(self.rows)
        except etree.XPathError as exc:
            raise SourceError(f"rows XPath {self.rows!r} failed: {exc}") from None
        odd = next(
            (e for e in (selected if isinstance(selected, list) else [selected]) if not isinstance(e, etree._Element)),
            None,
        )
        if odd is not None:
            raise SourceError(f"rows XPath {self.rows!r} must select elements, not {type(odd).__name__} values")
        table = pd.DataFrame([_cells(_record(element)) for element in selected])
        return self.finish(table)
