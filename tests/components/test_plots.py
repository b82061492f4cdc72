"""The PlotBuilder and its queries: the numbers per bin, percentiles, groups, rejected names, the
settings and URL round trips and the CSV download. No server: built in-process over a small store
of three days written straight through ``StoreWriter.write`` (``store_factory_plots.py``)."""

from __future__ import annotations

import io
import json

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import pytest
from panel.io.location import Location
from store_factory_plots import CRITICAL_FROM, CRITICAL_UNTIL, HOSTS, START, WARNING_AT, build_plot_store

from hfpanel.components.plots import PlotBuilder, plot
from hfpanel.queries import loaders
from hfpanel.queries import series as S

DAY2 = START + pd.Timedelta(days=1)
END = START + pd.Timedelta(days=3) - pd.Timedelta(minutes=30)  # the last run


@pytest.fixture(scope="module")
def info(tmp_path_factory):
    return build_plot_store(tmp_path_factory.mktemp("plots") / "store")


@pytest.fixture(scope="module")
def store(info):
    return loaders.shared_store(info.root)


def expected_metric(info, module, metric, start, end, freq, how) -> pd.Series:
    """What the binned query must give, computed with pandas from the rows the factory wrote."""
    rows = info.metrics[(info.metrics["module"] == module) & (info.metrics["metric"] == metric)]
    rows = rows[(rows["time"] >= start) & (rows["time"] <= end)]
    grouped = rows.groupby(rows["time"].dt.floor(freq))["value"]
    return _agg(grouped, how)


def _agg(grouped, how):
    quantiles = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
    if how in quantiles:
        return grouped.quantile(quantiles[how])  # linear interpolation, as DuckDB's quantile_cont
    return getattr(grouped, how)()


def as_series(frame: pd.DataFrame) -> pd.Series:
    return frame.set_index("time")["value"]


# -- the numbers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("agg", ["mean", "sum", "max", "min"])
@pytest.mark.parametrize("bin_name,freq", [("1h", "1h"), ("1d", "1D")])
def test_metric_per_bin_equals_pandas(info, store, agg, bin_name, freq):
    builder = plot(store, series=["pool:load"], start=START, end=END, bin=bin_name, agg=agg)
    assert builder.error == ""
    assert builder.bin_used == bin_name
    want = expected_metric(info, "pool", "load", START, END, freq, "mean" if agg == "mean" else agg)
    got = as_series(builder.data)
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9)
    counts = info.metrics[(info.metrics["metric"] == "load")].groupby(info.metrics["time"].dt.floor(freq)).size()
    assert list(builder.data["count"]) == list(counts.loc[got.index])
    assert set(builder.data["series"]) == {"pool:load"} and set(builder.data["group"]) == {""}


@pytest.mark.parametrize("agg", ["p50", "p90", "p99"])
def test_percentiles_are_quantile_cont(info, store, agg):
    start, end = DAY2, DAY2 + pd.Timedelta(hours=23, minutes=30)
    builder = plot(store, series=["door:latency"], start=start, end=end, bin="1d", agg=agg)
    want = expected_metric(info, "door", "latency", start, end, "1D", agg)
    assert len(builder.data) == 1
    assert builder.data["value"].iloc[0] == pytest.approx(want.iloc[0], rel=1e-9)
    # and a percentile is not the mean: the numbers really are different aggregates
    mean = expected_metric(info, "door", "latency", start, end, "1D", "mean").iloc[0]
    assert builder.data["value"].iloc[0] != pytest.approx(mean, rel=1e-6)


def test_week_bins_start_on_monday(info, store):
    builder = plot(store, series=["pool:queue"], start=START, end=END, bin="1w", agg="sum")
    assert list(builder.data["time"]) == [START]  # 2026-03-02 is a Monday
    assert builder.data["value"].iloc[0] == pytest.approx(
        info.metrics.loc[info.metrics["metric"] == "queue", "value"].sum()
    )


