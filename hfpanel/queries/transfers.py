"""Cached loaders over the transfer statistics tables (``docs/transfers.md``).

Every answer is cached process-wide through ``loaders.cached`` (keyed by the store root, the
manifest stamp and the ``Filters``), so many sessions looking at the same matrix cost one query,
and a new aggregation commit changes the key. Queries read only the window's day partitions
(``store.scan``); filter values are bound parameters. Cached frames are shared: read-only.

Efficiency is ``successes / transfers``; throughput ``bytes / (duration_ms / 1000)`` of the sums.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import loaders
from .transfer_filters import ERRORS, STATS, XROOTD, Filters

COUNTS = ("transfers", "successes", "failures", "bytes", "duration_ms")
SUMS = ", ".join(f"CAST(sum({c}) AS BIGINT) AS {c}" for c in COUNTS)
MATRIX_COLUMNS = ["src_site", "dst_site", *COUNTS, "efficiency", "throughput"]
TIMELINE_COLUMNS = ["time", *COUNTS, "efficiency", "throughput"]
SITE_COLUMNS = [
    "site",
    "out_transfers",
    "out_failures",
    "out_efficiency",
    "out_bytes",
    "in_transfers",
    "in_failures",
    "in_efficiency",
    "in_bytes",
]
ERROR_COLUMNS = ["error_scope", "error_category", "error_pattern", "failures", "pairs", "example"]
XROOTD_SITE_COLUMNS = ["site", "records", "bytes_read", "bytes_written", "clients"]
XROOTD_TIME_COLUMNS = ["time", "site", "records", "bytes_read", "bytes_written", "clients"]


def with_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds ``efficiency`` and ``throughput`` (bytes/s; NaN without transfers or duration)."""
    transfers = frame["transfers"].astype(float)
    seconds = frame["duration_ms"].astype(float) / 1000.0
    return frame.assign(
        efficiency=np.where(transfers > 0, frame["successes"] / transfers.where(transfers > 0), np.nan),
        throughput=np.where(seconds > 0, frame["bytes"] / seconds.where(seconds > 0), np.nan),
    )


def _ints(frame: pd.DataFrame, columns) -> pd.DataFrame:
    return frame.astype({c: "int64" for c in columns if c in frame}) if not frame.empty else frame


def _stats(store, f: Filters, select: str, where: tuple[str, list], group: str) -> pd.DataFrame:
    clause, params = where
    table = STATS[f.grain]
    query = (
        f"SELECT {select}, {SUMS} FROM {store.scan(table, f.start, f.end)} WHERE {clause} "
        f"GROUP BY {group} ORDER BY {group}"
    )
    return _ints(store.sql(query, params).fillna({c: 0 for c in COUNTS}), COUNTS)


def matrix(store, f: Filters) -> pd.DataFrame:
    """One row per (source site, destination site) with counts, efficiency and throughput."""

    def compute():
        frame = _stats(store, f, "src_site, dst_site", f.clause(), "src_site, dst_site")
        return with_rates(frame)[MATRIX_COLUMNS]

    return loaders.cached("transfers.matrix", store, (f,), compute)


def timeline(store, f: Filters) -> pd.DataFrame:
    """One row per bin of the window (bins without transfers are zeros, throughput NaN)."""

    def compute():
        frame = _stats(store, f, "time", f.clause(), "time")
        frame["time"] = pd.to_datetime(frame["time"]).astype("datetime64[us]")
        full = pd.DataFrame({"time": f.bins().astype("datetime64[us]")})
        frame = full.merge(frame, on="time", how="left").fillna({c: 0 for c in COUNTS})
        return with_rates(_ints(frame, COUNTS))[TIMELINE_COLUMNS]

    return loaders.cached("transfers.timeline", store, (f,), compute)


