"""``python -m lstm_lab runs ...`` and ``python -m lstm_lab sweep ...``: the run store and sweeps
on the command line.

    python -m lstm_lab runs list [--owner KEY] [--dataset NAME] [--sweep ID] [--json]
    python -m lstm_lab runs show ID [--json]
    python -m lstm_lab runs export [ID ...] --out FILE [--format json|csv] [--no-weights]
    python -m lstm_lab runs import FILE [--owner KEY] [--shared]
    python -m lstm_lab runs key [OWNER]
    python -m lstm_lab runs share ID [ID ...] [--off]
    python -m lstm_lab runs delete ID [ID ...]
    python -m lstm_lab sweep --window 6,12,24 --layers 1,2,3 --units 16,32,64 [run options]

Every command takes ``--db PATH`` (default: ``LSTM_LAB_DB`` or ``runs/lstm_lab.sqlite3``). The
command line acts with the server's rights: it sees every session's runs. Runs it saves belong
to the owner ``cli`` (``--owner`` to change) and stay private unless ``--shared``.

``runs key OWNER`` prints the history key that finds OWNER's runs on the History page (keys are
signed by the server: see ``lstm_lab.store``); a teacher uses it for owners saved before keys
were signed, or for runs imported with ``--owner``. Without OWNER it issues a new key.

Errors about the run store name its path here (the pages never show it).

``add_commands(subparsers)`` adds both commands to the main parser; ``handle(args)`` runs one and
returns the exit status. Mistakes raise LabError: the main CLI prints one ``error:`` line and
exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from lstm_lab.errors import ConfigError, LabError

CLI_OWNER = "cli"
COMMANDS = ("runs", "sweep")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``runs`` and ``sweep`` to the ``python -m lstm_lab`` parser's subcommands."""
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

    from lstm_lab.experiments.sweep import SWEEP_FIELDS

    sweep = subparsers.add_parser(
        "sweep", help="train a grid of experiments and save every run",
        description="Train every combination of the comma-separated values (e.g. --window "
                    "6,12,24 --layers 1,2,3 --units 16,32,64); single values set the other "
                    "settings, as for `run`. Sweepable: "
                    + ", ".join(f"--{f.replace('_', '-')}" for f in SWEEP_FIELDS)
                    + ". Configurations over the compute budget are skipped and listed. "
                    "Ctrl-C stops after the current epoch and keeps the finished runs.")
    _db(sweep)
    sweep.set_defaults(sweep_options=_sweep_options(sweep, subparsers.choices.get("run")))
    sweep.add_argument("--metric", default="rmse", choices=("rmse", "mae", "mape", "mase"),
                       help="rank the runs by this test metric (default: rmse)")
    sweep.add_argument("--rank-model", default=None, metavar="MODEL",
                       help="rank by this model's score (default: lstm when trained)")
    sweep.add_argument("--owner", default=CLI_OWNER, help=f"owner of the saved runs (default: "
                                                          f"{CLI_OWNER})")
    sweep.add_argument("--shared", action="store_true", help="share the runs with the class")
    sweep.add_argument("--strict", action="store_true",
                       help="refuse the whole sweep if any configuration is over the budget")
    sweep.add_argument("--dry-run", action="store_true",
                       help="show the grid and its budget check; train nothing")
    sweep.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def handle(args: argparse.Namespace) -> int:
    """Run ``runs ...`` or ``sweep ...``; returns the exit status. Raises LabError on mistakes."""
    from lstm_lab.store import StoreError, db_path

    try:
        if args.command == "sweep":
            return _sweep(args)
        return {"list": _list, "show": _show, "export": _export, "import": _import,
                "key": _key, "share": _share, "delete": _delete}[args.runs_command](args)
    except StoreError as err:
        if type(err) is not StoreError:  # a missing run or the quota: not about the file
            raise
        path = Path(args.db).expanduser().resolve() if args.db else db_path()
        raise StoreError(f"{err} (run store: {path})") from None
    except OSError as err:
        raise LabError(f"{err.strerror or err}: {err.filename or ''}. Check the path and "
                       "permissions.") from None


# --- runs ----------------------------------------------------------------------------------------

def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None, metavar="PATH",
                        help="the run database (default: $LSTM_LAB_DB or runs/lstm_lab.sqlite3)")


def _store(args: argparse.Namespace):
    from lstm_lab.store import get_store

    return get_store(Path(args.db).expanduser().resolve() if args.db else None)


