"""Classroom load: N real browser sessions press Train at the same moment on one server.

Why it exists: a teacher shares a link and a class trains at once. The server-wide queue
(lstm_lab/experiments/jobs.py) runs at most one training per core, first come first served, and shows the
others their place. This script checks, end to end through Streamlit and Chromium, that N
concurrent sessions all get results, that each sees only its own results, how many saw a queue
place while waiting, and how the total time compares with the ideal N x single-run time / cores.

Steps (one ``streamlit run app.py`` on a loopback port, one headless system Chromium with one
context -- one Streamlit session -- per student, driven with asyncio Playwright):
  0. first, before the server starts, every seed's config runs alone with ``run_experiment`` in
     this process (plus seed 1000): the reference results and the plain single-run time;
  1. warm-up: one session trains once (the server's first training imports TensorFlow);
  2. solo: one session alone, seed 1000: its click -> "Test metrics" time is the single-run time;
  3. class: N sessions open /train?seed=<i> (i = 1..N, so every run differs), then all click
     Train together; per session: click -> results wall time, whether "Waiting in the training
     queue" appeared (a MutationObserver in the page), the LSTM RMSE its metric shows, the seed its
     sidebar summary shows, and any exception box;
  4. each session's LSTM RMSE must equal (4 significant digits, as displayed) its own seed's
     reference value and no other seed's;
  5. for comparison, the same N jobs through ``lstm_lab.experiments.jobs.JobRunner`` in this process without
     Streamlit or a browser: alone, and with one thread per job doing the live panel's Python
     work (the loss figure every 0.5 s) -- trainings and the UI share one GIL in the server.
CPU seconds used meanwhile by the server and by the browser are read from /proc (server CPU
seconds / wall seconds = cores it kept busy on average).

Targets: total time <= 1.3 x (N x single-run time / cores); 0 failures. No assertions.

Usage (from the repository root):
    .venv/bin/python bench/classroom.py [--sessions 10] [--timeout 900] [--quick] [--json PATH]
                                        [--skip-queue-phases] [--server VARIANT]

--quick: 4 sessions. Everything stays on 127.0.0.1; --timeout bounds the whole class phase.
--server gc-freeze | gc-freeze+no-keras-clear: experiments, not the app -- the server process is
patched before it starts the way a suggested fix would (common.SERVER_VARIANTS), to measure it.
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
    out = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for c in children:
        out.append(int(c))
        out += descendants(int(c))
    return out


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
            if label.split()[0] == "LSTM":
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
    mine = [p for p in descendants(os.getpid()) if p != server_pid
            and p not in descendants(server_pid)]
    cpu0 = (cpu_seconds([server_pid]), cpu_seconds(mine))
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
    cpu1 = (cpu_seconds([server_pid]), cpu_seconds(mine))
    for s in students:
        await s.close()
    return {"total_s": total, "sessions": [s.result for s in students],
            "server_cpu_s": cpu1[0] - cpu0[0], "browser_cpu_s": cpu1[1] - cpu0[1]}


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
    RMSE every session must show, and the plain single-run time."""
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


