"""``http_csv``: a CSV export (accounting reports, batch-system summaries, spreadsheets) as rows.

Plenty of site tools can export CSV but have no API; pointing this collector at the export
(or a ``file://`` path a cron job writes) makes it a module without code. The first non-comment
line is the header. An HTML page where CSV was expected (an SSO login) is reported as such. A line
with more fields than the header is missing (named by its number), not the whole export.
"""

from __future__ import annotations

import io
import re
import warnings

import pandas as pd
import param

from hfpanel.collector import Missing, ParseResult, SourceError
from hfpanel.http import HttpCollector
from hfpanel.tabular import TableSelection, reject_markup

#: pandas' account of a line it skipped: "Skipping line 3: expected 3 fields, saw 4"
_SKIPPED = re.compile(r"Skipping line (\d+): ([^\n]+)")


class HttpCsvCollector(HttpCollector, TableSelection):
    """Fetch a CSV document; every line is a row; select rows; compute metrics."""

    payload_suffix = "csv"
    accept = "text/csv"

    delimiter = param.String(default=",", doc="Field separator, e.g. ',' ';' or '\\t'.")
    comment = param.String(
        default=None,
        allow_None=True,
        doc=("Character that starts a comment; the rest of the line is ignored (e.g. '#')."),
    )

    def parse(self, payload: bytes) -> ParseResult:
        text = payload.decode("utf-8-sig", errors="replace")
        if not text.strip():
            raise SourceError("empty document")
        reject_markup(text, "CSV")
        try:
            with warnings.catch_warnings(record=True) as skipped:
                warnings.simplefilter("always", pd.errors.ParserWarning)
                table = pd.read_csv(
                    io.StringIO(text),
                    sep=self.delimiter,
                    comment=self.comment,
                    skipinitialspace=True,
                    on_bad_lines="warn",
                )
        except pd.errors.EmptyDataError:
            raise SourceError("empty document") from None
        except (pd.errors.ParserError, ValueError) as exc:
            raise SourceError(f"malformed CSV: {str(exc).strip().splitlines()[0]}") from None
        missing = [
            Missing("line", number, f"malformed CSV: {why}")
            for warning in skipped
            for number, why in _SKIPPED.findall(str(warning.message))
        ]
        if missing and table.empty:
            raise SourceError(
                f"malformed CSV: line {missing[0].key}: {missing[0].reason.removeprefix('malformed CSV: ')}"
            )
        lines = len(table) + len(missing)
        return self.finish(table, missing=missing, expected={"line": lines} if missing else None)
