"""Local worker processes against a local Ray cluster, on this one machine: the same batch of
default jobs (Train & compare, airline passengers, seeds 1..N) through each backend.

Why it exists: issue #18 asks for Ray when one machine is not enough, and for its scaling measured
honestly. On ONE machine Ray can only add overhead (a head, a scheduler, a hub actor for progress,
results shipped back and saved by the web process); it pays only when nodes add cores. This
script measures that overhead with both backends given the same cores.

Phases, for each backend (worker processes as ``make run`` starts them, then a Ray head started
here on 127.0.0.1 with ``--num-cpus`` equal to the workers, ended -- its process group only --
at the end):
  1. start: until its workers have imported TensorFlow and traced the default networks;
  2. solo: one job alone, submit -> result (seed 1000);
  3. batch: N jobs submitted at once, first submit -> last result; ratio to N x solo / cores.
Then: whether every seed's LSTM RMSE is identical through both backends. No assertions.

Usage (from the repository root):
    .venv/bin/python bench/ray_scaling.py [--jobs 6] [--cores 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    ROOT,
    free_port,
    machine_header,
    print_header,
    print_table,
    write_json,
)


def start_head(cores: int) -> tuple[str, int, str]:
    """A local Ray head in a process group of its own: (address, group id, temp dir)."""
    port = free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
           "RAY_USAGE_STATS_ENABLED": "0"}
    ray = Path(sys.executable).with_name("ray")
    proc = subprocess.Popen(
        [str(ray), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
         f"--num-cpus={cores}", "--include-dashboard=false", "--disable-usage-stats",
         f"--temp-dir={temp}", f"--ray-client-server-port={free_port()}",
         f"--dashboard-port={free_port()}", f"--dashboard-agent-listen-port={free_port()}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    output, _ = proc.communicate(timeout=180)
    if proc.returncode != 0:
        end_group(proc.pid)
        raise SystemExit(f"ray start failed:\n{output[-3000:]}")
    # ``ray start`` exits; the head's processes keep its process group (start_new_session)
    return f"127.0.0.1:{port}", proc.pid, temp


def end_group(pgid: int) -> None:
    for sig, pause in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 1.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + pause
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def _end_strays(temp: str) -> None:
    """Kill, by pid, the head's worker processes that outlive it (Ray gives each worker a
    process group of its own): those whose command line names this head's temporary folder."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if temp in cmd:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)


def wait_done(jobs, timeout: float = 900.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(j.finished for j in jobs):
        if time.monotonic() > deadline:
            raise SystemExit("jobs did not finish in time")
        time.sleep(0.05)


def measure(name: str, backend, started: float, cores: int, n: int, series) -> dict:
    from lstm_lab.execution.jobs import JobRunner
    from lstm_lab.experiments.config import ExperimentConfig

    while not backend.warm():
        time.sleep(0.1)
    ready = time.perf_counter() - started
    runner = JobRunner(backend=backend)
    t0 = time.perf_counter()
    solo = runner.submit(ExperimentConfig(seed=1000), series)
    wait_done([solo])
    solo_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    jobs = [runner.submit(ExperimentConfig(seed=s), series) for s in range(1, n + 1)]
    wait_done(jobs)
    batch_s = time.perf_counter() - t0
    failed = [j.error for j in [solo, *jobs] if j.status != "done"]
    rmse = {j.config.seed: j.result.metrics["lstm"]["rmse"] for j in jobs if j.result}
    ideal = n * solo_s / cores
    print(f"{name}: ready {ready:.1f} s, solo {solo_s:.1f} s, {n} jobs {batch_s:.1f} s "
          f"(ideal {ideal:.1f} s), failures {len(failed)}; load {os.getloadavg()[0]:.2f}",
          flush=True)
    return {"backend": name, "ready_s": ready, "solo_s": solo_s, "batch_s": batch_s,
            "ideal_s": ideal, "ratio": batch_s / ideal, "failures": failed, "rmse": rmse,
            "load_after": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    # a SIGTERM (timeout, Ctrl-C in a wrapper) still ends the workers and the Ray head below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.setdefault("LSTM_LAB_DB", os.path.join(tempfile.mkdtemp(), "runs.sqlite3"))
    header = machine_header(jobs=args.jobs, cores_given=args.cores)
    print_header("Ray scaling on ONE machine: local worker processes vs a local Ray cluster "
                 "(same cores)", header)

    from lstm_lab.data.datasets import load_air_passengers
    from lstm_lab.execution.processes import ProcessBackend
    from lstm_lab.execution.ray_backend import RayBackend

    series = load_air_passengers()
    rows = []
    started = time.perf_counter()
    processes = ProcessBackend(args.cores)
    try:
        rows.append(measure("worker processes", processes, started, args.cores, args.jobs,
                            series))
    finally:
        processes.close()

    started = time.perf_counter()
    address, pgid, temp = start_head(args.cores)
    try:
        ray_backend = RayBackend(address)
        rows.append(measure("Ray, local head", ray_backend, started, args.cores, args.jobs,
                            series))
        ray_backend.close()
    finally:
        import ray

        with contextlib.suppress(Exception):
            ray.shutdown()
        end_group(pgid)
        _end_strays(temp)
        shutil.rmtree(temp, ignore_errors=True)

    print()
    print_table(["backend", "ready s", "solo s", f"{args.jobs} jobs s", "ideal s",
                 "ratio to ideal", "failures", "load after"],
                [[r["backend"], r["ready_s"], r["solo_s"], r["batch_s"], r["ideal_s"],
                  r["ratio"], len(r["failures"]), r["load_after"]] for r in rows])
    same = rows[0]["rmse"] == rows[1]["rmse"]
    print(f"\nSame LSTM RMSE for every seed through both backends: {same}")
    print(f"Ray's batch time / the worker processes': "
          f"{rows[1]['batch_s'] / rows[0]['batch_s']:.2f}x -- the same cores either way: "
          "read any gap against the load, Ray adds no cores on one machine")
    print(f"Load average at the end: {machine_header()['load average']}")
    write_json(args.json, {"header": header, "rows": rows, "same_rmse": same})


if __name__ == "__main__":
    main()
