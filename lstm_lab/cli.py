"""The command line. User mistakes exit with status 2 and one ``error: ...`` line on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from lstm_lab.config import DATASETS, MODELS, STRATEGIES, TRANSFORMS, ExperimentConfig, field_help
from lstm_lab.errors import LabError

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
    for flag, (name, kind) in _NUMERIC_FLAGS.items():
        run.add_argument(flag, type=str, default=None, metavar="N" if kind is int else "X",
                         help=field_help(name))
    run.add_argument("--models", default=None,
                     help=f"comma-separated subset of {','.join(MODELS)} (default: all)")
    run.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    run.add_argument("--out", default=None, metavar="DIR",
                     help="write metrics.json, config.json and predictions.csv into DIR")
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
    for name in ("transform", "strategy"):
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
    from lstm_lab.training import MODEL_LABELS

    best = result.best_model("rmse")
    lines = [f"{result.series_name}: {result.n_points} points, {result.n_train} train, "
             f"{result.n_points - result.n_train} test, horizon {result.config.horizon}",
             f"{'model':<22}{'RMSE':>11}{'MAE':>11}{'MAPE %':>9}{'MASE':>8}  fit s"]
    for name, m in result.metrics.items():
        mark = "  <- best" if name == best else ""
        fit = result.timings.get(f"{name}_fit_s", 0.0)
        lines.append(f"{MODEL_LABELS[name]:<22}{m['rmse']:>11.3f}{m['mae']:>11.3f}"
                     f"{m['mape']:>9.2f}{m['mase']:>8.3f}  {fit:5.2f}{mark}")
    if result.stopped_by_user:
        lines.append("Training was stopped early by request.")
    lines.extend(f"note: {note}" for note in result.notes)
    lines.append(f"total {result.timings['total_s']:.2f} s")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
        from lstm_lab.datasets import load_series
        from lstm_lab.training import run_experiment

        series = load_series(config)
        result = run_experiment(config, series)
        if args.out:
            from lstm_lab.export import write_run

            write_run(result, args.out)
    except LabError as err:
        _fail(str(err))
    except OSError as err:  # e.g. --out into a read-only folder
        _fail(f"{err.strerror or err}: {err.filename or ''}. Check the path and permissions.")
    if args.json:
        data = result.to_dict()
        print(json.dumps({k: data[k] for k in ("config", "metrics", "timings", "epochs_run",
                                               "versions", "series_name", "n_points", "n_train",
                                               "notes")}))
    else:
        print(format_table(result))
    return 0