def test_window_before_end_and_the_viewed_time(info, store):
    builder = plot(store, series=["pool:load"], window="6h", bin="1h")
    start, end = builder.window_range()
    assert end == END and start == END - pd.Timedelta(hours=6)  # end defaults to the latest run
    # bins are labelled by their start: the first one (17:00) holds the window's 17:30 run only
    assert builder.data["time"].min() == start.floor("1h") and builder.data["time"].max() == END.floor("1h")
    assert builder.data["count"].iloc[0] == 1
    builder.set_window("2026-03-03 06:00", "2026-03-03T12:00:00Z")
    assert builder.window_range() == (DAY2 + pd.Timedelta(hours=6), DAY2 + pd.Timedelta(hours=12))
    builder.set_window(window="6h")
    assert builder.window_range() == (END - pd.Timedelta(hours=6), END)
    builder.time = DAY2 + pd.Timedelta(hours=12)  # a viewed time in the past moves the window's end
    assert builder.window_range() == (DAY2 + pd.Timedelta(hours=6), DAY2 + pd.Timedelta(hours=12))
    want = expected_metric(
        info, "pool", "load", DAY2 + pd.Timedelta(hours=6), DAY2 + pd.Timedelta(hours=12), "1h", "mean"
    )
    np.testing.assert_allclose(as_series(builder.data).to_numpy(), want.to_numpy())


@pytest.mark.parametrize(
    "window,bin_name", [("6h", "15min"), ("24h", "15min"), ("7d", "15min"), ("30d", "1h"), ("365d", "1d")]
)
def test_auto_bin_keeps_a_year_under_2000_points(store, window, bin_name):
    builder = plot(store, series=["pool:load"], window=window)
    assert builder.error == ""
    assert builder.bin_used == bin_name
    start, end = builder.window_range()
    assert (end - start) / pd.Timedelta(S.BIN_INTERVALS[bin_name]) <= S.MAX_POINTS
    assert builder.data["time"].is_monotonic_increasing


def test_too_many_points_for_an_explicit_bin_is_refused(store):
    builder = plot(store, series=["pool:load"], window="365d", bin="15min")
    assert builder.data.empty
    assert "35040 points" in builder.error and "coarser bin" in builder.error


def test_group_by_host_gives_one_series_per_host(info, store):
    builder = plot(store, series=["pool.rows:free"], start=START, end=END, bin="1d", agg="max", group_by="host")
    assert builder.error == ""
    assert sorted(builder.data["group"].unique()) == list(HOSTS)
    assert sorted(builder.data["label"].unique()) == list(HOSTS)  # one series: the host names the curve
    detail = info.detail
    want = detail.groupby([detail["time"].dt.floor("1D"), "host"])["free"].max()
    got = builder.data.set_index(["time", "group"])["value"]
    for (time, host), value in want.items():
        assert got.loc[(time, host)] == pytest.approx(value)
    assert hv.render(builder.plot_object()) is not None


def test_two_grouped_series_are_told_apart(store):
    builder = plot(
        store, series=["pool.rows:free", "pool.rows:jobs", "pool:load"], window="24h", bin="1h", group_by="host"
    )
    labels = set(builder.data["label"])
    assert {"pool.rows:free [h1]", "pool.rows:jobs [h3]", "pool:load"} <= labels  # a metric is not grouped
    assert len(labels) == 2 * len(HOSTS) + 1


def test_max_groups_keeps_the_groups_with_most_samples(store):
    builder = plot(store, series=["pool.rows:free"], start=START, end=END, bin="1d", group_by="host", max_groups=2)
    assert sorted(builder.data["group"].unique()) == ["h1", "h2"]  # equal counts: ties go by name


def test_per_run_combines_the_rows_of_a_run_first(info, store):
    builder = plot(store, series=["pool.rows:free"], start=START, end=END, bin="1d", agg="mean", per_run="sum")
    detail = info.detail
    per_run = detail.groupby("time")["free"].sum()
    want = per_run.groupby(per_run.index.floor("1D")).mean()
    np.testing.assert_allclose(as_series(builder.data).to_numpy(), want.to_numpy())
    counted = plot(store, series=["pool.rows:jobs"], start=START, end=END, bin="1d", per_run="count", agg="max")
    assert set(counted.data["value"]) == {3.0}  # three hosts per run


