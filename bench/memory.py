"""Memory of the training path: RSS after imports, after the default run, and per further session.

Why it exists: a classroom server keeps every session's finished runs (``ExperimentResult`` with
its fitted Keras models, needed later for the .keras download) in memory, and trains in worker
threads. This script shows what one run and each further finished session cost in resident
memory, whether that memory is tied to the kept results or leaks, and what
``keras.backend.clear_session()`` after each run changes -- and whether it breaks the kept
results (their models must still predict and export as .keras).

Each mode runs in a fresh child process (``--child MODE``), which records RSS:
  start            bare interpreter + this script
  app imports      what app.py and pages/*.py import at module level (as the server's first run)
  tf + keras       after ``import tensorflow, keras`` (the first training does this)
  default run      after ``run_experiment`` of the default experiment (air passengers, seed 0)
  + N sessions     after N more runs with seeds 1..N, every result kept (one per "session")
  results dropped  after deleting every kept result (sessions expired)
  malloc_trim      after glibc's malloc_trim(0): freed memory the allocator still held goes back
It also times what Streamlit runs after every script run once keras is imported --
``keras.backend.clear_session()`` and ``gc.collect(2)`` -- with all N + 1 results kept, and again
after ``gc.freeze()``: that work holds the GIL the training threads need.
Modes: ``direct`` (run_experiment on the main thread), ``jobs`` (through ``lstm_lab.execution.jobs.JobRunner``
worker threads, as the server does), each also ``+clear`` (``keras.backend.clear_session()`` after
each run, on the thread that trained). ``gc.collect()`` runs before every reading. RSS comes from
psutil when installed, else /proc/self/status VmRSS.

``--web-class N`` (issue #18): the web process when training runs in worker processes, the
server's default. A fresh child imports what app.py and pages/*.py import, starts the runner
with its default backend (``make_backend``: one worker process per core), and trains a class of
N default jobs (seeds 1..N) through it, keeping every result (one per session), then offers each
result's trained LSTM as a .keras download (what a results page does); it records its own RSS at
each step and whether TensorFlow was imported (sys.modules) or its native library mapped
(/proc/self/maps) in it. Target: < 300 MB after a class of 30, TensorFlow never imported.

Targets: < 800 MB RSS after the default run; < 50 MB per additional finished session.

Usage (from the repository root):
    .venv/bin/python bench/memory.py [--runs 10] [--modes direct,jobs,direct+clear,jobs+clear]
                                     [--quick] [--json PATH]

--quick: 3 further runs, modes direct and direct+clear. No assertions.
    .venv/bin/python bench/memory.py --web-class 30 [--json PATH]   (only the web-process class)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TARGET_DEFAULT_MB = 800.0
TARGET_PER_SESSION_MB = 50.0
TARGET_WEB_MB = 300.0
TENSORFLOW_LIB = "libtensorflow_framework"   # mapped once a process imports TensorFlow
MODES = ("direct", "jobs", "direct+clear", "jobs+clear")
LABELS = {"start": "start (interpreter + bench helpers)", "app imports": "app imports",
          "tf + keras": "tf + keras imported", "default run": "default run (result kept)",
          "results dropped": "all results dropped + gc",
          "malloc_trim": "then glibc malloc_trim(0)"}


# --- child -------------------------------------------------------------------------------------

def emit(step: str, **extra) -> None:
    gc.collect()
    if "tensorflow" in sys.modules:   # functions traced into TF's eager context (kept after the run)
        from tensorflow.python.eager import context

        extra["tf_functions"] = len(context.context().list_function_names())
    print(json.dumps({"step": step, "rss_mb": common.rss_mb(), "t": time.perf_counter(), **extra}),
          flush=True)


def cleanup_ms() -> dict[str, float]:
    """What Streamlit does after every script run once keras is imported: its
    ``_clean_problem_modules`` calls ``keras.backend.clear_session()`` (a full ``gc.collect()``
    plus TF's kernel-cache clear), then ``runner.postScriptGC`` runs ``gc.collect(2)``. Both hold
    the GIL. Best of 3, in ms."""
    import keras

    def best(fn) -> float:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        return min(times)

    return {"clear_session_ms": best(keras.backend.clear_session),
            "gc_collect_ms": best(lambda: gc.collect(2)), "gc_objects": len(gc.get_objects())}


def malloc_trim() -> bool:
    """Hand freed heap pages back to the OS (glibc): separates "freed but kept by the allocator"
    from memory that is still referenced."""
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def child(mode: str, runs: int) -> None:
    import importlib

    from app_speed import app_imports

    emit("start")
    for name in app_imports():
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            importlib.import_module(name.rsplit(".", 1)[0])
    emit("app imports")

    import keras
    import numpy as np
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    emit("tf + keras")

    from lstm_lab.data.datasets import load_air_passengers
    from lstm_lab.execution import jobs
    from lstm_lab.experiments import export
    from lstm_lab.experiments.config import ExperimentConfig
    from lstm_lab.experiments.training import run_experiment

    clear = mode.endswith("+clear")
    series = load_air_passengers()

    def train(cfg):
        result = run_experiment(cfg, series)
        if clear:
            keras.backend.clear_session()     # on the thread that trained
        return result

    if mode.startswith("jobs"):
        jobs.run_experiment = lambda cfg, s, **kw: _cleared(run_experiment(cfg, s, **kw), clear)
        runner = jobs.JobRunner()

        def run(cfg):
            job = runner.submit(cfg, series)
            while not job.finished:
                time.sleep(0.05)
            if job.result is None:
                raise RuntimeError(job.error)
            return job.result
    else:
        run = train

    kept = []
    t0 = time.perf_counter()
    kept.append(run(ExperimentConfig()))
    emit("default run", seconds=time.perf_counter() - t0)
    for seed in range(1, runs + 1):
        t0 = time.perf_counter()
        kept.append(run(ExperimentConfig(seed=seed)))
        emit(f"session {seed}", seconds=time.perf_counter() - t0)

    # Are the kept results still whole? The first one's networks must predict what they predicted
    # when trained, and its LSTM must export as a .keras file that loads back.
    first = kept[0]
    checks = {}
    try:
        values, n_train = series.values, first.n_train
        origins = np.arange(n_train, len(values), first.config.horizon)
        for name in ("lstm", "mlp"):
            again = first.forecasters[name].predict(values, origins).ravel()
            stored = first.predictions[name].to_numpy()[n_train:]
            checks[f"{name}_predict_same"] = bool(np.allclose(again[: len(stored)], stored,
                                                              rtol=1e-5, atol=1e-4))
        data = export.model_bytes(first, "lstm")
        checks["keras_export_bytes"] = len(data)
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.keras"
            path.write_bytes(data)
            model = keras.saving.load_model(path)
            checks["keras_reload_ok"] = model.count_params() == first.n_params["lstm"]
    except Exception as err:  # noqa: BLE001 - reported, not raised
        checks["error"] = f"{type(err).__name__}: {err}"
    # Timed after the checks, so that the no-clear modes' checks saw no clear_session at all.
    emit("checked", checks=checks, cleanup=cleanup_ms())

    kept.clear()
    first = None
    emit("results dropped")
    emit("malloc_trim", trimmed=malloc_trim())
    gc.freeze()        # what moving every object alive now out of the collector's sight buys
    emit("gc.freeze", cleanup=cleanup_ms())


def _cleared(result, clear: bool):
    if clear:
        import keras

        keras.backend.clear_session()
    return result


def web_child(sessions: int) -> None:
    """The web process of a server whose jobs run in worker processes: a class of ``sessions``
    default jobs through the runner, every result kept (see the module doc)."""
    import importlib

    from app_speed import app_imports

    def tf_state() -> dict:
        maps = Path("/proc/self/maps").read_text()
        return {"tf_imported": "tensorflow" in sys.modules, "keras_imported": "keras" in
                sys.modules, "tf_mapped": TENSORFLOW_LIB in maps}

    emit("start", **tf_state())
    for name in app_imports():
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            importlib.import_module(name.rsplit(".", 1)[0])
    emit("app imports", **tf_state())

    from lstm_lab.data.datasets import load_air_passengers
    from lstm_lab.execution.choice import make_backend
    from lstm_lab.execution.jobs import JobRunner
    from lstm_lab.experiments import export
    from lstm_lab.experiments.config import ExperimentConfig

    series = load_air_passengers()
    t0 = time.perf_counter()
    backend = make_backend()
    wait = getattr(backend, "wait_ready", None) or getattr(backend, "wait_until_ready", None)
    if callable(wait):
        wait(300)
    runner = JobRunner(backend=backend)
    emit("workers ready", seconds=time.perf_counter() - t0, backend=type(backend).__name__,
         slots=runner.max_concurrent, **tf_state())
    try:
        kept = []
        t0 = time.perf_counter()
        jobs = [runner.submit(ExperimentConfig(seed=s), series) for s in range(1, sessions + 1)]
        while not all(j.finished for j in jobs):
            time.sleep(0.05)
        kept = [j.result for j in jobs if j.result is not None]
        errors = [j.error for j in jobs if j.error]
        emit("class trained", seconds=time.perf_counter() - t0, kept=len(kept),
             errors=errors[:3], **tf_state())
        sizes = [len(export.model_bytes(r, "lstm")) for r in kept]
        emit("downloads built", keras_bytes=sizes[:1], downloads=len(sizes), **tf_state())
        emit("malloc_trim", trimmed=malloc_trim(), **tf_state())
    finally:
        backend.close()


# --- parent ------------------------------------------------------------------------------------

def run_mode(mode: str, runs: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", mode, "--runs", str(runs)],
                          cwd=common.ROOT, capture_output=True, text=True,
                          env=common.server_env(), timeout=1800)
    steps = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not steps or steps[-1]["step"] != "gc.freeze":
        raise RuntimeError(f"child {mode} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    by = {s["step"]: s for s in steps}
    sessions = [s for s in steps if s["step"].startswith("session ")]
    default = by["default run"]["rss_mb"]
    growth = [b["rss_mb"] - a["rss_mb"] for a, b in zip([by["default run"], *sessions], sessions)]
    return {"mode": mode, "steps": steps, "rss": {s["step"]: s["rss_mb"] for s in steps},
            "default_mb": default, "after_runs_mb": sessions[-1]["rss_mb"] if sessions else default,
            "per_session_mb": (sessions[-1]["rss_mb"] - default) / len(sessions) if sessions
            else float("nan"),
            "growth_mb": growth, "run_s": [s["seconds"] for s in sessions],
            "checks": by["checked"]["checks"],
            "cleanup": {k: by[k]["cleanup"] for k in ("checked", "gc.freeze")}}


def web_class(sessions: int, json_path: str | None) -> None:
    header = common.machine_header(web_class=sessions,
                                   rss_source="psutil" if _has_psutil() else "/proc VmRSS")
    common.print_header("LSTM Lab memory benchmark: the web process with worker processes",
                        header)
    env = common.server_env()
    env.pop("LSTM_LAB_IN_PROCESS", None)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", "web", "--web-class",
                           str(sessions)], cwd=common.ROOT, capture_output=True, text=True,
                          env=env, timeout=1800)
    steps = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not steps or steps[-1]["step"] != "malloc_trim":
        raise RuntimeError(f"web child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    print(f"  done in {time.perf_counter() - t0:.0f} s")
    rows = []
    for st in steps:
        extra = []
        if "seconds" in st:
            extra.append(f"{st['seconds']:.1f} s")
        if "backend" in st:
            extra.append(f"{st['backend']}, {st['slots']} slots")
        if "kept" in st:
            extra.append(f"{st['kept']} results kept, {len(st['errors'])} errors shown")
        if "downloads" in st:
            extra.append(f"{st['downloads']} .keras downloads of {st['keras_bytes'][0]:,} bytes"
                         if st["keras_bytes"] else "no downloads")
        rows.append([st["step"], st["rss_mb"], "YES" if st.get("tf_imported") else "no",
                     "YES" if st.get("tf_mapped") else "no", "; ".join(extra)])
    common.print_table(["step", "RSS MB", "tensorflow imported", "libtensorflow mapped",
                        "notes"], rows, digits=0)
    by = {st["step"]: st for st in steps}
    peak = max(st["rss_mb"] for st in steps)
    clean = not any(st.get("tf_imported") or st.get("tf_mapped") for st in steps)
    print(f"web process after a class of {sessions} (results kept, downloads built): "
          f"{by['downloads built']['rss_mb']:.0f} MB (peak {peak:.0f}); target < "
          f"{TARGET_WEB_MB:.0f} MB: {common.verdict(peak < TARGET_WEB_MB)}; TensorFlow never "
          f"imported: {common.verdict(clean)}")
    print(f"load average at the end: {common.load_average()}")
    common.write_json(json_path, {"header": header, "sessions": sessions, "steps": steps,
                                  "peak_mb": peak, "tensorflow_free": clean})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=None, help="further runs (default 10)")
    parser.add_argument("--modes", default=None, help=f"comma-separated, from {', '.join(MODES)}")
    parser.add_argument("--quick", action="store_true", help="3 further runs, direct modes only")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    parser.add_argument("--web-class", type=int, default=None, metavar="N",
                        help="only the web process during a class of N jobs in worker processes")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 10)
    if args.child == "web":
        web_child(args.web_class or 30)
        return
    if args.child:
        child(args.child, runs)
        return
    if args.web_class:
        web_class(args.web_class, args.json)
        return
    modes = (args.modes.split(",") if args.modes
             else ["direct", "direct+clear"] if args.quick else list(MODES))

    header = common.machine_header(quick=args.quick, further_runs=runs, modes=", ".join(modes),
                                   rss_source="psutil" if _has_psutil() else "/proc VmRSS")
    common.print_header("LSTM Lab memory benchmark", header)
    results = []
    for mode in modes:
        t0 = time.perf_counter()
        r = run_mode(mode, runs)
        results.append(r)
        print(f"  {mode}: done in {time.perf_counter() - t0:.0f} s; growth per run (MB): "
              + ", ".join(f"{g:+.1f}" for g in r["growth_mb"]))

    steps = ["start", "app imports", "tf + keras", "default run",
             f"session {runs}", "results dropped", "malloc_trim"]
    print("\nRSS (MB) at each step, one fresh process per mode:")
    common.print_table(["step", *[r["mode"] for r in results]],
                       [[LABELS.get(s, f"+ {runs} sessions kept"),
                         *[r["rss"].get(s) for r in results]] for s in steps], digits=0)
    print("TF functions registered in the eager context: "
          + "; ".join(f"{r['mode']}: " + " -> ".join(
              str(st["tf_functions"]) for st in r["steps"] if "tf_functions" in st)
              for r in results))
    print()
    rows = []
    for r in results:
        c = r["checks"]
        usable = ("error: " + c["error"]) if "error" in c else (
            "yes" if c.get("lstm_predict_same") and c.get("mlp_predict_same")
            and c.get("keras_reload_ok") else f"NO {c}")
        rows.append([r["mode"], r["default_mb"], r["per_session_mb"], max(r["growth_mb"]),
                     common.median(r["run_s"]), usable,
                     common.verdict(r["default_mb"] < TARGET_DEFAULT_MB),
                     common.verdict(r["per_session_mb"] < TARGET_PER_SESSION_MB)])
    common.print_table(["mode", "after default run MB", "per further session MB", "max step MB",
                        "run s (median)", "old results predict + .keras ok",
                        f"< {TARGET_DEFAULT_MB:.0f} MB", f"< {TARGET_PER_SESSION_MB:.0f} MB/session"],
                       rows, digits=1)
    print("\nStreamlit's cleanup after every script run once keras is imported (holds the GIL), ms:"
          " keras.backend.clear_session() + gc.collect(2), best of 3")
    common.print_table(["mode", f"with {runs + 1} results kept", "after gc.freeze()",
                        "gc-tracked objects"],
                       [[r["mode"], *[f"{c['clear_session_ms']:.0f} + {c['gc_collect_ms']:.0f}"
                                      for c in r["cleanup"].values()],
                         next(iter(r["cleanup"].values()))["gc_objects"]] for r in results])
    print(f"load average at the end: {common.load_average()}")
    common.write_json(args.json, {"header": header, "runs": runs, "results": results,
                                  "targets": {"default_mb": TARGET_DEFAULT_MB,
                                              "per_session_mb": TARGET_PER_SESSION_MB}})


def _has_psutil() -> bool:
    try:
        import psutil  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
