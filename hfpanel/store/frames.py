"""Turn whatever a collector produced into Arrow tables that Parquet and DuckDB accept.

Sources are messy: a column may mix numbers and strings, hold nested objects, or carry time zones.
The store keeps one rule: times are naive UTC, mixed or nested values become text.
"""

from __future__ import annotations

import json

import numpy as np
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


def _object_kinds(series: pd.Series) -> tuple:
    """What decides how an object column is cleaned: the Python types in it, and whether it
    holds nulls (ints with a None become floats)."""
    values = series.dropna()
    return (frozenset(type(v) for v in values), len(values) < len(series))


def _signature(frame: pd.DataFrame) -> tuple:
    """Frames with equal signatures are cleaned and converted identically, so they may be
    converted as one (what ``to_arrow_many`` relies on)."""
    dtypes = tuple(frame.dtypes)
    kinds = tuple(_object_kinds(frame.iloc[:, i]) for i, d in enumerate(dtypes) if d == np.dtype(object))
    return (tuple(map(str, frame.columns)), dtypes, kinds)


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """An Arrow table with text column names, the run columns first, no index and no ``day``."""
    columns = {}
    for name, (_, series) in zip(map(str, frame.columns), frame.items()):
        if name != "day":
            columns[name] = _clean_column(series)
    ordered = [c for c in FRONT if c in columns] + [c for c in columns if c not in FRONT]
    table = pa.Table.from_arrays([pa.array(columns[c]._values, from_pandas=True) for c in ordered], names=ordered)
    if "time" in table.column_names:
        index = table.column_names.index("time")
        table = table.set_column(index, "time", table.column("time").cast(pa.timestamp("us")))
    return table


def to_arrow_many(frames: dict[str, pd.DataFrame]) -> dict[str, pa.Table]:
    """``to_arrow`` of many frames at once, with the same result: frames of one signature (a
    thousand modules of a few collector types) are concatenated and converted together, then
    sliced apart (zero-copy) — pandas' per-call overhead paid once per signature, not per frame."""
    groups: dict[tuple, list[str]] = {}
    for name, frame in frames.items():
        groups.setdefault(_signature(frame), []).append(name)
    out = {}
    for names in groups.values():
        if len(names) == 1:
            out[names[0]] = to_arrow(frames[names[0]])
            continue
        table = to_arrow(pd.concat([frames[n] for n in names], ignore_index=True))
        offset = 0
        for name in names:
            out[name] = table.slice(offset, len(frames[name]))
            offset += len(frames[name])
    return {name: out[name] for name in frames}
