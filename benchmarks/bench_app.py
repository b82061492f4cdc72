"""App benchmark: the served dashboard over a year of 15-minute runs, in headless Chromium.

Builds (or reuses, with --store) a store of N days (default 365) of 15-minute runs of 100 modules in
10 categories (``bench_store.day_frames``: 35,040 runs, 3.5 M module rows), serves it with
``hfpanel serve`` in a subprocess and measures with Playwright and Debian's Chromium:

* page load: ``page.goto`` until all ten category tiles are visible (after one warm-up load);
* a step back: click "◀ Earlier run" until the banner shows the run before the latest;
* in-process (no browser): ``Dashboard.param.update(time=...)`` for past runs, cold and warm;
* concurrency: N sessions (default 20 pages, one context each) reloaded together every
  ``--interval`` seconds for ``--rounds`` rounds (a shortened stand-in for "every minute"),
  sampling the server process's RSS after each round.

Usage: python benchmarks/bench_app.py [--days 365] [--store DIR] [--sessions 20] [--rounds 10] [--interval 6]
Not a test: it prints a table and the RSS curve.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_store import CATEGORIES, day_frames  # noqa: E402

from hfpanel.store import Store, StoreWriter  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 120_000
#: StoreView components in one overview page (dashboard, time travel, overview, module view, strip,
#: what changed, why, search)
SESSION_COMPONENTS = 8


def app_day_frames(day: pd.Timestamp, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """``bench_store.day_frames`` completed with the columns the app reads (titles, links, last good
    data) and the category roll-ups the runner writes (the worst module of each category)."""
    frames = day_frames(day, rng)
    status = frames["module_status"]
    status["title"] = status["module"].str.replace("module_", "Module ", regex=False)
    status["collector"] = "synthetic"
    status["last_good"] = status["time"].where(status["level"] != "noinfo")
    status["source_url"] = "https://monitor.example.org/" + status["module"]
    status["weight"] = 1.0
    status["duration_s"] = 0.1
    worst = status.sort_values("status").groupby(["run_id", "category"], as_index=False).first()
    frames["category_status"] = pd.DataFrame(
        {
            "run_id": worst["run_id"],
            "time": worst["time"],
            "category": worst["category"],
            "title": worst["category"].str.replace("category_", "Category ", regex=False),
            "status": worst["status"],
            "level": worst["level"],
            "message": "worst of its modules",
        }
    )
    return frames


def build(root: Path, days: int) -> float:
    start = time.perf_counter()
    if not (root / "_manifest.json").exists():
        rng = np.random.default_rng(1)
        first = pd.Timestamp("2025-11-01")
        with StoreWriter(root) as writer:
            for d in range(days):
                writer.write(app_day_frames(first + pd.Timedelta(days=d), rng))
    return time.perf_counter() - start


def rss_mb(pid: int) -> float:
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def components_alive(log: Path) -> str:
    """The server's last "N components alive" count (logged as sessions close), or "–"."""
    import re

    found = re.findall(r"sessions closed: (\d+) components alive", log.read_text(errors="replace"))
    return found[-1] if found else "–"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(root: Path, log: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("HFPANEL_STORE", "HFPANEL_CONFIG")}
    with open(log, "w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hfpanel.cli",
                "-v",
                "serve",
                "--store",
                str(root),
                "--port",
                str(port),
                "--address",
                "127.0.0.1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"hfpanel serve exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"hfpanel serve did not answer:\n{log.read_text()}")


def stop_server(process) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def all_tiles(page, count: int) -> None:
    from playwright.async_api import expect

    tiles = page.locator(".hf-tile")
    await expect(tiles).to_have_count(count, timeout=TIMEOUT_MS)
    await tiles.nth(count - 1).wait_for(state="visible", timeout=TIMEOUT_MS)


async def load(page, url: str, count: int) -> float:
    start = time.perf_counter()
    await page.goto(url, timeout=TIMEOUT_MS)
    await all_tiles(page, count)
    return time.perf_counter() - start


async def load_or_nan(page, url: str, count: int) -> float:
    """A load in the concurrent rounds: a timeout is recorded as nan instead of ending the run."""
    try:
        return await load(page, url, count)
    except Exception as error:  # noqa: BLE001 — a timed-out session is a result here
        print(f"  a session failed: {str(error).splitlines()[0]}", flush=True)
        return float("nan")


def fmt_banner(when) -> str:
    from hfpanel.components.style import fmt_time

    return f"Viewing the past: {fmt_time(when)}"


