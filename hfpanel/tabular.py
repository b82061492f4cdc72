"""Row selection, JSON paths and table metrics: the one implementation every generic collector uses.

A generic collector turns a document into records (JSON path, CSV, HTML table, XPath), and from
then on the steps are the same, so they live here:

* :func:`json_path` -- two languages. A plain dotted path, ``responses.0.hits.hits.*._source.data``:
  dot-separated keys, integer list indexes, ``*`` over a list or a dict's values (records from a
  dict get the key as ``_key``); a missing key is an error naming the keys there. Anything with
  brackets, pipes, filters, functions or quotes is a JMESPath expression (what site admins know
  from the AWS CLI, Ansible and Grafana): ``responses[0].hits.hits[?_source.data.vo=='cms']._source.data``;
  JMESPath answers null for a missing key, so a rows path selecting null says so.
* :func:`records_to_frame` -- records to a DataFrame, nested objects flattened to ``a.b`` columns,
  lists (and empty objects) kept as JSON strings so every cell is a scalar.
* :func:`select_rows` -- ``where`` filter, then ``columns`` (a list, or ``{new: existing}``).
* :func:`table_metrics`, :func:`document_metrics`, :func:`compute_metrics` -- named floats for ratings.
* :class:`TableSelection` -- the ``columns``/``where``/``metrics`` params and ``finish()``, mixed
  into each generic collector so their parse methods stay a few lines long.

Values in ``where`` match by equality, and also by their text form, so YAML ``38201`` matches
the XML text ``"38201"`` and YAML ``true`` matches ``"true"``; ``null`` matches missing values.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any, ClassVar

import jmespath
import jmespath.exceptions
import pandas as pd
import param

from hfpanel.collector import Missing, ParseResult, SourceError

__all__ = [
    "AGGREGATIONS",
    "TableSelection",
    "check_metric_spec",
    "check_path",
    "is_jmespath",
    "compute_metrics",
    "document_metrics",
    "json_path",
    "json_table",
    "load_json",
    "load_json_lines",
    "records_to_frame",
    "reject_markup",
    "select_rows",
    "table_metrics",
]

AGGREGATIONS = ("count", "sum", "mean", "max", "min", "count_where")


def _names(items, limit: int = 8) -> str:
    items = [str(i) for i in items]
    return ", ".join(items[:limit]) + ("…" if len(items) > limit else "") if items else "none"


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return f"a {type(value).__name__}"


# -- documents ----------------------------------------------------------------------------------
def reject_markup(text: str, expected: str) -> None:
    """Raise if ``text`` is markup (an SSO login or error page) where ``expected`` data belongs."""
    head = text.lstrip()[:200]
    if not head.startswith("<"):
        return
    title = re.search(r"<title[^>]*>(.*?)</title>", text[:50_000], re.IGNORECASE | re.DOTALL)
    if title:
        name = " ".join(title.group(1).split())[:80]
        raise SourceError(f"expected {expected}, got an HTML page (<title>{name}</title>)")
    if re.match(r"<(!doctype\s+html|html)", head, re.IGNORECASE):
        raise SourceError(f"expected {expected}, got an HTML page")
    raise SourceError(f"expected {expected}, got markup starting {head[:40]!r}")


def _what(exc: json.JSONDecodeError) -> str:
    return exc.msg.removesuffix(" at")  # "Unterminated string starting at" + " at line 3"


def _text_of(payload: bytes) -> str:
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"malformed JSON: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise SourceError("empty document")
    reject_markup(text, "JSON")
    return text


def load_json_lines(payload: bytes) -> tuple[list, list[Missing]]:
    """NDJSON, one value per line: the values, and each line that is not JSON as missing (a stream
    cut short loses its last line, not the rest); no line readable at all is an error."""
    values, missing, first = [], [], None
    for number, line in enumerate(_text_of(payload).splitlines(), 1):
        if line.strip():
            try:
                values.append(json.loads(line))
            except json.JSONDecodeError as exc:
                first = first or f"malformed JSON: {_what(exc)} at line {number} column {exc.colno}"
                missing.append(Missing("line", str(number), f"malformed JSON: {_what(exc)} at column {exc.colno}"))
    if missing and not values:
        raise SourceError(first)
    return values, missing


def load_json(payload: bytes, *, lines: bool = False) -> Any:
    """Parse a JSON payload (or NDJSON, one value per line, with ``lines``); reasons a shifter reads."""
    text = _text_of(payload)
    if lines:
        values = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    values.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise SourceError(f"malformed JSON: {_what(exc)} at line {number} column {exc.colno}") from None
        return values
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # "Unterminated string" means the text ended inside a string (a newline would fail earlier)
        ends_early = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        truncated = " (document truncated?)" if ends_early else ""
        raise SourceError(f"malformed JSON: {_what(exc)} at line {exc.lineno} column {exc.colno}{truncated}") from None


#: characters a dotted path never holds and JMESPath syntax does ([ ] | ? ( ) quotes { } ! < > = & , space)
_JMESPATH_SYNTAX = re.compile(r"[\[\]|?()'\"`{}!<>=&,\s]")


def is_jmespath(path: str | None) -> bool:
    """Whether ``path`` is a JMESPath expression rather than a plain dotted path."""
    return bool(path) and bool(_JMESPATH_SYNTAX.search(path.strip()))


@functools.lru_cache(maxsize=256)
def _compiled(path: str):
    return jmespath.compile(path)


def check_path(path: str | None, what: str = "path") -> None:
    """Raise ``ValueError`` (a configuration mistake) for a JMESPath expression that does not compile."""
    if is_jmespath(path):
        try:
            _compiled(path.strip())
        except jmespath.exceptions.JMESPathError as error:
            detail = " ".join(str(error).split())
            raise ValueError(f"{what}: invalid JMESPath expression {path!r}: {detail}") from None


def _jmespath(doc: Any, path: str) -> Any:
    try:
        return _compiled(path.strip()).search(doc)
    except jmespath.exceptions.JMESPathError as error:  # a function given the wrong type, at run time
        raise SourceError(f"path {path!r}: {' '.join(str(error).split())}") from None


def _segments(path: str | None) -> list[str]:
    if path is None or path.strip() in ("", "."):
        return []
    return path.strip().split(".")


def json_path(doc: Any, path: str | None) -> Any:
    """Follow ``path`` into ``doc``; a list when the path contains ``*``. See the module docstring."""
    if is_jmespath(path):
        return _jmespath(doc, path)
    segments = _segments(path)
    current = [(doc, None)]  # (value, key of the dict entry it came from via '*')
    for depth, segment in enumerate(segments):
        following = []
        for value, key in current:
            if segment == "*":
                if isinstance(value, list):
                    following += [(item, key) for item in value]
                elif isinstance(value, dict):
                    following += list((item, name) for name, item in value.items())
                else:
                    raise SourceError(f"path {path!r}: cannot iterate over {kind_of(value)} at '{segment}'")
                continue
            if isinstance(value, dict):
                if segment not in value:
                    raise SourceError(
                        f"path {path!r} not found in document (no key {segment!r}; keys: {_names(value)})"
                    )
                following.append((value[segment], key))
            elif isinstance(value, list) and re.fullmatch(r"-?\d+", segment):
                index = int(segment)
                if not -len(value) <= index < len(value):
                    raise SourceError(
                        f"path {path!r} not found in document (index {index} out of range for {kind_of(value)})"
                    )
                following.append((value[index], key))
            else:
                at = ".".join(segments[:depth]) or "the top"
                raise SourceError(f"path {path!r} not found in document ({at} is {kind_of(value)}, not an object)")
        current = following
    if "*" not in segments:
        return current[0][0]
    return [
        {"_key": key, **value} if key is not None and isinstance(value, dict) and "_key" not in value else value
        for value, key in current
    ]


def _flatten(record: dict, prefix: str, out: dict) -> dict:
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            _flatten(value, name + ".", out)
        elif isinstance(value, (dict, list)):
            out[name] = json.dumps(value, ensure_ascii=False)
        else:
            out[name] = value
    return out


def records_to_frame(records: Any, path: str | None = None) -> pd.DataFrame:
    """One row per record (a dict); ``path`` only names where the records came from in errors."""
    where = f"rows path {path!r}" if path is not None else "rows"
    if isinstance(records, dict):
        hint = f" (use '{path}.*' for its values)" if path not in (None, "", ".") else " (use '*' for its values)"
        raise SourceError(f"{where} selects an object, not a list{hint}")
    if records is None and is_jmespath(path):
        raise SourceError(f"{where} selects nothing (JMESPath answers null for a missing key), not a list of objects")
    if not isinstance(records, list):
        raise SourceError(f"{where} selects {kind_of(records)}, not a list of objects")
    for record in records:
        if not isinstance(record, dict):
            raise SourceError(f"{where} selects a list holding {kind_of(record)}, expected objects")
    return pd.DataFrame([_flatten(record, "", {}) for record in records])


def json_table(doc: Any, rows: str | None) -> pd.DataFrame | None:
    """The records at path ``rows`` as a DataFrame; None when ``rows`` is None (metrics only)."""
    return None if rows is None else records_to_frame(json_path(doc, rows), rows)


# -- selection ----------------------------------------------------------------------------------
def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _match(df: pd.DataFrame, condition: dict, context: str) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for column, wanted in condition.items():
        if column not in df.columns:
            raise SourceError(f"{context}: no column {column!r} (columns: {_names(df.columns, 20)})")
        values = list(wanted) if isinstance(wanted, (list, tuple, set)) else [wanted]
        series = df[column]
        hit = series.isin(values) | series.map(_text, na_action="ignore").isin({_text(v) for v in values})
        if any(v is None for v in values):
            hit |= series.isna()
        mask &= hit.fillna(False).astype(bool)
    return mask


def select_rows(df: pd.DataFrame, where: dict | None = None, columns: list | dict | None = None) -> pd.DataFrame:
    """Keep rows matching ``where`` (all conditions), then the ``columns`` (list or {new: existing})."""
    shapeless = df.empty and len(df.columns) == 0  # no records at all: nothing to check names against
    if where and not shapeless:
        df = df[_match(df, where, "where")]
    if columns:
        mapping = dict(columns) if isinstance(columns, dict) else {name: name for name in columns}
        if shapeless:
            return pd.DataFrame(columns=list(mapping))
        missing = [name for name in mapping.values() if name not in df.columns]
        if missing:
            raise SourceError(f"columns: no column {missing[0]!r} (columns: {_names(df.columns, 20)})")
        df = df[list(mapping.values())].set_axis(list(mapping), axis=1)
    return df.reset_index(drop=True)


# -- metrics ------------------------------------------------------------------------------------
def check_metric_spec(spec: dict | None, *, paths: bool = False, table: bool = True) -> None:
    """Raise ``ValueError`` (a configuration mistake, not a source failure) for a bad metrics spec."""
    for name, rule in (spec or {}).items():
        if isinstance(rule, str):
            if not paths:
                raise ValueError(f"metric {name!r}: a path is only allowed for JSON documents; use a row aggregation")
            check_path(rule, f"metric {name!r}")
            continue
        if not (isinstance(rule, dict) and len(rule) == 1 and next(iter(rule)) in AGGREGATIONS):
            raise ValueError(f"metric {name!r}: expected one of {', '.join(AGGREGATIONS)}, e.g. {{count: true}}")
        if not table:
            raise ValueError(f"metric {name!r}: a row aggregation needs rows")
        how, arg = next(iter(rule.items()))
        if how == "count" and arg is not True:
            raise ValueError(f"metric {name!r}: write count: true")
        if how == "count_where" and not (isinstance(arg, dict) and arg):
            raise ValueError(f"metric {name!r}: count_where needs {{column: value or [values]}}")
        if how in ("sum", "mean", "max", "min") and not isinstance(arg, str):
            raise ValueError(f"metric {name!r}: {how} needs a column name")


def _numbers(df: pd.DataFrame, column: str, name: str, missing: list[Missing] | None = None) -> pd.Series:
    """The column as floats. Text where a number belongs is never read as 0: with ``missing`` given,
    each such row is reported there (and left out of the aggregation) unless no row holds a number;
    without it, or when none does, it is an error naming the value."""
    if column not in df.columns:
        raise SourceError(f"metric {name!r}: no column {column!r} (columns: {_names(df.columns, 20)})")
    series = df[column]
    series = series.map(lambda v: float(v) if isinstance(v, bool) else v, na_action="ignore")
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna() & series.notna()
    if bad.any():
        if missing is None or not (numbers.notna()).any():
            raise SourceError(f"metric {name!r}: column {column!r} is not numeric (e.g. {series[bad].iloc[0]!r})")
        missing += [
            Missing("row", f"#{position + 1}", f"{column} is {kind_of(value)}, not a number")
            for position, value in zip(range(len(series)), series)
            if pd.notna(value) and pd.isna(pd.to_numeric(value, errors="coerce"))
        ]
    return numbers.astype(float)


def table_metrics(df: pd.DataFrame, spec: dict, missing: list[Missing] | None = None) -> dict[str, float]:
    """Row aggregations; an empty table gives count 0, sum 0 and NaN for mean/max/min. Rows whose
    aggregated value is text are reported in ``missing`` when it is given (see ``_numbers``)."""
    out = {}
    for name, rule in spec.items():
        how, arg = next(iter(rule.items()))
        if how == "count":
            out[name] = float(len(df))
        elif how == "count_where":
            out[name] = float(_match(df, arg, f"metric {name!r}").sum()) if len(df) else 0.0
        elif len(df) == 0:
            out[name] = 0.0 if how == "sum" else math.nan
        else:
            out[name] = float(getattr(_numbers(df, arg, name, missing), how)())
    return out


def document_metrics(doc: Any, spec: dict) -> dict[str, float]:
    """Numbers read from the document by path; booleans count as 0/1, JSON null as NaN."""
    out = {}
    for name, path in spec.items():
        value = json_path(doc, path)
        if value is None:
            out[name] = math.nan
        elif isinstance(value, (bool, int, float)):
            out[name] = float(value)
        else:
            raise SourceError(f"metric {name!r}: path {path!r} holds {kind_of(value)}, not a number")
    return out


def compute_metrics(
    spec: dict | None, table: pd.DataFrame | None = None, doc: Any = None, missing: list[Missing] | None = None
) -> dict[str, float]:
    """Every metric of ``spec`` in its order: string rules read ``doc``, dict rules aggregate ``table``."""
    out = {}
    for name, rule in (spec or {}).items():
        if isinstance(rule, str):
            out.update(document_metrics(doc, {name: rule}))
        else:
            out.update(table_metrics(table, {name: rule}, missing))
    return out


class TableSelection(param.Parameterized):
    """Mixin: the ``columns``, ``where`` and ``metrics`` params and ``finish()`` of generic collectors."""

    #: whether a metric may be a path into the parsed (JSON) document
    metric_paths: ClassVar[bool] = False

    columns = param.ClassSelector(
        class_=(list, dict),
        default=None,
        allow_None=True,
        doc=("Columns to keep: a list of names, or {new_name: existing} to rename; nested JSON fields are 'a.b'."),
    )
    where = param.Dict(
        default=None,
        allow_None=True,
        doc=("Keep only rows whose column equals a value or one of a list: {column: value or [values]}."),
    )
    metrics = param.Dict(
        default={},
        doc=(
            "Named metrics: {name: {count: true} | {sum|mean|max|min: column} | {count_where: {column: value}}}; "
            "JSON collectors also accept a path into the document, e.g. 'hits.total.value'."
        ),
    )

    def __init__(self, **params):
        super().__init__(**params)
        self.check_selection()

    def has_rows(self) -> bool:
        """Whether this configuration produces a ``rows`` table."""
        return True

    def check_selection(self) -> None:
        """Raise ``ValueError`` for settings that cannot work (called on construction)."""
        if not self.has_rows() and (self.where or self.columns):
            raise ValueError("where and columns need rows")
        check_metric_spec(self.metrics, paths=self.metric_paths, table=self.has_rows())

    def finish(
        self,
        table: pd.DataFrame | None,
        doc: Any = None,
        message: str = "",
        missing: list[Missing] | None = None,
        expected: dict[str, int] | None = None,
    ) -> ParseResult:
        """Select rows, add the ``rows`` count and the configured metrics: the end of every parse.
        ``missing``/``expected``: parts the document itself lacked (lines, search shards); a row whose
        aggregated value is text is added to them (it is left out of that metric, never read as 0)."""
        missing, expected = list(missing or []), dict(expected or {})
        if table is None:
            result = ParseResult(metrics=compute_metrics(self.metrics, doc=doc), message=message)
            return result.with_missing(missing, expected)
        table = select_rows(table, self.where, self.columns)
        rows: list[Missing] = []
        metrics = {"rows": float(len(table)), **compute_metrics(self.metrics, table, doc, rows)}
        rows = list(dict.fromkeys(rows))  # a row is reported once, whichever metrics read it
        if rows:
            expected["row"] = len(table)
        result = ParseResult(tables={"rows": table}, metrics=metrics, message=message)
        return result.with_missing(missing + rows, expected)
