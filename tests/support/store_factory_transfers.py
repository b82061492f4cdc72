"""A small hand-built transfer store for the transfer views (``docs/transfers.md`` schemas).

Raw ``fts_complete`` and ``xrootd_close`` rows are listed by hand below and written through
``StoreWriter.write``; the statistics tables come from the real aggregation
(``hfpanel.transfers.aggregate``), raw → statistics, as in production. Sites resolve as the
aggregation does for hosts nobody mapped, to their domain (``se1.alpha.example`` →
``alpha.example``), except one host mapped to a hostile site name (VO ``ops``).

The numbers the tests check (window: 24 h ending ``END``):

* alpha → beta: 14 transfers, 9 successes (cms Production 8/10, atlas Analysis 1/4);
* beta → gamma: 5/5; gamma → alpha: 0/2 (cms Debug); beta → alpha 1/1 (the newest bin, 11:50);
  day 1 06:00 (outside the window): alpha → beta 6/6;
* errors: CONNECTION timeouts 3 (two site pairs), FILE_EXISTS 3 (atlas), NO_SUCH_FILE 1 with a
  ``<script>`` message; the hostile pair (VO ops): 3 failures, ``<script>`` category and message;
* XRootD: alpha 100 reads (5 GB, 7 clients) at 10:00 and 50 (1 GB, 4 clients) at 11:00; beta 10.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from hfpanel.store import StoreWriter

START = pd.Timestamp("2026-03-02 00:00:00")
DAY2 = START + pd.Timedelta(days=1)
END = DAY2 + pd.Timedelta(hours=12)  # the end of the newest bin
HOSTILE = "<script>alert(1)</script>"
HOSTILE_MESSAGE = 'open failed: <script>alert("x")</script> no such file'
TIMEOUT = "TRANSFER ERROR: Connection timed out after {} s"
TIMEOUT_PATTERN = "TRANSFER ERROR: Connection timed out after <n> s"
EXISTS = "DESTINATION file exists /store/data/{}.root"
EXISTS_PATTERN = "DESTINATION file exists <path>"


@dataclasses.dataclass
class TransferStore:
    root: Path
    raw: pd.DataFrame
    xrootd: pd.DataFrame


def _attempts(when, src, dst, vo, activity, n, ok, size=1_000_000_000, ms=10_000, error=None):
    """``n`` attempts of one pair at ``when``: the first ``ok`` succeed, the rest fail with ``error``
    = (scope, category, message, pattern) — message may hold ``{}``, filled with the attempt number."""
    rows = []
    for i in range(n):
        good = i < ok
        scope, category, message, pattern = error if not good else (None, None, None, None)
        rows.append(
            {
                "time": when + pd.Timedelta(seconds=30 * i),
                "vo": vo,
                "activity": activity,
                "src_hostname": f"se{i % 2 + 1}.{src}",
                "dst_hostname": f"door.{dst}",
                "state": "Ok" if good else "Error",
                "success": good,
                "file_size": size,
                "bytes": size if good else 0,
                "transfer_ms": ms,
                "error_scope": scope,
                "error_category": category,
                "error_message": message.format(300 * (i + 1)) if message else None,
                "error_pattern": pattern,
                "error_code": None if good else 70,
            }
        )
    return rows


def raw_rows() -> pd.DataFrame:
    at = DAY2 + pd.Timedelta(hours=10)
    timeout = ("TRANSFER", "CONNECTION", TIMEOUT, TIMEOUT_PATTERN)
    rows = (
        _attempts(at, "alpha.example", "beta.example", "cms", "Production", 10, 8, error=timeout)
        + _attempts(
            at + pd.Timedelta(minutes=20),
            "alpha.example",
            "beta.example",
            "atlas",
            "Analysis",
            4,
            1,
            size=500_000_000,
            error=("DESTINATION", "FILE_EXISTS", EXISTS, EXISTS_PATTERN),
        )
        + _attempts(
            at + pd.Timedelta(hours=1),
            "beta.example",
            "gamma.example",
            "cms",
            "Production",
            5,
            5,
            size=2_000_000_000,
            ms=20_000,
        )
        + _attempts(
            at + pd.Timedelta(minutes=40), "gamma.example", "alpha.example", "cms", "Debug", 1, 0, error=timeout
        )
        + _attempts(
            at + pd.Timedelta(minutes=41),
            "gamma.example",
            "alpha.example",
            "cms",
            "Debug",
            1,
            0,
            error=("SOURCE", "NO_SUCH_FILE", HOSTILE_MESSAGE, "open failed: <tag> no such file"),
        )
        + _attempts(START + pd.Timedelta(hours=6), "alpha.example", "beta.example", "cms", "Production", 6, 6)
        + _attempts(
            END - pd.Timedelta(minutes=10),
            "beta.example",
            "alpha.example",
            "cms",
            "Production",
            1,
            1,
            size=1000,
            ms=1000,
        )
        + hostile_rows()
    )
    frame = pd.DataFrame(rows)
    frame["time"] = frame["time"].astype("datetime64[us]")
    frame["t"] = (frame["time"] - pd.Timestamp(0)).dt.total_seconds().astype("int64")
    n = len(frame)
    frame = frame.assign(
        key=[f"fts1|job{i}|file{i}|{t}" for i, t in enumerate(frame["t"])],
        commit=1,
        received=frame["time"],
        endpnt="fts1.example",
        job_id=[f"job{i}" for i in range(n)],
        file_id=list(range(n)),
        src_se=["root://" + h for h in frame["src_hostname"]],
        dst_se=["davs://" + h for h in frame["dst_hostname"]],
        protocol="root",
        operation_ms=frame["transfer_ms"] + 500,
        throughput=[b / (ms / 1000) if b else None for b, ms in zip(frame["bytes"], frame["transfer_ms"])],
        error_phase=None,
        retry=0,
        retry_max=3,
        ipver="ipv6",
        src_rse=None,
        dst_rse=None,
        is_recoverable=~frame["success"],
    )
    return frame


def hostile_rows() -> list[dict]:
    """Three failed ops transfers from the host mapped to the hostile site name."""
    error = ("SOURCE", HOSTILE, HOSTILE, HOSTILE)
    return _attempts(
        DAY2 + pd.Timedelta(hours=11),
        "hostile.example",
        "beta.example",
        "ops",
        "Functional Test",
        3,
        0,
        size=0,
        ms=1000,
        error=error,
    )


def xrootd_rows() -> pd.DataFrame:
    rows = []
    for hours, site, records, read, clients in (
        (10, "alpha.example", 100, 5_000_000_000, 7),
        (11, "alpha.example", 50, 1_000_000_000, 4),
        (11, "beta.example", 10, 200_000_000, 2),
    ):
        for i in range(records):
            when = DAY2 + pd.Timedelta(hours=hours, seconds=i)
            start = int((when - pd.Timestamp(0)).total_seconds()) - 60
            rows.append(
                {
                    "time": when,
                    "format": "wlcg",
                    "server_site": "",
                    "server_host": f"xrootd.{site}",
                    "server_domain": site,
                    "client_host": f"wn{i % clients}.client.example",
                    "client_domain": "client.example",
                    "vo": "cms",
                    "user_protocol": "root",
                    "file_lfn": f"/store/{site}/{hours}/{i}.root",
                    "file_size": read // records,
                    "read_bytes": read // records,
                    "read_single_bytes": read // records,
                    "read_vector_bytes": 0,
                    "write_bytes": 0,
                    "operation": "read",
                    "start_s": start,
                    "end_s": start + 60,
                    "operation_time_s": 60.0,
                    "ipv6": True,
                    "unique_id": f"{site}-{hours}-{i}",
                }
            )
    frame = pd.DataFrame(rows)
    frame["time"] = frame["time"].astype("datetime64[us]")
    frame["t"] = (frame["time"] - pd.Timestamp(0)).dt.total_seconds().astype("int64")
    frame["key"] = [
        f"{r.server_host}|{r.client_host}|{r.file_lfn}|{r.start_s}|{r.end_s}|{r.read_bytes}|0"
        for r in frame.itertuples()
    ]
    return frame.assign(received=frame["time"])


def build_transfer_store(root) -> TransferStore:
    """Write the raw rows, then aggregate them with the real aggregation (one commit each)."""
    from hfpanel.transfers.aggregate import aggregate
    from hfpanel.transfers.sites import SiteResolver

    root = Path(root)
    raw, xrootd = raw_rows(), xrootd_rows()
    with StoreWriter(root) as writer:
        generation = writer.next_generation
        writer.write({"fts_complete": raw.assign(commit=generation), "xrootd_close": xrootd.assign(commit=generation)})
    aggregate(root, resolver=SiteResolver(hosts={"se1.hostile.example": HOSTILE, "se2.hostile.example": HOSTILE}))
    return TransferStore(root=root, raw=raw, xrootd=xrootd)


if __name__ == "__main__":  # python tests/support/store_factory_transfers.py DIR
    import sys

    info = build_transfer_store(sys.argv[1] if len(sys.argv) > 1 else "data/transfer-store")
    print(info.root, len(info.raw), "raw transfer rows,", len(info.xrootd), "XRootD records")
