"""Training-speed benchmark: LSTM Lab's compiled loop against a tutorial-style Keras ``fit``.

Why it exists: LSTM Lab trains its networks with a compiled multi-epoch TensorFlow loop
(lstm_lab/models/fitting.py) plus a log_diff transform and early stopping, instead of the
``model.fit(X, y, epochs=100, batch_size=1)`` on min-max-scaled raw values that most tutorials
use. This script measures what that buys on the default experiment (air passengers, window 12,
horizon 1, last 24 months held out): fit time and test RMSE for the same LSTM and MLP
architectures, built by the same ``lstm_lab.models.networks`` functions, on the same split and windows.
Target: a speed-up of at least 10x with a lower test RMSE.

A second section measures what reusing the traced training loop saves: the default LSTM ensemble
of the one-season-ahead run (3 members, window 12, horizon 12, batched weights) fitted again on a
shorter training part -- as a calibration fit or a backtest fold does -- with the loop traced by
the first fit reused, against a freshly traced one, side by side in one process.

Usage (from the repository root):
    .venv/bin/python bench/training_speed.py [--repeats 3] [--quick] [--reuse-only] [--json PATH]

Fit times cover model building plus training (the scope of ``result.timings['<model>_fit_s']``);
prediction and scoring are not timed. The tutorial baseline is trained once per model.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run without installing lstm_lab

from bench.common import cpu_model, load_average  # noqa: E402
from lstm_lab.data.datasets import load_air_passengers  # noqa: E402
from lstm_lab.data.windows import make_windows, split_by_time, windows_at  # noqa: E402
from lstm_lab.experiments.config import ExperimentConfig  # noqa: E402
from lstm_lab.experiments.metrics import rmse  # noqa: E402
from lstm_lab.experiments.training import make_forecasters, run_experiment  # noqa: E402
from lstm_lab.models.fitting import clear_trainers  # noqa: E402
from lstm_lab.models.networks import build_lstm, build_mlp  # noqa: E402

NEURAL = ("lstm", "mlp")
TUTORIAL_EPOCHS = 100
TARGET_SPEEDUP = 10.0


def tutorial_run(name: str, config: ExperimentConfig, values: np.ndarray, n_train: int,
                 epochs: int) -> dict[str, float]:
    """Brownlee-style: MinMaxScaler(0, 1) on the raw training values, Keras fit, batch size 1."""
    import keras
    from sklearn.preprocessing import MinMaxScaler

    scaler = MinMaxScaler((0, 1)).fit(values[:n_train, None])
    scaled = scaler.transform(values[:, None]).ravel()
    X, y = make_windows(scaled[:n_train], config.window, config.horizon)
    X_test = windows_at(scaled, np.arange(n_train, len(values)), config.window)  # true inputs
    shape = (lambda a: a[..., None]) if name == "lstm" else (lambda a: a)
    keras.utils.set_random_seed(config.seed)
    t0 = time.perf_counter()
    if name == "lstm":
        model = build_lstm(config.window, config.horizon, config.layers, config.units,
                           config.dropout, config.learning_rate, seed=config.seed)
    else:
        model = build_mlp(config.window, config.horizon, config.mlp_layers, config.mlp_units,
                          config.dropout, config.learning_rate, seed=config.seed)
    model.fit(shape(X), y, epochs=epochs, batch_size=1, verbose=0)
    fit_s = time.perf_counter() - t0
    pred = scaler.inverse_transform(model.predict(shape(X_test), verbose=0)[:, :1]).ravel()
    return {"fit_s": fit_s, "rmse": rmse(values[n_train:], pred), "n_windows": len(X)}


def reuse_section(values: np.ndarray, repeats: int, shorter_by: int = 12) -> dict:
    """The default season-ahead LSTM ensemble fitted on the training part (tracing its loop),
    then on the training part less ``shorter_by`` points twice per repeat: with that trace
    reused, and after forgetting it (a fresh trace). Seconds of ``fit`` (ES hybrid, windows,
    training), medians; both must train the same weights."""
    config = ExperimentConfig(horizon=12, test_size=12)
    n_train = split_by_time(len(values), config.test_count(len(values)))
    short = values[: n_train - shorter_by]

    def fit(part: np.ndarray):
        model = make_forecasters(config, 12)["lstm"]
        t0 = time.perf_counter()
        model.fit(part)
        return time.perf_counter() - t0, model

    load_before = load_average()
    clear_trainers()
    first_s, _ = fit(values[:n_train])                     # traces the loop
    reused, fresh, same = [], [], True
    for _ in range(repeats):
        fit(values[:n_train])                              # the full part again: as in a run
        seconds, a = fit(short)
        reused.append(seconds)
        clear_trainers()
        seconds, b = fit(short)
        fresh.append(seconds)
        same &= all(np.array_equal(x, y) for x, y in zip(a.model_.get_weights(),
                                                         b.model_.get_weights(), strict=True))
        same &= a.history_ == b.history_
    out = {"members": config.members, "window": config.window, "horizon": config.horizon,
           "train_points": n_train, "shorter_points": len(short),
           "first_fit_s": first_s, "reused_s_runs": reused, "fresh_s_runs": fresh,
           "reused_s": statistics.median(reused), "fresh_s": statistics.median(fresh),
           "identical_weights_and_losses": bool(same), "epochs_run": a.epochs_run_,
           "load_before": load_before, "load_after": load_average()}
    print(f"\nSecond fit of the default LSTM ensemble ({config.members} members, window "
          f"{config.window}, horizon {config.horizon}, batched) on {len(short)} of the "
          f"{n_train} training points ({a.epochs_run_} epochs), median of {repeats}, seconds:")
    print(f"  first fit (traces)   {first_s:6.2f}")
    print(f"  reused trace         {out['reused_s']:6.2f}   runs "
          + ", ".join(f"{x:.2f}" for x in reused))
    print(f"  fresh trace          {out['fresh_s']:6.2f}   runs "
          + ", ".join(f"{x:.2f}" for x in fresh))
    print(f"  saved by reusing     {out['fresh_s'] - out['reused_s']:6.2f}; same weights and "
          f"losses: {'yes' if same else 'NO'}")
    print(f"  load average before {load_before}, after {out['load_after']}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="LSTM Lab repeats (median)")
    parser.add_argument("--quick", action="store_true",
                        help="1 repeat; tutorial trains 10 epochs and its time is extrapolated x10")
    parser.add_argument("--reuse-only", action="store_true",
                        help="only the second section: a reused trace against a fresh one")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    args = parser.parse_args()
    repeats = 1 if args.quick else max(1, args.repeats)
    tut_epochs = 10 if args.quick else TUTORIAL_EPOCHS
    scale = TUTORIAL_EPOCHS / tut_epochs

    t0 = time.perf_counter()
    import keras
    import tensorflow as tf
    import_s = time.perf_counter() - t0
    tf.get_logger().setLevel("ERROR")  # each LSTM Lab fit traces a fresh tf.function: no warnings

    header = {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
              "tensorflow": tf.__version__, "keras": keras.__version__,
              "date": dt.datetime.now().isoformat(timespec="seconds"), "repeats": repeats,
              "quick": args.quick}
    print("LSTM Lab training-speed benchmark")
    for key, value in header.items():
        print(f"  {key:<11} {value}")

    series, config = load_air_passengers(), ExperimentConfig()
    values = series.values
    if args.reuse_only:
        reuse = reuse_section(values, repeats)
        if args.json:
            Path(args.json).write_text(json.dumps({"header": header, "reuse": reuse}, indent=2,
                                                  default=float) + "\n")
            print(f"Wrote {args.json}")
        return
    n_train = split_by_time(len(values), config.test_count(len(values)))

    # Warm-up: a tiny run pays one-time TF costs (runtime start-up, first traces) up front.
    tiny = config.replace(epochs=2, models=NEURAL)
    t0 = time.perf_counter()
    run_experiment(tiny, series)
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_experiment(tiny, series)
    warm_s = time.perf_counter() - t0
    for name in NEURAL:  # and the Keras fit / predict path the tutorial uses
        tutorial_run(name, config, values, n_train, epochs=1)
    warmup = {"import_tf_keras_s": import_s, "tiny_run_cold_s": cold_s, "tiny_run_warm_s": warm_s}
    print(f"\nWarm-up: import tensorflow+keras {import_s:.2f} s; tiny 2-epoch LSTM+MLP run: "
          f"cold (first) {cold_s:.2f} s, warm {warm_s:.2f} s")

    runs = []
    for i in range(repeats):
        result = run_experiment(config, series)
        runs.append(result)
        print(f"  LSTM Lab repeat {i + 1}/{repeats}: "
              + ", ".join(f"{m} {result.timings[f'{m}_fit_s']:.2f} s "
                          f"({result.epochs_run[m]} epochs)" for m in NEURAL))

    def med(get) -> float:
        return statistics.median(get(r) for r in runs)

    lab = {m: {"fit_s_runs": [r.timings[f"{m}_fit_s"] for r in runs],
               "fit_s": med(lambda r, m=m: r.timings[f"{m}_fit_s"]),
               "epochs_run": [r.epochs_run[m] for r in runs],
               "rmse": med(lambda r, m=m: r.metrics[m]["rmse"])} for m in NEURAL}
    baselines = {m: runs[0].metrics[m]["rmse"] for m in ("naive", "seasonal_naive")}

    tutorial = {}
    for m in NEURAL:
        t = tutorial_run(m, config, values, n_train, tut_epochs)
        t.update(epochs=tut_epochs, measured_fit_s=t["fit_s"], fit_s=t["fit_s"] * scale,
                 extrapolated=args.quick)
        tutorial[m] = t
        print(f"  tutorial {m}: {t['measured_fit_s']:.2f} s for {tut_epochs} epochs")

    mark = "*" if args.quick else ""
    print(f"\n{'model':<6} | {'LSTM Lab fit s (median)':>23} | {'tutorial fit s':>14} | "
          f"{'speed-up (x)':>12} | {'LSTM Lab test RMSE':>18} | {'tutorial test RMSE':>18}")
    print("-" * 107)
    summary = {}
    for m in NEURAL:
        speedup = tutorial[m]["fit_s"] / lab[m]["fit_s"]
        met = speedup >= TARGET_SPEEDUP and lab[m]["rmse"] < tutorial[m]["rmse"]
        summary[m] = {"speedup": speedup, "target_met": met}
        print(f"{m.upper():<6} | {lab[m]['fit_s']:>23.2f} | {tutorial[m]['fit_s']:>13.2f}{mark:1} | "
              f"{speedup:>11.1f}{mark:1} | {lab[m]['rmse']:>18.2f} | {tutorial[m]['rmse']:>17.2f}{mark:1}")
    print(f"Baselines test RMSE: naive {baselines['naive']:.2f}, "
          f"seasonal naive {baselines['seasonal_naive']:.2f}")
    print(f"LSTM Lab epochs run (early stopping, max {config.epochs}): "
          + ", ".join(f"{m} {lab[m]['epochs_run']}" for m in NEURAL)
          + f"; tutorial: {TUTORIAL_EPOCHS} epochs, batch 1, "
          f"{tutorial['lstm']['n_windows']} windows, no early stopping")
    print(f"Target: speed-up >= {TARGET_SPEEDUP:.0f}x with lower test RMSE -> "
          + ", ".join(f"{m.upper()} {'MET' if summary[m]['target_met'] else 'NOT MET'}"
                      for m in NEURAL))
    if args.quick:
        print(f"* QUICK MODE: tutorial trained {tut_epochs} epochs; its fit time is EXTRAPOLATED "
              f"x{scale:.0f} to {TUTORIAL_EPOCHS} epochs and its RMSE is after {tut_epochs} epochs.")
    reuse = reuse_section(values, repeats)

    if args.json:
        out = {"header": header, "warmup": warmup, "lstm_lab": lab, "tutorial": tutorial,
               "baselines_rmse": baselines, "summary": summary, "reuse": reuse,
               "config": config.to_dict(), "target_speedup": TARGET_SPEEDUP}
        Path(args.json).write_text(json.dumps(out, indent=2, default=float) + "\n")
        print(f"Wrote {args.json}")


if __name__ == "__main__":
    main()
