"""Tables show numbers as people read them (1.6 GB, 33.2 MB/s, 48s, ids without separators) and
keep the raw values for sorting and downloads; a column's unit comes from its name, checked
against its values."""

from __future__ import annotations

import pandas as pd
import pytest
from bokeh.models.widgets.tables import HTMLTemplateFormatter
from store_factory_units import UNIT_ROWS, UNITS, build_units_store

from hfpanel import units
from hfpanel.components import ModuleView


@pytest.fixture(scope="module")
def info(tmp_path_factory):
    return build_units_store(tmp_path_factory.mktemp("units") / "store")


def test_each_columns_unit_from_its_name_and_values():
    frame = pd.DataFrame(UNIT_ROWS)
    assert units.column_units(frame) == {c: u for c, u in UNITS.items() if u}
    assert units.unit_of("bytes_read") == "bytes" and units.unit_of("start_s") is None
    assert units.unit_of("error_code") == "id"


def test_one_bytes_formatter():
    """hfpanel.http's size messages use the units' formatter (there is one)."""
    from hfpanel import http

    assert http.format_bytes is units.format_bytes
    assert [units.format_bytes(v) for v in (1_600_000_000, 950, 12_300_000_000_000)] == ["1.6 GB", "950 B", "12.3 TB"]
    assert units.format_millis(48_200) == "48s" and units.format_seconds(190_800) == "2d 5h"


def test_the_module_view_formats_units_and_keeps_raw_values(info):
    view = ModuleView(store=info.root, module="dcache_pools")
    table = view._table
    assert list(table.value["total_bytes"]) == [r["total_bytes"] for r in UNIT_ROWS], "raw values in the table"
    for column, unit in UNITS.items():
        shown = table.formatters.get(column)
        if unit is None:
            assert shown is None, column
        else:
            assert isinstance(shown, HTMLTemplateFormatter) and "out" in shown.template, column
    assert table.formatters["pool"] == {"type": "plaintext"}, "text stays text"
    assert "1600000000" in view.csv_bytes().getvalue().decode(), "the download holds raw values"
