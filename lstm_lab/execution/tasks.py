"""The named tasks a training job may run, one registry for every backend.

A page asks for work by name and plain parameters (``TaskSpec``), never by handing over a
function: a worker process or a Ray task on another machine can then run it from the same
registry. Each task receives a ``TaskContext`` (config, series, parameters, progress hooks, the
stop flag) and returns its result object; ``wire.py`` turns results into plain data and back.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lstm_lab.data.series import Series
from lstm_lab.errors import ConfigError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import run_experiment
from lstm_lab.models.base import EpochInfo

COMPARE = "compare"


@dataclass(frozen=True)
class TaskSpec:
    """What a job runs: a key of ``TASKS`` and its JSON parameters (checked by ``to_json``)."""

    name: str = COMPARE
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in TASKS:
            raise ConfigError(f"Unknown task {self.name!r}; tasks are {', '.join(sorted(TASKS))}.")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": json.loads(json.dumps(dict(self.params)))}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskSpec:
        return cls(str(data["name"]), dict(data.get("params") or {}))


@dataclass
class TaskContext:
    """What a task gets: its inputs, and the hooks that report progress and ask it to stop.

    ``store``: the run store a task saves to where the store is reachable (a thread or a worker
    process of the web server's machine); None on a remote machine (Ray), where the backend
    saves the returned result instead.
    """

    config: ExperimentConfig | None
    series: Series | None
    params: Mapping[str, Any]
    should_stop: Callable[[], bool]
    on_epoch: Callable[[EpochInfo], None] = lambda info: None
    on_stage: Callable[[str, int, int], None] = lambda label, done, total: None
    owner: str | None = None
    store: Any = None


def run_task(spec: TaskSpec, ctx: TaskContext) -> Any:
    """Run ``spec`` with ``ctx``; its result object (what the page draws)."""
    return TASKS[spec.name](ctx)


# --- the tasks -----------------------------------------------------------------------------------

def _compare(ctx: TaskContext) -> Any:
    """Train & compare: every model of the config, saved to the run store when there is one."""
    result = run_experiment(ctx.config, ctx.series, ctx.on_epoch, ctx.should_stop)
    if ctx.store is not None and ctx.owner and ctx.params.get("save", True):
        from lstm_lab.store.run_store import save_or_note

        save_or_note(ctx.store, result, ctx.owner)
    return result


def _backtest(ctx: TaskContext) -> Any:
    from lstm_lab.experiments import evaluation

    return evaluation.run_backtest(ctx.config, ctx.series, int(ctx.params.get("folds", 3)),
                                   bool(ctx.params.get("refit", True)), ctx.on_epoch,
                                   ctx.should_stop, ctx.on_stage)


def _future(ctx: TaskContext) -> Any:
    from lstm_lab.experiments import evaluation

    steps = ctx.params.get("steps")
    return evaluation.forecast_future(ctx.config, ctx.series, int(steps) if steps else None,
                                      ctx.on_epoch, ctx.should_stop)


def _inputs_effect(ctx: TaskContext) -> Any:
    """The run with its input columns and its networks again without them."""
    from lstm_lab.experiments.inputs_effect import compare_inputs

    return compare_inputs(ctx.config, ctx.series, ctx.on_epoch, ctx.should_stop, ctx.on_stage)


def _sweep(ctx: TaskContext) -> Any:
    """A sweep: params ``base`` (a config dict), ``grid`` ({field: [values]}), ``seeds``."""
    from lstm_lab.experiments import sweep

    base = ExperimentConfig.from_dict(ctx.params["base"])
    grid = {k: tuple(v) for k, v in dict(ctx.params["grid"]).items()}
    return sweep.run_sweep(base, ctx.series, grid, on_stage=ctx.on_stage, on_epoch=ctx.on_epoch,
                           should_stop=ctx.should_stop, store=ctx.store, owner=ctx.owner,
                           seeds=int(ctx.params.get("seeds", 1)))


def _lesson(name: str) -> Callable[[TaskContext], Any]:
    """A Learn page experiment of ``lessons/tasks.py``, called with ``params`` as keywords."""
    def run(ctx: TaskContext) -> Any:
        from lstm_lab.lessons import tasks as lesson_tasks

        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in ctx.params.items()}
        return getattr(lesson_tasks, name)(**kwargs, should_stop=ctx.should_stop)
    run.__name__ = name
    return run


def _small_lstm(ctx: TaskContext) -> Any:
    """Learn's "Train a small LSTM here" on the job's series (its config when given)."""
    from lstm_lab.lessons.experiments import train_small_lstm

    return train_small_lstm(ctx.series, ctx.config, should_stop=ctx.should_stop)


def _internals(ctx: TaskContext) -> Any:
    """Learn's "Inside the LSTM": a run's network (params ``state`` and ``keras``, base64)
    replayed at a batch of origins; plain arrays (``lessons.experiments.inside_lstm``)."""
    from lstm_lab.lessons.experiments import inside_lstm

    return inside_lstm(**ctx.params, should_stop=ctx.should_stop)


LESSONS = ("echo_experiment", "order_experiment", "parallel_experiment", "variable_length_demo",
           "output_length_demo")

TASKS: dict[str, Callable[[TaskContext], Any]] = {
    COMPARE: _compare,
    "backtest": _backtest,
    "future": _future,
    "inputs_effect": _inputs_effect,
    "sweep": _sweep,
    "small_lstm": _small_lstm,
    "internals": _internals,
    **{f"lesson:{name}": _lesson(name) for name in LESSONS},
}


# --- fault drills (tests only) ---------------------------------------------------------------------

FAULT_DRILLS_VAR = "LSTM_LAB_FAULT_DRILLS"   # "1": register the drill:* tasks below


def _drill_hang(ctx: TaskContext) -> Any:
    """A job that ignores Stop: it sleeps ``seconds`` (default an hour) after a first epoch."""
    ctx.on_epoch(EpochInfo("drill", 1, 2, 1.0, None))
    time.sleep(float(ctx.params.get("seconds", 3600)))
    return {"hung": True}


def _drill_allocate(ctx: TaskContext) -> Any:
    """A job that grows its memory by ``step_mb`` (default 50) MiB every ``every`` (0.1) s, up
    to ``max_mb`` (default 2,000), written to so it is resident; then it holds it until Stop."""
    held, step = [], int(ctx.params.get("step_mb", 50)) * 1024 * 1024
    ctx.on_epoch(EpochInfo("drill", 1, 2, 1.0, None))
    while len(held) * step < int(ctx.params.get("max_mb", 2000)) * 1024 * 1024:
        held.append(b"\x01" * step)
        time.sleep(float(ctx.params.get("every", 0.1)))
    while not ctx.should_stop():
        time.sleep(0.05)
    return {"allocated_mb": len(held) * step // (1024 * 1024)}


def _drill_crash(ctx: TaskContext) -> Any:
    """A job whose process dies after a first epoch event: ``how`` "abort" (SIGABRT, the
    default) or "exit" (``os._exit(code)``, code default 3), ``after`` seconds later."""
    ctx.on_epoch(EpochInfo("drill", 1, 2, 1.0, None))
    time.sleep(float(ctx.params.get("after", 0.3)))
    if ctx.params.get("how", "abort") == "exit":
        os._exit(int(ctx.params.get("code", 3)))
    os.abort()


def _drill_echo(ctx: TaskContext) -> Any:
    """A job that returns its parameters and the pid it ran in, after ``epochs`` events."""
    for epoch in range(1, int(ctx.params.get("epochs", 0)) + 1):
        ctx.on_epoch(EpochInfo("drill", epoch, int(ctx.params["epochs"]), 1.0 / epoch, None))
    return {"pid": os.getpid(), "params": dict(ctx.params)}


FAULT_DRILLS: dict[str, Callable[[TaskContext], Any]] = {
    "drill:hang": _drill_hang, "drill:allocate": _drill_allocate, "drill:crash": _drill_crash,
    "drill:echo": _drill_echo,
}


def register_fault_drills() -> None:
    """Add the drill:* tasks to ``TASKS`` (done at import with ``LSTM_LAB_FAULT_DRILLS=1``)."""
    TASKS.update(FAULT_DRILLS)


if os.environ.get(FAULT_DRILLS_VAR, "").strip() == "1":
    register_fault_drills()
