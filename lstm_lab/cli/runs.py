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

Their options are in ``lstm_lab.cli.args``; ``handle(args)`` runs one and returns the exit
status. Mistakes raise LabError: the main CLI prints one ``error:`` line and
exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from lstm_lab.cli.args import config_from_args, split_sweep_args
from lstm_lab.cli.table import format_table
from lstm_lab.errors import ConfigError, LabError
from lstm_lab.execution.backends import RAY_VAR
from lstm_lab.experiments import sweep as sweeps
from lstm_lab.experiments.export import write_text_atomically
from lstm_lab.experiments.metrics import fmt_number
from lstm_lab.experiments.sources import load_series
from lstm_lab.experiments.training import MODEL_LABELS
from lstm_lab.limits import env_var, get_limits
from lstm_lab.store import StoreError, db_path, get_store, runs_frame


def handle(args: argparse.Namespace) -> int:
    """Run ``runs ...`` or ``sweep ...``; returns the exit status. Raises LabError on mistakes."""
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

def _store(args: argparse.Namespace):
    return get_store(Path(args.db).expanduser().resolve() if args.db else None)


def _list(args: argparse.Namespace) -> int:
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
    write_text_atomically(Path(args.out), text)
    print(f"wrote {count} run{'s' * (count != 1)} to {args.out} ({fmt})", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
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


# --- sweep ---------------------------------------------------------------------------------------

def _sweep(args: argparse.Namespace) -> int:
    base_args, spec = split_sweep_args(args)
    grid = sweeps.parse_grid(spec)
    base = config_from_args(base_args)
    series = load_series(base)
    seeds = sweeps.check_seeds(args.seeds_per_setting, grid)
    plan = sweeps.plan_sweep(base, series, grid, seeds=seeds)
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
        if os.environ.get(RAY_VAR, "").strip():
            result = _sweep_on_ray(base, series, grid, seeds, args, stop, log)
        else:
            result = sweeps.run_sweep(base, series, grid, on_stage=on_stage,
                                      should_stop=stop.is_set, store=_store(args),
                                      owner=args.owner, shared=args.shared, seeds=seeds)
    _report_sweep(result, args)
    return 130 if result.stopped_by_user else 0


def _report_noise(result, rank: str, metric: str) -> None:
    """Each setting's mean ± spread over its seeds, best first, ≈ where the seed noise cannot
    tell it from the best."""
    cells = result.cells(rank, metric)
    if cells.empty:
        return
    keys = result.settings
    table = cells[keys].copy()
    table[f"{metric.upper()} {result.label(rank)} mean ± sd"] = [
        f"{fmt_number(m)} ± {fmt_number(sd) if sd == sd else '?'}"
        for m, sd in zip(cells["mean"], cells["sd"])]
    table["seeds"] = cells["n"]
    table["vs best"] = ["★ best" if i == 0 else ("≈ best" if near else "")
                        for i, near in enumerate(cells["near_best"])]
    print(f"\nPer setting, over seeds (seed noise: {metric.upper()} sd "
          f"{fmt_number(result.noise(rank, metric))}; ≈ best: within it of the best):")
    print(table.to_string(index=False))


def _sweep_on_ray(base, series, grid, seeds: int, args: argparse.Namespace,
                  stop: threading.Event, log) -> sweeps.SweepResult:
    """The sweep through the dashboard's executor on the Ray cluster at ``LSTM_LAB_RAY_ADDRESS``:
    its runs train side by side across the cluster and each is saved here as it arrives (the
    same backend the web server uses, run in this process: no server time limit applies)."""
    from lstm_lab.execution.jobs import TrainingJob
    from lstm_lab.execution.ray_backend import RayBackend
    from lstm_lab.execution.tasks import TaskSpec

    store = _store(args)
    backend = RayBackend(os.environ[RAY_VAR], store=store, warm_up=False)
    print(f"Running on the Ray cluster at {backend.address} ({backend.cpus()} CPUs).", file=log)
    spec = TaskSpec("sweep", {"base": base.to_dict(), "seeds": seeds,
                              "grid": {k: list(v) for k, v in grid.items()}})
    job = TrainingJob(None, series, spec, label="Sweep", owner=args.owner, stop_event=stop)
    job.on_stage = lambda label, done, total: print(f"{label} ({done} finished)", file=log,
                                                    flush=True)
    try:
        result = backend.run(job)
    finally:
        backend.close()
    if args.shared:
        for run in result.runs:
            if run.run_id is not None:
                store.set_shared(run.run_id, True, args.owner)
    return result


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
               "settings": (json.loads(result.cells(rank, args.metric).to_json(orient="records"))
                            if rank else []),
               "seed_noise": (None if not rank or result.noise(rank, args.metric) !=
                              result.noise(rank, args.metric) else result.noise(rank, args.metric)),
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
    if rank is not None and result.repeats > 1:
        _report_noise(result, rank, args.metric)
    if best is not None:
        score = best.metrics[rank][args.metric]
        print(f"best: {', '.join(f'{k}={v}' for k, v in best.values.items())} — "
              f"{MODEL_LABELS[rank]} {args.metric.upper()} {score:.3f}"
              + (f" (run #{best.run_id}; `python -m lstm_lab runs show {best.run_id}`)"
                 if best.run_id else ""))
    print(f"sweep {result.sweep_id}: `python -m lstm_lab runs list --sweep {result.sweep_id}`")
