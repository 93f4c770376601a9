"""Classroom load: N queued jobs through the runner, and N real browser sessions pressing Train.

Why it exists: a teacher shares a link and a class trains at once. The server-wide queue
(lstm_lab/execution/jobs.py) runs at most one job per worker, first come first served, and
shows the others their place; by default the jobs run in worker processes
(lstm_lab/execution/processes.py), with LSTM_LAB_IN_PROCESS=1 in threads of the web process.

In-process phases (no Streamlit, no browser; issue #18's throughput measure), for each backend --
worker processes as ``make_backend`` makes them by default, then threads of this process:
  a. start the backend and wait until its workers are ready (import + warm-up);
  b. one default job per worker (the first real job on each fresh worker);
  c. solo: two jobs one at a time (seeds 1000, 1001): the single-run time of that backend,
     from submit to result;
  d. the N jobs (default 30, seeds 1..N) submitted at once, first submit -> last result; ratio to
     the ideal N x solo / cores (target <= 1.3); with --live-panel, then the same with one thread
     per job doing the live panel's Python work (the loss figure every 0.5 s) in this process;
  e. whether the same seed gave the identical LSTM RMSE through both backends, the workers' RSS;
     with worker processes this process is the web side: it imported the app's modules, keeps
     the class's results and builds their .keras downloads; its RSS (target < 300 MB after a
     class of 30) and whether it imported TensorFlow (checked before the threads phase, which
     imports it here).
  --batching: would jobs of the same network shape waiting together pay to train as one
  computation? k default jobs merged into one ensemble of 3k members against k runs.

Browser phase (one ``streamlit run app.py`` on a loopback port with its default backend, one
headless system Chromium with one context -- one Streamlit session -- per student, driven with
asyncio Playwright):
  1. warm-up: one session trains once;
  2. solo: one session alone, seed 1000: its click -> "Test metrics" time is the single-run time;
  3. class: N sessions open /train?seed=<i> (i = 1..N, so every run differs), then all click
     Train together; per session: click -> results wall time, whether "Waiting in the training
     queue" appeared (a MutationObserver in the page), the LSTM RMSE its metric shows, the seed its
     sidebar summary shows, and any exception box;
  4. each session's LSTM RMSE must equal (as its card shows it: "RMSE 14.6") its own seed's
     reference value (from the in-process phases, else a plain run here) and no other seed's;
  5. the web process's RSS after the class (target < 300 MB), whether TensorFlow's native library
     is mapped in it (/proc/<pid>/maps), and the worker processes' RSS.
CPU seconds used meanwhile by the web process, its workers and the browser are read from /proc
(CPU seconds / wall seconds = cores kept busy on average).

Targets: total time <= 1.3 x (N x single-run time / cores); 0 failures. No assertions.

Usage (from the repository root):
    .venv/bin/python bench/classroom.py [--jobs 30] [--sessions 10] [--timeout 900] [--quick]
        [--json PATH] [--skip-queue-phases] [--skip-browser] [--backends processes,threads]
        [--live-panel] [--batching] [--server VARIANT]

--quick: 8 in-process jobs, 4 sessions. Everything stays on 127.0.0.1; --timeout bounds the class
phase. --server gc-freeze | gc-freeze+no-keras-clear: experiments, not the app -- the server
process is patched before it starts the way a suggested fix would (common.SERVER_VARIANTS).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TARGET_RATIO = 1.3
QUEUE_TEXT = "Waiting in the training queue"
DONE_TEXT = "Test metrics"
PAGE_TIMEOUT_MS = 120_000
TENSORFLOW_LIB = "libtensorflow_framework"   # mapped once a process imports TensorFlow

WATCH_SCRIPT = """
(() => {
  const w = window.__class = {queueSeen: null, done: null, clicked: null, sends: 0,
                              sendsUntilDone: null};
  const Orig = window.WebSocket;     // count messages to the server (rerun requests)
  window.WebSocket = class extends Orig {
    send(data) { if (w.clicked !== null) w.sends++; return super.send(data); }
  };
  let pending = false;
  const check = () => {            // textContent: no layout; at most every 50 ms
    pending = false;
    if (w.clicked === null || w.done !== null) return;
    const text = document.body ? document.body.textContent : '';
    const now = performance.now();
    if (w.queueSeen === null && text.includes(QUEUE)) w.queueSeen = now;
    if (text.includes(DONE)) { w.done = now; w.sendsUntilDone = w.sends; }
  };
  new MutationObserver(() => {
    if (!pending) { pending = true; setTimeout(check, 50); }
  }).observe(document, {subtree: true, childList: true, characterData: true});
})();
"""


def watch_script() -> str:
    import json

    return WATCH_SCRIPT.replace("QUEUE", json.dumps(QUEUE_TEXT)).replace("DONE",
                                                                         json.dumps(DONE_TEXT))


# --- /proc accounting --------------------------------------------------------------------------

def descendants(pid: int) -> list[int]:
    """Every process under ``pid``: children of any of its threads (a worker process started
    from a runner thread is that thread's child, not the main thread's), recursively."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
        for c in children:
            out += [c, *descendants(c)]
    return list(dict.fromkeys(out))


