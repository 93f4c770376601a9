"""Sweeps: a grid of experiments around one base config, and the tables and figures that compare
many runs (a sweep's heatmap and parallel coordinates; the History page's overlays).

A grid maps config fields to the values to try, e.g. ``{"window": (6, 12, 24), "layers": (1, 2,
3), "units": (16, 32, 64)}``: 27 configs, every other setting taken from the base config. Before
anything trains, ``plan_sweep`` checks each config as a single run would be checked
(``training.preflight``: data long enough, compute budget): configs over the budget or impossible
for the data are listed and skipped, never trained. ``run_sweep`` then trains the rest one after
another, reporting ``on_stage("run i of n", i - 1, n)``, stopping between (and within) runs when
``should_stop()`` turns True, and saving each finished run to a ``RunStore`` under one sweep id.
A run that fails is reported as failed and the sweep goes on.

On a shared server a grid has at most ``Limits.max_sweep_runs`` runs (``LSTM_LAB_MAX_SWEEP_RUNS``)
and a sweep runs as one queued job, so the job's time limit (``max_job_seconds``) applies to the
sweep as a whole: past it ``should_stop()`` turns True, and the runner adds a sentence saying so
to ``SweepResult.notes``.
"""

from __future__ import annotations

import itertools
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_lab.data.gallery import GALLERY
from lstm_lab.data.series import Series
from lstm_lab.data.windows import ES_KINDS
from lstm_lab.errors import ConfigError, LabError
from lstm_lab.experiments.config import SWEEP_FIELDS, ExperimentConfig, field_range
from lstm_lab.experiments.metrics import METRICS
from lstm_lab.experiments.plots import safe_text
from lstm_lab.experiments.split import season_of, training_size
from lstm_lab.experiments.training import (
    MODEL_LABELS,
    ExperimentResult,
    count_weights,
    estimate_work,
    preflight,
    run_experiment,
)
from lstm_lab.limits import Limits, env_var, get_limits
from lstm_lab.models.architectures import ARCHITECTURES
from lstm_lab.models.base import EpochHook, StopFlag
from lstm_lab.models.registry import NEURAL_MODELS, model_label

OK, OVER_BUDGET, INVALID = "ok", "over budget", "invalid"
MAX_SEEDS = 5          # seeds per setting a sweep may repeat
NOISE_SIGMAS = 2.0     # "≈ best": within this many standard errors of the difference
DONE, FAILED, STOPPED, SKIPPED = "done", "failed", "stopped", "skipped"

StageHook = Callable[[str, int, int], None]
Grid = dict[str, tuple]


# --- grids ---------------------------------------------------------------------------------------

def parse_values(name: str, text: str | Sequence[Any], limits: Limits | None = None) -> tuple:
    """``"6, 12, 24"`` -> ``(6, 12, 24)`` for config field ``name``: typed, range-checked,
    duplicates dropped, order kept.

    More than ``limits.max_sweep_runs`` items are refused as soon as the text is split, before
    any is converted or checked: one setting alone could not fit in a sweep, and checking a
    pasted list of thousands would hold the server for seconds.

    Raises:
        ConfigError: an unknown or unsweepable field, too many values, an unreadable or
            out-of-range value.
    """
    if name not in SWEEP_FIELDS:
        raise ConfigError(f"`{name}` cannot be swept. Sweepable settings: "
                          f"{', '.join(SWEEP_FIELDS)}.")
    items = ([t.strip() for t in text.split(",")] if isinstance(text, str) else list(text))
    items = [t for t in items if not (isinstance(t, str) and not t)]
    if not items:
        raise ConfigError(f"`{name}` needs at least one value, e.g. {name}="
                          f"{_example(name)}. Received: {_shown(text)}")
    cap = (limits or get_limits()).max_sweep_runs
    if len(items) > cap:
        raise ConfigError(f"`{name}` has {len(items):,} values, but a sweep has at most {cap} "
                          f"runs ({env_var('max_sweep_runs')}): give at most {cap} values.")
    kind = next(f.type for f in fields(ExperimentConfig) if f.name == name)
    values: dict[Any, None] = {}   # a dict: duplicates dropped in O(1), first-seen order kept
    base = ExperimentConfig()
    for item in items:
        value = _typed(name, item, kind)
        try:  # the field's own validation: range, choices, whole numbers
            value = getattr(base.replace(**{name: value}), name)
        except ConfigError as err:
            raise ConfigError(f"Sweep value out of range: {err}") from None
        values.setdefault(value, None)
    return tuple(values)