def _directions(frame_out: pd.DataFrame, frame_in: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for prefix, frame in (("out", frame_out), ("in", frame_in)):
        frame = with_rates(frame).rename(columns={"site_": "site"})
        parts.append(
            frame[["site", "transfers", "failures", "efficiency", "bytes"]].rename(
                columns={c: f"{prefix}_{c}" for c in ("transfers", "failures", "efficiency", "bytes")}
            )
        )
    merged = parts[0].merge(parts[1], on="site", how="outer")
    counts = [c for c in merged if c.endswith(("_transfers", "_failures", "_bytes"))]
    return _ints(merged.fillna({c: 0 for c in counts}), counts)


def sites(store, f: Filters) -> pd.DataFrame:
    """One row per site: transfers out of it (as source) and into it (as destination), their
    failures, efficiency and volume; the busiest sites first. The site filter keeps its row only."""

    def compute():
        where = f.clause(site=False)
        out = _stats(store, f, "src_site AS site_", where, "site_")
        into = _stats(store, f, "dst_site AS site_", where, "site_")
        frame = _directions(out, into)
        if f.site:
            frame = frame[frame["site"] == f.site]
        frame = frame.assign(_total=frame["out_transfers"] + frame["in_transfers"])
        frame = frame.sort_values(["_total", "site"], ascending=[False, True]).drop(columns="_total")
        return frame[SITE_COLUMNS].reset_index(drop=True)

    return loaders.cached("transfers.sites", store, (f,), compute)


def site_history(store, f: Filters, site: str) -> pd.DataFrame:
    """One site over the window: per bin and direction ("in"/"out") the counts and rates."""

    def compute():
        where, params = f.clause(site=False)
        frames = []
        for direction, column in (("out", "src_site"), ("in", "dst_site")):
            frame = _stats(store, f, "time", (f"{where} AND {column} = ?", [*params, site]), "time")
            frame["time"] = pd.to_datetime(frame["time"]).astype("datetime64[us]")
            full = pd.DataFrame({"time": f.bins().astype("datetime64[us]")})
            frame = _ints(full.merge(frame, on="time", how="left").fillna({c: 0 for c in COUNTS}), COUNTS)
            frames.append(with_rates(frame).assign(direction=direction))
        return pd.concat(frames, ignore_index=True)[["time", "direction", *TIMELINE_COLUMNS[1:]]]

    return loaders.cached("transfers.site_history", store, (f, site), compute)


def errors(store, f: Filters, src: str | None = None, dst: str | None = None) -> pd.DataFrame:
    """Failures per (scope, category, pattern) over the window, most frequent first, with the
    number of site pairs it hit and one full example message. ``src``/``dst`` narrow to one pair.
    The 10-minute error table is read for every window (there is no daily one)."""

    def compute():
        clause, params = f.clause()
        for column, value in (("src_site", src), ("dst_site", dst)):
            if value is not None:
                clause, params = f"{clause} AND {column} = ?", [*params, value]
        query = (
            f"SELECT coalesce(error_scope, '') AS error_scope, coalesce(error_category, '') AS error_category, "
            f"coalesce(error_pattern, '') AS error_pattern, CAST(sum(failures) AS BIGINT) AS failures, "
            f"count(DISTINCT src_site || chr(10) || dst_site) AS pairs, arg_max(example, failures) AS example "
            f"FROM {store.scan(ERRORS, f.start, f.end)} WHERE {clause} GROUP BY ALL "
            f"ORDER BY failures DESC, error_category, error_pattern"
        )
        return _ints(store.sql(query, params), ("failures", "pairs"))[ERROR_COLUMNS]

    return loaders.cached("transfers.errors", store, (f, src, dst), compute)


def options(store, f: Filters) -> dict[str, list[str]]:
    """The VOs, activities and sites present in the window (for the filter widgets)."""

    def compute():
        table = STATS[f.grain]
        clause, params = Filters(f.start, f.end, f.grain).clause()
        found = {}
        for name, expression in (("vo", "vo"), ("activity", "activity"), ("site", "src_site"), ("dst", "dst_site")):
            if not store.has_table(table):
                found[name] = []
                continue
            rows = store.sql(
                f"SELECT DISTINCT {expression} AS v FROM {store.scan(table, f.start, f.end)} "
                f"WHERE {clause} AND {expression} IS NOT NULL",
                params,
            )
            found[name] = sorted(str(v) for v in rows["v"])
        xroot = XROOTD[f.grain]
        if store.has_table(xroot):
            rows = store.sql(
                f"SELECT DISTINCT site AS v FROM {store.scan(xroot, f.start, f.end)} "
                f"WHERE {clause} AND site IS NOT NULL",
                params,
            )
            found["site"] += [str(v) for v in rows["v"]]
        found["site"] = sorted(set(found["site"]) | set(found.pop("dst")))
        return found

    return loaders.cached("transfers.options", store, (f,), compute)


def xrootd_sites(store, f: Filters) -> pd.DataFrame:
    """Per site: file-close records (reads), bytes read and written, and ``clients`` = the most
    distinct client hosts seen in one bin (distinct hosts do not add up across bins)."""
    return loaders.cached("transfers.xrootd_sites", store, (f,), lambda: _xrootd(store, f, by_time=False))


def xrootd_timeline(store, f: Filters) -> pd.DataFrame:
    """Per bin and site: records, bytes read/written and distinct clients (summed over VO and operation)."""
    return loaders.cached("transfers.xrootd_timeline", store, (f,), lambda: _xrootd(store, f, by_time=True))


def _xrootd(store, f: Filters, by_time: bool) -> pd.DataFrame:
    clause, params = f.clause(site_columns=("site",), activity=False)
    per_bin = (
        f"SELECT time, site, CAST(sum(records) AS BIGINT) AS records, CAST(sum(bytes_read) AS BIGINT) AS "
        f"bytes_read, CAST(sum(bytes_written) AS BIGINT) AS bytes_written, "
        f"CAST(sum(clients) AS BIGINT) AS clients FROM {store.scan(XROOTD[f.grain], f.start, f.end)} "
        f"WHERE {clause} GROUP BY time, site"
    )
    counts = ("records", "bytes_read", "bytes_written", "clients")
    if by_time:  # every site gets every bin of the window: an idle bin is a zero, not a line across it
        frame = store.sql(f"{per_bin} ORDER BY site, time", params)
        frame["time"] = pd.to_datetime(frame["time"]).astype("datetime64[us]")
        grid = pd.MultiIndex.from_product(
            [sorted(frame["site"].unique()), f.bins().astype("datetime64[us]")], names=["site", "time"]
        )
        frame = frame.set_index(["site", "time"]).reindex(grid).reset_index()
        return _ints(frame.fillna({c: 0 for c in counts}), counts)[XROOTD_TIME_COLUMNS]
    query = (
        f"SELECT site, CAST(sum(records) AS BIGINT) AS records, CAST(sum(bytes_read) AS BIGINT) AS bytes_read, "
        f"CAST(sum(bytes_written) AS BIGINT) AS bytes_written, CAST(max(clients) AS BIGINT) AS clients "
        f"FROM ({per_bin}) GROUP BY site ORDER BY records DESC, site"
    )
    return _ints(store.sql(query, params).fillna({c: 0 for c in counts}), counts)[XROOTD_SITE_COLUMNS]