def has_tensorflow(pid: int) -> bool | None:
    """Whether TensorFlow's native core is mapped into ``pid`` (None: the process is gone)."""
    try:
        return TENSORFLOW_LIB in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return None


def cpu_seconds(pids) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick     # utime + stime
        except (OSError, IndexError, ValueError):
            continue
    return total


# --- one student -------------------------------------------------------------------------------

class Student:
    def __init__(self, browser, base: str, seed: int) -> None:
        self.browser, self.base, self.seed = browser, base, seed
        self.result: dict = {"seed": seed, "ok": False}

    async def open(self) -> None:
        self.context = await self.browser.new_context(viewport=common.VIEWPORT,
                                                      base_url=self.base)
        self.context.set_default_timeout(PAGE_TIMEOUT_MS)
        await self.context.add_init_script(watch_script())
        self.page = await self.context.new_page()
        t0 = time.perf_counter()
        await self.page.goto(f"/train?seed={self.seed}")
        await self.train_button().wait_for(state="visible")
        await self.page.wait_for_selector(
            "[data-testid='stApp'][data-test-script-state='notRunning']")
        self.result["open_s"] = time.perf_counter() - t0

    def train_button(self):
        return self.page.get_by_test_id("stForm").get_by_role("button", name="Train")

    async def click_train(self) -> None:
        await self.page.evaluate("window.__class.clicked = performance.now()")
        self.clicked_at = time.perf_counter()
        await self.train_button().click()

    async def wait_results(self, timeout_s: float) -> None:
        page = self.page
        await page.wait_for_function("window.__class.done !== null", timeout=timeout_s * 1000,
                                     polling=100)
        await page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        self.result["wall_s"] = time.perf_counter() - self.clicked_at
        await self.read_watch()
        await self.read_results()

    async def read_watch(self) -> None:
        """What the page's observer saw (also after a timeout: queue place, messages, status)."""
        w = await self.page.evaluate("window.__class")
        self.result["results_s"] = None if w["done"] is None else (w["done"] - w["clicked"]) / 1000
        self.result["saw_queue"] = w["queueSeen"] is not None
        self.result["queue_seen_after_s"] = (None if w["queueSeen"] is None
                                             else (w["queueSeen"] - w["clicked"]) / 1000)
        self.result["messages_sent"] = w["sends"] if w["sendsUntilDone"] is None \
            else w["sendsUntilDone"]
        if w["done"] is None:      # the live panel's headline: queue place or epoch
            text = await self.page.get_by_test_id("stMain").inner_text()
            self.result["last_status"] = next(
                (line.strip() for line in text.splitlines()
                 if "Waiting in the training queue" in line or line.startswith("Training ")),
                "")[:120]

    async def train(self, timeout_s: float = PAGE_TIMEOUT_MS * 5 / 1000) -> None:
        await self.click_train()
        await self.wait_results(timeout_s)

    async def read_results(self) -> None:
        page = self.page
        main = page.get_by_test_id("stMain")
        metrics = main.get_by_test_id("stMetric")
        for _ in range(120):           # a rerun may be redrawing the results, and with many
            if await metrics.count():  # pages on two cores the browser lags: up to a minute
                break
            await page.wait_for_timeout(500)
        lstm, labels = None, []
        for i in range(await metrics.count()):
            label = (await metrics.nth(i).get_by_test_id("stMetricLabel").inner_text()).strip()
            labels.append(label)
            if "LSTM" in label:       # "LSTM", "ES-LSTM (3 seeds)", never "GRU"
                lstm = (await metrics.nth(i).get_by_test_id("stMetricValue").inner_text()).strip()
        self.result["lstm_rmse_shown"] = lstm
        self.result["metric_labels"] = labels
        alerts = main.get_by_test_id("stAlert")
        self.result["alerts"] = [(await alerts.nth(i).inner_text()).strip()[:300]
                                 for i in range(await alerts.count())]
        sidebar = await page.get_by_test_id("stSidebar").inner_text()
        self.result["sidebar_seed_ok"] = re.search(rf"\bseed {self.seed}\b", sidebar) is not None
        caption = await main.inner_text()
        total = caption.split("; total ", 1)[1].split(" s", 1)[0] if "; total " in caption else None
        self.result["server_total_s"] = float(total) if total else None
        self.result["exceptions"] = await page.get_by_test_id("stException").count()

    async def close(self) -> None:
        context = getattr(self, "context", None)
        if context is not None:
            self.context = None
            await context.close()


