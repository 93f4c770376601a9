"""Beyond one split: rolling-origin backtests, and forecasts past the end of the data.

Backtest folds grow an expanding window: fold k trains on everything before its test block and
forecasts that block from rolling origins, so no fold ever sees its own future. With
``refit=False`` the models are fitted once (on fold 1's training part) and only re-fed data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstm_lab.data.series import Series
from lstm_lab.errors import ConfigError, DataError
from lstm_lab.experiments import intervals as conformal
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.metrics import METRICS, evaluate
from lstm_lab.experiments.training import (
    MODEL_LABELS,
    affordable_members,
    bands_to_plain,
    calibrate_model,
    fewer_members_note,
    finite_or_none,
    limit_notes,
    make_forecasters,
    preflight,
    run_experiment,
    run_inputs,
    time_left,
)
from lstm_lab.experiments.tuning import TunedForecaster
from lstm_lab.limits import get_limits
from lstm_lab.models.base import EpochHook, StopFlag
from lstm_lab.models.classical import FitStopped
from lstm_lab.models.neural import bind_inputs, combine_members
from lstm_lab.models.registry import get_spec, model_label

StageHook = Callable[[str, int, int], None]   # (label, stages done, stages in all)


@dataclass
class BacktestResult:
    config: ExperimentConfig
    refit: bool
    folds: list[dict[str, Any]]        # fold, train_size, origin, start, end, metrics {model: ...}
    predictions: pd.DataFrame          # time, actual, fold, one column per model (test blocks)
    series_name: str = ""
    stopped_by_user: bool = False
    labels: dict[str, str] = field(default_factory=dict)   # each model as its runs named it
    # per model and level ("80"): the conformal band's "low" and "high", aligned with the rows
    # of ``predictions`` (each fold's band calibrated on that fold's training part)
    intervals: dict[str, dict[str, dict[str, np.ndarray]]] = field(default_factory=dict)

    @property
    def models(self) -> list[str]:
        return list(self.folds[0]["metrics"]) if self.folds else []

    def label(self, model: str) -> str:
        """A model's display name as the folds' runs gave it ("ES-LSTM (3 seeds)")."""
        return self.labels.get(model) or model_label(model, self.config)

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation of each metric over the folds, one row per model."""
        rows = []
        for model in self.models:
            row = {"model": model}
            names = list(METRICS) + [k for k in self.folds[0]["metrics"][model]
                                     if k not in METRICS]
            for metric in names:
                scores = np.array([f["metrics"][model].get(metric, np.nan) for f in self.folds],
                                  dtype=float)
                row[f"{metric} mean"] = float(np.nanmean(scores)) if np.isfinite(scores).any() \
                    else float("nan")
                row[f"{metric} std"] = float(np.nanstd(scores)) if np.isfinite(scores).any() \
                    else float("nan")
            rows.append(row)
        return pd.DataFrame(rows).set_index("model")

    def to_dict(self) -> dict[str, Any]:
        preds = self.predictions.copy()
        preds["time"] = preds["time"].astype(str)
        clean = finite_or_none
        return {"config": self.config.to_dict(), "refit": self.refit, "folds": clean(self.folds),
                "summary": clean(self.summary().reset_index().to_dict(orient="records")),
                "predictions": clean(preds.to_dict(orient="list")),
                "intervals": bands_to_plain(self.intervals),
                "series_name": self.series_name, "stopped_by_user": self.stopped_by_user}


def fold_bounds(n_points: int, test_size: int, folds: int) -> list[tuple[int, int]]:
    """(start, end) of each fold's test block, oldest first; the last block ends the series."""
    if folds < 1:
        raise ConfigError(f"A backtest needs at least 1 fold. Received: folds={folds}")
    first_start = n_points - folds * test_size
    if first_start < 2:
        raise DataError(f"{folds} folds of {test_size} test points need more than "
                        f"{folds * test_size} points; the series has {n_points}. Use fewer "
                        "folds or a smaller test size.")
    return [(first_start + k * test_size, first_start + (k + 1) * test_size) for k in range(folds)]


