"""ModuleView downloads: the detail table as shown, as CSV and as Parquet (no server needed)."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from store_factory import HOSTILE, build_store

from hfpanel.components import ModuleView
from hfpanel.components.module_view import BOOKKEEPING


@pytest.fixture(scope="module")
def info(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("downloads") / "store")


def as_shown(view) -> pd.DataFrame:
    return view.data.drop(columns=[c for c in BOOKKEEPING if c in view.data.columns]).reset_index(drop=True)


@pytest.mark.parametrize("module", ["sam_ce", "condor_nodes", "dcache_pools"])
def test_csv_download_is_the_table_as_shown(info, module):
    view = ModuleView(store=info.root, module=module)
    assert not view.data.empty
    back = pd.read_csv(io.BytesIO(view._csv.callback().getvalue()))
    pd.testing.assert_frame_equal(back, as_shown(view), check_dtype=False)
    assert view._csv.filename == f"{module}-rows-{info.times[-1].strftime('%Y%m%dT%H%M%S')}.csv"


def test_parquet_download_is_the_table_as_shown(info):
    view = ModuleView(store=info.root, module="condor_nodes")
    back = pd.read_parquet(io.BytesIO(view._parquet.callback().getvalue()))
    pd.testing.assert_frame_equal(back, as_shown(view))
    assert HOSTILE in set(back["node"])  # content is data, kept verbatim
    assert view._parquet.filename == f"condor_nodes-rows-{info.times[-1].strftime('%Y%m%dT%H%M%S')}.parquet"


def test_download_follows_the_viewed_time(info):
    view = ModuleView(store=info.root, module="sam_ce", time=info.times[1])
    back = pd.read_csv(io.BytesIO(view.csv_bytes().getvalue()))
    assert set(back["run"]) == {1}
    assert view._csv.filename.endswith(f"-{info.times[1].strftime('%Y%m%dT%H%M%S')}.csv")
    view.time = info.times[-1]
    back = pd.read_parquet(view.parquet_bytes())
    assert set(back["run"]) == {3}
    pd.testing.assert_frame_equal(back, as_shown(view))


def test_no_download_buttons_without_rows(info):
    view = ModuleView(store=info.root, module="sam_ce", time=info.times[0] - pd.Timedelta(hours=1))
    assert view.data.empty
    assert not view._csv.visible and not view._parquet.visible