def _shown(text: Any, limit: int = 60) -> str:
    """``text`` quoted for a message, cut to ``limit`` characters."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def parse_grid(spec: Mapping[str, str | Sequence[Any]], limits: Limits | None = None) -> Grid:
    """A grid from ``{field: "v1,v2,..."}`` (or sequences); empty entries are left out."""
    limits = limits or get_limits()
    grid: Grid = {}
    for name, raw in spec.items():
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        grid[name] = parse_values(name, raw, limits)
    if not grid:
        raise ConfigError("A sweep needs at least one setting to vary, e.g. window=6,12,24.")
    return grid


def grid_size(grid: Mapping[str, Sequence[Any]]) -> int:
    return math.prod(len(v) for v in grid.values()) if grid else 0


def expand_grid(base: ExperimentConfig, grid: Mapping[str, Sequence[Any]]) -> list[ExperimentConfig]:
    """Every combination, the first axis varying slowest (like nested for loops).

    Each trains exactly its settings: tuning is off (unless the grid varies it), or a sweep over
    window or units would compare networks that tuning replaced by the same longer variants.
    """
    names = list(grid)
    if "tuning" not in grid:
        base = base.replace(tuning="off")
    out = []
    for combo in itertools.product(*(grid[n] for n in names)):
        try:
            out.append(base.replace(**dict(zip(names, combo))))
        except ConfigError as err:
            raise ConfigError(f"{describe_values(dict(zip(names, combo)))}: {err}") from None
    return out


# --- planning ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedRun:
    config: ExperimentConfig
    values: dict[str, Any]      # this run's grid values
    status: str                 # ok | over budget | invalid
    reason: str = ""
    work: int = 0               # estimated weight updates of its biggest network

    @property
    def runnable(self) -> bool:
        return self.status == OK


@dataclass(frozen=True)
class SweepPlan:
    base: ExperimentConfig
    grid: Grid
    runs: list[PlannedRun]
    max_work: int
    seeds: int = 1              # runs per setting, seeds base.seed, base.seed + 1, ...

    @property
    def size(self) -> int:
        return len(self.runs)

    @property
    def runnable(self) -> list[PlannedRun]:
        return [r for r in self.runs if r.runnable]

    @property
    def refused(self) -> list[PlannedRun]:
        return [r for r in self.runs if not r.runnable]

    def summary(self) -> str:
        dims = " × ".join(str(len(v)) for v in self.grid.values())
        if self.seeds > 1:
            settings = self.size // self.seeds
            text = (f"{dims} = {settings:,} setting{'s' * (settings != 1)} × {self.seeds} "
                    f"seeds = {self.size:,} runs")
        else:
            text = f"{dims} = {self.size:,} run{'s' * (self.size != 1)}"
        over = sum(r.status == OVER_BUDGET for r in self.runs)
        invalid = sum(r.status == INVALID for r in self.runs)
        if over or invalid:
            parts = ([f"{over} over the compute budget or size cap"] * bool(over)
                     + [f"{invalid} impossible for this data"] * bool(invalid))
            text += f"; {len(self.runnable)} will train, {' and '.join(parts)} will be skipped"
        return text

    def frame(self) -> pd.DataFrame:
        """One row per planned run: grid values (and its seed, with seeds per setting),
        status, estimated work, reason."""
        seed = ["seed"] if self.seeds > 1 else []
        rows = [{**r.values, "seed": r.config.seed, "status": r.status, "work": r.work,
                 "reason": r.reason} for r in self.runs]
        return pd.DataFrame(rows, columns=list(dict.fromkeys([*self.grid, *seed, "status",
                                                              "work", "reason"])))


def plan_sweep(base: ExperimentConfig, series: Series, grid: Mapping[str, Sequence[Any]],
               limits: Limits | None = None, seeds: int = 1) -> SweepPlan:
    """Expand the grid and check every config before any training.

    ``seeds`` > 1 trains every setting that many times, with seeds ``base.seed``,
    ``base.seed + 1``, ...: the spread between them is the seed noise the results are read
    against (ignored when the grid varies the seed itself).

    Raises:
        ConfigError: the grid times its seeds has more runs than ``limits.max_sweep_runs`` (a
            teacher sets it with ``LSTM_LAB_MAX_SWEEP_RUNS``), or ``seeds`` is out of range.
    """
    limits = limits or get_limits()
    grid = {k: tuple(v) for k, v in grid.items()}
    seeds = check_seeds(seeds, grid)
    settings, cap = grid_size(grid), limits.max_sweep_runs
    size = settings * seeds
    if size > cap:
        shown = (f"{settings:,} settings × {seeds} seeds = {size:,} runs" if seeds > 1
                 else f"{size:,} runs")
        fix = ("Try fewer values per setting or fewer seeds per setting." if seeds > 1
               else "Try fewer values per setting.")
        raise ConfigError(f"This sweep has {shown}; at most {cap} are allowed "
                          f"({env_var('max_sweep_runs')}). {fix}")
    n = len(series)
    planned = []
    configs = [cfg.replace(seed=cfg.seed + k) if k else cfg
               for cfg in expand_grid(base, grid) for k in range(seeds)]
    for cfg in configs:
        values = {k: getattr(cfg, k) for k in grid}
        season = season_of(cfg, series)
        try:
            n_train = training_size(cfg, n)
            work = max(estimate_work(cfg, n_train, season, limits, n_points=n).values(),
                       default=0)   # training and forecasting, as preflight counts it
        except LabError:
            work = 0
        too_big = max(count_weights(cfg, season).values(), default=0) > limits.max_weights
        try:
            preflight(cfg, series, limits)
        except LabError as err:
            status = OVER_BUDGET if work > limits.max_work or too_big else INVALID
            planned.append(PlannedRun(cfg, values, status, str(err), work))
            continue
        planned.append(PlannedRun(cfg, values, OK, "", work))
    return SweepPlan(base, grid, planned, limits.max_work, seeds)


def check_seeds(seeds: Any, grid: Mapping[str, Any] | None = None) -> int:
    """``seeds`` per setting as a whole number from 1 to ``MAX_SEEDS``; 1 when the grid varies
    the seed itself (its seeds are the repeats)."""
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) \
            or not 1 <= seeds <= MAX_SEEDS:
        raise ConfigError(f"Seeds per setting must be a whole number from 1 to {MAX_SEEDS}. "
                          f"Received: {seeds!r}")
    return 1 if grid is not None and "seed" in grid else int(seeds)


# --- running -------------------------------------------------------------------------------------

@dataclass
class SweepRun:
    """One config of a sweep and what became of it."""

    config: ExperimentConfig
    values: dict[str, Any]
    status: str                                   # done | failed | stopped | skipped
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    run_id: int | None = None                     # its id in the run store, once saved
    note: str = ""
    total_s: float | None = None


@dataclass
class SweepResult:
    base: ExperimentConfig
    grid: Grid
    runs: list[SweepRun]
    sweep_id: str = ""
    series_name: str = ""
    stopped_by_user: bool = False    # Stop, or the job's time limit (then ``notes`` says so)
    notes: list[str] = field(default_factory=list)   # limits that ended the sweep, in words

    @property
    def axes(self) -> list[str]:
        return list(self.grid)

    @property
    def settings(self) -> list[str]:
        """The swept settings a result is read by: the axes, less the seed when other settings
        vary too (then its values are repeats of each setting, and their spread the noise)."""
        return [a for a in self.axes if a != "seed"] if len(self.axes) > 1 else self.axes

    @property
    def repeats(self) -> int:
        """The most finished runs of any one setting (1: the seed noise is unknown)."""
        counts = self._done_frame().groupby(self.settings).size() if self.settings else []
        return int(max(counts, default=0)) if len(counts) else 0

    def _done_frame(self) -> pd.DataFrame:
        frame = self.frame()
        return frame[frame["status"] == DONE]

    def cells(self, model: str, metric: str = "rmse") -> pd.DataFrame:
        """One row per setting with a finished run: its values, then ``mean``, ``sd`` (over its
        seeds; NaN with one), ``n`` (runs), ``best_run`` (the run id of its best seed, or None)
        and ``near_best`` (within the seed noise of the best setting's mean), best first."""
        frame = self._done_frame()
        column = f"{model}.{metric}"
        keys = self.settings
        out = pd.DataFrame(columns=[*keys, "mean", "sd", "n", "best_run", "near_best"])
        if column not in frame or frame.empty or not keys:
            return out
        scored = frame[np.isfinite(frame[column].astype(float))]
        if scored.empty:
            return out
        rows = []
        for values, group in scored.groupby(keys, sort=False):
            values = values if isinstance(values, tuple) else (values,)
            scores = group[column].astype(float)
            best_i = scores.idxmin()
            run_id = group.loc[best_i, "run_id"]
            rows.append({**dict(zip(keys, values)), "mean": float(scores.mean()),
                         "sd": float(scores.std(ddof=1)) if len(scores) > 1 else math.nan,
                         "n": len(scores),
                         "best_run": None if pd.isna(run_id) else int(run_id)})
        out = pd.DataFrame(rows).sort_values("mean", kind="stable").reset_index(drop=True)
        noise = self.noise(model, metric)
        best = out.iloc[0]
        margins = [NOISE_SIGMAS * noise * math.sqrt(1 / best["n"] + 1 / n) for n in out["n"]]
        out["near_best"] = [bool(np.isfinite(m) and mean - best["mean"] <= m)
                            for mean, m in zip(out["mean"], margins)]
        return out

    def noise(self, model: str, metric: str = "rmse") -> float:
        """The seed noise: the pooled standard deviation of ``metric`` between runs of the same
        setting; NaN when no setting has two finished runs."""
        frame = self._done_frame()
        column = f"{model}.{metric}"
        if column not in frame or frame.empty or not self.settings:
            return math.nan
        scored = frame[np.isfinite(frame[column].astype(float))]
        squares, dof = 0.0, 0
        for _, group in scored.groupby(self.settings, sort=False):
            if len(group) > 1:
                squares += float(group[column].astype(float).var(ddof=1)) * (len(group) - 1)
                dof += len(group) - 1
        return math.sqrt(squares / dof) if dof else math.nan

    def best_setting(self, model: str, metric: str = "rmse") -> pd.Series | None:
        """The setting with the lowest mean ``metric`` (a row of ``cells``)."""
        cells = self.cells(model, metric)
        return None if cells.empty else cells.iloc[0]

    @property
    def done(self) -> list[SweepRun]:
        return [r for r in self.runs if r.status == DONE]

    @property
    def models(self) -> list[str]:
        seen = {m for r in self.done for m in r.metrics}
        return [m for m in MODEL_LABELS if m in seen]

    def label(self, model: str) -> str:
        """``model``'s name over the sweep's runs: "GRU" for a GRU sweep, never "LSTM"."""
        return models_label(model, [r.config for r in self.runs] or [self.base])

    def score(self, run: SweepRun, model: str, metric: str = "rmse") -> float:
        value = run.metrics.get(model, {}).get(metric)
        return float(value) if value is not None and np.isfinite(value) else math.nan

    def best(self, model: str, metric: str = "rmse") -> SweepRun | None:
        """The finished run with the lowest ``metric`` for ``model``."""
        scored = [(self.score(r, model, metric), i) for i, r in enumerate(self.runs)
                  if r.status == DONE and np.isfinite(self.score(r, model, metric))]
        return self.runs[min(scored)[1]] if scored else None

    def frame(self) -> pd.DataFrame:
        """One row per config: grid values (the seed too when it varies), status, run id,
        then ``<model>.<metric>`` scores."""
        models, metrics = self.models, METRICS
        rows = []
        for r in self.runs:
            row: dict[str, Any] = {**r.values, "seed": r.config.seed, "status": r.status,
                                   "run_id": r.run_id}
            for m in models:
                for metric in metrics:
                    row[f"{m}.{metric}"] = self.score(r, m, metric)
            row["note"] = r.note
            rows.append(row)
        repeated = len({r.config.seed for r in self.runs}) > 1   # seeds per setting
        columns = list(dict.fromkeys([*self.axes, *["seed"] * repeated, "status", "run_id"]))
        return pd.DataFrame(rows, columns=[*columns,
                                           *[f"{m}.{k}" for m in models for k in metrics],
                                           "note"])

    @classmethod
    def from_summaries(cls, summaries: Sequence[Any], sweep_id: str = "") -> SweepResult:
        """Rebuild a sweep from stored runs (``store.RunSummary``): the axes are the sweepable
        settings that differ between them."""
        if not summaries:
            raise ConfigError("This sweep has no stored runs.")
        ordered = sorted(summaries, key=lambda s: s.id)
        configs = [s.config for s in ordered]
        axes = [f for f in SWEEP_FIELDS if len({getattr(c, f) for c in configs}) > 1]
        grid = {a: tuple(sorted({getattr(c, a) for c in configs}, key=_sort_key)) for a in axes}
        runs = [SweepRun(s.config, {a: getattr(s.config, a) for a in axes}, DONE,
                         dict(s.metrics), s.id, total_s=s.total_s) for s in ordered]
        return cls(configs[0], grid, runs, sweep_id or ordered[0].sweep,
                   ordered[0].series_name)


def run_sweep(base_config: ExperimentConfig, series: Series, grid: Mapping[str, Sequence[Any]],
              on_stage: StageHook | None = None, on_epoch: EpochHook | None = None,
              should_stop: StopFlag | None = None, store: Any = None, owner: str | None = None,
              shared: bool = False, limits: Limits | None = None,
              seeds: int = 1) -> SweepResult:
    """Train every config of the grid that passes its checks, one after another (each setting
    ``seeds`` times, see ``plan_sweep``).

    Args:
        on_stage: called before each run with ``("run i of n", i - 1, n)``.
        on_epoch, should_stop: passed to each ``run_experiment``; between runs a True
            ``should_stop()`` ends the sweep, within a run it cuts the run short (that run is
            reported as stopped and not saved).
        store, owner: a ``RunStore`` and the owner key to save every finished run under, all
            with one sweep id.

    Raises:
        ConfigError: the grid is too large, or none of its configs can run.
    """
    if store is not None and not owner:
        raise ConfigError("Saving a sweep to the run store needs an owner key.")
    plan = plan_sweep(base_config, series, grid, limits, seeds)
    todo = plan.runnable
    if not todo:
        first = plan.refused[0]
        raise ConfigError(f"None of the {plan.size} configurations can run. For example "
                          f"{describe_values(first.values)}: {first.reason}")
    sweep_id = uuid.uuid4().hex[:12]
    runs = [SweepRun(r.config, r.values, SKIPPED, note=f"{r.status}: {r.reason}")
            for r in plan.refused]
    stopped = False
    for i, planned in enumerate(todo):
        if should_stop is not None and should_stop():
            stopped = True
            break
        if on_stage is not None:
            on_stage(f"run {i + 1} of {len(todo)}", i, len(todo))
        try:
            result = _run_once_more_on_surprise(planned.config, series, on_epoch, should_stop)
        except LabError as err:
            runs.append(SweepRun(planned.config, planned.values, FAILED, note=str(err)))
            continue
        except Exception as err:  # noqa: BLE001 - one broken run must not end a long sweep
            runs.append(SweepRun(planned.config, planned.values, FAILED,
                                 note=f"failed unexpectedly ({type(err).__name__}: {err})"))
            continue
        run = SweepRun(planned.config, planned.values, DONE, result.metrics,
                       total_s=result.timings.get("total_s"))
        if result.stopped_by_user:
            run.status, run.note, stopped = STOPPED, "stopped by request; not saved", True
            runs.append(run)
            break
        if store is not None:
            run.run_id = store.save_run(result, owner, shared=shared, sweep=sweep_id)
        runs.append(run)
        _release(result)
    order = {id(r.config): i for i, r in enumerate(plan.runs)}
    runs.sort(key=lambda r: order.get(id(r.config), len(order)))
    return SweepResult(base_config, plan.grid, runs, sweep_id, series.name, stopped)


def _run_once_more_on_surprise(config: ExperimentConfig, series: Series,
                               on_epoch: EpochHook | None,
                               should_stop: StopFlag | None) -> ExperimentResult:
    """``run_experiment``, retried once after an unexpected (non-LabError) exception.

    Transient failures happen: on CPython 3.11, TensorFlow's autograph parsing source in the
    training thread while another thread compiles a script can raise a spurious
    ``SystemError: AST constructor recursion depth mismatch`` (python/cpython#106905). A
    LabError (bad settings, divergence) is deterministic and is not retried.
    """
    try:
        return run_experiment(config, series, on_epoch, should_stop)
    except LabError:
        raise
    except Exception:  # noqa: BLE001 - retried once; a second failure propagates
        return run_experiment(config, series, on_epoch, should_stop)


def _release(result: ExperimentResult) -> None:
    """Drop the fitted networks once saved: a 27-run sweep must not keep 27 Keras models."""
    result.forecasters = {}


# --- figures over many runs ----------------------------------------------------------------------

PALETTE = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#7f7f7f")


def _layout(fig: Any, title: str, y_title: str = "", height: int = 400) -> Any:
    """Shared look; ``title`` and ``y_title`` are escaped here (``plots.safe_text``)."""
    fig.update_layout(title=dict(text=safe_text(title), x=0.01, xanchor="left"), height=height,
                      margin=dict(l=10, r=10, t=60, b=10), template="plotly_white",
                      legend=dict(orientation="h", y=-0.18, yanchor="top", x=0, xanchor="left"),
                      yaxis_title=safe_text(y_title))
    return fig


# One hue, light (worse) to mid blue (better): differences read as "more or less", never as the
# alarm of red against green; black cell text stays readable on both ends.
SCALE = [[0.0, "#3f88c5"], [1.0, "#f4f8fc"]]


def heatmap_figure(sweep: SweepResult, x: str, y: str, model: str,
                   metric: str = "rmse") -> Any:
    """``metric`` of ``model`` for each pair of ``x`` and ``y`` values: the mean over the
    setting's seeds, written "1,719 ± 12" (± one standard deviation between seeds), in one hue
    (darker is better). The best cell is starred; cells within the seed noise of it say
    "≈ best". The colour range spans at least a few noise widths, so noise alone never looks
    like a big difference.

    When the sweep varies other settings too, each cell shows the best of them.
    """
    if x not in sweep.settings or y not in sweep.settings or x == y:
        raise ConfigError(f"Pick two different swept settings among "
                          f"{', '.join(setting_name(a) for a in sweep.settings)}. "
                          f"Received: {setting_name(x)} and {setting_name(y)}.")
    cells = sweep.cells(model, metric)
    xs, ys = list(sweep.grid[x]), list(sweep.grid[y])
    z = np.full((len(ys), len(xs)), np.nan)
    text = [["" for _ in xs] for _ in ys]
    near = np.zeros(z.shape, dtype=bool)
    if not cells.empty:
        for _, cell in cells.iterrows():          # best first: the first per pair is kept
            iy, ix = ys.index(cell[y]), xs.index(cell[x])
            if np.isfinite(z[iy, ix]):
                continue
            z[iy, ix] = cell["mean"]
            near[iy, ix] = bool(cell["near_best"])
            text[iy][ix] = spread_text(cell["mean"], cell["sd"])
    iy_best = ix_best = None
    if np.isfinite(z).any():
        iy_best, ix_best = np.unravel_index(np.nanargmin(z), z.shape)
    for iy in range(len(ys)):
        for ix in range(len(xs)):
            if near[iy, ix] and (iy, ix) != (iy_best, ix_best):
                text[iy][ix] += "<br>≈ best"
    noise = sweep.noise(model, metric)
    zmin = float(np.nanmin(z)) if np.isfinite(z).any() else None
    zmax = float(np.nanmax(z)) if np.isfinite(z).any() else None
    if zmin is not None and np.isfinite(noise):
        zmax = max(zmax, zmin + 4 * noise)        # noise alone spans at most a quarter
    name = metric_name(metric)
    repeats = sweep.repeats
    fig = go.Figure(go.Heatmap(
        z=z, x=[fmt_value(v) for v in xs], y=[fmt_value(v) for v in ys], colorscale=SCALE,
        zmin=zmin, zmax=zmax, text=text, texttemplate="%{text}", textfont=dict(color="#111"),
        hoverongaps=False, colorbar=dict(title=name),
        customdata=text,
        hovertemplate=(f"{safe_text(setting_name(x))} %{{x}}<br>{safe_text(setting_name(y))} "
                       f"%{{y}}<br>{name} %{{customdata}}<extra></extra>")))
    if iy_best is not None:
        # by position: a category named "24" would be read as the 25th category
        fig.add_annotation(x=int(ix_best), y=int(iy_best), text="★ best", showarrow=False,
                           yshift=22, font=dict(size=12, color="#111"))
    others = [a for a in sweep.settings if a not in (x, y)]
    title = (f"{sweep.label(model)} test {name} by {setting_name(x)} and {setting_name(y)}"
             + (f", mean of {repeats} seeds" if repeats > 1 else ", one seed each"))
    if others:
        title += f" (best over {', '.join(setting_name(a) for a in others)})"
    fig.update_xaxes(title=safe_text(setting_name(x)), type="category")
    fig.update_yaxes(type="category")
    return _layout(fig, title, setting_name(y), height=420)


def parallel_figure(sweep: SweepResult, model: str, metric: str = "rmse") -> Any:
    """One line per finished run across every swept setting, ending at its score (one hue:
    darker is better)."""
    frame = sweep._done_frame()
    column = f"{model}.{metric}"
    scores = frame[column] if column in frame else pd.Series(np.nan, index=frame.index)
    dims = []
    for axis in sweep.axes:
        values = list(sweep.grid[axis])
        label = safe_text(setting_name(axis))
        if all(isinstance(v, (int, float)) for v in values):
            dims.append(dict(label=label, values=frame[axis].astype(float),
                             tickvals=[float(v) for v in values],
                             ticktext=[fmt_value(v) for v in values]))
        else:  # text settings (transform, strategy): one tick per choice
            codes = {v: i for i, v in enumerate(values)}
            dims.append(dict(label=label, values=frame[axis].map(codes).astype(float),
                             tickvals=list(codes.values()),
                             ticktext=[fmt_value(v, axis) for v in values]))
    name = metric_name(metric)
    dims.append(dict(label=safe_text(f"{name} {sweep.label(model)}"), values=scores))
    fig = go.Figure(go.Parcoords(
        line=dict(color=scores, colorscale=SCALE, showscale=True,
                  colorbar=dict(title=name)), dimensions=dims))
    fig = _layout(fig, f"Every run of the sweep: settings → {sweep.label(model)} {name}",
                  height=420)
    fig.update_layout(margin=dict(l=60, r=40, t=90, b=30))
    return fig


def config_differences(configs: Mapping[str, ExperimentConfig]) -> pd.DataFrame:
    """The settings that differ between runs and matter for them: one row per setting (named
    for people), one column per run. A setting counts only for the runs it acts on (the sine's
    settings for sine runs, the networks' for runs that train one, ...); the other runs show
    "—" there, and a setting that differs only where it does not act is left out."""
    labels = list(configs)
    rows = {}
    for f in fields(ExperimentConfig):
        used = [label for label in labels if setting_matters(f.name, configs[label])]
        if len({repr(getattr(configs[label], f.name)) for label in used}) < 2:
            continue
        rows[setting_name(f.name)] = [fmt_value(getattr(configs[label], f.name), f.name,
                                                configs[label]) if label in used else "—"
                                      for label in labels]
    return pd.DataFrame.from_dict(rows, orient="index", columns=labels)


def setting_matters(name: str, config: ExperimentConfig) -> bool:
    """Whether config field ``name`` can change this run's results."""
    networks = [m for m in config.models if m in NEURAL_MODELS]
    if name.startswith("sine_"):
        return config.dataset == "damped_sine"
    if name in ("csv_path", "column", "date_column"):
        return config.dataset == "csv"
    if name in ("architecture", "layers", "units", "dropout"):
        return "lstm" in networks
    if name in ("mlp_layers", "mlp_units"):
        return "mlp" in networks
    if name == "strategy":
        return bool(networks) and config.horizon > 1
    if name == "es_weight":     # the ES hybrid: direct forecasts, transform es / log_es / auto
        return bool(networks) and config.strategy == "direct" and \
            config.transform in ("auto", *ES_KINDS)
    if name in ("members", "combine", "tuning", "transform", "epochs", "batch_size",
                "learning_rate", "patience", "validation_fraction", "seed"):
        return bool(networks) and (name != "combine" or config.members > 1)
    return True


def overlay_forecast_figure(results: Mapping[str, ExperimentResult], model: str) -> Any:
    """The actual series (once per distinct data set) and each run's ``model`` forecasts of its
    test part, overlaid: one panel per data set, each with its own axes, when runs use different
    data (passengers in hundreds and car sales in thousands never share an axis)."""
    groups: dict[str, list[str]] = {}
    for label, result in results.items():
        groups.setdefault(result.data_fingerprint, []).append(label)
    panels = list(groups)
    first = next(iter(results.values()), None)
    if len(panels) > 1:
        names = [results[groups[p][0]].series_name for p in panels]
        fig = make_subplots(rows=len(panels), cols=1, vertical_spacing=0.12 / len(panels) ** 0.5,
                            subplot_titles=[safe_text(n) for n in names])
    else:
        fig = go.Figure()
    row_of = {p: i + 1 for i, p in enumerate(panels)}

    def where(fingerprint: str) -> dict:
        return dict(row=row_of[fingerprint], col=1) if len(panels) > 1 else {}

    for i, fingerprint in enumerate(panels):
        result = results[groups[fingerprint][0]]
        preds = result.predictions
        name = "actual" if i == 0 else safe_text(f"actual ({result.series_name})")
        fig.add_trace(go.Scatter(x=preds["time"], y=preds["actual"], name=name, mode="lines",
                                 line=dict(color="#1f2937", width=2)), **where(fingerprint))
    for i, (label, result) in enumerate(results.items()):
        preds = result.predictions
        if model not in preds:
            continue
        test = preds[preds["split"] == "test"]
        fig.add_trace(go.Scatter(x=test["time"], y=test[model], name=safe_text(label),
                                 mode="lines+markers",
                                 line=dict(color=PALETTE[i % len(PALETTE)], width=1.6),
                                 marker=dict(size=4)), **where(result.data_fingerprint))
    for fingerprint in panels:
        result = results[groups[fingerprint][0]]
        test = result.predictions[result.predictions["split"] == "test"]
        if len(test):
            fig.add_vrect(x0=test["time"].iloc[0], x1=test["time"].iloc[-1],
                          fillcolor="rgba(255, 193, 7, 0.12)", line_width=0, layer="below",
                          **where(fingerprint))
    fig.update_layout(hovermode="x unified")
    name = models_label(model, [r.config for r in results.values()])
    if len(panels) > 1:
        for i, fingerprint in enumerate(panels):
            fig.update_yaxes(title_text=safe_text(results[groups[fingerprint][0]].series_name),
                             row=i + 1, col=1)
        fig = _layout(fig, f"{name} forecasts of the test part, run by run: "
                           f"{len(panels)} data sets, one panel each", height=300 * len(panels))
        fig.update_layout(yaxis_title=safe_text(results[groups[panels[0]][0]].series_name))
        return fig
    return _layout(fig, f"{name} forecasts of the test part, run by run",
                   first.series_name if first is not None else "", height=440)


def overlay_loss_figure(results: Mapping[str, ExperimentResult], model: str) -> Any:
    """Each run's training loss (solid) and validation loss (dotted) for ``model``."""
    fig = go.Figure()
    for i, (label, result) in enumerate(results.items()):
        hist = result.histories.get(model)
        if not hist or not hist.get("loss"):
            continue
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=np.arange(1, len(hist["loss"]) + 1), y=hist["loss"],
                                 name=safe_text(f"{label} train"), mode="lines",
                                 line=dict(color=color)))
        if hist.get("val_loss"):
            fig.add_trace(go.Scatter(x=np.arange(1, len(hist["val_loss"]) + 1),
                                     y=hist["val_loss"], name=safe_text(f"{label} validation"),
                                     mode="lines", line=dict(color=color, dash="dot")))
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_xaxes(title="epoch")
    name = models_label(model, [r.config for r in results.values()])
    return _layout(fig, f"{name} loss curves, run by run",
                   "MSE (scaled)", height=380)