def test_column_with_a_space_and_integer_column(info, store):
    builder = plot(
        store,
        series=["pool.rows:Hit ratio", "pool.rows:jobs"],
        start=DAY2,
        end=DAY2 + pd.Timedelta(hours=23, minutes=30),
        bin="1d",
        agg="min",
    )
    got = builder.data.set_index("series")["value"]
    day = info.detail[info.detail["time"].dt.normalize() == DAY2]
    assert got["pool.rows:Hit ratio"] == pytest.approx(day["Hit ratio"].min())
    assert got["pool.rows:jobs"] == day["jobs"].min()


# -- what is refused ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "key,message",
    [
        ("pool.rows:nope", "unknown column 'nope' in detail__pool__rows (numeric columns: free, jobs, Hit ratio)"),
        ("pool.rows:state", "column 'state' of detail__pool__rows is VARCHAR, not numeric"),
        ('pool.rows:free" FROM metrics; DROP VIEW metrics; --', "unknown column 'free\" FROM metrics; DROP VIEW"),
        ("pool.rows:time", "unknown column 'time'"),
        ("pool:nope", "unknown series 'pool:nope' (metrics of 'pool': load, queue)"),
        ("nope.rows:free", "the store has no detail table 'rows' of module 'nope'"),
        ("pool", "not a series: 'pool'"),
    ],
)
def test_bad_names_are_rejected_with_a_clear_error(store, key, message):
    with pytest.raises(S.SeriesError) as error:
        S.series_frame(store, key, START, END, "1h")
    assert message in str(error.value)
    builder = plot(store, series=[key], window="24h")  # the component shows it instead of raising
    assert builder.data.empty and message in builder.error
    with pytest.raises(S.SeriesError):
        builder.compute()
    assert store.has_table("metrics") and not store.sql("SELECT count(*) AS n FROM metrics")["n"].iloc[0] == 0


def test_bad_group_and_options_are_rejected(store):
    with pytest.raises(S.SeriesError, match=r"cannot group 'pool.rows:free' by 'x\" OR 1=1'.*host, state"):
        S.series_frame(store, "pool.rows:free", START, END, "1h", group_by='x" OR 1=1')
    with pytest.raises(S.SeriesError, match="unknown aggregate 'median'"):
        S.series_frame(store, "pool:load", START, END, "1h", agg="median")
    with pytest.raises(S.SeriesError, match="unknown bin '5min'"):
        S.series_frame(store, "pool:load", START, END, "5min")
    builder = plot(store, series=["pool:load"], group_by="host")
    assert "needs a detail-table series" in builder.error
    with pytest.raises(ValueError):
        PlotBuilder(store=store, agg="median")  # a Selector parameter refuses it outright
    assert "not a duration" in plot(store, series=["pool:load"], window="a while").error
    assert "window is empty" in plot(store, series=["pool:load"], start=END, end=START).error


def test_only_the_windows_partitions_are_read(store, monkeypatch):
    """The data queries name only the files of the window's days (Store.scan), never the whole table."""
    loaders.clear_cache()
    queries = []
    original = store.sql
    monkeypatch.setattr(
        store, "sql", lambda query, params=None: queries.append((query, params)) or original(query, params)
    )
    frame = S.series_frame(store, "pool:load", DAY2 + pd.Timedelta(days=1), END, "1h")
    assert len(frame) == 24
    S.series_frame(store, "pool.rows:free", DAY2 + pd.Timedelta(days=1), END, "1h", group_by="host")
    data_queries = [(q, p) for q, p in queries if "time_bucket" in q]
    assert len(data_queries) == 2
    for query, params in data_queries:
        assert "day=2026-03-04" in query and "day=2026-03-02" not in query and "day=2026-03-03" not in query
        # values are bound; the only literal is the store's own filter of a packed detail table
        assert query.count("'pool'") == query.count("module = 'pool'") and "'load'" not in query and "pool" in params


def test_available_series_lists_metrics_and_numeric_detail_columns(store):
    available = S.available_series(store)
    assert list(available["series"]) == [
        "door:latency",
        "pool:load",
        "pool:queue",
        "pool.rows:free",
        "pool.rows:Hit ratio",
        "pool.rows:jobs",
    ]
    assert "pool.rows:state" not in set(available["series"])  # text is not plotted…
    groups = available.set_index("series").loc["pool.rows:free", "groups"]
    assert groups[:2] == ("host", "state")  # …but grouped by, text columns first
    assert S.available_series(store) is available  # cached


