"""The command line's grammar: every command, option and help text, and the config they name.

The experiment options of ``run`` (and so of ``sweep``) are generated from ExperimentConfig's
fields: a field's metadata gives its flag's type, choices, range and help, so a new setting is a
new flag with no line here. Building the parser imports only the config, so ``--help`` and a
mistyped option answer at once.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import Field, fields

from lstm_lab.data.gallery import GALLERY
from lstm_lab.errors import ConfigError
from lstm_lab.experiments.config import DATASETS, SWEEP_FIELDS, ExperimentConfig, format_levels
from lstm_lab.experiments.sweep import MAX_SEEDS

CLI_OWNER = "cli"          # who owns the runs the command line saves
METRIC_CHOICES = ("rmse", "mae", "mape", "mase")
# Config fields without a flag of their own: --dataset takes a dataset's name or a CSV's path.
_NOT_FLAGS = {"dataset", "csv_path"}
# `run` options a sweep does not take: what to do with one run's result.
_NOT_FOR_SWEEPS = {"help", "json", "out", "backtest", "no_refit", "future"}
# Text options whose commas are part of the value, never a list of values to sweep.
_TEXT_OPTIONS = {"dataset", "column", "date_column", "models", "csv_path", "intervals",
                 "inputs"}
# Config fields whose flag is not the field's name: ``--interval 0.8,0.95`` (``--intervals``
# works too).
_FLAG_NAMES = {"intervals": ("--interval", "--intervals")}


class LabParser(argparse.ArgumentParser):
    """argparse that reports a bad option as one ``error:`` line (status 2), without usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        fail(f"{message}. See `python -m {self.prog} --help`.")


def fail(message: str) -> None:
    """Print one ``error: ...`` line on stderr and exit with status 2."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """``python -m lstm_lab``: the ``run``, ``runs`` and ``sweep`` commands."""
    parser = LabParser(prog="lstm_lab", description="LSTM Lab: compare an LSTM with an MLP "
                       "sliding-window baseline and naive forecasts on a time series.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=LabParser)
    run = sub.add_parser("run", help="train and evaluate one experiment",
                         description="Train and evaluate one experiment.")
    add_config_options(run)
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
    add_commands(sub)
    return parser


# --- the experiment options, from the config's fields -------------------------------------------

def flag(name: str) -> str:
    """``learning_rate`` -> ``--learning-rate``."""
    return "--" + name.replace("_", "-")


def config_fields() -> list[Field]:
    """The config fields that are options of ``run``, in the config's order."""
    return [f for f in fields(ExperimentConfig) if f.name not in _NOT_FLAGS]


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """``--dataset`` and one option per config field; values stay text until the config checks
    them, so a bad one gets the config's own message (``window`` must be between 1 and 512)."""
    parser.add_argument("--dataset", default=None, metavar="NAME|PATH.csv",
                        help=f"air_passengers (default) | damped_sine | PATH.csv | a real "
                             f"series of the Data page's gallery: {' | '.join(GALLERY)}")
    for f in config_fields():
        parser.add_argument(*_FLAG_NAMES.get(f.name, (flag(f.name),)), dest=f.name, default=None,
                            **_option(f))


def _option(f: Field) -> dict:
    """argparse keywords for one config field: metavar or choices, and a help text that ends
    with the field's allowed values and default."""
    meta = f.metadata
    text = meta.get("help", "").replace("%", "%%")
    if f.name == "models":
        return {"metavar": "M,M", "help": f"{text} A comma-separated subset of "
                                          f"{','.join(meta['choices'])} (default: all)."}
    if f.name == "inputs":
        return {"metavar": "COL,COL", "help": f"{text} (default: none)."}
    if f.name == "intervals":
        return {"metavar": "L,L", "help": f"{text} At most {meta['max_levels']} levels, each "
                                          f"{_number(meta['min'])} to {_number(meta['max'])} "
                                          f"(default: {format_levels(f.default)})."}
    if "choices" in meta:
        return {"choices": meta["choices"], "help": f"{text} (default: {f.default})"}
    if "min" in meta:
        return {"metavar": "N" if f.type == "int" else "X",
                "help": f"{text} ({_number(meta['min'])} to {_number(meta['max'])}; "
                        f"default: {_number(f.default)})"}
    return {"help": text}