def metrics_bar_figure(results: Mapping[str, ExperimentResult], metric: str = "rmse") -> Any:
    """Grouped bars: ``metric`` per model, one bar per run."""
    models = [m for m in MODEL_LABELS if any(m in r.metrics for r in results.values())]
    names = {m: models_label(m, [r.config for r in results.values()]) for m in models}
    fig = go.Figure()
    for i, (label, result) in enumerate(results.items()):
        values = [result.metrics.get(m, {}).get(metric, np.nan) for m in models]
        shown = safe_text(label).replace("%{", "%\u200b{")   # no template fields from a label
        fig.add_trace(go.Bar(x=[names[m] for m in models], y=values,
                             name=shown, marker_color=PALETTE[i % len(PALETTE)],
                             hovertemplate=f"{shown}<br>%{{x}}: %{{y:.4g}}<extra></extra>"))
    fig.update_layout(barmode="group")
    return _layout(fig, f"Test {metric.upper()} per model, run by run (lower is better)",
                   metric.upper(), height=380)


# --- helpers -------------------------------------------------------------------------------------

def models_label(model: str, configs: Sequence[ExperimentConfig]) -> str:
    """``model``'s name over several runs: the architecture of its network ("GRU"; depth left
    out, since runs may differ in layers), several joined ("LSTM / GRU") when runs differ."""
    names: dict[str, None] = {}
    for config in configs:
        one_layer = SimpleNamespace(architecture=config.architecture, layers=1)
        names.setdefault(model_label(model, one_layer), None)
    return " / ".join(names) or model_label(model)