# -- the status overlay ----------------------------------------------------------------------------
def test_overlay_status_marks_the_level_changes(store):
    builder = plot(store, series=["pool:load", "door:latency"], start=DAY2, end=END, overlay_status=True)
    spans = builder.status
    pool = spans[spans["module"] == "pool"].reset_index(drop=True)
    assert list(pool["level"]) == ["ok", "critical", "ok", "warning", "ok"]
    critical = pool.iloc[1]
    assert (critical["start"], critical["end"]) == (CRITICAL_FROM, CRITICAL_UNTIL)
    assert critical["runs"] == 4
    assert (pool.iloc[3]["start"], pool.iloc[3]["end"]) == (WARNING_AT, WARNING_AT + pd.Timedelta(minutes=30))
    assert pool.iloc[0]["start"] == DAY2 and pool.iloc[-1]["end"] == END
    assert list(spans.loc[spans["module"] == "door", "level"]) == ["ok"]
    rendered = hv.render(builder.plot_object())
    assert rendered is not None
    spans_shown = [e for e in builder.plot_object() if isinstance(e, hv.VSpans)]
    assert len(spans_shown) == 2  # critical and warning (ok stays clear)
    html = builder._summary.object
    assert "pool critical" in html and "pool warning" in html
    builder.overlay_status = False
    assert builder.status.empty


@pytest.mark.parametrize("kind", ["line", "area", "bar", "heatmap"])
def test_every_kind_renders_with_hover(store, kind):
    builder = plot(
        store, series=["pool.rows:free"], group_by="host", window="24h", bin="1h", kind=kind, overlay_status=True
    )
    figure = hv.render(builder.plot_object())
    tools = {type(t).__name__ for t in figure.tools}
    assert "HoverTool" in tools and "WheelZoomTool" in tools
    hover = next(t for t in figure.tools if type(t).__name__ == "HoverTool")
    assert any(name == "time" for name, _ in hover.tooltips)


def test_empty_and_no_series_render(store):
    builder = PlotBuilder(store=store)
    assert builder.data.empty and builder.error == ""
    assert hv.render(builder.plot_object()) is not None
    later = plot(store, series=["pool:load"], start=END + pd.Timedelta(days=10), end=END + pd.Timedelta(days=11))
    assert later.data.empty and later.error == ""


# -- reproducible ----------------------------------------------------------------------------------
def test_settings_round_trip(store):
    builder = plot(
        store,
        series=["pool.rows:free", "pool:queue"],
        window="7d",
        group_by="host",
        agg="p90",
        per_run="",
        kind="bar",
        overlay_status=True,
        max_groups=5,
    )
    settings = json.loads(json.dumps(builder.settings()))  # JSON-friendly
    again = PlotBuilder.from_settings(store, settings)
    assert again.settings() == builder.settings()
    pd.testing.assert_frame_equal(again.data, builder.data)
    pinned = builder.settings(pin=True)
    assert pinned["start"] == "2026-02-25T23:30:00" and pinned["end"] == "2026-03-04T23:30:00"
    pd.testing.assert_frame_equal(PlotBuilder.from_settings(store, pinned).data, builder.data)
    with pytest.raises(ValueError, match="unknown plot settings: colour"):
        PlotBuilder.from_settings(store, {**settings, "colour": "red"})
    namespace = {"store": store}
    exec(builder.code(), namespace)  # the "reproduce in a notebook" snippet draws the same data
    pd.testing.assert_frame_equal(namespace["builder"].data, builder.data)