def _list(args: argparse.Namespace) -> int:
    from lstm_lab.store import runs_frame

    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit takes a whole number >= 1. Received: --limit {args.limit}")
    summaries = _store(args).list_runs(args.owner, dataset=args.dataset, sweep=args.sweep,
                                       limit=args.limit)
    frame = runs_frame(summaries)
    if args.json:
        frame = frame.assign(owner=[s.owner for s in summaries], sweep=[s.sweep for s in summaries])
        print(frame.to_json(orient="records"))
        return 0
    if frame.empty:
        print("No saved runs yet: train one (`python -m lstm_lab sweep ...` or the dashboard).")
        return 0
    frame = frame.drop(columns=["time s"]).assign(
        shared=frame["shared"].map({True: "yes", False: ""}))
    print(frame.to_string(index=False, na_rep="—", float_format=lambda v: f"{v:.3f}"))
    return 0


def _show(args: argparse.Namespace) -> int:
    from lstm_lab.cli.main import format_table

    store = _store(args)
    run_id = _one_id(args.id)
    summary = store.get_summary(run_id)
    result = store.load_run(run_id)
    if args.json:
        print(json.dumps({"id": run_id, "uid": summary.uid, "created_at": summary.created_at,
                          "owner": summary.owner, "shared": summary.shared,
                          "sweep": summary.sweep, "networks": sorted(result.forecasters),
                          **result.to_dict()}))
        return 0
    print(f"run #{run_id} · {summary.when} · owner {summary.owner}"
          + (" · shared with the class" if summary.shared else "")
          + (f" · sweep {summary.sweep}" if summary.sweep else ""))
    print(format_table(result))
    print("config: " + json.dumps(result.config.to_dict(), sort_keys=True))
    print("versions: " + ", ".join(f"{k} {v}" for k, v in result.versions.items()))
    if result.forecasters:
        print("trained networks stored: " + ", ".join(sorted(result.forecasters)))
    return 0