def _typed(name: str, item: Any, kind: str) -> Any:
    if kind == "str":
        return str(item)
    try:
        number = float(item)
    except (TypeError, ValueError):
        raise ConfigError(f"`{name}` values must be numbers separated by commas, e.g. "
                          f"{name}={_example(name)}. Received: {item!r}") from None
    if kind == "int":
        if not number.is_integer():
            raise ConfigError(f"`{name}` values must be whole numbers. Received: {item!r}")
        return int(number)
    return number


def _example(name: str) -> str:
    examples = {"transform": "none,log_diff", "dropout": "0,0.2",
                "learning_rate": "0.001,0.003", "validation_fraction": "0,0.1"}
    if name in examples:
        return examples[name]
    choices = next(f.metadata.get("choices") for f in fields(ExperimentConfig) if f.name == name)
    if choices:
        return ",".join(choices[:2])
    lo, hi = field_range(name)
    return ",".join(str(v) for v in sorted({max(int(lo), 1), max(int(lo), 2), min(int(hi), 4)}))


def describe_values(values: Mapping[str, Any]) -> str:
    """``window=12, layers=2``: a run's grid values in words."""
    return ", ".join(f"{k}={_fmt(v)}" for k, v in values.items())


# How a page names each setting (config field); the config's field names stay the machine keys.
SETTING_NAMES = {
    "dataset": "Data", "csv_path": "File", "column": "Value column", "date_column": "Date column",
    "sine_length": "Sine length", "sine_period": "Sine period", "sine_decay": "Sine decay",
    "sine_amplitude": "Sine amplitude", "sine_phase": "Sine phase", "sine_noise": "Sine noise",
    "window": "Window", "horizon": "Horizon", "strategy": "Multi-step strategy",
    "test_size": "Test size", "transform": "Transform", "season": "Season",
    "tuning": "Tuning", "architecture": "Architecture", "layers": "Recurrent layers",
    "units": "Units per layer", "dropout": "Dropout", "members": "Ensemble size",
    "combine": "Combine members by", "es_weight": "ES weight", "mlp_layers": "MLP layers",
    "mlp_units": "MLP units",
    "epochs": "Max epochs", "batch_size": "Batch size", "learning_rate": "Learning rate",
    "patience": "Patience", "validation_fraction": "Validation share", "seed": "Seed",
    "models": "Models", "intervals": "Prediction intervals", "inputs": "Input columns"}
