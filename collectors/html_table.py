"""``html_table``: the status table of a web page (a service's own status page) as rows.

Some services only have a human page: a queue overview, a squid or frontier status page, a
dCache info page. The table that contains ``match`` (a regular expression) becomes the rows.
Multi-row headers are joined as ``"top / sub"``; numbers are parsed by pandas.
"""

from __future__ import annotations

import io
import re

import pandas as pd
import param

from hfpanel.collector import ParseResult, SourceError
from hfpanel.http import HttpCollector
from hfpanel.tabular import TableSelection


class HtmlTableCollector(HttpCollector, TableSelection):
    """Fetch an HTML page; take one ``<table>`` as rows; select rows; compute metrics."""

    payload_suffix = "html"
    accept = "text/html"

    match = param.String(default=".+", doc="Regular expression; only tables containing matching text count.")
    index = param.Integer(default=0, bounds=(0, None), doc="Which of the matching tables to take (0 = first).")

    def check_selection(self) -> None:
        super().check_selection()
        try:
            re.compile(self.match)
        except re.error as exc:
            raise ValueError(f"match: invalid regular expression {self.match!r}: {exc}") from None

    def parse(self, payload: bytes) -> ParseResult:
        text = payload.decode("utf-8", errors="replace")
        if not text.strip():
            raise SourceError("empty document")
        try:
            tables = pd.read_html(io.StringIO(text), match=self.match, flavor="lxml")
        except ValueError:  # pandas: "No tables found" / "No tables found matching pattern"
            raise SourceError(f"no HTML table matching {self.match!r} in the page") from None
        except SyntaxError as error:  # lxml's parse errors (no markup at all, e.g. a lone NUL byte)
            raise SourceError(f"not an HTML page: {error}") from None
        if self.index >= len(tables):
            raise SourceError(f"only {len(tables)} HTML table(s) match {self.match!r}; index {self.index} asked for")
        table = tables[self.index]
        if isinstance(table.columns, pd.MultiIndex):
            table.columns = [
                " / ".join(dict.fromkeys(str(part) for part in column if not str(part).startswith("Unnamed:")))
                for column in table.columns
            ]
        table.columns = [str(column) for column in table.columns]
        return self.finish(table)
