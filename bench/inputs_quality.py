"""Did the input columns help? The networks with and without inputs on the multivariate gallery
series, one step and one season ahead, against the univariate baselines (issue #19).

What it runs: for each multivariate gallery series (US change: Consumption with Income,
Production, Savings and Unemployment; US macro: realgdp with realcons, realinv, realdpi and
unemp) and each horizon (1, and the season: 4 quarters, direct strategy),
``experiments.inputs_effect.compare_inputs`` with the DEFAULT ``ExperimentConfig`` otherwise
(test size 24, window 12, transform auto, ensembles of 3 members, default epochs and patience),
except that prediction intervals are off (they do not change the point forecasts and cost
calibration time). Seeds 0, 1, 2 by default. The baselines (naive, seasonal naive, Holt-Winters,
SARIMA) read the target only and do not depend on the seed, so they are fitted in the first
seed's run only; the later seeds run the networks.

Printed per series x horizon: mean test RMSE and MASE over the seeds of the LSTM and the MLP
with and without the inputs, the baselines' test RMSE and MASE, each seed's numbers (test RMSE,
epochs run, the epoch whose weights early stopping kept), the weight counts, the load
average (/proc/loadavg) at the start and the end, and the wall time. No asserts, no targets:
measured numbers only.

Usage (from the repository root; about 15-30 minutes on 2 shared cores):
    .venv/bin/python bench/inputs_quality.py [--seeds N] [--quick] [--json PATH]
--quick: 1 seed and at most 30 epochs (a smoke run; its numbers are not the defaults').
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/common.py
from common import fmt, machine_header, print_header, print_table, write_json  # noqa: E402, I001

from lstm_lab.experiments.config import ExperimentConfig  # noqa: E402
from lstm_lab.experiments.inputs_effect import change, compare_inputs  # noqa: E402
from lstm_lab.experiments.sources import load_series  # noqa: E402

# (gallery key, inputs). The target is the entry's value column (Consumption, realgdp).
# us_macro: the two largest parts of GDP (real consumption, about two thirds of it, and real
# investment, its most cyclical part), real disposable income, and the unemployment rate (the
# labour market, Okun's law). Left out: government spending (set by budgets, not the cycle),
# prices, money, rates and population (nominal or slow-moving trends that mostly share GDP's
# trend), and the derived inflation and real interest rate.
SERIES = (
    ("us_change", ("Income", "Production", "Savings", "Unemployment")),
    ("us_macro", ("realcons", "realinv", "realdpi", "unemp")),
)
NETS = ("lstm", "mlp")
BASELINES = ("naive", "seasonal_naive", "holt_winters", "sarima")
LABELS = {"naive": "Naive", "seasonal_naive": "Seasonal naive", "holt_winters": "Holt-Winters",
          "sarima": "SARIMA"}
QUICK_EPOCHS = 30


def proc_loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "unknown"


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def best_epoch(result, net: str) -> int | None:
    """The epoch (from 1) with the lowest validation loss: the weights early stopping kept."""
    val = [v for v in result.histories.get(net, {}).get("val_loss", []) if v == v]
    return (val.index(min(val)) + 1) if val else None


def run_case(key: str, inputs: tuple[str, ...], horizon_name: str, seeds: list[int],
             quick: bool) -> dict:
    """compare_inputs over the seeds for one series and horizon ("1" or "season")."""
    base = ExperimentConfig(dataset=key, inputs=inputs, intervals=())
    if quick:
        base = base.replace(epochs=min(base.epochs, QUICK_EPOCHS))
    series = load_series(base)
    season = series.season
    horizon = 1 if horizon_name == "1" else season
    base = base.replace(horizon=horizon)
    per_seed, baselines, t0 = [], {}, time.perf_counter()
    for i, seed in enumerate(seeds):
        config = base.replace(seed=seed) if i == 0 else base.replace(seed=seed, models=NETS)
        t = time.perf_counter()
        comparison = compare_inputs(config, series)
        seconds = time.perf_counter() - t
        w, wo = comparison.with_inputs, comparison.without
        row = {"seed": seed, "seconds": seconds, "transform": w.transform,
               "transform_without": wo.transform}
        for net in NETS:
            row[f"{net}_with_rmse"] = w.metrics[net]["rmse"]
            row[f"{net}_with_mase"] = w.metrics[net]["mase"]
            row[f"{net}_without_rmse"] = wo.metrics[net]["rmse"]
            row[f"{net}_without_mase"] = wo.metrics[net]["mase"]
            row[f"{net}_epochs_with"] = w.epochs_run.get(net)
            row[f"{net}_epochs_without"] = wo.epochs_run.get(net)
            row[f"{net}_best_with"] = best_epoch(w, net)
            row[f"{net}_best_without"] = best_epoch(wo, net)
            row[f"{net}_weights_with"] = w.n_params.get(net)
            row[f"{net}_weights_without"] = wo.n_params.get(net)
        if i == 0:
            baselines = {m: {"rmse": w.metrics[m]["rmse"], "mase": w.metrics[m]["mase"]}
                         for m in BASELINES if m in w.metrics}
            labels = {net: wo.label(net) for net in NETS}
            n_points, n_train = w.n_points, w.n_train
        per_seed.append(row)
        print(f"  {key} h={horizon} seed {seed}: {seconds:.0f} s; "
              + "; ".join(f"{net} RMSE {fmt(row[f'{net}_with_rmse'], 4)} with, "
                          f"{fmt(row[f'{net}_without_rmse'], 4)} without" for net in NETS),
              flush=True)
    summary = {}
    for net in NETS:
        for part in ("with", "without"):
            for metric in ("rmse", "mase"):
                summary[f"{net}_{part}_{metric}"] = mean([r[f"{net}_{part}_{metric}"]
                                                          for r in per_seed])
        summary[f"{net}_change"] = change(summary[f"{net}_with_rmse"],
                                          summary[f"{net}_without_rmse"])
    best = min(baselines, key=lambda m: baselines[m]["rmse"]) if baselines else None
    return {"series": key, "inputs": list(inputs), "horizon": horizon, "season": season,
            "points": n_points, "train": n_train, "test": n_points - n_train,
            "labels": labels, "seeds": per_seed, "summary": summary, "baselines": baselines,
            "best_baseline": best, "seconds": time.perf_counter() - t0}


def print_case(case: dict) -> None:
    s, b = case["summary"], case["baselines"]
    print(f"\n=== {case['series']}: horizon {case['horizon']} (season {case['season']}), "
          f"inputs {', '.join(case['inputs'])} ===")
    print(f"{case['points']} points, {case['train']} training, {case['test']} test; "
          f"transform {case['seeds'][0]['transform']}; mean over seeds "
          f"{', '.join(str(r['seed']) for r in case['seeds'])}; {case['seconds']:.0f} s")
    rows = []
    for net in NETS:
        label = case["labels"][net]
        rows.append([f"{label} with inputs", s[f"{net}_with_rmse"], s[f"{net}_with_mase"],
                     f"{s[f'{net}_change']:+.1%}"])
        rows.append([f"{label} without", s[f"{net}_without_rmse"], s[f"{net}_without_mase"], ""])
    for m, scores in b.items():
        rows.append([f"{LABELS[m]} (target only)", scores["rmse"], scores["mase"], ""])
    print_table(["model", "test RMSE", "test MASE", "RMSE change with inputs"], rows, digits=4)
    print("per seed (test RMSE): " + "; ".join(
        f"seed {r['seed']}: " + ", ".join(
            f"{net} {fmt(r[f'{net}_with_rmse'], 4)}/{fmt(r[f'{net}_without_rmse'], 4)}"
            for net in NETS) for r in case["seeds"]) + "  (with/without)")
    print("epochs run (with/without): " + "; ".join(
        f"seed {r['seed']}: " + ", ".join(
            f"{net} {r[f'{net}_epochs_with']}/{r[f'{net}_epochs_without']}" for net in NETS)
        for r in case["seeds"]))
    print("best validation epoch, the weights kept (with/without): " + "; ".join(
        f"seed {r['seed']}: " + ", ".join(
            f"{net} {r[f'{net}_best_with']}/{r[f'{net}_best_without']}" for net in NETS)
        for r in case["seeds"]))
    first = case["seeds"][0]
    print("weights (with/without): " + ", ".join(
        f"{net} {first[f'{net}_weights_with']}/{first[f'{net}_weights_without']}"
        for net in NETS))
    if case["best_baseline"]:
        best = case["best_baseline"]
        bar = b[best]["rmse"]
        print(f"best univariate baseline: {LABELS[best]} {fmt(bar, 4)}; " + ", ".join(
            f"{net} with inputs {'beats' if s[f'{net}_with_rmse'] < bar else 'does not beat'} it"
            for net in NETS))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: 1 seed, at most {QUICK_EPOCHS} epochs")
    parser.add_argument("--json", help="also write every number to this JSON file")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be 1 or more")
    seeds = list(range(1 if args.quick else args.seeds))
    load_start = proc_loadavg()
    print_header("Input columns (#19): networks with and without inputs vs univariate baselines",
                 machine_header(**{"/proc/loadavg": load_start, "seeds": seeds,
                                   "quick": args.quick}))
    t0 = time.perf_counter()
    cases = []
    for key, inputs in SERIES:
        for horizon_name in ("1", "season"):
            case = run_case(key, inputs, horizon_name, seeds, args.quick)
            print_case(case)
            cases.append(case)
    wall = time.perf_counter() - t0
    load_end = proc_loadavg()
    print("\n=== Summary: mean test RMSE (MASE) ===")
    rows = []
    for c in cases:
        s, b = c["summary"], c["baselines"]
        rows.append([f"{c['series']} h={c['horizon']}",
                     *(f"{fmt(s[f'{n}_{p}_rmse'], 4)} ({fmt(s[f'{n}_{p}_mase'], 3)})"
                       for n in NETS for p in ("with", "without")),
                     *(f"{fmt(b[m]['rmse'], 4)} ({fmt(b[m]['mase'], 3)})" for m in BASELINES)])
    print_table(["series", "LSTM with", "LSTM without", "MLP with", "MLP without",
                 *(LABELS[m] for m in BASELINES)], rows)
    print(f"\n/proc/loadavg start: {load_start}")
    print(f"/proc/loadavg end:   {load_end}")
    print(f"wall time: {wall:.0f} s ({wall / 60:.1f} min)")
    write_json(args.json, {"seeds": seeds, "quick": args.quick, "load_start": load_start,
                           "load_end": load_end, "wall_seconds": wall, "cases": cases})
    return 0


if __name__ == "__main__":
    sys.exit(main())