async def browser_part(url: str, pid: int, run_times, args) -> dict:
    from playwright.async_api import async_playwright

    results = {"errors": []}
    count = len(CATEGORIES)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1600, "height": 1000})
        page = await context.new_page()
        page.on("pageerror", lambda error: results["errors"].append(str(error)))
        page.on("console", lambda m: results["errors"].append(m.text) if m.type == "error" else None)
        results["first_load"] = await load(page, url, count)  # warm-up: caches, bundles
        print(f"warm-up load {results['first_load']:.2f} s", flush=True)
        results["loads"] = [await load(page, url, count) for _ in range(args.loads)]
        steps = []
        for back in (2, 3, 4):
            start = time.perf_counter()
            await page.get_by_role("button", name="◀ Earlier run").click()
            await page.get_by_text(fmt_banner(run_times[-back])).wait_for(timeout=TIMEOUT_MS)
            steps.append(time.perf_counter() - start)
        results["steps"] = steps
        print(f"loads {results['loads']}, steps {steps}", flush=True)
        await context.close()

        # concurrency: N sessions, reloaded together each round
        contexts = [await browser.new_context(viewport={"width": 1600, "height": 1000}) for _ in range(args.sessions)]
        pages = [await c.new_page() for c in contexts]
        for p in pages:
            p.on("pageerror", lambda error: results["errors"].append(str(error)))
        rss = [("before", rss_mb(pid), components_alive(args.log))]
        rounds = []
        for index in range(args.rounds):
            start = time.perf_counter()
            times = await asyncio.gather(*(load_or_nan(p, url, count) for p in pages))
            wall = time.perf_counter() - start
            done = [t for t in times if t == t]
            rounds.append(
                (
                    index + 1,
                    wall,
                    statistics.median(done) if done else float("nan"),
                    max(done) if done else float("nan"),
                    len(times) - len(done),
                )
            )
            rss.append((f"round {index + 1}", rss_mb(pid), components_alive(args.log)))
            print(
                f"round {index + 1}: wall {wall:.2f} s, RSS {rss[-1][1]:.0f} MB, components alive {rss[-1][2]}",
                flush=True,
            )
            await asyncio.sleep(max(0.0, args.interval - wall))
        for c in contexts:
            await c.close()
        await asyncio.sleep(60)  # Bokeh drops a closed session after ~15 s, checking every 17 s
        rss.append(("idle after", rss_mb(pid), components_alive(args.log)))
        await browser.close()
    results["rounds"], results["rss"] = rounds, rss
    return results


def in_process(root: Path, run_times) -> list[tuple[str, float]]:
    """Server-side cost of a time change, without a browser or websocket."""
    from hfpanel.components import Dashboard

    rows = []
    start = time.perf_counter()
    dash = Dashboard(store=root)
    rows.append(("Dashboard(store) at now (cold)", time.perf_counter() - start))
    for label, when in (
        ("param.update(time=previous run) cold", run_times[-2]),
        ("param.update(time=run 3 back) cold", run_times[-4]),
        ("param.update(time=half a year ago) cold", run_times[len(run_times) // 2]),
        ("param.update(time=previous run) warm", run_times[-2]),
        ("param.update(time=None) back to now (warm)", None),
    ):
        start = time.perf_counter()
        dash.param.update(time=when)
        rows.append((label, time.perf_counter() - start))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--store", help="reuse or build the store here (default: a temporary folder)")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--interval", type=float, default=6.0, help="seconds between rounds (shortened from 60)")
    parser.add_argument("--loads", type=int, default=3, help="measured page loads after the warm-up")
    args = parser.parse_args(argv)
    root = Path(args.store or tempfile.mkdtemp(prefix="hfpanel-bench-app-"))
    built = build(root, args.days)
    store = Store(root)
    run_times = list(store.run_times())
    print(
        f"store {root}: {len(run_times)} runs, {run_times[0]} … {run_times[-1]}"
        + (f" (built in {built:.0f} s)" if built > 1 else " (reused)")
    )

    args.log = root.parent / "bench-app-serve.log"
    process, url = start_server(root, args.log)
    try:
        print(f"serving at {url} (pid {process.pid}); RSS after start {rss_mb(process.pid):.0f} MB")
        results = asyncio.run(browser_part(url, process.pid, run_times, args))
    finally:
        stop_server(process)
    server_side = in_process(root, run_times)

    print("\n| measurement | value |\n| --- | --- |")
    print(f"| first page load (warm-up) → 10 tiles visible | {results['first_load']:.2f} s |")
    print(
        f"| page load → 10 tiles visible (median of {len(results['loads'])}) | "
        f"{statistics.median(results['loads']):.2f} s (all: {', '.join(f'{t:.2f}' for t in results['loads'])}) |"
    )
    print(
        f"| step back (click → banner), median of {len(results['steps'])} | "
        f"{statistics.median(results['steps']):.2f} s (all: {', '.join(f'{t:.2f}' for t in results['steps'])}) |"
    )
    for label, seconds in server_side:
        print(f"| in-process {label} | {seconds * 1000:.0f} ms |")
    print(
        f"\n{args.sessions} sessions, {args.rounds} rounds, all reloading together every {args.interval:g} s "
        "(shortened from every minute)"
    )
    print(
        "| round | wall (all sessions) | median load | slowest load | failed sessions |\n| --- | --- | --- | --- | --- |"
    )
    for index, wall, median, slowest, failed in results["rounds"]:
        print(f"| {index} | {wall:.2f} s | {median:.2f} s | {slowest:.2f} s | {failed} |")
    print(
        "\nserver RSS (MB), and components alive in the server after the last session clean-up "
        f"({SESSION_COMPONENTS} per page; closed sessions live on ~15–30 s for reconnection):"
    )
    peak = max(v for _, v, _ in results["rss"])
    for label, value, alive in results["rss"]:
        print(f"  {label:>11} {value:8.0f}  {alive:>6}  {'#' * int(40 * value / peak)}")
    print(f"\nbrowser errors: {len(results['errors'])}" + "".join(f"\n  {e}" for e in results["errors"][:10]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
