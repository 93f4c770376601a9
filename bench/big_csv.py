"""Big CSVs: a 1,000,000-row upload, from parsing to the Data page's preview in a real browser.

Why it exists: the upload limits (lstm_lab/limits.py: 50 MB, 2,000,000 rows) promise that a
million-row file works. This script generates such files (a minute-by-minute date column and a
value column, ~26 MB) in a temporary directory and times:
  - ``lstm_lab.data.csv_reader.load_csv`` on the file's bytes (what an upload hands it) and on its path,
    and ``inspect_csv`` (the Data page calls both for a new upload: column pickers, then the load);
  - ``plots.series_figure`` for the loaded series (downsampled to at most 5,000 points) and the
    figure's JSON (what Streamlit ships to the browser), with its size;
  - in headless Chromium against ``streamlit run app.py``: Data page -> "Upload a CSV" -> the file
    set on the uploader, until the "Points" metric shows "1,000,000" (and, separately, until the
    upload request returns, and until the script is idle with the chart drawn).
Every browser upload uses a different file (a different value seed), in a fresh session, so
Streamlit's cache_data cannot answer from an earlier upload.

Target: < 5 s from choosing the file to "1,000,000" points shown. No assertions.

Usage (from the repository root):
    .venv/bin/python bench/big_csv.py [--rows 1000000] [--repeats 3] [--quick] [--json PATH]

--quick: 1 repeat of everything.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TARGET_S = 5.0
PAGE_TIMEOUT_MS = 180_000


def write_csv(path: Path, rows: int, seed: int) -> int:
    """date,value: one row per minute from 2000-01-01, a noisy daily cycle. Returns bytes."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    values = 100 + 10 * np.sin(2 * np.pi * t / 1440) + rng.normal(0, 1, rows)
    dates = pd.date_range("2000-01-01", periods=rows, freq="min").strftime("%Y-%m-%d %H:%M")
    frame = pd.DataFrame({"date": dates, "value": np.round(values, 3)})
    frame.to_csv(path, index=False)
    return path.stat().st_size