def run_backtest(config: ExperimentConfig, series: Series, folds: int = 3, refit: bool = True,
                 on_epoch: EpochHook | None = None, should_stop: StopFlag | None = None,
                 on_stage: StageHook | None = None) -> BacktestResult:
    """Rolling-origin evaluation of every model of ``config`` over ``folds`` test blocks."""
    n_test = config.test_count(len(series))
    bounds = fold_bounds(len(series), n_test, folds)
    cfg = config.replace(test_size=float(n_test))
    for _start, end in bounds:         # every fold must be trainable before any training starts
        preflight(cfg, series.head(end))
    values = series.values
    frames, fold_rows, first = [], [], None
    fold_bands: list[dict[str, dict[str, dict[str, np.ndarray]]]] = []
    stopped = False
    for k, (start, end) in enumerate(bounds):
        if on_stage is not None:
            on_stage(f"fold {k + 1} of {folds}", k, folds)
        if refit or first is None:
            first = run_experiment(cfg, series.head(end), on_epoch, should_stop)
            stopped = stopped or first.stopped_by_user
            block = first.predictions.iloc[start:end]
            preds = {m: block[m].to_numpy() for m in first.metrics}
            bands = {m: {lv: {k: v[start:end] for k, v in d.items()} for lv, d in per.items()}
                     for m, per in first.intervals.items()}
        else:
            preds, bands = {}, {}
            steps = np.arange(end - start) % cfg.horizon
            for name, model in first.forecasters.items():
                if name not in first.metrics:
                    continue
                if get_spec(name).kind == "network":   # the inputs up to this fold's end
                    bind_inputs(model, run_inputs(cfg, series))
                origins = np.arange(start, end, cfg.horizon)
                flat = model.predict(values[:end], origins).ravel()[: end - start]
                preds[name] = flat
                if name in first.calibration:         # fold 1's calibration, like its fit
                    bands[name] = {conformal.level_key(v): dict(zip(
                        ("low", "high"), first.calibration[name].band(flat, steps, v),
                        strict=True)) for v in cfg.intervals}
        actual = values[start:end]
        metrics = {m: evaluate(actual, p, values[:start], first.season) for m, p in preds.items()}
        for m, per_level in bands.items():
            for v in cfg.intervals:
                band = per_level[conformal.level_key(v)]
                metrics[m].update(conformal.score(actual, band["low"], band["high"], v))
        fold_bands.append(bands)
        fold_rows.append({"fold": k + 1, "train_size": start,
                          "origin": _when(series.index[start - 1]),  # its last training point
                          "start": _when(series.index[start]),
                          "end": _when(series.index[end - 1]), "metrics": metrics,
                          "tuning": {m: t["chosen"] for m, t in first.tuning.items()}})
        frames.append(pd.DataFrame({"time": series.index[start:end], "actual": actual,
                                    "fold": k + 1, **preds}))
        if stopped or (should_stop is not None and should_stop()):
            stopped = True            # a stop (or a job's deadline) between folds ends the backtest
            break
    return BacktestResult(cfg, refit, fold_rows, pd.concat(frames, ignore_index=True),
                          series.name, stopped, labels={m: first.label(m) for m in first.metrics},
                          intervals=_joined_bands(fold_bands, [len(f) for f in frames]))


def _joined_bands(per_fold: list[dict[str, dict[str, dict[str, np.ndarray]]]],
                  lengths: list[int]) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """The folds' bands end to end, aligned with the backtest's predictions (NaN for a fold
    where a model had none)."""
    models = {m: list(per) for bands in per_fold for m, per in bands.items()}
    out: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    for m, levels in models.items():
        out[m] = {lv: {k: np.concatenate([
            bands[m][lv][k] if m in bands and lv in bands[m] else np.full(size, np.nan)
            for bands, size in zip(per_fold, lengths, strict=True)]) for k in ("low", "high")}
            for lv in levels}
    return out


@dataclass
class FutureForecast:
    config: ExperimentConfig
    steps: int
    forecasts: pd.DataFrame            # time, one column per model
    history: pd.DataFrame              # time, actual
    notes: list[str] = field(default_factory=list)
    tuning: dict[str, dict[str, Any]] = field(default_factory=dict)  # as ExperimentResult.tuning
    stopped_by_user: bool = False      # Stop (or the job's time limit) cut the fitting short
    skipped: list[str] = field(default_factory=list)  # models not fitted because of a stop
    # per ensemble network: its members' lowest and highest forecast at each future step
    spread: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    transform: str = ""                # the networks' transform ("auto" resolved)
    # per model and level ("80"): the conformal band's "low" and "high" at each future step
    # (NaN past the first ``horizon`` steps: calibration measured one horizon's errors)
    intervals: dict[str, dict[str, dict[str, np.ndarray]]] = field(default_factory=dict)

    def label(self, model: str) -> str:
        """A model's display name, as ``ExperimentResult.label`` gives it."""
        used = self.config.replace(transform=self.transform) if self.transform else self.config
        return model_label(model, used)


