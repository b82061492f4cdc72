"""``http_json``: any JSON API becomes a table and metrics, with no code.

Most monitoring back ends (Elasticsearch/OpenSearch behind Grafana, dCache REST, CRIC, HTCondor's
``-json`` output served over HTTP) speak JSON, so one collector with a path language covers them::

    type: http_json
    params:
      url: https://monit-grafana.cern.ch/api/datasources/proxy/9677/_msearch
      method: POST
      body: "{...}\\n{...}\\n"
      bearer_token_file: /etc/hfpanel/grafana.token
      rows: responses.0.hits.hits.*._source.data
      where: {vo: cms}
      metrics:
        critical: {count_where: {status: CRITICAL}}
        took_ms: took

Without ``rows`` there is no table, only metrics read from the document by path. Paths are plain
dotted paths or JMESPath expressions (``hits.hits[?_source.status=='CRITICAL']``): see
:func:`hfpanel.tabular.json_path`.
"""

from __future__ import annotations

import param

from hfpanel import opensearch
from hfpanel.collector import ParseResult
from hfpanel.http import HttpCollector
from hfpanel.tabular import TableSelection, check_path, json_table, load_json, load_json_lines


class HttpJsonCollector(HttpCollector, TableSelection):
    """Fetch a JSON document; select rows by JSON path; compute metrics."""

    payload_suffix = "json"
    accept = "application/json"
    metric_paths = True

    rows = param.String(
        default=None,
        allow_None=True,
        doc=(
            "Path to the records, e.g. 'responses.0.hits.hits.*._source.data' ('*' iterates a list or an "
            "object's values; records from an object get its key as '_key'; '.' is the document itself), or a "
            "JMESPath expression, e.g. \"responses[0].hits.hits[?_source.data.vo=='cms']._source.data\". "
            "None: no table, metrics only."
        ),
    )
    lines = param.Boolean(
        default=False,
        doc=(
            "The document is newline-delimited JSON (e.g. Rucio's application/x-json-stream); "
            "paths then start from the list of lines."
        ),
    )

    def has_rows(self) -> bool:
        return self.rows is not None

    def check_selection(self) -> None:
        super().check_selection()
        check_path(self.rows, "rows")

    def parse(self, payload: bytes) -> ParseResult:
        """The rows and metrics; a search answer's failed shards or server-side timeout, an NDJSON line
        that is not JSON and a row whose aggregated value is text are missing, named, and the rest
        is rated (``hfpanel.rating.partial``)."""
        if self.lines:
            doc, missing = load_json_lines(payload)
            return self.finish(
                json_table(doc, self.rows),
                doc,
                missing=missing,
                expected={"line": len(doc) + len(missing)} if missing else None,
            )
        doc = load_json(payload)
        missing, expected = opensearch.answer_gaps(doc)
        return self.finish(json_table(doc, self.rows), doc, missing=missing, expected=expected)
