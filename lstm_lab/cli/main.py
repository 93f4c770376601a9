"""The command line. User mistakes exit with status 2 and one ``error: ...`` line on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from lstm_lab.errors import ConfigError, LabError
from lstm_lab.experiments.config import (
    ARCHITECTURE_CHOICES,
    DATASETS,
    MODELS,
    STRATEGIES,
    TRANSFORMS,
    TUNING,
    ExperimentConfig,
    field_help,
)

# CLI flag -> config field, for the options the issue fixes and a few more.
_NUMERIC_FLAGS = {
    "--window": ("window", int), "--horizon": ("horizon", int), "--layers": ("layers", int),
    "--units": ("units", int), "--dropout": ("dropout", float), "--mlp-layers": ("mlp_layers", int),
    "--mlp-units": ("mlp_units", int), "--epochs": ("epochs", int),
    "--batch-size": ("batch_size", int), "--learning-rate": ("learning_rate", float),
    "--patience": ("patience", int), "--validation-fraction": ("validation_fraction", float),
    "--season": ("season", int), "--seed": ("seed", int),
    "--sine-length": ("sine_length", int), "--sine-period": ("sine_period", float),
    "--sine-decay": ("sine_decay", float), "--sine-amplitude": ("sine_amplitude", float),
    "--sine-phase": ("sine_phase", float), "--sine-noise": ("sine_noise", float),
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option as one ``error:`` line (status 2), without usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        _fail(f"{message}. See `python -m {self.prog} --help`.")


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lstm_lab", description="LSTM Lab: compare an LSTM with an MLP "
                     "sliding-window baseline and naive forecasts on a time series.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="train and evaluate one experiment",
                         description="Train and evaluate one experiment.")
    run.add_argument("--dataset", default="air_passengers",
                     help=f"{' | '.join(DATASETS[:2])} | PATH.csv (default: air_passengers)")
    run.add_argument("--column", default="", help=field_help("column"))
    run.add_argument("--date-column", default="", help=field_help("date_column"))
    run.add_argument("--test-size", default=None, help=field_help("test_size"))
    run.add_argument("--transform", default=None, choices=TRANSFORMS, help=field_help("transform"))
    run.add_argument("--strategy", default=None, choices=STRATEGIES, help=field_help("strategy"))
    run.add_argument("--architecture", default=None, choices=ARCHITECTURE_CHOICES,
                     help=field_help("architecture"))
    run.add_argument("--tuning", default=None, choices=TUNING, help=field_help("tuning"))
    for flag, (name, kind) in _NUMERIC_FLAGS.items():
        run.add_argument(flag, type=str, default=None, metavar="N" if kind is int else "X",
                         help=field_help(name))
    run.add_argument("--models", default=None,
                     help=f"comma-separated subset of {','.join(MODELS)} (default: all)")
    run.add_argument("--backtest", type=str, default=None, metavar="N",
                     help="rolling-origin backtest over N test blocks of --test-size points "
                          "(expanding window) instead of one split")
    run.add_argument("--no-refit", action="store_true",
                     help="with --backtest: fit once on the first fold, then only re-feed data")
    run.add_argument("--future", type=str, default=None, metavar="N",
                     help="also fit on all the data and forecast N points past its end")
    run.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    run.add_argument("--out", default=None, metavar="DIR",
                     help="write metrics.json, config.json and predictions.csv into DIR")
    from lstm_lab.cli import runs as cli_store

    cli_store.add_commands(sub)
    return parser


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """Turn parsed options into a validated ExperimentConfig (ConfigError on bad values)."""
    values: dict[str, object] = {}
    if args.dataset in DATASETS and args.dataset != "csv":
        values["dataset"] = args.dataset
    else:
        values.update(dataset="csv", csv_path=args.dataset)
    if args.column:
        values["column"] = args.column
    if args.date_column:
        values["date_column"] = args.date_column
    for name in ("transform", "strategy", "architecture", "tuning"):
        if getattr(args, name):
            values[name] = getattr(args, name)
    for flag, (name, _) in _NUMERIC_FLAGS.items():
        raw = getattr(args, flag[2:].replace("-", "_"))
        if raw is not None:
            values[name] = raw
    if args.test_size is not None:
        values["test_size"] = args.test_size
    if args.models is not None:
        values["models"] = args.models
    return ExperimentConfig.from_dict(values)


def format_table(result) -> str:
    """A readable metrics table with the best model (by RMSE) marked."""
    best = result.best_model("rmse")
    lines = [f"{result.series_name}: {result.n_points} points, {result.n_train} train, "
             f"{result.n_points - result.n_train} test, horizon {result.config.horizon}",
             f"{'model':<22}{'RMSE':>11}{'MAE':>11}{'MAPE %':>9}{'MASE':>8}  fit s"]
    for name, m in result.metrics.items():
        mark = "  <- best" if name == best else ""
        fit = result.timings.get(f"{name}_fit_s", 0.0)
        lines.append(f"{result.label(name):<22}{m['rmse']:>11.3f}{m['mae']:>11.3f}"
                     f"{m['mape']:>9.2f}{m['mase']:>8.3f}  {fit:5.2f}{mark}")
    if result.transform and result.histories:
        why = ""
        if result.config.transform == "auto" and result.transform_from_auto:
            from lstm_lab.data.windows import explain_auto_transform

            train = result.predictions["actual"].to_numpy()[: result.n_train]
            why = f" ({explain_auto_transform(train, result.season)})"
        lines.append(f"transform: {result.transform}{why}")
    from lstm_lab.experiments.tuning import sentence as tuning_sentence

    for name, info in result.tuning.items():
        lines.append("tuning: " + tuning_sentence(result.label(name), info).replace("**", ""))
    if result.stopped_by_user:
        lines.append("Training was stopped early by request.")
    lines.extend(f"note: {note}" for note in result.notes)
    lines.append(f"total {result.timings['total_s']:.2f} s")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "run":
        from lstm_lab.cli import runs as cli_store

        try:
            return cli_store.handle(args)
        except LabError as err:
            _fail(str(err))
    try:
        config = config_from_args(args)
        from lstm_lab.experiments.sources import load_series
        from lstm_lab.experiments.training import run_experiment

        series = load_series(config)
        folds = _count_arg(args.backtest, "--backtest")
        steps = _count_arg(args.future, "--future")
        if config.neural_models:
            _import_tensorflow_quietly()
        if folds:
            from lstm_lab.experiments.evaluation import run_backtest

            return _report_backtest(run_backtest(config, series, folds, refit=not args.no_refit),
                                    args)
        result = run_experiment(config, series)
        future = None
        if steps:
            from lstm_lab.experiments.evaluation import forecast_future

            future = forecast_future(config, series, steps)
        if args.out:
            from lstm_lab.experiments.export import write_run

            write_run(result, args.out)
            if future is not None:
                (Path(args.out) / "future.csv").write_text(future.to_csv(), encoding="utf-8")
    except LabError as err:
        _fail(str(err))
    except OSError as err:  # e.g. --out into a read-only folder
        _fail(f"{err.strerror or err}: {err.filename or ''}. Check the path and permissions.")
    if args.json:
        data = result.to_dict()
        out = {k: data[k] for k in ("config", "metrics", "timings", "epochs_run", "versions",
                                    "series_name", "n_points", "n_train", "notes", "transform",
                                    "tuning")}
        if future is not None:
            frame = future.forecasts.assign(time=future.forecasts["time"].astype(str))
            out["future"] = frame.to_dict(orient="list")
        print(json.dumps(out))
    else:
        print(format_table(result))
        if future is not None:
            print(f"\nForecast of the next {steps} points (models fitted on all the data):")
            print(future.forecasts.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with the process's stderr muted: its C++ start-up writes an absl warning
    and a oneDNN info line straight to stderr, whatever TF_CPP_MIN_LOG_LEVEL says (upstream), and
    the CLI keeps stderr for its own error line. Python errors still raise as usual."""
    import os

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


def _count_arg(raw: str | None, flag: str) -> int:
    if raw is None:
        return 0
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{flag} takes a whole number >= 1. Received: {flag} {raw}")
    return value


def _report_backtest(backtest, args: argparse.Namespace) -> int:
    """Print (and with --out, write) a backtest's per-fold and summary metrics."""
    from lstm_lab.experiments.training import MODEL_LABELS

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
        scores = "  ".join(f"{m} {v['rmse']:.3f}" for m, v in fold["metrics"].items())
        print(f"fold {fold['fold']}: {fold['start']} .. {fold['end']}  RMSE  {scores}")
    print(f"{'model':<22}{'RMSE mean':>11}{'± std':>9}{'MASE mean':>11}")
    for model, row in summary.iterrows():
        print(f"{MODEL_LABELS[model]:<22}{row['rmse mean']:>11.3f}{row['rmse std']:>9.3f}"
              f"{row['mase mean']:>11.3f}")
    return 0