def test_url_params_round_trip(store):
    builder = plot(
        store,
        series=["pool.rows:Hit ratio", "pool:load"],
        start=DAY2,
        end=END,
        bin="1h",
        agg="p99",
        group_by="host",
        kind="heatmap",
        overlay_status=True,
    )
    params = builder.url_params()
    assert params == {
        "series": "pool.rows:Hit ratio,pool:load",
        "start": "2026-03-03T00:00:00",
        "end": "2026-03-04T23:30:00",
        "group_by": "host",
        "bin": "1h",
        "agg": "p99",
        "kind": "heatmap",
        "overlay": "1",
    }
    assert all(isinstance(v, str) for v in params.values())
    fresh = PlotBuilder(store=store)
    fresh.apply_url_params(params)
    assert fresh.settings() == builder.settings()
    pd.testing.assert_frame_equal(fresh.data, builder.data)
    fresh.apply_url_params({})  # no query: every default again
    assert fresh.settings() == PlotBuilder(store=store).settings() and fresh.url_params() == {}
    odd = plot(store, series=["pool.rows:a,b"], window="24h")  # a comma in a name: JSON form
    assert json.loads(odd.url_params()["series"]) == ["pool.rows:a,b"]
    again = PlotBuilder(store=store)
    again.apply_url_params(odd.url_params())
    assert again.series == ["pool.rows:a,b"]
    with pytest.raises(ValueError, match="URL parameter 'agg'"):
        fresh.apply_url_params({"agg": "median"})
    with pytest.raises(ValueError, match="URL parameter 'start'"):
        fresh.apply_url_params({"start": "yesterday-ish"})
    assert "series=pool%3Aload" in plot(store, series=["pool:load"]).link("/plots")


def test_sync_url_keeps_the_view_in_the_location(store):
    location = Location(
        search="?series=pool.rows%3Afree&window=7d&agg=max&overlay=1&max_groups=2&group_by=host&module=sam_ce"
    )
    builder = PlotBuilder(store=store)
    builder.sync_url(location)
    assert builder.settings() == {
        **PlotBuilder(store=store).settings(),
        "series": ["pool.rows:free"],
        "window": "7d",
        "agg": "max",
        "overlay_status": True,
        "max_groups": 2,
        "group_by": "host",
    }
    assert builder.data["group"].nunique() == 2 and not builder.status.empty
    builder.kind = "bar"
    assert location.query_params.get("kind") == "bar"
    builder.param.update(kind="line", overlay_status=False)  # back to defaults: the keys leave the URL
    assert "kind=" not in location.search and "overlay=" not in location.search
    assert "module=sam_ce" in location.search  # other keys (the dashboard's) are left alone
    assert "window=7d" in location.search and "series=pool.rows%3Afree" in location.search
    location.search = "?series=pool%3Aload&agg=nonsense"
    assert "URL parameter 'agg'" in builder.error  # reported, not raised; the view stays


def test_csv_download_is_the_data(store):
    builder = plot(store, series=["pool.rows:free"], window="24h", bin="1h", group_by="host")
    download = builder.__panel__().select(pn.widgets.FileDownload)[0]
    assert download.filename == builder.csv_filename()
    assert download.filename.startswith("hfpanel_pool-rows-free_") and download.filename.endswith(".csv")
    text = download.callback().getvalue()
    assert text.splitlines()[0] == "time,series,group,label,value,count"
    frame = pd.read_csv(io.StringIO(text), parse_dates=["time"])
    assert len(frame) == len(builder.data) == 3 * 25  # 24 h from 23:30: 25 hour bins per host
    np.testing.assert_allclose(frame["value"], builder.data["value"])
    assert list(frame["group"]) == list(builder.data["group"])
    assert (frame["time"] == builder.data["time"].astype("datetime64[ns]")).all()


def test_widgets_drive_the_parameters(store):
    builder = PlotBuilder(store=store)
    assert "pool.rows:free" in builder._w_series.options
    builder._w_series.value = ["pool.rows:free"]
    assert builder.series == ["pool.rows:free"] and not builder.data.empty
    assert builder._w_group.options == {
        "(none)": "",
        "host": "host",
        "state": "state",
        "free": "free",
        "jobs": "jobs",
        "Hit ratio": "Hit ratio",
    }
    builder._w_group.value = "host"
    assert builder.data["group"].nunique() == 3
    builder._w_agg.value = "max"
    builder._w_window.value = "7d"
    builder._w_start.value = "2026-03-03 00:00"
    assert builder.start == DAY2 and builder._w_window.disabled
    builder._w_start.value = "not a time"
    assert "not a time" in builder.error
    builder.kind = "area"  # and the parameters drive the widgets
    assert builder._w_kind.value == "area"


