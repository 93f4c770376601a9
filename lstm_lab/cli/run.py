"""``python -m lstm_lab run``: train and evaluate one experiment (or backtest it, or forecast
past the data's end) and print the metrics table or one JSON object."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from lstm_lab.cli.args import config_from_args, count_arg
from lstm_lab.cli.table import format_table, interval_table
from lstm_lab.experiments.evaluation import BacktestResult, forecast_future, run_backtest
from lstm_lab.experiments.export import forecast_csv, write_run
from lstm_lab.experiments.intervals import interval_metric_name
from lstm_lab.experiments.sources import load_series
from lstm_lab.experiments.training import bands_to_plain, run_experiment
from lstm_lab.store.tables import interval_levels

# What `run --json` prints of a result: its metrics (prediction intervals' coverage, width and
# Winkler score included), the bands ("intervals": per model and level, "low" and "high" for
# every point of the series, null outside the test part) and how each model was calibrated.
JSON_KEYS = ("config", "metrics", "timings", "epochs_run", "versions", "series_name", "n_points",
             "n_train", "notes", "transform", "tuning", "intervals", "calibration")


def run(args: argparse.Namespace) -> int:
    """The ``run`` command; returns the exit status. Raises LabError or OSError on mistakes."""
    config = config_from_args(args)
    series = load_series(config)
    folds = count_arg(args.backtest, "--backtest")
    steps = count_arg(args.future, "--future")
    if config.neural_models:
        _import_tensorflow_quietly()
    if folds:
        return _report_backtest(run_backtest(config, series, folds, refit=not args.no_refit),
                                args)
    result = run_experiment(config, series)
    future = forecast_future(config, series, steps) if steps else None
    if args.out:
        write_run(result, args.out)
        if future is not None:
            (Path(args.out) / "future.csv").write_text(forecast_csv(future), encoding="utf-8")
    if args.json:
        data = result.to_dict()
        out = {k: data[k] for k in JSON_KEYS}
        out["architecture"] = config.architecture          # beside the stable keys: lstm is...
        out["labels"] = {m: result.label(m) for m in result.models}   # ..."GRU ×2"
        if future is not None:
            frame = future.forecasts.assign(time=future.forecasts["time"].astype(str))
            out["future"] = frame.to_dict(orient="list")
            out["future_intervals"] = bands_to_plain(future.intervals)
        print(json.dumps(out))
    else:
        print(format_table(result))
        if future is not None:
            print(f"\nForecast of the next {steps} points (models fitted on all the data):")
            shown = future.forecasts.rename(columns={m: future.label(m)
                                                     for m in future.forecasts.columns
                                                     if m != "time"})
            print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
            if future.intervals:
                print(f"Prediction intervals of the first {min(steps, config.horizon)} step(s), "
                      "per model and level: future.csv (with --out) or --json.")
    return 0


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with the process's stderr muted: its C++ start-up writes an absl warning
    and a oneDNN info line straight to stderr, whatever TF_CPP_MIN_LOG_LEVEL says (upstream), and
    the CLI keeps stderr for its own error line. Python errors still raise as usual.

    TensorFlow is imported here, on purpose, and nowhere else in the command line: it takes
    seconds and is needed only when a network is trained."""
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        import tensorflow as tf

        tf.constant(0.0) + 0.0   # the first op prints the second pair of lines
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _report_backtest(backtest: BacktestResult, args: argparse.Namespace) -> int:
    """Print (and with --out, write) a backtest's per-fold and summary metrics."""
    summary = backtest.summary()
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "backtest.json").write_text(json.dumps(backtest.to_dict(), indent=2))
    if args.json:
        print(json.dumps(backtest.to_dict()))
        return 0
    cfg = backtest.config
    print(f"{backtest.series_name}: backtest over {len(backtest.folds)} folds of "
          f"{int(cfg.test_size)} points, horizon {cfg.horizon}, "
          f"{'refit every fold' if backtest.refit else 'fitted once'}")
    for fold in backtest.folds:
        scores = "  ".join(f"{backtest.label(m)} {v['rmse']:.3f}"
                           for m, v in fold["metrics"].items())
        head = f"fold {fold['fold']}: {fold['start']} .. {fold['end']}  "
        print(f"{head}RMSE  {scores}")
        for key in interval_levels(fold["metrics"].values()):
            name = interval_metric_name("coverage", float(key) / 100)
            cover = "  ".join(f"{backtest.label(m)} {_percent(v.get(name))}"
                              for m, v in fold["metrics"].items())
            print(f"{'':<{len(head)}}coverage {key}%  {cover}")
    print(f"{'model':<22}{'RMSE mean':>11}{'± std':>9}{'MASE mean':>11}")
    for model, row in summary.iterrows():
        print(f"{backtest.label(model):<22}{row['rmse mean']:>11.3f}{row['rmse std']:>9.3f}"
              f"{row['mase mean']:>11.3f}")
    means = {backtest.label(m): {k: v for k, v in row.items() if isinstance(k, str)}
             for m, row in summary.iterrows()}
    calibrated = ("each fold's band calibrated on its own training part" if backtest.refit
                  else "every fold's band from fold 1's calibration")
    for line in interval_table(means, f"Prediction intervals, mean over the folds ({calibrated})",
                               suffix=" mean"):
        print(line)
    return 0


def _percent(value: float | None) -> str:
    """A coverage in a fold's line: ``83.3%``, or ``—`` for a model without a band."""
    return "—" if value is None or value != value else f"{value:.1f}%"
