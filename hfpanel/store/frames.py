"""Turn whatever a collector produced into Arrow tables that Parquet and DuckDB accept.

Sources are messy: a column may mix numbers and strings, hold nested objects, or carry time zones.
The store keeps one rule: times are naive UTC, mixed or nested values become text.
"""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa

from ..clock import utc_naive  # noqa: F401  (the store's time convention, re-exported for its readers)

FRONT = ("run_id", "time", "module")


def _as_text(value):
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _clean_column(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").dt.tz_localize(None)
    if series.dtype == object:
        kinds = {type(v) for v in series.dropna()}
        if kinds and kinds <= {int, float, bool} and bool not in kinds:
            return pd.to_numeric(series)
        if kinds == {bytes}:
            return series  # binary stays binary (archived payloads)
        if kinds == {bool}:
            return series.astype("boolean")
        if not kinds <= {str}:
            return series.map(_as_text).astype("string")
    return series


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """An Arrow table with text column names, the run columns first, no index and no ``day``."""
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    frame = frame.drop(columns=[c for c in ("day",) if c in frame.columns])
    for column in frame.columns:
        frame[column] = _clean_column(frame[column])
    ordered = [c for c in FRONT if c in frame.columns] + [c for c in frame.columns if c not in FRONT]
    table = pa.Table.from_pandas(frame[ordered], preserve_index=False)
    if "time" in table.column_names:
        index = table.column_names.index("time")
        table = table.set_column(index, "time", table.column("time").cast(pa.timestamp("us")))
    return table.replace_schema_metadata(None)