async def run_student(browser, base: str, seed: int) -> dict:
    student = Student(browser, base, seed)
    try:
        await student.open()
        await student.train()
        student.result["ok"] = True
    except Exception as err:  # noqa: BLE001 - a failure is a measurement here
        student.result["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:200]}"
    finally:
        await student.close()
    return student.result


async def class_phase(browser, base: str, seeds: list[int], server_pid: int,
                      timeout: float) -> dict:
    students = [Student(browser, base, s) for s in seeds]
    await asyncio.gather(*(s.open() for s in students), return_exceptions=True)
    opened = [s for s in students if "open_s" in s.result]
    for s in students:
        if "open_s" not in s.result:
            s.result["error"] = "page did not open"
    workers = descendants(server_pid)
    mine = [p for p in descendants(os.getpid()) if p != server_pid and p not in workers]
    cpu0 = (cpu_seconds([server_pid]), cpu_seconds(mine), cpu_seconds(workers))
    t0 = time.perf_counter()
    await asyncio.gather(*(s.click_train() for s in opened), return_exceptions=True)

    async def wait(s: Student):
        try:
            await s.wait_results(max(1.0, timeout - (time.perf_counter() - t0)))
            s.result["ok"] = s.result["exceptions"] == 0
        except Exception as err:  # noqa: BLE001
            s.result["error"] = (f"no results within the {timeout:.0f} s class timeout"
                                 if "Timeout" in type(err).__name__ else
                                 f"{type(err).__name__}: {str(err).splitlines()[0][:200]}")
            with contextlib.suppress(Exception):
                await s.read_watch()

    await asyncio.gather(*(wait(s) for s in opened))
    total = time.perf_counter() - t0
    cpu1 = (cpu_seconds([server_pid]), cpu_seconds(mine), cpu_seconds(workers))
    for s in students:
        await s.close()
    return {"total_s": total, "sessions": [s.result for s in students],
            "server_cpu_s": cpu1[0] - cpu0[0], "browser_cpu_s": cpu1[1] - cpu0[1],
            "workers_cpu_s": cpu1[2] - cpu0[2]}


async def browser_phases(base: str, n: int, server_pid: int, timeout: float) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(**common.launch_kwargs())
        try:
            t0 = time.perf_counter()
            warm = await run_student(browser, base, 999)
            print(f"  warm-up session: {time.perf_counter() - t0:.1f} s "
                  f"({'ok' if warm['ok'] else warm.get('error')})")
            solo = await run_student(browser, base, 1000)
            print(f"  solo session: click -> results {solo.get('wall_s', float('nan')):.2f} s "
                  f"(server run_experiment {solo.get('server_total_s')} s)")
            klass = await class_phase(browser, base, list(range(1, n + 1)), server_pid, timeout)
        finally:
            await browser.close()
    return {"warm": warm, "solo": solo, "class": klass}


def reference_runs(seeds: list[int]) -> dict[int, dict]:
    """Each seed's default experiment run alone, one after another, in this process: the LSTM
    RMSE every session must show (used when the in-process phases did not run these seeds)."""
    from lstm_lab.data.datasets import load_air_passengers
    from lstm_lab.experiments.config import ExperimentConfig
    from lstm_lab.experiments.training import run_experiment

    series = load_air_passengers()
    run_experiment(ExperimentConfig(epochs=2), series)          # warm-up: TF import, traces
    out = {}
    for seed in seeds:
        result = run_experiment(ExperimentConfig(seed=seed), series)
        out[seed] = {"rmse": result.metrics["lstm"]["rmse"], "total_s": result.timings["total_s"]}
    return out


# --- the same jobs through the runner, no Streamlit, no browser ----------------------------------

BACKENDS = ("processes", "threads")


def phase_backend(kind: str, slots: int):
    """The backend of a phase: worker processes as ``make_backend`` makes them by default (the
    server's default), or threads of this process (``LSTM_LAB_IN_PROCESS=1``)."""
    from lstm_lab.execution import backends, choice

    if kind == "threads":
        return backends.ThreadBackend(slots)
    env = {k: v for k, v in os.environ.items()
           if k not in (backends.IN_PROCESS_VAR, backends.RAY_VAR)}
    env[backends.WORKERS_VAR] = str(slots)
    return choice.make_backend(env)


def wait_ready(backend, timeout: float = 300.0) -> None:
    """Until every worker of ``backend`` has warmed up (a no-op for threads)."""
    for name in ("wait_ready", "wait_until_ready"):
        method = getattr(backend, name, None)
        if callable(method):
            method(timeout)
            return


def run_batch(runner, series, seeds: list[int], poll: bool = False) -> dict:
    """Submit one default job per seed at once and wait for all of them: seconds from the
    first submit to the last result. With ``poll``, one thread per job also does what the Train
    page's live panel does every 0.5 s while it trains (``plots.loss_figure`` of the live
    histories, then its JSON) -- in the web process, next to the runner."""
    import threading

    from lstm_lab.experiments import plots
    from lstm_lab.experiments.config import ExperimentConfig

    stop = threading.Event()

    def live_panel(job) -> None:
        while not job.finished and not stop.is_set():
            if job.status != "queued":
                plots.loss_figure(job.live_histories(), "Live loss").to_json()
            time.sleep(0.5)

    mine = [os.getpid()]
    cpu0 = (cpu_seconds(mine), cpu_seconds(descendants(os.getpid())))
    t0 = time.perf_counter()
    jobs = [runner.submit(ExperimentConfig(seed=s), series) for s in seeds]
    pollers = [threading.Thread(target=live_panel, args=(j,), daemon=True) for j in jobs] \
        if poll else []
    for t in pollers:
        t.start()
    while not all(j.finished and j.finished_at is not None for j in jobs):
        time.sleep(0.01)              # (a job's status turns before its finish time is set)
    total = time.perf_counter() - t0
    stop.set()
    cpu1 = (cpu_seconds(mine), cpu_seconds(descendants(os.getpid())))
    run_batch.last_results = [j.result for j in jobs if j.result is not None]
    return {"total_s": total, "here_cpu_s": cpu1[0] - cpu0[0],
            "workers_cpu_s": cpu1[1] - cpu0[1],
            "run_s": [j.finished_at - j.started_at for j in jobs if j.started_at],
            "failed": [j.error for j in jobs if j.error],
            "lstm_rmse": {s: j.result.metrics["lstm"]["rmse"] for s, j in zip(seeds, jobs)
                          if j.result is not None}}


def import_app_modules() -> None:
    """What app.py and pages/*.py import at module level, as the web process has them."""
    import importlib

    from app_speed import app_imports

    for name in app_imports():
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            importlib.import_module(name.rsplit(".", 1)[0])


def backend_phase(kind: str, seeds: list[int], solo_seeds: list[int], slots: int,
                  live_panel: bool = False) -> dict:
    """One backend: start it (and its workers), one job per worker to warm them, solo jobs
    one at a time (the single-run time), then the N jobs queued together (and again with the
    live panel's work beside them, with ``live_panel``). With worker processes this process is
    the web side: it imported the app's modules, keeps the class's results (one per session)
    and builds each one's .keras download, then reads its own RSS and whether TensorFlow got in."""
    from lstm_lab.data.datasets import load_air_passengers
    from lstm_lab.execution.jobs import JobRunner
    from lstm_lab.experiments import export

    import_app_modules()

    series = load_air_passengers()
    t0 = time.perf_counter()
    backend = phase_backend(kind, slots)
    wait_ready(backend)
    ready_s = time.perf_counter() - t0
    runner = JobRunner(backend=backend)
    out: dict = {"backend": type(backend).__name__, "slots": runner.max_concurrent,
                 "ready_s": ready_s}
    try:
        t0 = time.perf_counter()
        first = run_batch(runner, series, [2000 + i for i in range(runner.max_concurrent)])
        out["first_jobs"] = {"total_s": time.perf_counter() - t0, "run_s": first["run_s"],
                             "failed": first["failed"]}
        solos = [run_batch(runner, series, [s]) for s in solo_seeds]
        out["solo"] = {"total_s": [b["total_s"] for b in solos],
                       "run_s": [b["run_s"][0] for b in solos if b["run_s"]],
                       "lstm_rmse": {k: v for b in solos for k, v in b["lstm_rmse"].items()}}
        print(f"  {kind}: ready after {ready_s:.1f} s, first job per worker "
              f"{common.median(first['run_s']):.2f} s, solo job "
              f"{common.median(out['solo']['total_s']):.2f} s (median of {len(solos)})")
        out["batches"] = {}
        kept = []
        for poll in (False, True) if live_panel else (False,):
            name = "queue + live-panel work" if poll else "queue"
            out["batches"][name] = run_batch(runner, series, seeds, poll)
            kept = kept or run_batch.last_results
            b = out["batches"][name]
            print(f"  {kind}, {name}: {len(seeds)} jobs in {b['total_s']:.1f} s, "
                  f"{len(b['failed'])} failed")
        out["downloads"] = sum(bool(export.model_bytes(r, "lstm")) for r in kept)
        out["kept_results"] = len(kept)
        workers = descendants(os.getpid())
        out["workers"] = {p: {"rss_mb": common.rss_mb(p), "tensorflow": has_tensorflow(p)}
                          for p in workers}
        out["rss_here_mb"] = common.rss_mb()
        out["tensorflow_here"] = "tensorflow" in sys.modules
        out["tensorflow_mapped_here"] = has_tensorflow(os.getpid())
    finally:
        backend.close()
    return out


def batching_probe(repeats: int = 2) -> dict:
    """Would jobs of the same network shape that wait together pay to train as one computation?
    The lab already trains an ensemble's K members in one graph (models/ensembles.py), so a merge
    of k queued default jobs (3 members each) is one run with 3k members: time that against k
    runs of 3 members, whole runs and the networks' fits alone (this process, warm)."""
    from lstm_lab.data.datasets import load_air_passengers
    from lstm_lab.experiments.config import ExperimentConfig
    from lstm_lab.experiments.training import run_experiment

    series = load_air_passengers()
    base = ExperimentConfig().members
    rows = []
    for k in (1, 2, 4):
        cfg = ExperimentConfig(members=base * k, seed=300 + k)
        run_experiment(cfg, series)                                   # trace this width once
        runs = [run_experiment(cfg, series).timings for _ in range(repeats)]
        rows.append({"jobs": k, "members": base * k,
                     "total_s": common.median([t["total_s"] for t in runs]),
                     "networks_fit_s": common.median([t.get("lstm_fit_s", 0) + t.get("mlp_fit_s", 0)
                                                      for t in runs])})
    one = rows[0]
    for r in rows:
        r["separate_total_s"] = one["total_s"] * r["jobs"]
        r["separate_fit_s"] = one["networks_fit_s"] * r["jobs"]
        r["saved_share"] = 1 - r["total_s"] / r["separate_total_s"]
    return {"rows": rows, "members_per_job": base}


def print_in_process(inproc: dict, n: int, cores: int) -> None:
    solos = {k: common.median(p["solo"]["total_s"]) for k, p in inproc.items()}
    fastest = min(solos.values())
    print(f"\nThe same {n} default jobs through the runner in this process, no Streamlit, no "
          f"browser (ideal = N x solo job of that backend / {cores} cores; 'vs fastest' uses the "
          f"fastest solo of any backend):")
    rows = []
    for kind, p in inproc.items():
        for name, b in p["batches"].items():
            ideal = n * solos[kind] / cores
            busy = (b["here_cpu_s"] + b["workers_cpu_s"]) / b["total_s"]
            rows.append([f"{kind}, {name}", b["total_s"], solos[kind], ideal,
                         f"{b['total_s'] / ideal:.2f} -> "
                         f"{common.verdict(b['total_s'] / ideal <= TARGET_RATIO)}",
                         b["total_s"] / (n * fastest / cores), common.median(b["run_s"]),
                         max(b["run_s"], default=float("nan")),
                         f"{b['here_cpu_s']:.1f} + {b['workers_cpu_s']:.1f} ({busy:.2f})",
                         len(b["failed"])])
    common.print_table(["backend, phase", "total s", "solo s", "ideal s", "ratio (<= 1.3)",
                        "vs fastest", "run s median", "run s max",
                        "CPU s here + workers (cores busy)", "failed"], rows)
    if "processes" in inproc and "threads" in inproc:
        a = inproc["processes"]["batches"]["queue"]["lstm_rmse"]
        b = inproc["threads"]["batches"]["queue"]["lstm_rmse"]
        same = sum(a[s] == b.get(s) for s in a)
        print(f"identical LSTM RMSE, worker processes vs threads, same seed: {same} of {len(a)}")
    p = inproc.get("processes")
    if p:
        print(f"worker processes: ready {p['ready_s']:.1f} s after start; first job on each "
              f"fresh worker {common.median(p['first_jobs']['run_s']):.2f} s; workers' RSS "
              + ", ".join(f"{w['rss_mb']:.0f} MB" for w in p["workers"].values())
              + f"; this (web-side) process, with the app's modules imported, the class's "
              f"{p['kept_results']} results kept and {p['downloads']} .keras downloads built: "
              f"{p['rss_here_mb']:.0f} MB (target < 300: "
              f"{common.verdict(p['rss_here_mb'] < 300)}), TensorFlow imported here: "
              f"{'YES' if p['tensorflow_here'] else 'no'}, mapped: "
              f"{'YES' if p['tensorflow_mapped_here'] else 'no'}")


def print_batching(probe: dict) -> None:
    print(f"\nTraining k queued default jobs together as one ensemble of {probe['members_per_job']}"
          " x k members (one graph) against k separate jobs, this process, warm, median:")
    common.print_table(["jobs k", "members", "one merged run s", "k separate runs s",
                        "saved", "networks' fit s merged", "k separate fits s"],
                       [[r["jobs"], r["members"], r["total_s"], r["separate_total_s"],
                         f"{r['saved_share']:.0%}", r["networks_fit_s"], r["separate_fit_s"]]
                        for r in probe["rows"]])


def browser_report(phases: dict, reference: dict, n: int, cores: int, server: dict) -> dict:
    from lstm_lab.experiments.metrics import fmt_number

    shown = {s: f"RMSE {fmt_number(reference[s]['rmse'])}" for s in reference}   # as the card
    klass = phases["class"]
    rows, failures = [], 0
    for r in klass["sessions"]:
        own = shown.get(r["seed"])
        value = r.get("lstm_rmse_shown")
        others = [s for s, v in shown.items() if v == value and s != r["seed"]]
        r["matches_own_seed"] = value == own
        r["matches_other_seeds"] = others
        # Another seed's run rounding to the same 3 digits is a coincidence, not a leak, when the
        # value also matches the session's own seed.
        ok = r["ok"] and r["matches_own_seed"] and r.get("sidebar_seed_ok")
        failures += not ok
        alerts = " / ".join(a.replace("\n", " ") for a in r.get("alerts", []))
        why = (r["error"] + (f"; last seen: {r['last_status']}" if r.get("last_status") else "")
               if r.get("error") else ("no LSTM metric" if not value else "RMSE differs")
               + (f" ({alerts[:110]})" if alerts else ""))
        rows.append([r["seed"], r.get("open_s"), r.get("results_s"),
                     "yes" if r.get("saw_queue") else "no", r.get("server_total_s"),
                     r.get("messages_sent"), value, own,
                     "yes" if r["matches_own_seed"] else "NO",
                     "yes" if r.get("sidebar_seed_ok") else "NO",
                     "ok" if ok else f"FAIL {why}"])
    print()
    common.print_table(["seed", "page open s", "click -> results s", "saw queue place",
                        "server run s", "msgs sent", "LSTM RMSE shown", "reference",
                        "own result", "sidebar seed", "status"], rows)
    solo = phases["solo"].get("results_s") or float("nan")
    ideal = n * solo / cores
    ratio = klass["total_s"] / ideal
    done = [r for r in klass["sessions"] if r.get("results_s") is not None]
    workers = server["workers"]
    print()
    common.print_table(["measurement", "value"], [
        ["sessions / failures", f"{n} / {failures} -> {common.verdict(failures == 0)}"],
        ["saw a queue place while waiting",
         f"{sum(bool(r.get('saw_queue')) for r in klass['sessions'])} of {n}"],
        ["sessions with results", f"{len(done)} of {n}"],
        ["single run: solo browser session, click -> results (s)", solo],
        ["single run: server-side run of that session (s)", phases["solo"].get("server_total_s")],
        [f"class total, first click -> last results (s), N={n}", klass["total_s"]],
        ["per-session click -> results, median / max (s)",
         f"{common.median([r['results_s'] for r in done]):.2f} / "
         f"{max((r['results_s'] for r in done), default=float('nan')):.2f}"],
        ["per-session server-side run, median (s)",
         common.median([r.get("server_total_s") for r in done])],
        [f"ideal N x solo / cores (s), cores={cores}", ideal],
        ["ratio class total / ideal (target <= 1.3)",
         f"{ratio:.2f} -> {common.verdict(ratio <= TARGET_RATIO)}"],
        ["web process CPU s during the class (cores busy on average)",
         f"{klass['server_cpu_s']:.1f} ({klass['server_cpu_s'] / klass['total_s']:.2f})"],
        ["worker processes CPU s during the class", f"{klass['workers_cpu_s']:.1f}"],
        ["browser + driver CPU s during the class", f"{klass['browser_cpu_s']:.1f}"],
        [f"web process RSS after the class of {n} (MB, target < 300)",
         f"{server['rss_mb']:.0f} -> {common.verdict(server['rss_mb'] < 300)}"],
        ["TensorFlow mapped in the web process", "YES" if server["tensorflow"] else "no"],
        ["worker processes: RSS MB (TensorFlow mapped)",
         ", ".join(f"{w['rss_mb']:.0f} ({'yes' if w['tensorflow'] else 'no'})"
                   for w in workers.values()) or "none"],
    ])
    return {"ratio": ratio, "ideal_s": ideal, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=None,
                        help="concurrent browser sessions (10)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="jobs of the in-process phases (30)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="bound on the class phase, seconds")
    parser.add_argument("--quick", action="store_true", help="4 sessions, 8 in-process jobs")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    parser.add_argument("--skip-queue-phases", action="store_true",
                        help="skip the in-process phases (the runner without browsers)")
    parser.add_argument("--skip-browser", action="store_true",
                        help="skip the browser phase (server + Chromium sessions)")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help="in-process phases to run, from processes,threads")
    parser.add_argument("--reference", metavar="JSON",
                        help="take the browser phase's reference RMSEs from an earlier --json "
                             "of the in-process phases (same seeds) instead of running them")
    parser.add_argument("--live-panel", action="store_true",
                        help="repeat each in-process class with the live panel's work beside it")
    parser.add_argument("--batching", action="store_true",
                        help="also time k queued jobs merged into one ensemble run vs k runs")
    parser.add_argument("--server", choices=common.SERVER_VARIANTS, default="as-is",
                        help="as-is (default), or an experiment that patches the server process "
                             "the way a suggested fix would (see common.SERVER_VARIANTS)")
    args = parser.parse_args()
    n = args.sessions or (4 if args.quick else 10)
    n_jobs = args.jobs or (8 if args.quick else 30)
    cores = os.cpu_count() or 1

    from lstm_lab.execution import backends as exec_backends

    header = common.machine_header(
        quick=args.quick, sessions=n, jobs=n_jobs, chromium=common.CHROMIUM,
        server_backend=("threads (LSTM_LAB_IN_PROCESS=1)"
                        if os.environ.get(exec_backends.IN_PROCESS_VAR) == "1"
                        else f"worker processes ({exec_backends.worker_count(os.environ)})"),
        server=args.server if args.server != "as-is" else "streamlit run app.py (as is)")
    common.print_header("LSTM Lab classroom-load benchmark", header)
    out: dict = {"header": header}

    inproc: dict = {}
    if not args.skip_queue_phases:
        seeds = list(range(1, n_jobs + 1))
        for kind in [k for k in args.backends.split(",") if k]:
            inproc[kind] = backend_phase(kind, seeds, [1000, 1001], cores, args.live_panel)
        print_in_process(inproc, n_jobs, cores)
        out["in_process"] = inproc
        print(f"load average after the in-process phases: {common.load_average()}")
        common.write_json(args.json, out)
    if args.batching:
        out["batching"] = batching_probe()
        print_batching(out["batching"])
        print(f"load average after the batching probe: {common.load_average()}")
        common.write_json(args.json, out)

    if args.skip_browser:
        return
    seeds = list(range(1, n + 1))
    reference = {}
    for p in inproc.values():
        for b in (p["solo"], *p["batches"].values()):
            for s, v in b["lstm_rmse"].items():
                reference.setdefault(s, {"rmse": v})
    if args.reference:
        import json

        earlier = json.loads(Path(args.reference).read_text()).get("in_process", {})
        for p in earlier.values():
            for b in (p["solo"], *p["batches"].values()):
                for s, v in b["lstm_rmse"].items():
                    reference.setdefault(int(s), {"rmse": v})
    missing = [s for s in seeds + [1000] if s not in reference]
    if missing:
        print(f"  reference runs: {len(missing)} seeds' experiments alone in this process")
        reference.update(reference_runs(missing))
    tmp = Path(tempfile.mkdtemp(prefix="lstm_lab_classroom_"))
    with common.run_server(tmp / "server.log", variant=args.server) as server:
        phases = asyncio.run(browser_phases(server.base, n, server.proc.pid, args.timeout))
        pid = server.proc.pid
        web = {"rss_mb": common.rss_mb(pid), "tensorflow": has_tensorflow(pid),
               "workers": {p: {"rss_mb": common.rss_mb(p), "tensorflow": has_tensorflow(p)}
                           for p in descendants(pid)}}
        log_tail = server.log_tail(15)
    verdicts = browser_report(phases, reference, n, cores, web)
    print(f"load average at the end: {common.load_average()}")
    common.write_json(args.json, {**out, "phases": phases, "reference": reference, **verdicts,
                                  "web_process": web, "server_log_tail": log_tail})


if __name__ == "__main__":
    main()