DATA_NAMES = {"air_passengers": "Airline passengers",
              **{key: entry.title for key, entry in GALLERY.items()},
              "damped_sine": "Damped sine", "csv": "CSV file"}


def setting_name(name: str) -> str:
    """A setting as a page names it: ``learning_rate`` -> "Learning rate"."""
    return SETTING_NAMES.get(name, name.replace("_", " ").capitalize())


def fmt_value(value: Any, name: str = "", config: Any = None) -> str:
    """A setting's value as a person reads it: models and architectures by their names,
    levels as percentages, shares as %, numbers with thousands separators."""
    if name == "models":
        return ", ".join(model_label(m, config) for m in value) or "none"
    if name == "intervals":
        return ", ".join(f"{v * 100:g}%" for v in value) or "none"
    if name == "architecture":
        return ARCHITECTURES[value].short if value in ARCHITECTURES else str(value)
    if name == "dataset":
        return DATA_NAMES.get(value, str(value))
    if name in ("validation_fraction", "dropout") or (name == "test_size" and value < 1):
        return f"{value * 100:g}%"
    if isinstance(value, tuple):
        return ", ".join(fmt_value(v) for v in value) or "none"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{float(value):,.6g}"


def people_number(value: float | None, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits, but never fewer than its whole part
    (1,719, not 1.72e+03), with thousands separators; "—" for none."""
    if value is None or not np.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    size = abs(float(value))
    decimals = max(0, digits - 1 - int(math.floor(math.log10(size))))
    text = f"{size:,.{min(decimals, 12)}f}"
    return ("−" if value < 0 and float(text.replace(",", "")) else "") + text


def spread_text(mean: float, sd: float | None) -> str:
    """"1,719 ± 12": a mean and the standard deviation between seeds (the mean alone with one
    seed), the spread with as many decimals as the mean shows."""
    shown = people_number(mean)
    if sd is None or not np.isfinite(sd):
        return shown
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    return f"{shown} ± {abs(sd):,.{decimals}f}"


def metric_name(metric: str) -> str:
    """RMSE, MAE, MAPE, MASE."""
    return metric.upper()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _sort_key(value: Any) -> tuple:
    return (0, value, "") if isinstance(value, (int, float)) else (1, 0, str(value))
