"""Ensemble speed: how K networks are best trained together, and what the default CLI run costs.

Why it exists: issue #15 asks for ensembles of K seeds trained "together where it pays" and for
a default one-season-ahead run of at most 8 s from the command line. This script measures, side
by side in one process (so the shared machine's load hits every row alike):

1. training K LSTM members (window 12, horizon 12, 32 units, the airline windows' shape) for
   100 epochs with LSTM Lab's compiled loop, three ways: K separate fits of one network (the
   traced loop reused), one wide Keras model with zeros between members (``build_lstm(...,
   members=K)``), and batched weights (``networks.build_batched_lstm``, what the lab uses);
   the same for the MLP (wide model only: it is what the lab uses);
2. the wall time of the default CLI runs (``python -m lstm_lab run`` one step ahead, and
   ``--horizon 12 --test-size 12`` one season ahead), and of importing TensorFlow alone, each in
   a fresh process.

Usage (from the repository root):
    .venv/bin/python bench/ensemble_speed.py [--members 1,3,5,10] [--repeats 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run without installing lstm_lab

from bench.common import load_average, machine_header, print_header, print_table, write_json  # noqa: E402

EPOCHS = 100
WINDOW, HORIZON, UNITS, N_WINDOWS = 12, 12, 32, 97


def time_fit(model, X: np.ndarray, y: np.ndarray, key) -> tuple[float, float]:
    """(first fit: trace + 1 epoch, then 100 epochs with the traced loop reused), seconds."""
    from lstm_lab.models.fitting import fit_compiled

    split = len(X) - 10
    t = time.perf_counter()
    fit_compiled(model, X[:split], y[:split], X[split:], y[split:], epochs=1, batch_size=16,
                 patience=0, seed=0, reuse_key=key)
    trace = time.perf_counter() - t
    t = time.perf_counter()
    fit_compiled(model, X[:split], y[:split], X[split:], y[split:], epochs=EPOCHS,
                 batch_size=16, patience=0, seed=0, reuse_key=key)
    return trace, time.perf_counter() - t


def training_rows(members: list[int]) -> list[list]:
    from lstm_lab.models.networks import build_batched_lstm, build_lstm, build_mlp

    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_WINDOWS, WINDOW, 1)).astype("float32")
    rows = []
    lone = build_lstm(WINDOW, HORIZON, 1, UNITS, learning_rate=3e-3)
    y1 = rng.normal(size=(N_WINDOWS, HORIZON)).astype("float32")
    lone_trace, lone_fit = time_fit(lone, X, y1, ("lone",))
    for k in members:
        y = np.repeat(y1[:, None, :], k, axis=1) if k > 1 else y1
        separate = lone_trace + k * lone_fit          # one trace, K fits reusing it
        wide = build_lstm(WINDOW, HORIZON, 1, UNITS, learning_rate=3e-3, members=k)
        wide_trace, wide_fit = time_fit(wide, X, y, ("wide", k))
        if k > 1:
            batched = build_batched_lstm(WINDOW, HORIZON, 1, UNITS, 0.0, 3e-3, 0, k)
            b_trace, b_fit = time_fit(batched, X, y, ("batched", k))
        else:
            b_trace, b_fit = lone_trace, lone_fit
        mlp = build_mlp(WINDOW, HORIZON, 1, UNITS, learning_rate=3e-3, members=k)
        m_trace, m_fit = time_fit(mlp, X[..., 0], y, ("mlp", k))
        rows.append([k, lone_fit * k, separate, wide_trace + wide_fit, b_trace + b_fit,
                     b_fit / lone_fit, m_trace + m_fit])
    return rows


def wall(args: list[str], repeats: int) -> float:
    """Median wall time of a fresh ``python`` process running ``args``."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", default="1,3,5,10")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    members = [int(k) for k in args.members.split(",")]
    header = machine_header(load_start=load_average())
    print_header("Ensemble training and CLI speed", header)

    rows = training_rows(members)
    print(f"\n1. {EPOCHS} epochs of K LSTM members (window {WINDOW}, horizon {HORIZON}, "
          f"{UNITS} units, {N_WINDOWS} windows), seconds; trace included except in the first "
          "column")
    columns = ["K", "K x one fit", "K separate fits", "wide model", "batched (used)",
               "batched / one fit", "MLP wide (used)"]
    print_table(columns, rows)

    cli = ["-m", "lstm_lab", "run"]
    timings = {
        "import tensorflow": wall(["-c", "import tensorflow"], args.repeats),
        "one step ahead (defaults)": wall(cli, args.repeats),
        "one season ahead (--horizon 12 --test-size 12)":
            wall([*cli, "--horizon", "12", "--test-size", "12"], args.repeats),
        "one season ahead, members 1":
            wall([*cli, "--horizon", "12", "--test-size", "12", "--members", "1"], args.repeats),
    }
    print(f"\n2. Wall time of a fresh process, median of {args.repeats}, seconds (target for the "
          "default one-season-ahead run: <= 8 s)")
    print_table(["command", "seconds"], [[k, v] for k, v in timings.items()])
    print(f"\nload average at the end: {load_average()}")
    write_json(args.json, {"header": header, "training": [dict(zip(columns, r)) for r in rows],
                           "cli": timings, "load_end": load_average()})


if __name__ == "__main__":
    main()
