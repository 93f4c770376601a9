"""One student tries to hog the server; does another student's default run still finish in
normal time?

Runs in one process through ``lstm_lab.execution.jobs.JobRunner``, the queue the dashboard uses (one worker
per core), with the server's limits as they are set (defaults, or the LSTM_LAB_* variables):

  1. warm-up: one default run (TensorFlow loads, the training loop is traced);
  2. solo: student B's default airline run, ``--repeats`` times, on an idle queue;
  3. the hog, student A, tries what a careless or curious student would: SARIMA with season 365
     on daily data, a bidirectional 8 x 1024 LSTM with an 8 x 4096 MLP, ten tabs of one browser
     each pressing Train on the biggest network the compute budget lets through, Learn's echo
     experiment in the first tab -- each answer is recorded with its message;
  4. hogged: B's default run again, ``--repeats`` times, while A's job is running.

Prints A's attempts and what the server answered, B's times solo and hogged (medians) and their
ratio; the target is that B's run finishes in normal time (ratio well under 2: A may use one of
the cores, never the whole server). Usage: ``.venv/bin/python bench/hog.py [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, load_average, machine_header, median, print_header, print_table  # noqa: E402


def wait(job, timeout: float = 900.0) -> float:
    """Seconds from submit to finish."""
    t0 = time.perf_counter()
    while not job.finished and time.perf_counter() - t0 < timeout:
        time.sleep(0.02)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="B's runs per phase (3)")
    args = parser.parse_args()

    from lstm_lab.data.csv_reader import read_csv_series
    from lstm_lab.data.datasets import load_air_passengers
    from lstm_lab.errors import LabError
    from lstm_lab.execution.jobs import JobRunner
    from lstm_lab.experiments.config import ExperimentConfig
    from lstm_lab.experiments.training import estimate_work, preflight
    from lstm_lab.lessons import tasks
    from lstm_lab.limits import get_limits

    limits = get_limits()
    print_header("Hogging the server: a second session's default run (bench/hog.py)",
                 machine_header(limits=f"max_work {limits.max_work:.0e}, max_weights "
                                       f"{limits.max_weights:,}, max_job_seconds "
                                       f"{limits.max_job_seconds}, max_queue {limits.max_queue}"))
    air = load_air_passengers()
    daily = read_csv_series(ROOT / "tests" / "data" / "daily-min-temperatures.csv")
    runner = JobRunner()
    default = ExperimentConfig()

    wait(runner.submit(default, air, owner="warm-up"))
    solo = [wait(runner.submit(default.replace(seed=s), air, owner="B"))
            for s in range(args.repeats)]

    attempts: list[tuple[str, str]] = []

    def attempt(what: str, config: ExperimentConfig, series) -> None:
        try:
            preflight(config, series)
            attempts.append((what, "accepted"))
        except LabError as err:
            attempts.append((what, f"refused: {err}"))

    attempt("SARIMA, season 365, daily temperatures",
            ExperimentConfig(dataset="csv", csv_path="daily.csv", models=("sarima",),
                             season=365), daily)
    attempt("BiLSTM 8 x 1024 + MLP 8 x 4096 on the airline series",
            default.replace(architecture="bilstm", layers=8, units=1024, mlp_layers=8,
                            mlp_units=4096, epochs=1), air)
    # the biggest network the budget lets through: 2 x 256 units, as many epochs as fit
    big = default.replace(layers=2, units=256, patience=0, tuning="off", models=("lstm",))
    per_epoch = estimate_work(big.replace(epochs=1), 120, 12, limits)["lstm"]
    big = big.replace(epochs=max(1, min(5000, limits.max_work // per_epoch)))
    hog_jobs, refused = [], []
    for tab in range(10):    # each tab is a session of its own (an owner), all in A's browser
        try:
            hog_jobs.append(runner.submit(big.replace(seed=tab), air, owner=f"A-tab{tab}",
                                          client="A's browser"))
        except LabError as err:
            refused.append(str(err))
    attempts.append(("ten tabs of one browser press Train on an LSTM 2 x 256, "
                     f"{big.epochs} epochs, no early stop",
                     f"{len(hog_jobs)} of 10 accepted, one of them running at a time; "
                     f"{len(refused)} refused: {refused[0] if refused else '-'}"))
    hog = hog_jobs[0]
    while hog.status == "queued":
        time.sleep(0.05)

    hogged = []
    for s in range(args.repeats):
        if hog.finished:
            break
        hogged.append(wait(runner.submit(default.replace(seed=s), air, owner="B")))
    hog_running = not hog.finished
    try:
        learn = runner.submit(None, None, label="Learn: echo", owner="A-tab0",
                              client="A's browser",
                              task=lambda job: tasks.echo_experiment(should_stop=job.should_stop))
        answer = ("replaced that tab's LSTM job, which "
                  f"{'was stopped' if hog.stop_event.is_set() else 'kept running'}")
    except LabError as err:
        learn, answer = None, f"refused: {err}"
    attempts.append(("Learn's echo experiment in the first tab", answer))
    for job in [*hog_jobs, *([learn] if learn else [])]:
        job.request_stop()
    for job in [*hog_jobs, *([learn] if learn else [])]:
        wait(job, 120)

    print("Student A's attempts and the server's answers:")
    for what, answer in attempts:
        print(f"  - {what}\n      {answer}")
    print()
    rows = [["B solo (idle queue)", median(solo), min(solo), max(solo), len(solo)],
            ["B while A's job runs", median(hogged), min(hogged, default=float("nan")),
             max(hogged, default=float("nan")), len(hogged)]]
    print_table(["B's default run, submit -> result (s)", "median", "min", "max", "runs"], rows)
    ratio = median(hogged) / median(solo)
    print(f"\nratio hogged / solo: {ratio:.2f} (A's job still running throughout: "
          f"{hog_running}); load average now {load_average()}; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
