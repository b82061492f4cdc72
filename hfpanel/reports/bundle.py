"""The post-mortem archive: a window of the store as a self-contained folder.

``hfpanel export --store DIR --from T --to T OUT`` writes

* ``OUT/store/`` — an hfpanel store holding the window's rows of every table (raw payloads only with
  ``--with-payloads``), the configurations its runs used and the corrections that overlap it: open
  it with ``Store``, ``hfpanel sql`` or ``hfpanel serve --store OUT/store``;
* ``OUT/config.json`` — the configurations in force, oldest first (secrets were redacted when stored);
* ``OUT/index.html`` — one static page (Bokeh with its JavaScript inline: no server, no network)
  with the overview at the end of the window, the status strips of every category and module, and a
  section per module (level changes, last message, detail rows) — for a post-mortem, a ticket, or
  a reviewer.

Everything from sources is escaped in the page. The bundle is written under a temporary name and
renamed, so a half-written bundle never looks finished.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from ..availability import corrections
from ..clock import parse_time, utcnow
from ..levels import COLORS, SEVERITY
from ..queries import history
from ..store import StoreWriter
from ..units import fmt_time

#: tables whose rows are not tied to a run's time window
SPECIAL = {"configs", corrections.TABLE}
DETAIL_ROWS = 200


def _esc(text) -> str:
    import html

    return html.escape("" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text))


def window_tables(store, since, until, with_payloads: bool = False) -> dict[str, pd.DataFrame]:
    """Every table's rows with time in [since, until]; the configs the window's runs used; the
    corrections overlapping it."""
    out = {}
    for table in store.tables():
        if table in SPECIAL or (table == "raw_payloads" and not with_payloads):
            continue
        frame = store.sql(
            f"SELECT * EXCLUDE (day) FROM {store.scan(table, since, until)} WHERE time >= ? AND time <= ?",
            [pd.Timestamp(since).to_pydatetime(), pd.Timestamp(until).to_pydatetime()],
        )
        if not frame.empty:
            out[table] = frame
    hashes = sorted(set(out.get("runs", pd.DataFrame()).get("config_hash", pd.Series(dtype=str)).dropna()))
    if hashes and store.has_table("configs"):
        used = store.sql(
            f"SELECT * EXCLUDE (day) FROM configs WHERE config_hash IN ({', '.join('?' * len(hashes))})", hashes
        )
        out["configs"] = used.drop_duplicates("config_hash")
    if store.has_table(corrections.TABLE):
        found = corrections.load(store)
        keep = (found["kind"] == corrections.WITHDRAWAL) | (
            (pd.to_datetime(found["end"]) > since) & (pd.to_datetime(found["start"]) < until)
        )
        recorded = store.sql(f"SELECT * EXCLUDE (day) FROM {corrections.TABLE}")
        out[corrections.TABLE] = recorded[recorded["id"].isin(set(found.loc[keep, "id"]))]
    return out


def export(store, since, until, out, with_payloads: bool = False) -> dict:
    """Write the bundle of [since, until] to the folder ``out`` (which must not exist); returns counts."""
    since, until = parse_time(since), parse_time(until)
    if since is None or until is None or until <= since:
        raise ValueError("an export needs --from before --to")
    out = Path(out)
    if out.exists():
        raise ValueError(f"{out} exists: give a new folder")
    tables = window_tables(store, since, until, with_payloads)
    if "module_status" not in tables:
        raise ValueError(f"no module rows between {fmt_time(since)} and {fmt_time(until)}")
    tmp = out.with_name(f".{out.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "store").mkdir(parents=True)
    with StoreWriter(tmp / "store") as writer:
        writer.write(tables)
    used = tables.get("configs", pd.DataFrame(columns=["time", "config"])).sort_values("time")
    (tmp / "config.json").write_text(json.dumps([json.loads(c) for c in used["config"]], indent=1))
    (tmp / "index.html").write_text(page(tables, since, until), encoding="utf-8")
    tmp.rename(out)
    return {name: len(frame) for name, frame in tables.items()}


# -- the static page -------------------------------------------------------------------------------
def _strips(statuses: pd.DataFrame, categories: pd.DataFrame, since, until):
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    frames = []
    if not categories.empty:
        frames.append(categories.assign(row="category: " + categories["category"].astype(str)))
    frames.append(statuses.assign(row=statuses["module"].astype(str)))
    frame = pd.concat(frames, ignore_index=True).sort_values("time")
    times = sorted(frame["time"].unique())
    step = pd.Series(times).diff().median() if len(times) > 1 else pd.Timedelta(minutes=15)
    frame = frame.assign(
        end=frame["time"] + step,
        color=frame["level"].map(COLORS).fillna("#999"),
        when=frame["time"].map(fmt_time),
        text=frame["message"].fillna("").astype(str).str.slice(0, 200),
    )
    rows = list(
        dict.fromkeys([r for r in frame["row"] if r.startswith("category: ")] + sorted(statuses["module"].unique()))
    )
    plot = figure(
        y_range=list(reversed(rows)),
        x_axis_type="datetime",
        x_range=(since, until),
        height=80 + 20 * len(rows),
        sizing_mode="stretch_width",
        tools="xpan,xwheel_zoom,reset",
    )
    plot.title.text = "status per run"
    source = ColumnDataSource({c: list(frame[c]) for c in ("row", "time", "end", "color", "level", "when", "text")})
    plot.hbar(y="row", left="time", right="end", height=0.8, color="color", source=source)
    plot.add_tools(HoverTool(tooltips=[("", "@row — @level"), ("run", "@when"), ("", "@text")]))
    return plot


def _table(frame: pd.DataFrame, limit: int = DETAIL_ROWS) -> str:
    if frame.empty:
        return "<p class='muted'>no rows</p>"
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>"
        for row in frame.head(limit).itertuples(index=False)
    )
    more = f"<p class='muted'>{len(frame) - limit} more rows in the bundle's store</p>" if len(frame) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def inline_bokeh() -> str:
    """Bokeh's own JavaScript, inline. Not ``INLINE.render()``: once Panel is imported in the process
    its extensions add ``<script src="static/…">`` tags that a file on disk cannot load."""
    from bokeh.resources import Resources

    resources = Resources(mode="inline", components=["bokeh", "bokeh-gl"])
    return "\n".join(f"<script>{code}</script>" for code in resources.js_raw)


def page(tables: dict, since, until) -> str:
    """The bundle's one static page (Bokeh's JavaScript inline)."""
    from bokeh.embed import components

    statuses = tables["module_status"]
    categories = tables.get("category_status", pd.DataFrame(columns=["time", "category", "level", "message"]))
    runs = tables.get("runs", pd.DataFrame())
    site = str(runs["site"].dropna().iloc[-1]) if "site" in runs and runs["site"].notna().any() else "site"
    last = statuses.sort_values("time").groupby("module").tail(1)
    last = last.assign(order=last["level"].map(SEVERITY)).sort_values(["order", "module"])
    script, div = components(_strips(statuses, categories, since, until))
    overview = "".join(
        f"<tr><td><span class='dot' style='background:{COLORS.get(r.level, '#999')}'></span>{_esc(r.level)}</td>"
        f"<td><a href='#m-{_esc(r.module)}'>{_esc(r.module)}</a></td><td>{_esc(r.category)}</td>"
        f"<td>{_esc(fmt_time(r.time))}</td><td>{_esc(r.message)}</td></tr>"
        for r in last.itertuples()
    )
    sections = []
    for module in sorted(statuses["module"].unique()):
        rows = statuses[statuses["module"] == module].sort_values("time")
        changes = rows[rows["level"] != rows["level"].shift()][["time", "level", "message"]]
        detail = [name for name in tables if name.startswith(f"detail__{module}__")]
        detail_html = ""
        for name in detail:
            frame = tables[name]
            latest = frame[frame["time"] == frame["time"].max()]
            shown = history.source_columns(latest)
            detail_html += (
                f"<h4>{_esc(name.split('__')[-1])} as of {_esc(fmt_time(frame['time'].max()))}</h4>{_table(shown)}"
            )
        sections.append(
            f"<section id='m-{_esc(module)}'><h3>{_esc(module)}</h3>"
            f"<p>{len(rows)} runs; last: <b>{_esc(rows['level'].iloc[-1])}</b> — {_esc(rows['message'].iloc[-1])}</p>"
            f"<h4>level changes</h4>{_table(changes.assign(time=changes['time'].map(fmt_time)))}{detail_html}</section>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(site)} — {_esc(fmt_time(since))} to {_esc(fmt_time(until))}</title>
{inline_bokeh()}
{script}
<style>
body {{ font-family: system-ui, sans-serif; margin: 16px; color: #202124; }}
table {{ border-collapse: collapse; font-size: 13px; margin: 6px 0; }}
td, th {{ border: 1px solid #dadce0; padding: 3px 6px; text-align: left; vertical-align: top; }}
.dot {{ display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 4px; }}
.muted {{ color: #5f6368; }}
</style></head><body>
<h1>{_esc(site)}</h1>
<p class="muted">Post-mortem bundle: {_esc(fmt_time(since))} to {_esc(fmt_time(until))}, {len(runs)} runs,
made {_esc(fmt_time(utcnow()))} by hfpanel. The rows are in <code>store/</code> (Parquet; <code>hfpanel serve --store
store</code>), the configuration in <code>config.json</code>.</p>
<h2>Overview at the end of the window</h2>
<table id="overview"><thead><tr><th>level</th><th>module</th><th>category</th><th>last run</th><th>message</th></tr></thead>
<tbody>{overview}</tbody></table>
<h2>Status strips</h2>
{div}
<h2>Modules</h2>
{"".join(sections)}
</body></html>
"""