def _export(args: argparse.Namespace) -> int:
    store = _store(args)
    ids = [_one_id(i) for i in args.ids] or None
    owner = args.owner if ids is None else None
    fmt = args.format or ("csv" if args.out.lower().endswith(".csv") else "json")
    text = (store.runs_csv(ids, owner) if fmt == "csv"
            else store.export_runs(ids, owner, weights=not args.no_weights))
    count = len(store.list_runs(owner, ids=ids))
    _write_atomically(Path(args.out), text)
    print(f"wrote {count} run{'s' * (count != 1)} to {args.out} ({fmt})", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    from lstm_lab.limits import env_var, get_limits

    path = Path(args.file)
    limit = get_limits().max_upload_bytes
    size = path.stat().st_size
    if size > limit:  # before reading it into memory
        raise LabError(f"The runs file is {size / 2**20:.1f} MiB; the limit is "
                       f"{limit / 2**20:.0f} MiB ({env_var('max_upload_mb')}).")
    text = path.read_bytes()
    report = _store(args).import_runs(text, args.owner, shared=args.shared)
    ids = ", ".join(f"#{i}" for i in report.ids) or "none"
    print(f"imported {len(report.ids)} run{'s' * (len(report.ids) != 1)} ({ids})"
          + (f"; {report.skipped} already in the store" if report.skipped else ""))
    return 0


def _key(args: argparse.Namespace) -> int:
    store = _store(args)
    owner = args.owner if args.owner is not None else store.new_owner()
    print(store.owner_key(owner))
    return 0


def _share(args: argparse.Namespace) -> int:
    store = _store(args)
    for raw in args.ids:
        store.set_shared(_one_id(raw), not args.off)
    state = "no longer shared" if args.off else "shared with the class"
    print(f"{', '.join('#' + str(_one_id(i)) for i in args.ids)}: {state}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    count = _store(args).delete_runs([_one_id(i) for i in args.ids])
    print(f"deleted {count} run{'s' * (count != 1)}")
    return 0


def _one_id(raw: Any) -> int:
    try:
        return int(str(raw).lstrip("#"))
    except ValueError:
        raise ConfigError(f"A run id is a whole number such as 12 (see `runs list`). "
                          f"Received: {raw!r}") from None


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the target under an unpredictable temporary name, then rename: a crash
    never leaves half a file (see ``export.write_text_atomically``)."""
    from lstm_lab.experiments.export import write_text_atomically

    write_text_atomically(path, text)


# --- sweep ---------------------------------------------------------------------------------------

# `run` options a sweep does not take: what to do with one run's result.
_NOT_FOR_SWEEPS = {"help", "json", "out", "backtest", "no_refit", "future"}
# Text options whose commas are part of the value, never a list of values to sweep.
_TEXT_OPTIONS = {"dataset", "column", "date_column", "models", "csv_path"}


def _sweep_options(parser: argparse.ArgumentParser,
                   run: argparse.ArgumentParser | None) -> list[str]:
    """Copy the experiment options of ``run`` (whatever they are today) onto ``parser``,
    without their ``choices`` so that comma lists get through; returns their dests.

    Only light modules are imported: building the parser must stay fast (`--help`).
    """
    from lstm_lab.experiments.sweep import SWEEP_FIELDS

    if run is None:
        raise RuntimeError("cli_store.add_commands must be called after the `run` command is "
                           "added: `sweep` takes the same experiment options.")
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


def _split_sweep_args(args: argparse.Namespace) -> tuple[argparse.Namespace, dict[str, str]]:
    """Options holding a comma list become grid axes; the rest build the base config."""
    from lstm_lab.experiments.sweep import SWEEP_FIELDS

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


def _sweep(args: argparse.Namespace) -> int:
    from lstm_lab.cli.main import config_from_args
    from lstm_lab.experiments.sources import load_series
    from lstm_lab.experiments import sweep as sweeps

    base_args, spec = _split_sweep_args(args)
    grid = sweeps.parse_grid(spec)
    base = config_from_args(base_args)
    series = load_series(base)
    plan = sweeps.plan_sweep(base, series, grid)
    log = sys.stderr
    print(f"{series.name}: sweep of {plan.summary()}", file=log)
    for planned in plan.refused:
        print(f"  skip {sweeps.describe_values(planned.values)} ({planned.status}): {planned.reason}",
              file=log)
    if args.strict and plan.refused:
        raise ConfigError(f"{len(plan.refused)} of {plan.size} configurations cannot run (see "
                          "above); without --strict they are skipped.")
    if args.dry_run:
        frame = plan.frame().drop(columns=["reason"])
        print(frame.to_string(index=False))
        return 0
    if not plan.runnable:
        first = plan.refused[0]
        raise ConfigError(f"None of the {plan.size} configurations can run. For example "
                          f"{sweeps.describe_values(first.values)}: {first.reason}")
    todo = plan.runnable
    stop = threading.Event()

    def on_stage(label: str, done: int, total: int) -> None:
        print(f"{label}: {sweeps.describe_values(todo[done].values)}", file=log, flush=True)

    with _StopOnCtrlC(stop, log):
        result = sweeps.run_sweep(base, series, grid, on_stage=on_stage,
                                  should_stop=stop.is_set, store=_store(args), owner=args.owner,
                                  shared=args.shared)
    _report_sweep(result, args)
    return 130 if result.stopped_by_user else 0


class _StopOnCtrlC:
    """First Ctrl-C: finish the current epoch, keep the saved runs, stop. Second: abort."""

    def __init__(self, stop: threading.Event, log) -> None:
        self.stop, self.log, self.previous = stop, log, None

    def _handler(self, signum, frame) -> None:
        if self.stop.is_set():
            raise KeyboardInterrupt
        self.stop.set()
        print("stopping after the current epoch (Ctrl-C again to abort)…", file=self.log,
              flush=True)

    def __enter__(self):
        try:
            self.previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread: no signal handling
            self.previous = None
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _report_sweep(result, args: argparse.Namespace) -> None:
    from lstm_lab.experiments.training import MODEL_LABELS

    models = result.models
    rank = args.rank_model or ("lstm" if "lstm" in models else (models[0] if models else None))
    if rank is not None and rank not in MODEL_LABELS:
        raise ConfigError(f"--rank-model must be one of {', '.join(MODEL_LABELS)}. "
                          f"Received: {rank}")
    best = result.best(rank, args.metric) if rank else None
    frame = result.frame()
    if args.json:
        out = {"sweep_id": result.sweep_id, "series_name": result.series_name,
               "grid": {k: list(v) for k, v in result.grid.items()},
               "stopped_by_user": result.stopped_by_user,
               "runs": json.loads(frame.to_json(orient="records")),
               "best": None if best is None else {
                   "run_id": best.run_id, "values": best.values,
                   "config": best.config.to_dict(), "metrics": best.metrics}}
        print(json.dumps(out))
        return
    column = f"{rank}.{args.metric}"
    if column in frame:
        frame = frame.sort_values(column, na_position="last", kind="stable")
    shown = [*result.axes, "run_id", *[f"{m}.{args.metric}" for m in models], "status"]
    table = frame[shown].rename(columns={f"{m}.{args.metric}": f"{args.metric.upper()} "
                                         f"{MODEL_LABELS[m]}" for m in models})
    table["run_id"] = table["run_id"].map(lambda v: "" if v is None or v != v else f"#{int(v)}")
    print(table.to_string(index=False, na_rep="—", float_format=lambda v: f"{v:.3f}"))
    if result.stopped_by_user:
        print("Stopped by request: the runs finished before the stop are saved.")
    if best is not None:
        score = best.metrics[rank][args.metric]
        print(f"best: {', '.join(f'{k}={v}' for k, v in best.values.items())} — "
              f"{MODEL_LABELS[rank]} {args.metric.upper()} {score:.3f}"
              + (f" (run #{best.run_id}; `python -m lstm_lab runs show {best.run_id}`)"
                 if best.run_id else ""))
    print(f"sweep {result.sweep_id}: `python -m lstm_lab runs list --sweep {result.sweep_id}`")