def queue_only(seeds: list[int], poll: bool) -> dict:
    """The same N jobs through lstm_lab.experiments.jobs.JobRunner in this process, without Streamlit or a
    browser. With ``poll``, one thread per job also does what the Train page's live panel does
    every 0.5 s while training (``plots.loss_figure`` of the live histories, then its JSON),
    to show what Python work next to the trainings costs them (they share one GIL)."""
    import threading

    from lstm_lab.data.datasets import load_air_passengers
    from lstm_lab.experiments import plots
    from lstm_lab.experiments.config import ExperimentConfig
    from lstm_lab.experiments.jobs import JobRunner

    series = load_air_passengers()
    runner = JobRunner()
    stop = threading.Event()

    def live_panel(job) -> None:
        while not job.finished and not stop.is_set():
            if job.status != "queued":
                plots.loss_figure(job.live_histories(), "Live loss").to_json()
            time.sleep(0.5)

    cpu0 = cpu_seconds([os.getpid()])
    t0 = time.perf_counter()
    jobs = [runner.submit(ExperimentConfig(seed=s), series) for s in seeds]
    pollers = [threading.Thread(target=live_panel, args=(j,), daemon=True) for j in jobs] \
        if poll else []
    for t in pollers:
        t.start()
    while not all(j.finished for j in jobs):
        time.sleep(0.02)
    total = time.perf_counter() - t0
    stop.set()
    return {"total_s": total, "cpu_s": cpu_seconds([os.getpid()]) - cpu0,
            "run_s": [j.finished_at - j.started_at for j in jobs],
            "failed": [j.error for j in jobs if j.error],
            "lstm_rmse": {s: j.result.metrics["lstm"]["rmse"] for s, j in zip(seeds, jobs)
                          if j.result is not None}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=None, help="concurrent sessions (10)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="bound on the class phase, seconds")
    parser.add_argument("--quick", action="store_true", help="4 sessions")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    parser.add_argument("--skip-queue-phases", action="store_true",
                        help="skip step 5 (the in-process JobRunner comparison)")
    parser.add_argument("--server", choices=common.SERVER_VARIANTS, default="as-is",
                        help="as-is (default), or an experiment that patches the server process "
                             "the way a suggested fix would (see common.SERVER_VARIANTS)")
    args = parser.parse_args()
    n = args.sessions or (4 if args.quick else 10)
    cores = os.cpu_count() or 1

    header = common.machine_header(quick=args.quick, sessions=n, chromium=common.CHROMIUM,
                                   queue_workers=f"{cores} (JobRunner default: cpu count)",
                                   server=args.server if args.server != "as-is"
                                   else "streamlit run app.py (as is)")
    common.print_header("LSTM Lab classroom-load benchmark", header)
    seeds = list(range(1, n + 1))
    print("  reference runs: each seed's experiment alone in this process (before the server)")
    reference = reference_runs(seeds + [1000])
    tmp = Path(tempfile.mkdtemp(prefix="lstm_lab_classroom_"))
    with common.run_server(tmp / "server.log", variant=args.server) as server:
        phases = asyncio.run(browser_phases(server.base, n, server.proc.pid, args.timeout))
        server_rss = common.rss_mb(server.proc.pid)
        log_tail = server.log_tail(15)

    shown = {s: f"{reference[s]['rmse']:.4g}" for s in reference}
    klass = phases["class"]
    rows, failures = [], 0
    for r in klass["sessions"]:
        own = shown[r["seed"]]
        value = r.get("lstm_rmse_shown")
        others = [s for s, v in shown.items() if v == value and s != r["seed"]]
        r["matches_own_seed"] = value == own
        r["matches_other_seeds"] = others
        # Another seed's run rounding to the same 4 digits is a coincidence, not a leak, when the
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
    plain = common.median([reference[s]["total_s"] for s in seeds])
    ideal = n * solo / cores
    ratio = klass["total_s"] / ideal
    done = [r for r in klass["sessions"] if r.get("results_s") is not None]
    print()
    common.print_table(["measurement", "value"], [
        ["sessions / failures", f"{n} / {failures} -> {common.verdict(failures == 0)}"],
        ["saw a queue place while waiting", f"{sum(bool(r.get('saw_queue')) for r in klass['sessions'])}"
                                            f" of {n}"],
        ["sessions with results", f"{len(done)} of {n}"],
        ["single run: solo browser session, click -> results (s)", solo],
        ["single run: server-side run_experiment of that session (s)",
         phases["solo"].get("server_total_s")],
        ["single run: run_experiment alone in a plain process, median (s)", plain],
        [f"class total, first click -> last results (s), N={n}", klass["total_s"]],
        ["per-session click -> results, median / max (s)",
         f"{common.median([r['results_s'] for r in done]):.2f} / "
         f"{max((r['results_s'] for r in done), default=float('nan')):.2f}"],
        ["per-session server-side run, median (s)",
         common.median([r.get("server_total_s") for r in done])],
        [f"ideal N x solo / cores (s), cores={cores}", ideal],
        ["ratio class total / ideal (target <= 1.3)",
         f"{ratio:.2f} -> {common.verdict(ratio <= TARGET_RATIO)}"],
        ["server CPU s during the class (cores busy on average)",
         f"{klass['server_cpu_s']:.1f} ({klass['server_cpu_s'] / klass['total_s']:.2f})"],
        ["browser + driver CPU s during the class", f"{klass['browser_cpu_s']:.1f}"],
        ["server RSS after the class (MB)", f"{server_rss:.0f}"],
    ])
    out = {"header": header, "phases": phases, "reference": reference, "ratio": ratio,
           "ideal_s": ideal, "failures": failures, "server_rss_mb": server_rss,
           "server_log_tail": log_tail}
    common.write_json(args.json, out)        # now, in case the in-process phases are cut short
    if args.skip_queue_phases:
        print(f"load average at the end: {common.load_average()}")
        return
    print("\n  in-process phases (server stopped): the same jobs through JobRunner...")
    inproc = {"queue only": queue_only(seeds, poll=False),
              "queue + live-panel work": queue_only(seeds, poll=True)}
    print("\nThe same N jobs in this process, no Streamlit, no browser (ideal = N x plain run / "
          "cores):")
    ideal_plain = n * plain / cores
    common.print_table(["phase", "total s", "ideal s", "ratio", "run s median", "run s max",
                        "CPU s (cores busy)", "failed"],
                       [[name, p["total_s"], ideal_plain, p["total_s"] / ideal_plain,
                         common.median(p["run_s"]), max(p["run_s"]),
                         f"{p['cpu_s']:.1f} ({p['cpu_s'] / p['total_s']:.2f})", len(p["failed"])]
                        for name, p in inproc.items()])
    print(f"load average at the end: {common.load_average()}")
    common.write_json(args.json, {**out, "in_process": inproc})


if __name__ == "__main__":
    main()
