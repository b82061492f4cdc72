"""The availability page's component in-process: the month's figures, bars and strip, the table,
corrections escaped, downloads, the URL; a bad month is a note, never a traceback."""

import io
import json

import pandas as pd
import pytest
from panel.io.location import Location
from panes import html_of
from pypdf import PdfReader
from store_factory_reports import build_ar_store

from hfpanel.availability import corrections
from hfpanel.components.availability import AvailabilityView
from hfpanel.store import StoreWriter

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    built = build_ar_store(tmp_path_factory.mktemp("avail") / "store")
    frame = corrections.correction_row(
        "exclusion", "2026-11-03T05:00", "2026-11-03T07:00", "sam_ce", f"probe fault {HOSTILE} $x$", "dana"
    )
    with StoreWriter(built.root) as writer:
        corrections.record(writer, frame)
    return built.root


def test_the_month_is_shown_with_figures_bars_strip_and_corrections(root):
    view = AvailabilityView(store=root, month="2026-11")
    assert view.failure is None
    site = view.report.result.site()
    assert round(100 * site["availability"], 2) == round(100 * 5 / 16.5, 2)  # 2 of the 9 critical hours excluded
    html = html_of(view)
    assert "availability and reliability, November 2026" in html
    assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    bars = view._bars.object
    assert len(bars.renderers) == 3 and len(bars.renderers[0].data_source.data["day"]) == 30
    strip = view._strip.object
    assert list(strip.y_range.factors)[-1] == "site: wlcg"  # the site on top
    assert set(view._table.value["scope"]) == {"site", "group", "module"}


def test_downloads_hold_the_same_report(root):
    view = AvailabilityView(store=root, month="2026-11")
    frame = pd.read_csv(io.BytesIO(view.csv_bytes().getvalue()))
    assert set(frame["period"]) >= {"2026-11", "2026-11-03"}
    document = json.loads(view.json_bytes().getvalue())
    assert document["profile"] == "wlcg" and document["corrections"][0]["who"] == "dana"
    pdf = PdfReader(io.BytesIO(view.pdf_bytes().getvalue()))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "availability and reliability, November 2026" in text
    assert "probe fault" in text and "dana" in text


def test_month_and_profile_live_in_the_url_and_a_bad_month_is_a_note(root):
    location = Location(search="?month=2026-13")
    view = AvailabilityView(store=root)
    view.sync_url(location)
    assert view.month == "" and "not a month: &#x27;2026-13&#x27;" in html_of(view)
    location.search = "?month=2026-11&profile=wlcg"
    assert view.month == "2026-11" and view.report.profile == "wlcg"
    view.profile = "nope"
    assert view.failure is None and "no availability profile &#x27;nope&#x27;" in html_of(view)


def test_a_month_without_runs_is_unknown_not_green(root):
    view = AvailabilityView(store=root, month="2026-10")
    assert "Nothing to report" in html_of(view) or "unknown" in html_of(view)
    site = view.report.result.site()
    assert site is None or pd.isna(site["availability"])