def timed(fn, repeats: int) -> tuple[float, list[float], object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return common.median(times), times, out


def in_process(path: Path, repeats: int) -> dict:
    from lstm_lab.data.csv_reader import inspect_csv, load_csv
    from lstm_lab.experiments import plots

    raw = path.read_bytes()
    res = {}
    res["inspect_csv_s"], res["inspect_runs"], found = timed(
        lambda: inspect_csv(raw, name=path.name), repeats)
    res["load_bytes_s"], res["load_bytes_runs"], loaded = timed(
        lambda: load_csv(raw, name=path.name), repeats)
    res["load_path_s"], res["load_path_runs"], _ = timed(lambda: load_csv(path), repeats)
    series = loaded.series
    res["points"], res["freq"], res["warnings"] = len(series), series.freq, loaded.warnings
    res["columns"] = list(found.columns)
    n_test = max(1, len(series) // 5)
    res["figure_s"], res["figure_runs"], fig = timed(
        lambda: plots.series_figure(series, n_test), repeats)
    res["figure_json_s"], _, text = timed(fig.to_json, repeats)
    res["figure_json_bytes"] = len(text)
    res["figure_points"] = sum(len(tr.x) for tr in fig.data)
    return res


def browser_upload(browser, base: str, path: Path, rows: int) -> dict:
    context = browser.new_context(viewport=common.VIEWPORT, base_url=base)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/data")
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        page.get_by_test_id("stRadio").get_by_text("Upload a CSV").click()
        file_input = page.locator("input[type=file]")
        file_input.wait_for(state="attached")
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        points = page.get_by_test_id("stMetric").filter(
            has=page.get_by_test_id("stMetricLabel").get_by_text("Points", exact=True)
        ).get_by_test_id("stMetricValue")
        expected = f"{rows:,}"
        t0 = time.perf_counter()
        with page.expect_response(lambda r: "/_stcore/upload_file" in r.url
                                  and r.request.method == "PUT") as upload:
            file_input.set_input_files(path)
        upload_s = time.perf_counter() - t0
        ok = upload.value.ok
        page.wait_for_function(
            """([expected]) => [...document.querySelectorAll("[data-testid='stMetric']")].some(m =>
                 m.textContent.includes('Points') && m.textContent.includes(expected))""",
            arg=[expected], polling=50, timeout=PAGE_TIMEOUT_MS)
        points_s = time.perf_counter() - t0
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        page.get_by_test_id("stMain").locator(".js-plotly-plot").first.wait_for()
        idle_s = time.perf_counter() - t0
        errors = page.get_by_test_id("stException").count() + page.get_by_test_id(
            "stAlertContentError").count()
        return {"upload_s": upload_s, "upload_ok": ok, "points_s": points_s,
                "idle_chart_s": idle_s, "points_text": points.inner_text().strip(),
                "errors": errors}
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="median of this many")
    parser.add_argument("--quick", action="store_true", help="1 repeat")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    args = parser.parse_args()
    repeats = 1 if args.quick else max(1, args.repeats)

    header = common.machine_header(quick=args.quick, rows=f"{args.rows:,}", repeats=repeats)
    common.print_header("LSTM Lab big-CSV benchmark", header)
    tmp = Path(tempfile.mkdtemp(prefix="lstm_lab_big_csv_"))
    t0 = time.perf_counter()
    files = []
    for i in range(repeats + 1):          # file 0 for the in-process timings
        path = tmp / f"big_{i}.csv"
        size = write_csv(path, args.rows, seed=i)
        files.append(path)
    print(f"  generated {len(files)} files of {args.rows:,} rows, {size / 2**20:.1f} MB each, in "
          f"{time.perf_counter() - t0:.1f} s ({tmp})")

    local = in_process(files[0], repeats)
    print(f"  in process: load_csv(bytes) {local['load_bytes_s']:.2f} s, "
          f"{local['points']:,} points, freq {local['freq']}")

    browser_runs = []
    if common.chromium_available():
        from playwright.sync_api import sync_playwright

        with common.run_server(tmp / "server.log") as server, sync_playwright() as pw:
            browser = pw.chromium.launch(**common.launch_kwargs())
            try:
                for i, path in enumerate(files[1:], 1):
                    r = browser_upload(browser, server.base, path, args.rows)
                    browser_runs.append(r)
                    print(f"  browser upload {i}/{repeats}: upload {r['upload_s']:.2f} s, points "
                          f"shown {r['points_s']:.2f} s, idle + chart {r['idle_chart_s']:.2f} s")
            finally:
                browser.close()
            server_rss = common.rss_mb(server.proc.pid)
    else:
        server_rss = None
        print(f"Chromium not found at {common.CHROMIUM}: browser upload skipped.")

    med = common.median
    shown = med([r["points_s"] for r in browser_runs]) if browser_runs else None
    print()
    common.print_table(["step", f"median s (n={repeats})", "note"], [
        ["inspect_csv(bytes)  (column pickers)", local["inspect_csv_s"],
         f"columns {local['columns']}"],
        ["load_csv(bytes)  (the upload path)", local["load_bytes_s"],
         f"{local['points']:,} points, freq {local['freq']}"],
        ["load_csv(path)", local["load_path_s"], ""],
        ["plots.series_figure (downsampled)", local["figure_s"],
         f"{local['figure_points']:,} points drawn"],
        ["figure.to_json()", local["figure_json_s"],
         f"{local['figure_json_bytes'] / 1024:,.0f} KB to the browser"],
        ["browser: file chosen -> upload request done",
         med([r["upload_s"] for r in browser_runs]) if browser_runs else None, ""],
        ["browser: file chosen -> '1,000,000' points shown", shown,
         f"target < {TARGET_S:.0f} s: {common.verdict(None if shown is None else shown < TARGET_S)}"],
        ["browser: file chosen -> script idle + chart drawn",
         med([r["idle_chart_s"] for r in browser_runs]) if browser_runs else None,
         f"server RSS after: {server_rss:.0f} MB" if server_rss else ""],
    ])
    if any(r["errors"] for r in browser_runs):
        print("  an error or exception box was shown in", sum(bool(r["errors"]) for r in
                                                         browser_runs), "upload(s)")
    if local["warnings"]:
        print("  load_csv warnings:", "; ".join(local["warnings"]))
    print(f"load average at the end: {common.load_average()}")
    common.write_json(args.json, {"header": header, "rows": args.rows,
                                  "file_mb": size / 2**20, "in_process": local,
                                  "browser": browser_runs, "server_rss_mb": server_rss,
                                  "target_s": TARGET_S})


if __name__ == "__main__":
    main()
