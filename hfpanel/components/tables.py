"""How every table of the app shows its cells: numbers in their units, text as text.

A Tabulator cell keeps its raw value (sorting, the CSV and Parquet downloads and the notebooks see
1600000000, not "1.6 GB"); only what is drawn is formatted, in the browser, by a small template per
unit (``hfpanel.units``' rules, ported to JavaScript: 1.6 GB, 33.2 MB/s, 48s, 93.1%, ids without a
thousands separator). Text columns use Tabulator's escaping ``plaintext`` formatter: a cell from a
source is never HTML.
"""

from __future__ import annotations

import pandas as pd
from bokeh.models.widgets.tables import HTMLTemplateFormatter

from ..units import column_units

#: JavaScript (an Underscore template's code block) setting ``out`` from ``value``, per unit, as
#: ``hfpanel.units`` formats it in Python
_BYTES = (
    "var v = +value, u = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'], i = 0;"
    "while (Math.abs(v) >= 1000 && i < 5) { v /= 1000; i++ }"
    "var out = i ? Number(v.toPrecision(3)) + ' ' + u[i] : v.toFixed(0) + ' B';"
)
_DURATION = (
    "var out, m, h, d;"
    "if (s !== 0 && Math.abs(s) < 1) { out = Number(s.toPrecision(2)) + 's' } else {"
    " s = Math.round(s);"
    " if (s < 60) { out = s + 's' } else { m = Math.floor(s / 60);"
    "  if (m < 60) { out = m + 'm' } else { h = Math.floor(m / 60); m = m % 60;"
    "   if (h < 48) { out = h + 'h' + (m ? ' ' + m + 'm' : '') } else { d = Math.floor(h / 24); h = h % 24;"
    "    out = d + 'd' + (h ? ' ' + h + 'h' : '') } } } }"
)
_CODE = {
    "bytes": _BYTES,
    "rate": _BYTES + "out += '/s';",
    "seconds": "var s = +value;" + _DURATION,
    "millis": "var s = value / 1000;" + _DURATION,
    "percent": "var out = (100 * value).toFixed(1) + '%';",
    "id": "var out = String(value);",
}


def tick_code(unit: str) -> str | None:
    """The body of a Bokeh ``CustomJSTickFormatter`` labelling a plot's axis ticks in ``unit`` as the
    tables show it (``2.06 kB``, ``48s``); None for a unit whose ticks stay plain numbers."""
    return None if unit in (None, "id") or unit not in _CODE else f"var value = tick; {_CODE[unit]} return out;"


#: the column title's hover text per unit (the raw value's unit, for a reader of the download)
UNIT_NOTE = {
    "bytes": "bytes",
    "rate": "bytes per second",
    "seconds": "seconds",
    "millis": "milliseconds",
    "percent": "fraction 0…1",
}


def unit_formatter(unit: str) -> HTMLTemplateFormatter:
    """The cell formatter of a unit (``hfpanel.units.FORMATTERS``' keys)."""
    return HTMLTemplateFormatter(template=f"<% {_CODE[unit]} %><%- out %>")


def formatters(frame: pd.DataFrame) -> dict:
    """Tabulator ``formatters`` for ``frame``: a unit formatter per numeric column whose unit is
    known (``units.column_units``), ``plaintext`` for text."""
    out: dict = {}
    units = column_units(frame)
    for column in frame.columns:
        name = str(column)
        if name in units:
            out[name] = unit_formatter(units[name])
        elif not pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_datetime64_any_dtype(
            frame[column]
        ):
            out[name] = {"type": "plaintext"}
    return out
