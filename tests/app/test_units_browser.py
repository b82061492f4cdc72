"""Numbers in the served tables as people read them: every formatted cell in Chromium says what
``hfpanel.units`` says in Python (the formatter runs in the browser), and a click on a column's
header sorts by the raw value (1.6 GB before 12.3 TB, though "12.3 TB" < "950 MB" as text)."""

from __future__ import annotations

import pytest
from browser_support import served
from playwright.sync_api import expect
from store_factory_units import UNIT_ROWS, UNITS, build_units_store

from hfpanel.units import FORMATTERS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def units_server(tmp_path_factory):
    info = build_units_store(tmp_path_factory.mktemp("units") / "store")
    with served(info.root, tmp_path_factory.mktemp("serve-log") / "serve.log") as url:
        yield url


def column_texts(page, column: str) -> list[str]:
    return [t.strip() for t in page.locator(f'.tabulator-cell[tabulator-field="{column}"]').all_inner_texts()]


def test_table_cells_in_units_sorted_by_raw_values(page, units_server, shots):
    page.goto(f"{units_server}?module=dcache_pools")
    cells = page.locator('.tabulator-cell[tabulator-field="total_bytes"]')
    expect(cells).to_have_count(len(UNIT_ROWS))
    for column, unit in UNITS.items():
        raw = [row[column] for row in UNIT_ROWS]
        expected = [FORMATTERS[unit](v) for v in raw] if unit else None
        shown = column_texts(page, column)
        if expected is not None:
            assert shown == expected, column
        else:
            assert [float(t) for t in shown] == raw, f"{column}: a plain number stays as it is"
    assert column_texts(page, "total_bytes") == ["1.6 GB", "950 MB", "12.3 TB"]
    assert column_texts(page, "job_id") == ["123456789", "987654321", "5"], "ids without separators"
    page.locator('.tabulator-col[tabulator-field="total_bytes"] .tabulator-col-title').click()
    expect(cells.first).to_have_text("950 MB")
    assert column_texts(page, "total_bytes") == ["950 MB", "1.6 GB", "12.3 TB"], "sorted by bytes, not by text"
    page.screenshot(path=str(shots / "units-table.png"), full_page=True)