def _number(value: float) -> str:
    """A bound or default for people: 1,000,000 (not 1e+06), 0.003, 1e-06, 2,147,483,647."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    return f"{int(value):,}"


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """Turn parsed options into a validated ExperimentConfig (ConfigError on bad values)."""
    values: dict[str, object] = {}
    if args.dataset in DATASETS and args.dataset != "csv":
        values["dataset"] = args.dataset
    elif args.dataset is not None and not _looks_like_path(args.dataset):
        raise ConfigError(f"There is no dataset named {args.dataset!r}: choose one of "
                          f"{', '.join(d for d in DATASETS if d != 'csv')}, or give a CSV "
                          "file's path (e.g. sales.csv).")
    elif args.dataset is not None:
        values.update(dataset="csv", csv_path=args.dataset)
    for f in config_fields():
        raw = getattr(args, f.name, None)
        if raw is not None and raw != "":
            values[f.name] = raw
    return ExperimentConfig.from_dict(values)


def _looks_like_path(text: str) -> bool:
    """``sales.csv``, ``data/x``, ``./x``: a file; ``car_sale`` (a mistyped name): not."""
    return "/" in text or "\\" in text or "." in text


def count_arg(raw: str | None, option: str) -> int:
    """A whole number >= 1 from ``--backtest N`` or ``--future N``; 0 when not given."""
    if raw is None:
        return 0
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{option} takes a whole number >= 1. Received: {option} {raw}")
    return value


# --- runs and sweep ------------------------------------------------------------------------------

def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``runs`` and ``sweep`` to the ``python -m lstm_lab`` parser's subcommands (after
    ``run``: ``sweep`` takes the same experiment options)."""
    runs = subparsers.add_parser("runs", help="list, show, export and import saved runs",
                                 description="The saved runs (SQLite run store).")
    actions = runs.add_subparsers(dest="runs_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="one line per saved run, newest first")
    _db(listing)
    listing.add_argument("--owner", default=None, help="only this owner's runs (and shared ones)")
    listing.add_argument("--dataset", default=None, help="only runs on this dataset")
    listing.add_argument("--sweep", default=None, help="only the runs of this sweep id")
    listing.add_argument("--limit", type=int, default=None, metavar="N", help="at most N runs")
    listing.add_argument("--json", action="store_true", help="print a JSON list")

    show = actions.add_parser("show", help="one run: metrics table, config, versions")
    _db(show)
    show.add_argument("id", help="the run's id (from `runs list`)")
    show.add_argument("--json", action="store_true", help="print the whole stored result as JSON")

    export = actions.add_parser("export", help="write runs to a JSON (re-importable) or CSV file")
    _db(export)
    export.add_argument("ids", nargs="*", metavar="ID", help="runs to export (default: all)")
    export.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    export.add_argument("--format", choices=("json", "csv"), default=None,
                        help="default: from the file name (.csv -> csv, else json)")
    export.add_argument("--no-weights", action="store_true",
                        help="JSON without the trained networks (much smaller)")
    export.add_argument("--owner", default=None, help="with no IDs: only this owner's runs")

    imp = actions.add_parser("import", help="read runs back from an exported JSON file")
    _db(imp)
    imp.add_argument("file", help="a file written by `runs export` or the History page")
    imp.add_argument("--owner", default=CLI_OWNER, help=f"who owns the copies (default: {CLI_OWNER})")
    imp.add_argument("--shared", action="store_true", help="share the copies with the class")

    key = actions.add_parser("key", help="print the history key of an owner (or a new one)")
    _db(key)
    key.add_argument("owner", nargs="?", default=None,
                     help="an owner id (from `runs list --json`); default: a new one")

    share = actions.add_parser("share", help="pin runs as shared with the class (or --off)")
    _db(share)
    share.add_argument("ids", nargs="+", metavar="ID")
    share.add_argument("--off", action="store_true", help="stop sharing")

    delete = actions.add_parser("delete", help="delete runs and their trained networks")
    _db(delete)
    delete.add_argument("ids", nargs="+", metavar="ID")

    sweep = subparsers.add_parser(
        "sweep", help="train a grid of experiments and save every run",
        description="Train every combination of the comma-separated values (e.g. --window "
                    "6,12,24 --layers 1,2,3 --units 16,32,64); single values set the other "
                    "settings, as for `run`. Sweepable: "
                    + ", ".join(flag(f) for f in SWEEP_FIELDS)
                    + ". Configurations over the compute budget are skipped and listed. "
                    "Ctrl-C stops after the current epoch and keeps the finished runs.")
    _db(sweep)
    sweep.set_defaults(sweep_options=_sweep_options(sweep, subparsers.choices.get("run")))
    sweep.add_argument("--metric", default="rmse", choices=METRIC_CHOICES,
                       help="rank the runs by this test metric (default: rmse)")
    sweep.add_argument("--rank-model", default=None, metavar="MODEL",
                       help="rank by this model's score (default: lstm when trained)")
    sweep.add_argument("--owner", default=CLI_OWNER, help=f"owner of the saved runs (default: "
                                                          f"{CLI_OWNER})")
    sweep.add_argument("--shared", action="store_true", help="share the runs with the class")
    sweep.add_argument("--strict", action="store_true",
                       help="refuse the whole sweep if any configuration is over the budget")
    sweep.add_argument("--seeds-per-setting", type=int, default=1, metavar="N",
                       help=f"train each setting with seeds --seed, --seed + 1, ... (1 to "
                            f"{MAX_SEEDS}; default 1) and report each setting's mean ± spread "
                            "and which settings are within the seed noise of the best")
    sweep.add_argument("--dry-run", action="store_true",
                       help="show the grid and its budget check; train nothing")
    sweep.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None, metavar="PATH",
                        help="the run database (default: $LSTM_LAB_DB or runs/lstm_lab.sqlite3)")


