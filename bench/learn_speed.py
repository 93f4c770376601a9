"""Learn page speed: how long each lesson's live experiment takes at the page's own settings.

Why it exists: issue #17 asks that every Learn experiment stays under 10 s on this server. Each
lesson is run as the page runs it (the same function and settings), one after another in one
process, after TensorFlow has been imported and one tiny network traced (a visitor's first lesson
pays that import once: it is timed and printed apart). The load average is printed before and
after each lesson: on a shared machine a slow row next to a high load is the load, not the lesson.

Usage (from the repository root):
    .venv/bin/python bench/learn_speed.py [--only echo,order,...] [--repeats 1] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run without installing lstm_lab

from bench.common import (  # noqa: E402
    load_average,
    machine_header,
    median,
    print_header,
    print_table,
    verdict,
    write_json,
)

LIMIT_S = 10.0


def lessons() -> dict:
    """The Learn page's lessons, each as a no-argument call with the page's default settings,
    and the sentence it puts under its chart."""
    from lstm_lab.data.datasets import load_air_passengers
    from lstm_lab.lessons import experiments, tasks

    airline = load_air_passengers()
    return {
        "echo": (lambda: tasks.echo_experiment(window=5), experiments.echo_caption),
        "order": (tasks.order_experiment, experiments.order_caption),
        "parallel": (lambda: tasks.parallel_experiment(n_series=8, window=12, units=32),
                     lambda t: f"test RMSE {t['test RMSE'].round(3).tolist()}"),
        "variable length": (tasks.variable_length_demo, experiments.variable_length_caption),
        "output length": (tasks.output_length_demo,
                          lambda found: experiments.output_length_caption(found[1], 12)),
        "small LSTM": (lambda: experiments.train_small_lstm(airline),
                       lambda r: f"LSTM test RMSE {r.metrics['lstm']['rmse']:,.1f}"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated lesson names")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    header = machine_header(limit_s=LIMIT_S)
    print_header("Learn page: seconds per lesson", header)
    start = time.perf_counter()
    import keras  # noqa: F401  (what a visitor's first lesson pays once)
    import_s = time.perf_counter() - start
    print(f"importing Keras / TensorFlow: {import_s:.1f} s (once per server process)\n")

    chosen = lessons()
    if args.only:
        names = [n.strip() for n in args.only.split(",")]
        unknown = [n for n in names if n not in chosen]
        if unknown:
            sys.exit(f"Unknown lesson {', '.join(unknown)}: choose from {', '.join(chosen)}.")
        chosen = {n: chosen[n] for n in names}
    rows, results = [], {}
    for name, (run, caption) in chosen.items():
        before = load_average()
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            found = run()
            times.append(time.perf_counter() - t0)
        seconds = median(times)
        rows.append([name, seconds, verdict(seconds < LIMIT_S), before, load_average()])
        results[name] = {"seconds": times, "load_before": before, "load_after": load_average(),
                         "caption": caption(found)}
        print(f"{name}: {seconds:.1f} s  {caption(found)}", flush=True)
    print()
    print_table(["lesson", "seconds", f"under {LIMIT_S:.0f} s", "load before", "load after"],
                rows, digits=1)
    write_json(args.json, {"header": header, "import_s": import_s, "lessons": results})


if __name__ == "__main__":
    main()
