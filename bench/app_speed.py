"""App start-up and rerun speed: server health, a usable Home page, a chart-option rerun, imports.

Why it exists: a class opens the lab at the same moment, and a slow first page or a sluggish
slider makes the app feel broken even when training is fast. This script measures, against the
real ``streamlit run app.py`` and the system Chromium (never a downloaded browser):

  (a) server start: ``streamlit run app.py --server.headless true --server.address 127.0.0.1
      --server.port FREE --server.fileWatcherType none`` until /_stcore/health answers "ok"
      (median of 5 cold starts); right after each, the first visit's time to a usable Home page
      on that fresh server (its first script run imports the app's modules);
  (b) Home page usable: from navigation start (``performance.now()`` in the page) until the
      "Train the default experiment" button is in the DOM, visible and enabled, each visit in a
      fresh browser context on an already warm server (median of 5);
  (c) a rerun that changes only a chart option: on the Learn page, the "Window" slider moved with
      the keyboard until the parameter table shows the new window (median of 10). In-page
      instrumentation (a wrapped WebSocket and a MutationObserver, all ``performance.now()``)
      splits it into keypress -> message sent, sent -> first reply, and the DOM update;
      (c') the same again after one short training on that server: from then on keras is in the
      server's sys.modules, and Streamlit runs ``keras.backend.clear_session()`` and
      ``gc.collect(2)`` after every script run;
  (d) which heavy modules the app imports at start: a fresh Python imports exactly what app.py and
      pages/*.py import at module level (read with ``ast``), reports whether tensorflow, keras,
      statsmodels, sklearn and scipy ended up in sys.modules, and ``python -X importtime``'s top
      offenders; the real server's memory map is checked for their native libraries too.

  (e) Home's "Train the default experiment", click to results (``--home-run`` measures only
      this): on a fresh server, from the click until the Train page shows "Test metrics", the
      first time (TensorFlow is imported) and again in a new session (warm); also when the
      status panel under Train became visible, and what Home promised (its estimate, from
      lstm_lab/experiments/estimate.py) beside the machine's load average.

  (f) the first Train after a fresh server start with worker processes (``--first-train``
      measures only this): server start -> health, the first Home visit, and -> every worker
      process ready (TensorFlow imported and the default networks traced: its native library
      mapped and its CPU time flat for a second, read from /proc); then Home's default run from
      the click to the status panel, the live loss chart (when the job lasts long enough to draw
      one) and the results chart, on that fresh server and again in a new session; whether the
      web process mapped TensorFlow, and its RSS.

Targets: health < 1.5 s, Home usable < 4 s, chart-option rerun < 300 ms, first Train's chart
< 8 s after the click once the workers are ready. No assertions.

Usage (from the repository root):
    .venv/bin/python bench/app_speed.py [--quick] [--json PATH]

--quick: 2 cold starts, 3 Home visits, 4 slider reruns (each before and after a training).
--home-run: only (e), Home's default experiment from click to results (cold, then warm).
--first-train: only (f), worker start-up and the first Train after a fresh server start.
--server gc-freeze | gc-freeze+no-keras-clear: experiments, not the app -- every server process
is patched before it starts the way a suggested fix would (common.SERVER_VARIANTS).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TARGET_HEALTH_S = 1.5
TARGET_HOME_S = 4.0
TARGET_RERUN_MS = 300.0
TARGET_FIRST_CHART_S = 8.0
TENSORFLOW_LIB = "libtensorflow_framework"   # mapped once a process imports TensorFlow
HEAVY = ("tensorflow", "keras", "statsmodels", "sklearn", "scipy", "plotly", "pandas", "pyarrow")
HOME_BUTTON = "Train the default experiment"
TIMEOUT_MS = 90_000

# Set up before any page script: records when the Home button becomes usable, and every
# WebSocket send / receive and keydown, all on the page's clock (0 = navigation start).
INIT_SCRIPT = """
(() => {
  const b = window.__bench = {homeReady: null, sent: [], recv: [], keys: [], watch: null};
  const Orig = window.WebSocket;
  window.WebSocket = class extends Orig {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => b.recv.push(performance.now()));
    }
    send(data) { b.sent.push(performance.now()); return super.send(data); }
  };
  document.addEventListener('keydown', () => b.keys.push(performance.now()), true);
  b.paramCell = () => {      // Learn's parameter table (st.table): row 1, column "window"
    for (const table of document.querySelectorAll("[data-testid='stTable'] table")) {
      const head = table.querySelector("thead");
      if (head && head.textContent.includes('MLP inputs')
          && head.textContent.includes('LSTM inputs per step')) {
        return table.querySelector("tbody tr td");
      }
    }
    return null;
  };
  const homeUsable = () => {
    for (const el of document.querySelectorAll('button')) {
      if (el.textContent.includes(HOME_BUTTON) && !el.disabled) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.height > 0) return true;
      }
    }
    return false;
  };
  const check = () => {
    const now = performance.now();
    if (b.homeReady === null && homeUsable()) b.homeReady = now;
    const w = b.watch;
    if (w) {
      if (w.done === null) {
        const cell = b.paramCell();
        if (cell && cell.textContent.trim() === w.expect) w.done = now;
      }
      const app = document.querySelector("[data-testid='stApp']");
      const state = app && app.getAttribute('data-test-script-state');
      if (state === 'running' && w.running === null) w.running = now;
      if (state === 'notRunning' && w.running !== null && w.idle === null) w.idle = now;
    }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true,
                                                 characterData: true, attributes: true});
})();
""".replace("HOME_BUTTON", json.dumps(HOME_BUTTON))


# --- (d) imports -------------------------------------------------------------------------------

def app_imports() -> list[str]:
    """Modules app.py and pages/*.py import at module level (``from a import b`` -> a.b when b
    is a module, else a), in file order, without duplicates."""
    found: list[str] = []
    for path in [common.ROOT / "app.py", *sorted((common.ROOT / "pages").glob("*.py"))]:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found += [f"{node.module}.{alias.name}" for alias in node.names]
    return list(dict.fromkeys(found))


IMPORT_PROBE = """
import importlib, json, sys, time
names = json.loads(sys.argv[1]); heavy = json.loads(sys.argv[2])
t0 = time.perf_counter(); import streamlit; t_st = time.perf_counter() - t0
t0 = time.perf_counter()
for name in names:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:          # `from pkg import attr`: attr is not a module
        importlib.import_module(name.rsplit(".", 1)[0])
t_app = time.perf_counter() - t0
print(json.dumps({"streamlit_s": t_st, "app_modules_s": t_app,
                  "loaded": {h: h in sys.modules for h in heavy},
                  "n_modules": len(sys.modules)}))
"""


def import_report(names: list[str]) -> dict:
    """Run the probe in a fresh interpreter; then again under -X importtime for offenders."""
    args = [json.dumps(names), json.dumps(HEAVY)]
    run = subprocess.run([sys.executable, "-c", IMPORT_PROBE, *args], cwd=common.ROOT,
                         capture_output=True, text=True, env=common.server_env(), timeout=300)
    if run.returncode:
        raise RuntimeError(run.stderr[-2000:])
    report = json.loads(run.stdout.strip().splitlines()[-1])
    timed = subprocess.run([sys.executable, "-X", "importtime", "-c", IMPORT_PROBE, *args],
                           cwd=common.ROOT, capture_output=True, text=True,
                           env=common.server_env(), timeout=300)
    rows = []
    for line in timed.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append({"self_us": int(m[1]), "cumulative_us": int(m[2]),
                         "depth": len(m[3]) // 2, "module": m[4]})
    top = sorted((r for r in rows if r["depth"] == 0), key=lambda r: -r["cumulative_us"])[:12]
    report["importtime_top"] = top
    report["chains"] = {h: import_chain(rows, h) for h in HEAVY if report["loaded"][h]}
    return report


def import_chain(rows: list[dict], package: str) -> list[str]:
    """Who imported ``package`` first: importtime lists children before their parent, so the
    ancestors are the later rows of smaller depth."""
    start = next((i for i, r in enumerate(rows) if r["module"] == package), None)
    if start is None:
        return []
    chain, depth = [f"{package} ({rows[start]['cumulative_us'] / 1000:.0f} ms)"], \
        rows[start]["depth"]
    for r in rows[start + 1:]:
        if r["depth"] < depth:
            chain.append(r["module"])
            depth = r["depth"]
            if depth == 0:
                break
    return chain[::-1]


def has_native_code(package: str) -> bool:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return False
    root = Path(next(iter(spec.submodule_search_locations)))
    return next(root.rglob("*.so"), None) is not None


def mapped_native_libs(pid: int) -> dict[str, bool]:
    """Which heavy packages have native code mapped into the server process."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return {}
    return {h: f"/site-packages/{h}/" in maps for h in HEAVY}


# --- browser measurements ----------------------------------------------------------------------

def new_context(browser, base: str):
    context = browser.new_context(viewport=common.VIEWPORT, base_url=base)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(INIT_SCRIPT)
    return context


def home_usable(browser, base: str) -> dict[str, float]:
    """A fresh context opens /: ms from navigation start to a usable Home button."""
    context = new_context(browser, base)
    try:
        page = context.new_page()
        t0 = time.perf_counter()
        page.goto("/", wait_until="commit")
        page.wait_for_function("window.__bench && window.__bench.homeReady !== null",
                               timeout=TIMEOUT_MS, polling=50)
        wall = time.perf_counter() - t0
        ready_ms = page.evaluate("window.__bench.homeReady")
        return {"home_s": ready_ms / 1000, "wall_s": wall}
    finally:
        context.close()


def slider_reruns(browser, base: str, n: int) -> list[dict[str, float]]:
    """Move Learn's Window slider one step n times; time each rerun (plus one warm-up)."""
    context = new_context(browser, base)
    out = []
    try:
        page = context.new_page()
        page.goto("/learn")
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        page.wait_for_function("window.__bench.paramCell() !== null", polling=100)
        thumb = page.locator("[data-testid='stSlider'] input[type='range'][aria-label='Window']")
        thumb.focus()
        for i in range(n + 1):
            current = int(page.evaluate("window.__bench.paramCell().textContent").strip())
            page.evaluate("""(expect) => {
                const b = window.__bench;
                b.watch = {expect, done: null, running: null, idle: null};
                b.keys.length = 0; b.sent.length = 0; b.recv.length = 0;
            }""", str(current + 1))
            thumb.press("ArrowRight")
            page.wait_for_function("window.__bench.watch.done !== null && "
                                   "window.__bench.watch.idle !== null", polling=50)
            b = page.evaluate("window.__bench")
            key = b["keys"][0]
            sent = next((t for t in b["sent"] if t >= key), None)
            recv = next((t for t in b["recv"] if sent is not None and t >= sent), None)
            w = b["watch"]
            row = {"key_to_dom_ms": w["done"] - key, "key_to_idle_ms": w["idle"] - key,
                   "key_to_send_ms": None if sent is None else sent - key,
                   "send_to_first_reply_ms": None if recv is None else recv - sent,
                   "send_to_idle_ms": None if sent is None else w["idle"] - sent,
                   "send_to_dom_ms": None if sent is None else w["done"] - sent}
            if i:          # the first move is a warm-up (first run of this page's code paths)
                out.append(row)
            page.wait_for_timeout(150)
        return out
    finally:
        context.close()


def train_once(browser, base: str) -> float:
    """One short training through the Train page (imports TensorFlow + Keras in the server)."""
    context = new_context(browser, base)
    try:
        page = context.new_page()
        page.goto("/train?epochs=5")
        button = page.get_by_test_id("stForm").get_by_role("button", name="Train")
        button.wait_for()
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        t0 = time.perf_counter()
        button.click()
        page.get_by_text("Test metrics").wait_for(timeout=TIMEOUT_MS * 3)
        return time.perf_counter() - t0
    finally:
        context.close()


def home_default_run(browser, base: str) -> dict[str, float | str]:
    """(e) Home's one-click default experiment in a fresh session: seconds from the click to
    the status panel under Train and to the results ("Test metrics"); Home's promise."""
    context = new_context(browser, base)
    try:
        page = context.new_page()
        page.goto("/")
        button = page.get_by_role("button", name=HOME_BUTTON)
        button.wait_for()
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        promise = page.get_by_test_id("stMarkdownContainer").filter(
            has_text="Try it now:").first.inner_text()
        said = re.search(r"It takes (about [^.]+?) on this server", promise)
        load = f"{os.getloadavg()[0]:.1f}"
        t0 = time.perf_counter()
        button.click()
        page.wait_for_selector(".st-key-train-status", state="visible", timeout=TIMEOUT_MS)
        status = time.perf_counter() - t0
        page.get_by_text("Test metrics").wait_for(timeout=TIMEOUT_MS * 3)
        return {"results_s": time.perf_counter() - t0, "status_s": status,
                "promised": said.group(1) if said else promise, "load_before": load,
                "load_after": f"{os.getloadavg()[0]:.1f}"}
    finally:
        context.close()


def home_runs(browser, tmp: Path, variant: str) -> list[dict]:
    """(e) on a fresh server: the first default run (imports TensorFlow), then a warm one."""
    out = []
    with common.run_server(tmp / "home_run.log", variant=variant) as server:
        for which in ("cold (first training: imports TensorFlow)", "warm (a new session)"):
            row = home_default_run(browser, server.base)
            out.append({"run": which, **row})
            print(f"  Home default run, {which}: status under Train after "
                  f"{row['status_s']:.1f} s, results after {row['results_s']:.1f} s; Home "
                  f"promised '{row['promised']}'; load {row['load_before']} -> "
                  f"{row['load_after']}")
    return out


# --- (f) worker processes and the first Train ------------------------------------------------------

FIRST_SCRIPT = """
(() => {
  const f = window.__first = {clicked: null, status: null, live: null, results: null};
  const check = () => {
    if (f.clicked === null || f.results !== null) return;
    const now = performance.now();
    if (f.status === null && document.querySelector('.st-key-train-status')) f.status = now;
    const text = document.body ? document.body.textContent : '';
    if (f.live === null && text.includes('Live loss')) f.live = now;
    if (text.includes('Test metrics')) {
      for (const plot of document.querySelectorAll("[data-testid='stPlotlyChart'] .main-svg")) {
        if (!plot.textContent.includes('Live loss')) { f.results = now; break; }
      }
    }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true,
                                                 characterData: true, attributes: true});
})();
"""


def descendants(pid: int) -> list[int]:
    """Every process under ``pid``: children of any of its threads, recursively."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
        for kid in kids:
            out += [kid, *descendants(kid)]
    return list(dict.fromkeys(out))


def cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def has_tensorflow(pid: int) -> bool:
    try:
        return TENSORFLOW_LIB in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def worker_pids(server_pid: int) -> list[int]:
    """The server's worker processes (``python -m lstm_lab.execution.worker``)."""
    out = []
    for pid in descendants(server_pid):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"lstm_lab.execution.worker" in args:
            out.append(pid)
    return out


def wait_workers_ready(server_pid: int, expected: int, t0: float, quiet_s: float = 1.0,
                       timeout: float = 300.0) -> dict:
    """Seconds since ``t0`` until ``expected`` workers have TensorFlow mapped and their CPU
    time has stayed flat for ``quiet_s`` (warm-up done, waiting for jobs): the moment of each
    worker's last CPU tick before that quiet spell."""
    last_busy: dict[int, float] = {}
    ticks: dict[int, int] = {}
    seen_at: dict[int, float] = {}
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        now = time.perf_counter()
        pids = worker_pids(server_pid)
        for pid in pids:
            seen_at.setdefault(pid, now)
            t = cpu_ticks(pid)
            if t is not None and t != ticks.get(pid):
                ticks[pid], last_busy[pid] = t, now
        ready = [p for p in pids if has_tensorflow(p) and now - last_busy.get(p, now) >= quiet_s]
        if len(ready) >= expected:
            return {"ready_s": max(last_busy[p] for p in ready) - t0, "workers": len(pids),
                    "spawned_s": min(seen_at[p] for p in ready) - t0,
                    "rss_mb": [common.rss_mb(p) for p in ready]}
        time.sleep(0.05)
    return {"ready_s": None, "workers": len(worker_pids(server_pid)), "rss_mb": []}


def first_train_click(page) -> dict:
    """Press Home's default run on an open Home page; seconds from the click to the status
    panel, the live loss chart (None when the job ended before one was drawn) and the results
    (the "Test metrics" table and a forecast chart)."""
    button = page.get_by_role("button", name=HOME_BUTTON)
    load = f"{os.getloadavg()[0]:.1f}"
    page.evaluate("window.__first.clicked = performance.now()")
    button.click()
    page.wait_for_function("window.__first.results !== null", timeout=TIMEOUT_MS * 3,
                           polling=50)
    f = page.evaluate("window.__first")

    def since(key):
        return None if f[key] is None else (f[key] - f["clicked"]) / 1000

    return {"status_s": since("status"), "live_chart_s": since("live"),
            "results_s": since("results"), "load_before": load,
            "load_after": f"{os.getloadavg()[0]:.1f}"}


def first_train(browser, tmp: Path, variant: str) -> dict:
    """(f): a fresh server; its start, the first Home visit, the workers' warm-up, then Home's
    default run (first, and again in a new session)."""
    from lstm_lab.execution.backends import IN_PROCESS_VAR, worker_count

    expected = worker_count(os.environ)
    env = common.server_env()
    env.pop(IN_PROCESS_VAR, None)
    out: dict = {"workers_expected": expected}
    t0 = time.perf_counter()
    with common.run_server(tmp / "first_train.log", variant=variant, env=env) as server:
        out["health_s"] = server.health_s
        pid = server.proc.pid
        runs = []
        for which in ("first Train after the start", "second session"):
            context = new_context(browser, server.base)
            context.add_init_script(FIRST_SCRIPT)
            try:
                page = context.new_page()
                t_visit = time.perf_counter()
                page.goto("/")
                page.get_by_role("button", name=HOME_BUTTON).wait_for()
                page.wait_for_selector(
                    "[data-testid='stApp'][data-test-script-state='notRunning']")
                if not runs:
                    out["first_visit_s"] = time.perf_counter() - t_visit
                    out["first_visit_done_s"] = time.perf_counter() - t0
                    out.update(wait_workers_ready(pid, expected, t0))
                    out["tensorflow_in_web_before"] = has_tensorflow(pid)
                    page.wait_for_timeout(500)
                row = first_train_click(page)
            finally:
                context.close()
            runs.append({"run": which, **row})
        out["runs"] = runs
        out["web_rss_mb"] = common.rss_mb(pid)
        out["tensorflow_in_web"] = has_tensorflow(pid)
        out["workers_after"] = {p: common.rss_mb(p) for p in worker_pids(pid)}
        out["log_tail"] = server.log_tail(10)
    return out


def print_first_train(r: dict) -> None:
    ready = r.get("ready_s")
    print(f"\n(f) worker processes ({r['workers']} found, {r['workers_expected']} expected): "
          f"server health {r['health_s']:.2f} s after start; first Home visit done "
          f"{r['first_visit_done_s']:.1f} s after start ({r['first_visit_s']:.1f} s); workers "
          + (f"spawned {r['spawned_s']:.1f} s and ready {ready:.1f} s after start, RSS "
             + ", ".join(f"{m:.0f} MB" for m in r["rss_mb"]) if ready is not None
             else "NOT ready within the timeout"))
    rows = []
    for run in r["runs"]:
        rows.append([run["run"], run["status_s"], run["live_chart_s"]
                     if run["live_chart_s"] is not None else "not drawn (job ended first)",
                     run["results_s"],
                     f"< {TARGET_FIRST_CHART_S:.0f}: "
                     f"{common.verdict(run['results_s'] < TARGET_FIRST_CHART_S)}",
                     f"{run['load_before']} -> {run['load_after']}"])
    common.print_table(["(f) Home's default run", "status panel s", "live chart s",
                        "results chart s", "target", "load (1 min)"], rows)
    print(f"web process: RSS {r['web_rss_mb']:.0f} MB, TensorFlow mapped: "
          f"{'YES' if r['tensorflow_in_web'] else 'no'}; workers' RSS after: "
          + ", ".join(f"{m:.0f} MB" for m in r["workers_after"].values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (2 / 3 / 4)")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    parser.add_argument("--server", choices=common.SERVER_VARIANTS, default="as-is",
                        help="as-is (default), or an experiment that patches the server process "
                             "the way a suggested fix would (see common.SERVER_VARIANTS)")
    parser.add_argument("--home-run", action="store_true",
                        help="only (e): Home's default experiment from click to results")
    parser.add_argument("--first-train", action="store_true",
                        help="only (f): worker start-up and the first Train on a fresh server")
    args = parser.parse_args()
    if args.first_train:
        header = common.machine_header(chromium=common.CHROMIUM, measurement="(f) only")
        common.print_header("LSTM Lab app-speed benchmark: the first Train with worker "
                            "processes", header)
        from playwright.sync_api import sync_playwright

        tmp = Path(tempfile.mkdtemp(prefix="lstm_lab_app_speed_"))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(**common.launch_kwargs())
            try:
                result = first_train(browser, tmp, args.server)
            finally:
                browser.close()
        print_first_train(result)
        print(f"load average at the end: {common.load_average()}")
        common.write_json(args.json, {"header": header, "first_train": result})
        return
    n_cold, n_home, n_rerun = (2, 3, 4) if args.quick else (5, 5, 10)
    if args.home_run:
        header = common.machine_header(chromium=common.CHROMIUM, measurement="(e) only")
        common.print_header("LSTM Lab app-speed benchmark: Home's default run", header)
        from playwright.sync_api import sync_playwright

        tmp = Path(tempfile.mkdtemp(prefix="lstm_lab_app_speed_"))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(**common.launch_kwargs())
            try:
                runs = home_runs(browser, tmp, args.server)
            finally:
                browser.close()
        common.print_table(["(e) Home's default run", "status under Train (s)",
                            "results (s)", "Home promised", "load before (1 min)",
                            "load after"],
                           [[r["run"], r["status_s"], r["results_s"], r["promised"],
                             r["load_before"], r["load_after"]] for r in runs], digits=1)
        common.write_json(args.json, {"header": header, "home_runs": runs})
        return

    header = common.machine_header(quick=args.quick, chromium=common.CHROMIUM,
                                   server=args.server if args.server != "as-is"
                                   else "streamlit run app.py (as is)")
    common.print_header("LSTM Lab app-speed benchmark", header)
    if not common.chromium_available():
        print(f"Chromium not found at {common.CHROMIUM}: browser measurements skipped.")

    names = app_imports()
    imports = import_report(names)

    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="lstm_lab_app_speed_"))
    cold, first_visit, native = [], [], {}
    homes, reruns, reruns_keras = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**common.launch_kwargs())
        try:
            # (a) cold starts, each followed by the first visit on that fresh server
            for i in range(n_cold):
                with common.run_server(tmp / f"cold{i}.log", variant=args.server) as server:
                    cold.append(server.health_s)
                    first_visit.append(home_usable(browser, server.base))
                    if i == 0:
                        native = mapped_native_libs(server.proc.pid)
                    print(f"  cold start {i + 1}/{n_cold}: health {server.health_s:.2f} s, first "
                          f"Home visit {first_visit[-1]['home_s']:.2f} s")
            # (b) + (c) on one warm server
            with common.run_server(tmp / "warm.log", variant=args.server) as server:
                home_usable(browser, server.base)          # warm-up: first script run
                for i in range(n_home):
                    homes.append(home_usable(browser, server.base))
                    print(f"  Home visit {i + 1}/{n_home}: {homes[-1]['home_s']:.2f} s")
                reruns = slider_reruns(browser, server.base, n_rerun)
                for i, r in enumerate(reruns):
                    print(f"  Window slider rerun {i + 1}/{n_rerun}: {r['key_to_dom_ms']:.0f} ms "
                          f"to the table, {r['key_to_idle_ms']:.0f} ms to script idle")
                # (c') the same after one training: keras is now imported in the server, and
                # Streamlit runs keras.backend.clear_session() + gc.collect(2) after every run
                train_s = train_once(browser, server.base)
                print(f"  one 5-epoch training through the Train page: {train_s:.1f} s")
                reruns_keras = slider_reruns(browser, server.base, n_rerun)
                for i, r in enumerate(reruns_keras):
                    print(f"  Window slider rerun after training {i + 1}/{n_rerun}: "
                          f"{r['key_to_dom_ms']:.0f} ms to the table, "
                          f"{r['key_to_idle_ms']:.0f} ms to script idle")
                server_rss = common.rss_mb(server.proc.pid)
        finally:
            browser.close()

    med = common.median
    health = med(cold)
    home = med([h["home_s"] for h in homes])
    rerun = med([r["key_to_dom_ms"] for r in reruns])
    rerun_keras = med([r["key_to_dom_ms"] for r in reruns_keras])
    print()
    common.print_table(
        ["measurement", "median", "min", "max", "n", "target", "verdict"],
        [["(a) server start -> /_stcore/health ok (s)", health, min(cold), max(cold), len(cold),
          f"< {TARGET_HEALTH_S}", common.verdict(health < TARGET_HEALTH_S)],
         ["(a') first Home visit on a fresh server (s)", med([h["home_s"] for h in first_visit]),
          min(h["home_s"] for h in first_visit), max(h["home_s"] for h in first_visit),
          len(first_visit), "-", "-"],
         ["(b) Home usable, fresh context, warm server (s)", home,
          min(h["home_s"] for h in homes), max(h["home_s"] for h in homes), len(homes),
          f"< {TARGET_HOME_S}", common.verdict(home < TARGET_HOME_S)],
         ["(c) Window slider -> table updated (ms)", rerun,
          min(r["key_to_dom_ms"] for r in reruns), max(r["key_to_dom_ms"] for r in reruns),
          len(reruns), f"< {TARGET_RERUN_MS:.0f}", common.verdict(rerun < TARGET_RERUN_MS)],
         ["    keypress -> rerun request sent (ms)", med([r["key_to_send_ms"] for r in reruns]),
          None, None, len(reruns), "-", "-"],
         ["    request sent -> first reply (ms)", med([r["send_to_first_reply_ms"]
                                                     for r in reruns]),
          None, None, len(reruns), "-", "-"],
         ["    request sent -> script idle (ms)", med([r["send_to_idle_ms"] for r in reruns]),
          None, None, len(reruns), "-", "-"],
         ["    request sent -> table updated (ms)", med([r["send_to_dom_ms"] for r in reruns]),
          None, None, len(reruns), "-", "-"],
         ["    keypress -> script idle (whole rerun, ms)",
          med([r["key_to_idle_ms"] for r in reruns]), None, None, len(reruns), "-", "-"],
         ["(c') same, after one training (keras loaded, ms)", rerun_keras,
          min(r["key_to_dom_ms"] for r in reruns_keras),
          max(r["key_to_dom_ms"] for r in reruns_keras), len(reruns_keras),
          f"< {TARGET_RERUN_MS:.0f}", common.verdict(rerun_keras < TARGET_RERUN_MS)],
         ["    keypress -> script idle (whole rerun, ms)",
          med([r["key_to_idle_ms"] for r in reruns_keras]), None, None, len(reruns_keras), "-",
          "-"]])
    print(f"(b) wall time from goto() to usable, same visits: "
          f"{med([h['wall_s'] for h in homes]):.2f} s; server RSS after the visits "
          f"{server_rss:.0f} MB")

    print(f"\n(d) Modules app.py and pages/*.py import at module level ({len(names)}): "
          + ", ".join(names))
    print(f"    fresh interpreter: import streamlit {imports['streamlit_s']:.2f} s, then the app's "
          f"modules {imports['app_modules_s']:.2f} s; {imports['n_modules']} modules loaded")
    common.print_table(["package", "in sys.modules after the app's imports",
                        "its native code mapped in the server after the first Home visit"],
                       [[h, "yes" if imports["loaded"][h] else "no",
                         ("yes" if native.get(h) else "no") if native and has_native_code(h)
                         else "n/a (pure Python)"] for h in HEAVY])
    print("\n    first import chain of each heavy package loaded at start:")
    for h, chain in imports["chains"].items():
        shown = chain if len(chain) <= 6 else [*chain[:4], "...", *chain[-2:]]
        print(f"      {h:<12} " + " -> ".join(shown))
    print("\n    python -X importtime, top-level imports by cumulative time:")
    common.print_table(["module", "cumulative ms", "self ms"],
                       [[r["module"], r["cumulative_us"] / 1000, r["self_us"] / 1000]
                        for r in imports["importtime_top"]], digits=1)

    print(f"load average at the end: {common.load_average()}")
    common.write_json(args.json, {
        "header": header, "health_s": cold, "first_visit": first_visit, "home": homes,
        "reruns": reruns, "reruns_after_training": reruns_keras, "imports": imports, "imported_names": names,
        "native_libs_in_server": native, "server_rss_mb": server_rss,
        "medians": {"health_s": health, "home_s": home, "rerun_ms": rerun,
                    "rerun_after_training_ms": rerun_keras},
        "targets": {"health_s": TARGET_HEALTH_S, "home_s": TARGET_HOME_S,
                    "rerun_ms": TARGET_RERUN_MS}})


if __name__ == "__main__":
    main()