def test_pinned_settings_keep_the_window_drawn_while_runs_land(tmp_path):
    """A plot drawn at "now", pinned after another run landed, still names the window drawn."""
    from store_factory import build_store

    from hfpanel.runner import Runner
    from hfpanel.store import Store, StoreWriter

    site = build_store(tmp_path / "store")
    store = Store(site.root)
    builder = plot(store, series=["sam_ce:health"], window="6h")
    drawn = builder.data.copy()
    with StoreWriter(site.root) as writer:
        Runner(site.config).run_once(writer, now=site.times[-1] + pd.Timedelta(minutes=30), force=True)
    pinned = builder.settings(pin=True)
    assert pinned["end"] == site.times[-1].isoformat()
    pd.testing.assert_frame_equal(PlotBuilder.from_settings(store, pinned).data, drawn)


# -- the default window and the axes ---------------------------------------------------------------
def test_the_default_window_fits_the_data_there_is(store, tmp_path):
    """Three days of data: the builder opens on the three days (not the last 24 hours); with no
    series it shows the last day; a window given is kept."""
    builder = PlotBuilder(store=store, series=["pool:load"])
    assert builder.window == "auto" and builder.window_range() == (START, END)
    assert builder.data["time"].min() == START and builder.error == ""
    assert plot(store, series=["pool:load"]).window_range() == (START, END)
    assert PlotBuilder(store=store).window_range() == (END - pd.Timedelta(hours=24), END)
    assert plot(store, series=["pool:load"], window="6h").window_range() == (END - pd.Timedelta(hours=6), END)
    later = PlotBuilder(store=store, series=["pool:load"], time=DAY2)  # time travel: the data up to then
    assert later.window_range() == (START, DAY2)
    assert (
        "window" not in builder.url_params()
        and plot(store, series=["pool:load"], window="7d").url_params()["window"] == "7d"
    )
    pasted = PlotBuilder(store=store)
    pasted.apply_url_params({"series": "pool:load", "window": "auto"})
    assert pasted.window == "auto" and pasted.error == ""


@pytest.mark.parametrize("kind", ["line", "area", "bar"])
def test_two_units_get_two_y_axes(store, kind):
    """Bytes (``free``) and a plain number (``load``) on one plot: each on an axis of its own,
    labelled with its series and unit; series of one unit share one axis."""
    both = plot(store, series=["pool.rows:free", "pool:load"], window="24h", bin="1h", kind=kind, overlay_status=True)
    figure = hv.render(both.plot_object())
    labels = [axis.axis_label for axis in figure.yaxis]
    assert len(figure.yaxis) == 2, labels
    assert "pool.rows:free (bytes)" in labels and "pool:load" in labels
    one = plot(store, series=["pool:load", "door:latency"], window="24h", bin="1h", kind=kind)
    assert len(hv.render(one.plot_object()).yaxis) == 1


@pytest.mark.parametrize("kind", ["line", "bar"])
def test_axes_read_as_people_read_them(store, kind):
    """The bytes axis ticks say kB/MB as the tables do (the other unit's axis stays plain), and time
    labels that would overlap on a narrow plot are dropped rather than drawn over each other."""
    both = plot(store, series=["pool:load", "pool.rows:free"], window="24h", bin="1h", kind=kind)
    figure = hv.render(both.plot_object())
    formatters = {axis.axis_label: axis.formatter for axis in figure.yaxis}
    free = next(f for label, f in formatters.items() if label.startswith("pool.rows:free"))
    load = next(f for label, f in formatters.items() if label.startswith("pool:load"))
    assert "'kB', 'MB'" in getattr(free, "code", ""), free
    assert not hasattr(load, "code")
    assert all(type(axis.major_label_policy).__name__ == "NoOverlap" for axis in figure.xaxis)


def test_the_legend_under_the_plot_gets_its_own_room(store):
    """Several curves: the legend sits under the plot, and the figure and its pane grow by its lines,
    so the plot keeps its height and the legend is not cut by what follows."""
    one = plot(store, series=["pool:load"], window="24h", bin="1h")
    three = plot(store, series=["pool.rows:free"], group_by="host", window="24h", bin="1h")
    labels = three.data["label"].nunique()
    assert labels == len(HOSTS) > 1
    assert hv.render(one.plot_object()).height == one.height == one._plot.height
    figure = hv.render(three.plot_object())
    assert figure.height >= three.height + 20 * labels and three._plot.height == figure.height
    assert figure.below and any(type(item).__name__ == "Legend" for item in figure.below)