def forecast_future(config: ExperimentConfig, series: Series, steps: int | None = None,
                    on_epoch: EpochHook | None = None,
                    should_stop: StopFlag | None = None) -> FutureForecast:
    """Fit every model on all the data and forecast ``steps`` points past its end.

    Beyond one horizon, forecasts are chained: each block is appended to the history and the
    next block is forecast from there.

    The networks share the training time limit ``run_experiment`` gives a run
    (``max_train_seconds``); ``should_stop`` is polled during every fit and between models: once
    it is true, models not yet started are skipped (named in ``skipped``) and the ones fitted
    forecast with what they learned.
    """
    steps = steps or config.horizon
    if not 1 <= steps <= 10 * max(config.horizon, 12):
        raise ConfigError(f"steps must be between 1 and {10 * max(config.horizon, 12)}. "
                          f"Received: steps={steps}")
    limits = get_limits()
    # the same checks as an experiment whose "test part" is the future
    as_run = config.replace(test_size=float(config.horizon))
    n_train, season = preflight(as_run, series, limits)
    values = series.values
    members = affordable_members(as_run, n_train, season, limits, len(values))
    limited = [fewer_members_note(config, members)] if members < config.members else []
    config = config.replace(members=members)
    if config.inputs and steps > config.horizon:
        raise ConfigError(f"With input columns a forecast reaches one horizon ({config.horizon} "
                          f"steps) past the data: later steps would need the inputs' future "
                          f"values. Ask for at most {config.horizon} steps, or raise the "
                          "horizon.")
    forecasters = make_forecasters(config, season, limits, positive=bool(values.min() > 0),
                                   inputs=run_inputs(config, series))
    out = {"time": series.future_index(steps)}
    tuned, notes, skipped, spread, transform = {}, list(limited), [], {}, ""
    stopped = False
    started = time.perf_counter()
    deadline = time.monotonic() + limits.max_job_seconds
    bands: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    for name, model in forecasters.items():
        stopped = stopped or (should_stop is not None and should_stop())
        if stopped:
            skipped.append(name)
            continue
        kind = get_spec(name).kind
        if kind != "baseline":              # the same cap as a run's training, over all models
            model.max_seconds = time_left(limits, started)
        try:
            model.fit(values, on_epoch=on_epoch, should_stop=should_stop)
        except FitStopped as err:    # a classical fit cut short: left out, the others are kept
            stopped = stopped or err.by_user
            notes.append(str(err))
            continue
        notes += getattr(model, "notes_", [])        # e.g. fitted on the most recent points
        if isinstance(model, TunedForecaster):
            tuned[name] = model.summary()
            stopped = stopped or bool(model.stopped_by_user_)
            model = model.chosen_                    # the variant kept forecasts
        if kind == "network":
            stopped = stopped or bool(model.stopped_by_user_)
            notes += limit_notes(name, model, limits, config)
        if kind == "network":
            transform = model.transform_.kind
        extended, low, high = values.copy(), [], []
        while len(extended) < len(values) + steps:
            origin = np.array([len(extended)])
            if kind == "network":     # each block from the combined path so far
                members = model.predict_members(extended, origin)[0]      # [members, horizon]
                block = combine_members(members[None], model.combine)[0]
                low.append(members.min(axis=0))
                high.append(members.max(axis=0))
            else:
                block = model.predict(extended, origin)[0]
            extended = np.concatenate([extended, block])
        out[name] = extended[len(values): len(values) + steps]
        if config.intervals:
            label = model_label(name, config.replace(transform=transform or config.transform))
            try:
                calibration = calibrate_model(name, model, as_run, values, season, started,
                                              limits, should_stop, deadline, label)
            except FitStopped as err:
                stopped = stopped or err.by_user
                notes.append(f"{label}: no prediction interval, because its calibration was "
                             f"cut short. {err}")
            else:
                notes += calibration.notes
                ahead = np.arange(steps)
                bands[name] = {}
                for level in config.intervals:
                    below, above = calibration.band(out[name], ahead, level)
                    bands[name][conformal.level_key(level)] = {"low": below, "high": above}
        if kind == "network" and getattr(model, "members", 1) > 1:
            spread[name] = {"low": np.concatenate(low)[:steps],
                            "high": np.concatenate(high)[:steps]}
    history = pd.DataFrame({"time": series.index, "actual": values})
    if bands and steps > config.horizon:
        notes.append(f"Prediction intervals cover the first {config.horizon} steps (one "
                     "horizon, what calibration measured); later steps are forecast from "
                     "earlier forecasts, whose errors add up in ways those errors do not show, "
                     "so they get no band.")
    if skipped:
        notes.append("Not fitted, because fitting was stopped: "
                     + ", ".join(MODEL_LABELS.get(m, m) for m in skipped) + ".")
    return FutureForecast(config, steps, pd.DataFrame(out), history, notes=notes, tuning=tuned,
                          stopped_by_user=stopped, skipped=skipped, spread=spread,
                          transform=transform, intervals=bands)


def _when(stamp: Any) -> str:
    """A time stamp as short text: 1958-01-01, not 1958-01-01 00:00:00."""
    if isinstance(stamp, pd.Timestamp) and stamp == stamp.normalize():
        return stamp.strftime("%Y-%m-%d")
    return str(stamp)
