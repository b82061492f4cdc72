"""What the matrix shows for the pair a shifter clicked: its numbers, its top errors (from
``transfer_errors_10m``) and its newest raw transfer attempts (``fts_complete``). Site names and
messages come from sources: everything put into HTML here is escaped."""

from __future__ import annotations

import pandas as pd

from ...queries import transfer_pairs as pairs
from ...queries import transfers as queries
from ...queries.transfer_filters import ERRORS, Filters
from ..style import esc
from .errors import errors_html
from .formats import fmt_bytes, fmt_percent, fmt_rate

NO_RAW = (
    "no raw transfer rows of this pair in the window (raw rows are kept for less time than statistics, "
    "or its hosts resolve to other sites)"
)


def pair_detail(
    store, f: Filters, src: str, dst: str, cell: pd.Series | None, resolve
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(the pair's errors, its raw rows, the HTML above the rows' table) for ``src`` → ``dst``;
    ``cell`` is the pair's matrix row (None when it had no transfers in the window)."""
    numbers = (
        "no transfers in this window"
        if cell is None
        else f"{int(cell['transfers'])} transfers, {int(cell['failures'])} failed, efficiency "
        f"{fmt_percent(cell['efficiency'])}, {fmt_bytes(cell['bytes'])}, {fmt_rate(cell['throughput'])}"
    )
    errors = (
        queries.errors(store, f, src, dst) if store.has_table(ERRORS) else pd.DataFrame(columns=queries.ERROR_COLUMNS)
    )
    rows = (
        pairs.pair_transfers(store, f, src, dst, resolve)
        if store.has_table(pairs.RAW)
        else pd.DataFrame(columns=list(pairs.SHOWN))
    )
    raw = f"{len(rows)} newest raw transfer attempts (fts_complete)" if not rows.empty else NO_RAW
    html = (
        f'<div class="hf-pair" data-src="{esc(src)}" data-dst="{esc(dst)}">'
        f'<h3 style="margin:6px 0">{esc(src)} → {esc(dst)}</h3><div>{esc(numbers)}</div>'
        f'<h4 style="margin:8px 0 2px 0">Top errors of this pair</h4>{errors_html(errors, limit=10)}'
        f'<h4 style="margin:8px 0 2px 0">Transfers</h4><div class="hf-small hf-muted">{esc(raw)}</div></div>'
    )
    return errors, rows, html