def _sweep_options(parser: argparse.ArgumentParser,
                   run: argparse.ArgumentParser | None) -> list[str]:
    """Copy the experiment options of ``run`` (whatever they are today) onto ``parser``,
    without their ``choices`` so that comma lists get through; returns their dests."""
    if run is None:
        raise RuntimeError("add_commands must be called after the `run` command is added: "
                           "`sweep` takes the same experiment options.")
    dests = []
    for action in run._actions:
        if action.dest in _NOT_FOR_SWEEPS or not action.option_strings or action.nargs == 0:
            continue
        help_text = action.help or ""
        if action.dest in SWEEP_FIELDS:
            help_text += " Comma-separated values are swept."
        parser.add_argument(*action.option_strings, dest=action.dest, default=action.default,
                            metavar=action.metavar, help=help_text)
        dests.append(action.dest)
    return dests


def split_sweep_args(args: argparse.Namespace) -> tuple[argparse.Namespace, dict[str, str]]:
    """Options holding a comma list become grid axes; the rest build the base config."""
    base = argparse.Namespace(**vars(args))
    spec: dict[str, str] = {}
    for dest in args.sweep_options:
        raw = getattr(args, dest, None)
        if not isinstance(raw, str) or "," not in raw or dest in _TEXT_OPTIONS:
            continue
        if dest not in SWEEP_FIELDS:
            raise ConfigError(f"`{dest}` cannot be swept. Sweepable settings: "
                              f"{', '.join(SWEEP_FIELDS)}.")
        spec[dest] = raw
        setattr(base, dest, None)
    if not spec:
        raise ConfigError("A sweep needs at least one setting with several comma-separated "
                          "values, e.g. --window 6,12,24 --layers 1,2,3 --units 16,32,64.")
    return base, spec
