"""run_experiment: one config + one series -> fitted models, predictions, metrics, histories.

Which models exist, how each is built, labelled and how many points it needs: the model
registry (``lstm_lab.models.registry``); this module only runs them.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from lstm_lab.data.series import Series, season_refusal
from lstm_lab.data.windows import (
    ES_KINDS,
    TargetTransform,
    direct,
    resolve_transform,
    window_count,
)
from lstm_lab.errors import ConfigError, DataError, TrainingError
from lstm_lab.experiments import intervals as conformal
from lstm_lab.experiments import tuning, validation
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.metrics import evaluate, fmt_number
from lstm_lab.experiments.split import season_of, training_size
from lstm_lab.limits import Limits, env_var, get_limits
from lstm_lab.models.architectures import (
    check_window,
    count_params,
    ensemble_size,
    steps_per_window,
)
from lstm_lab.models.base import EpochHook, StopFlag, init_params
from lstm_lab.models.classical import (
    FitStopped,
    beyond_test_cap,
    beyond_test_cap_note,
    check_season,
)
from lstm_lab.models.networks import MAX_BATCHED_STEPS, mlp_params
from lstm_lab.models.neural import INPUTS_NEED_DIRECT, bind_inputs, combine_members
from lstm_lab.models.registry import (
    MODEL_LABELS,
    by_kind,
    fitting_order,
    get_spec,
    model_label,
)
from lstm_lab.version import __version__

__all__ = ["MODEL_LABELS", "ExperimentResult", "make_forecasters", "model_label",
           "run_experiment"]


@dataclass
class ExperimentResult:
    """Everything a run produced. JSON-serializable through ``to_dict`` (fitted models excluded)."""

    config: ExperimentConfig
    series_name: str
    data_fingerprint: str
    n_points: int
    n_train: int
    season: int
    metrics: dict[str, dict[str, float]]
    predictions: pd.DataFrame          # time, actual, split (train|test), one column per model
    histories: dict[str, dict[str, list[float]]]
    epochs_run: dict[str, int]
    n_params: dict[str, int]
    timings: dict[str, float]
    versions: dict[str, str]
    stopped_by_user: bool = False
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # limits that shaped the run, in words
    transform: str = ""                               # the transform used ("auto" resolved)
    # tuning="auto": per network, the variant kept and each tried variant's validation RMSE
    tuning: dict[str, dict[str, Any]] = field(default_factory=dict)
    # per ensemble network: the lowest and highest of its members' forecasts, aligned with the
    # rows of ``predictions`` (NaN where it made none)
    spread: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    # per network: its RMSE and seasonal naive's from its validation origins (validation.py)
    validation: dict[str, dict[str, Any]] = field(default_factory=dict)
    # per model and level ("80"): the conformal band's "low" and "high", aligned with the rows
    # of ``predictions`` (test rows only; NaN elsewhere), and how each model was calibrated
    intervals: dict[str, dict[str, dict[str, np.ndarray]]] = field(default_factory=dict)
    calibration: dict[str, conformal.Calibration] = field(default_factory=dict)
    forecasters: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def models(self) -> list[str]:
        return list(self.metrics)

    def label(self, model: str) -> str:
        """A model's display name: the recurrent network by its architecture (and depth), a
        network by the transform it used ("ES-" for the ES hybrid) and its ensemble size."""
        used = self.config.replace(transform=self.transform) if self.transform else self.config
        return model_label(model, used)

    @property
    def transform_from_auto(self) -> bool:
        """``transform`` is what the config's transform chose, not a variant tuning kept."""
        net = next((m for m in by_kind("network") if m in self.histories), "mlp")
        return self.tuning.get(net, {}).get("chosen", "as set").startswith("as set")

    def network_config(self, model: str = "lstm") -> ExperimentConfig:
        """The config as a network was actually trained: with tuning, the window, units and
        transform of the variant it kept (for the Keras code and the internals view)."""
        kept = self.tuning.get(model)
        if not kept:      # the transform auto chose (the Keras code then explains the ES hybrid)
            return self.config.replace(transform=self.transform) if self.transform \
                else self.config
        units = {"units": kept["units"]} if model == "lstm" else {"mlp_units": kept["units"]}
        return self.config.replace(window=kept["window"], transform=kept["transform"],
                                   tuning="off", **units)

    def best_model(self, metric: str = "rmse") -> str:
        scored = {m: v[metric] for m, v in self.metrics.items() if np.isfinite(v[metric])}
        return min(scored, key=scored.get)

    def to_dict(self) -> dict[str, Any]:
        preds = self.predictions.copy()
        preds["time"] = preds["time"].astype(str)
        return {
            "config": self.config.to_dict(),
            "series_name": self.series_name,
            "data_fingerprint": self.data_fingerprint,
            "n_points": self.n_points,
            "n_train": self.n_train,
            "season": self.season,
            "metrics": finite_or_none(self.metrics),
            "predictions": finite_or_none(preds.to_dict(orient="list")),
            "histories": self.histories,
            "epochs_run": self.epochs_run,
            "n_params": self.n_params,
            "timings": self.timings,
            "versions": self.versions,
            "stopped_by_user": self.stopped_by_user,
            "skipped": self.skipped,
            "notes": self.notes,
            "transform": self.transform,
            "tuning": finite_or_none(self.tuning),
            "validation": finite_or_none(self.validation),
            "spread": finite_or_none({m: {k: [float(x) for x in v] for k, v in d.items()}
                                      for m, d in self.spread.items()}),
            "intervals": bands_to_plain(self.intervals),
            "calibration": {m: c.to_dict() for m, c in self.calibration.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperimentResult:
        preds = pd.DataFrame(data["predictions"]).astype(
            {c: "float64" for c in data["predictions"] if c not in ("time", "split")})
        # to_json sorts keys: put the columns back in run_experiment's order
        preds = preds[["time", "actual", "split", *fitting_order(preds.columns)]]
        metrics = {m: {k: np.nan if v is None else v for k, v in d.items()}
                   for m, d in data["metrics"].items()}
        keys = ("series_name", "data_fingerprint", "n_points", "n_train", "season", "histories",
                "epochs_run", "n_params", "timings", "versions", "stopped_by_user", "skipped")
        # a run saved before prediction intervals existed had none (not today's default)
        config = {"intervals": [], **data["config"]}
        return cls(config=ExperimentConfig.from_dict(config), metrics=metrics,
                   predictions=preds, notes=data.get("notes", []),
                   validation=data.get("validation") or {},
                   spread={m: {k: np.array([np.nan if x is None else x for x in v], dtype="float64")
                               for k, v in d.items()}
                           for m, d in (data.get("spread") or {}).items()},
                   transform=data.get("transform", ""), tuning=data.get("tuning", {}),
                   intervals=bands_from_plain(data.get("intervals") or {}),
                   calibration={m: conformal.Calibration.from_dict(c)
                                for m, c in (data.get("calibration") or {}).items()},
                   **{k: data[k] for k in keys})


def bands_to_plain(bands: dict[str, dict[str, dict[str, np.ndarray]]]) -> dict[str, Any]:
    """Interval bands as JSON lists (NaN as None)."""
    return finite_or_none({m: {lv: {k: [float(x) for x in v] for k, v in d.items()}
                               for lv, d in per_level.items()}
                           for m, per_level in bands.items()})


def bands_from_plain(data: dict[str, Any]) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """``bands_to_plain`` undone: float arrays, None back to NaN."""
    return {m: {lv: {k: np.array([np.nan if x is None else x for x in v], dtype="float64")
                     for k, v in d.items()}
                for lv, d in per_level.items()}
            for m, per_level in data.items()}


def make_forecasters(config: ExperimentConfig, season: int, limits: Limits | None = None,
                     positive: bool = True, inputs: np.ndarray | None = None) -> dict[str, Any]:
    """Unfitted forecasters for the config's models, in fitting order, each built by its
    registry spec; with tuning, a network is one per variant behind a TunedForecaster.

    ``positive``: the data are all above zero, so SARIMA may model their logarithm.
    ``inputs``: the series' input columns (``run_inputs``), which the networks read beside the
    target; the baselines stay univariate.
    """
    limits = limits or get_limits()
    out: dict[str, Any] = {}
    for name in fitting_order(config.models):
        spec = get_spec(name)
        configs = tuning.variants(config, season, positive) if spec.kind == "network" else [config]
        built = [spec.factory(c, season, limits, positive) for c in configs]
        out[name] = built[0] if len(built) == 1 else \
            tuning.TunedForecaster(name, built, config.horizon)
        if spec.kind == "network":
            bind_inputs(out[name], inputs)
    return out


def run_experiment(config: ExperimentConfig, series: Series, on_epoch: EpochHook | None = None,
                   should_stop: StopFlag | None = None) -> ExperimentResult:
    """Fit every model of ``config`` on the training part of ``series`` and score the test part.

    Forecasts are made from rolling origins ``n_train, n_train + horizon, ...``: each test point is
    predicted exactly once, from data before its origin. With ``horizon == test size`` that is
    one multi-step forecast from the end of the training data.

    Args:
        on_epoch: called after every epoch of every network with an ``EpochInfo``.
        should_stop: polled during training; when it returns True the current network keeps
            what it has learned so far and networks not yet started are skipped. Holt-Winters
            and SARIMA poll it too (and their time limit, ``max_classical_seconds``): one cut
            short, or not yet started, is left out and named in ``skipped`` and the notes. A
            network polls it (and the job's time limit, ``max_job_seconds``) between chunks of
            its forecasts too: one stopped there is left out the same way.

    Limits on forecasting: the fit on the training part (in-sample forecasts, drawn on the
    chart) is made from at most the most recent ``max_train_windows`` origins (the notes say so
    when it applied); Holt-Winters and SARIMA are left out of a run whose test part is longer
    than ``max_classical_points`` (``classical.beyond_test_cap``); the forecasts' work counts in
    the budget ``preflight`` checks.
    """
    started = time.perf_counter()
    limits = get_limits()
    deadline = time.monotonic() + limits.max_job_seconds      # for the networks' forecasts
    values = series.values
    n = len(values)
    n_train, season = preflight(config, series, limits)
    members = affordable_members(config, n_train, season, limits, n)
    limited = [fewer_members_note(config, members)] if members < config.members else []
    config = config.replace(members=members)
    forecasters = make_forecasters(config, season, limits, positive=bool(values.min() > 0),
                                   inputs=run_inputs(config, series))

    preds = pd.DataFrame({"time": series.index, "actual": values,
                          "split": np.where(np.arange(n) < n_train, "train", "test")})
    metrics, histories, epochs_run, n_params, timings, spread = {}, {}, {}, {}, {}, {}
    bands, calibrations = {}, {}
    checked: dict[str, dict[str, Any]] = {}
    stopped, skipped, notes, tuned, cut = False, [], list(limited), {}, []
    notes += inputs_notes(config)
    out_of_reach = beyond_test_cap(config.models, n - n_train, limits)
    if out_of_reach:                 # decided before anything starts
        skipped += out_of_reach
        notes.append(beyond_test_cap_note(out_of_reach, n - n_train, limits))
        forecasters = {k: v for k, v in forecasters.items() if k not in out_of_reach}
    in_sample_cut = 0                # most in-sample origins a model had, when the cap applied
    train_values = values[:n_train]
    for name, model in forecasters.items():
        kind = get_spec(name).kind
        network = kind == "network"
        if stopped and network:
            skipped.append(name)
            continue
        t0 = time.perf_counter()
        if kind != "baseline":          # what is left of the run's time limit
            model.max_seconds = time_left(limits, started)
        try:
            model.fit(train_values, on_epoch=on_epoch, should_stop=should_stop)
            timings[f"{name}_fit_s"] = round(time.perf_counter() - t0, 4)
            column, low, high = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
            for lo, hi in ((model.first_origin_, n_train), (n_train, n)):
                origins = np.arange(lo, hi, config.horizon)
                if hi == n_train and origins.size > limits.max_train_windows:
                    in_sample_cut = max(in_sample_cut, origins.size)
                    origins = origins[-limits.max_train_windows:]    # the most recent ones
                if origins.size:
                    at, count = _positions(origins, config.horizon, hi), \
                        _count(origins, config.horizon, hi)
                    members = _predict(model, network, values, origins, should_stop, deadline,
                                       limits)                           # [n, members, horizon]
                    column[at] = combine_members(members, config.combine).ravel()[:count]
                    low[at] = members.min(axis=1).ravel()[:count]
                    high[at] = members.max(axis=1).ravel()[:count]
        except FitStopped as err:    # a fit or forecasts cut short: left out, the others kept
            stopped, cut = stopped or err.by_user, [*cut, str(err)]
            skipped.append(name)
            continue
        preds[name] = column
        if network and model_members(model) > 1:
            spread[name] = {"low": low, "high": high}
        metrics[name] = evaluate(values[n_train:], column[n_train:], train_values, season)
        if isinstance(model, tuning.TunedForecaster):
            tuned[name] = model.summary()
            stopped = stopped or model.stopped_by_user_       # any variant, kept or not
            model = model.chosen_                            # the variant kept
        if network:
            check = validation.compare(model, train_values, season, config.horizon)
            if check:
                checked[name] = check
                worse = validation.worse_note(fitted_label(name, model, config), check,
                                              season)
                notes += [worse] if worse else []
            histories[name] = model.history_
            epochs_run[name] = model.epochs_run_
            n_params[name] = model.n_params_
            stopped = stopped or model.stopped_by_user_
            notes += limit_notes(name, model, limits, config)
        notes += getattr(model, "notes_", [])     # classical: fallbacks, the point cap
        if config.intervals:
            t_cal = time.perf_counter()
            try:
                calibrations[name] = calibrate_model(
                    name, model, config, train_values, season, started, limits, should_stop,
                    deadline, fitted_label(name, model, config))
            except FitStopped as err:
                stopped = stopped or err.by_user
                notes.append(f"{fitted_label(name, model, config)}: no prediction interval, "
                             f"because its calibration was cut short. {err}")
            else:
                timings[f"{name}_calibrate_s"] = round(time.perf_counter() - t_cal, 4)
                steps = np.arange(n - n_train) % config.horizon
                bands[name] = {}
                for level in config.intervals:
                    low, high = np.full(n, np.nan), np.full(n, np.nan)
                    low[n_train:], high[n_train:] = calibrations[name].band(
                        column[n_train:], steps, level)
                    bands[name][conformal.level_key(level)] = {"low": low, "high": high}
                    metrics[name].update(conformal.score(values[n_train:], low[n_train:],
                                                         high[n_train:], level))
                notes += calibrations[name].notes
    if not metrics:
        raise TrainingError(" ".join(cut))
    if in_sample_cut:
        notes.append(f"The fit on the training part is drawn from the most recent "
                     f"{limits.max_train_windows:,} of {in_sample_cut:,} forecast origins "
                     f"({env_var('max_train_windows')}); earlier training points show no "
                     "fitted values.")
    notes += cut
    transform = _transform_used(forecasters, config, values[:n_train], season)
    notes += es_weight_notes(config, transform, list(histories))
    timings["total_s"] = round(time.perf_counter() - started, 4)
    return ExperimentResult(
        config=config, series_name=series.name, data_fingerprint=series.fingerprint(),
        n_points=n, n_train=n_train, season=season, metrics=metrics, predictions=preds,
        histories=histories, epochs_run=epochs_run, n_params=n_params, timings=timings,
        versions=library_versions(neural=bool(histories)), stopped_by_user=stopped,
        skipped=skipped, notes=notes, forecasters=forecasters, tuning=tuned, spread=spread,
        validation=checked, intervals=bands, calibration=calibrations,
        transform=transform)


def calibrate_model(name: str, model: Any, config: ExperimentConfig, train: np.ndarray,
                    season: int, started: float, limits: Limits, should_stop: StopFlag | None,
                    deadline: float, label: str) -> conformal.Calibration:
    """``model``'s conformal calibration (``conformal.calibrate``): a fresh copy with the same
    settings (with tuning, the variant kept's) fitted on the head of ``train``, within what is
    left of the run's time limit and polling Stop like the fit itself. Raises FitStopped."""
    spec = get_spec(name)
    network = spec.kind == "network"
    lag = getattr(getattr(model, "transform_", None), "lag", 0)
    as_fitted = config.replace(window=getattr(model, "window", config.window))  # tuning's variant
    head_needed = spec.min_points(as_fitted, season, lag) + config.horizon + 1

    def fresh() -> Any:
        copy = type(model)(**init_params(model))
        if spec.kind != "baseline":
            if time.perf_counter() - started >= limits.max_train_seconds:
                raise FitStopped(f"The run's time limit of {limits.max_train_seconds} s "
                                 f"({env_var('max_train_seconds')}) was reached first.",
                                 by_user=False)
            copy.max_seconds = time_left(limits, started)
        return copy

    def fit(copy: Any, head: np.ndarray) -> None:
        copy.fit(head, should_stop=should_stop)
        if network and copy.stopped_by_user_:
            raise FitStopped("Training its calibration copy was stopped.", by_user=True)
        if network and copy.timed_out_:
            raise FitStopped(f"Training its calibration copy reached the run's time limit of "
                             f"{limits.max_train_seconds} s ({env_var('max_train_seconds')}).",
                             by_user=False)

    def predict(copy: Any, values: np.ndarray, origins: np.ndarray) -> np.ndarray:
        members = _predict(copy, network, values, origins, should_stop, deadline, limits)
        return combine_members(members, config.combine)

    return conformal.calibrate(fresh, train, config.horizon, config.intervals, head_needed,
                               label, predict=predict, fit=fit)


def _predict(model: Any, network: bool, values: np.ndarray, origins: np.ndarray,
             should_stop: StopFlag | None, deadline: float, limits: Limits) -> np.ndarray:
    """Forecasts [len(origins), members, horizon]: a network's members (with tuning, the
    variant kept's), polling Stop and the job's time limit between its chunks of origins;
    any other model as one member."""
    if not network:
        return np.asarray(model.predict(values, origins), dtype="float64")[:, None, :]
    if isinstance(model, tuning.TunedForecaster):
        model = model.chosen_
    return model.predict_members(values, origins, should_stop=should_stop, deadline=deadline,
                                 deadline_text=f"the time limit of {limits.max_job_seconds} s "
                                               f"({env_var('max_job_seconds')})")


def batched_ensemble(config: ExperimentConfig) -> bool:
    """The LSTM ensemble trains with batched weights (see ``LSTMForecaster._batched``)."""
    return (config.members > 1 and config.architecture == "lstm"
            and config.window <= MAX_BATCHED_STEPS)


def model_members(model: Any) -> int:
    """How many networks a fitted network model holds (an ensemble's size; 1 otherwise)."""
    return int(getattr(model, "members", 1) or 1)


def _transform_used(forecasters: dict[str, Any], config: ExperimentConfig,
                    train: np.ndarray, season: int) -> str:
    """The LSTM's transform (with tuning, that of the variant it kept), else the config's."""
    for name in by_kind("network"):
        if hasattr(forecasters.get(name), "transform_"):      # fitted, not skipped
            return forecasters[name].transform_.kind
    return resolve_transform(config.transform, train, season,
                             direct(config.strategy))


def es_weight_notes(config: ExperimentConfig, transform: str, networks: list[str]) -> list[str]:
    """What a run whose networks are ES hybrids with an ES weight must say: that their forecast
    blends the network's with the smoothing's, and how to see the network alone."""
    if transform not in ES_KINDS or not config.es_weight or not networks:
        return []
    used = config.replace(transform=transform)
    names = " and ".join(model_label(m, used) for m in networks)
    share = config.es_weight
    return [f"{names}: each forecast is {1 - share:g} x the network's plus {share:g} x the "
            "exponential smoothing's own (ES weight "
            f"{share:g}), a combination steadier than either alone on real series. Set the ES "
            "weight to 0 to see what the network alone forecasts."]


def run_inputs(config: ExperimentConfig, series: Series) -> np.ndarray | None:
    """The input columns a run of ``config`` reads from ``series``: its ``inputs`` when the
    config names them, else None (a run without inputs on the same series)."""
    return series.inputs if config.inputs else None


def inputs_notes(config: ExperimentConfig) -> list[str]:
    """What a run with input columns must say: who reads them, and that the baselines do not."""
    if not config.inputs:
        return []
    nets = " and ".join({"lstm": "recurrent network", "mlp": "MLP"}[m]
                        for m in config.neural_models) or "networks"
    others = [model_label(m, config) for m in config.models if m not in config.neural_models]
    said = (f"The {nets} read {', '.join(config.inputs)} beside the target: at every step of "
            "the window, each input's past value (none from after the forecast origin; an "
            "input that wanders like a random walk as its change from the step before), "
            "scaled with training-part statistics.")
    if others:
        said += f" The baselines ({', '.join(others)}) stay univariate: they read the target only."
    return [said]


def check_inputs(config: ExperimentConfig, series: Series) -> None:
    """Refuse inputs the series does not carry, and inputs with a recursive forecast (whose
    later steps would need the inputs' future values)."""
    if not config.inputs:
        return
    if tuple(n.lower() for n in series.input_names) != tuple(n.lower() for n in config.inputs):
        raise ConfigError(f"The config reads input columns {', '.join(config.inputs)}, but "
                          f"'{series.name}' was loaded with "
                          f"{', '.join(series.input_names) or 'none'}. Load the series with "
                          "those inputs (experiments.sources.load_series does).")
    if config.neural_models and config.strategy == "recursive" and config.horizon > 1:
        raise ConfigError(INPUTS_NEED_DIRECT)


def preflight(config: ExperimentConfig, series: Series,
              limits: Limits | None = None) -> tuple[int, int]:
    """The cheap checks of a run, before any training (and before a job waits in a queue).

    Returns (n_train, season). Raises DataError / ConfigError with the fix in the message.
    """
    limits = limits or get_limits()
    check_inputs(config, series)
    n = len(series)
    n_train = training_size(config, n)
    n_test = n - n_train
    season = season_of(config, series)
    if config.season and season_refusal(config.season, n_train):   # a set season, too long
        raise ConfigError(season_refusal(config.season, n_train))
    check_season(config.models, season, inferred=not config.season, limits=limits)
    out_of_reach = beyond_test_cap(config.models, n_test, limits)
    if out_of_reach and set(config.models) <= set(out_of_reach):
        raise ConfigError(beyond_test_cap_note(out_of_reach, n_test, limits, alone=True))
    transform = resolve_transform(config.transform, series.values[:n_train], season,
                                  direct(config.strategy))
    lag = TargetTransform(transform, season).lag
    needs = {m: get_spec(m).min_points(config, season, lag) for m in config.models}
    needed = max([*needs.values(), 1])
    if n_train < needed + config.horizon + 1:
        others = max([v for m, v in needs.items() if get_spec(m).kind != "network"] + [1])
        fits = n_train - config.horizon - 1 - lag          # the largest window that would fit
        hint = (f" (to {fits} or less)"
                if config.neural_models and fits >= 1 and others + config.horizon < n_train else "")
        raise DataError(
            f"'{series.name}' has {n} points; holding out {n_test} for testing leaves {n_train} "
            f"for training, but window {config.window}, horizon {config.horizon}, season {season} "
            f"and transform '{transform}' need more than {needed + config.horizon}. "
            f"Lower the window{hint}, the horizon or the test size.")
    train = series.values[:n_train]
    if np.ptp(train) == 0:
        raise DataError(f"The training part of '{series.name}' is constant (all {n_train} values "
                        f"are {train[0]:g}): there is nothing to learn and no error to scale by. "
                        "Choose a column that varies, or a longer training part.")
    if config.neural_models:
        TargetTransform(transform, season).check(series.values)
        if TargetTransform(transform, season).smooths and config.strategy == "recursive":
            raise ConfigError(
                f"transform '{transform}' (the ES hybrid) reads each window relative to the "
                "smoothed level at its end, which a recursive forecast would have to re-estimate "
                "from its own predictions at every step. Choose strategy 'direct' for the ES "
                "hybrid, or another transform for a recursive forecast.")
    if "lstm" in config.models:
        check_window(config.architecture, config.window)
    check_budget(config.replace(members=affordable_members(config, n_train, season, limits, n)),
                 n_train, season, limits, n_points=n)
    return n_train, season


def affordable_members(config: ExperimentConfig, n_train: int, season: int,
                       limits: Limits | None = None, n_points: int | None = None) -> int:
    """The largest ensemble size, up to ``config.members``, whose run fits the server's limits
    on weights and work (1 when even that does not: ``check_budget`` then says why). A long
    series can afford fewer members than the default; the run trains that many and says so."""
    limits = limits or get_limits()

    def fits(members: int) -> bool:
        try:
            check_budget(config.replace(members=members), n_train, season, limits, n_points)
        except ConfigError:
            return False
        return True

    return next((k for k in range(config.members, 1, -1) if fits(k)), 1)


def fewer_members_note(config: ExperimentConfig, members: int) -> str:
    """What a run says when the server's limits left room for fewer members than asked."""
    return (f"The networks were trained as ensembles of {members} (not {config.members}): more "
            f"members would exceed this server's limits on work ({env_var('max_work')}) or "
            f"weights ({env_var('max_weights')}) for a series this long. Lower the window or "
            "use a shorter training part to afford more.")


def estimate_work(config: ExperimentConfig, n_train: int, season: int,
                  limits: Limits | None = None, n_points: int | None = None) -> dict[str, int]:
    """Work per network: training (``training_work``) plus, given the series' ``n_points``,
    forecasting (``prediction_work``).

    Without ``n_points`` only training is counted (the test part's length is unknown).
    """
    work = training_work(config, n_train, season, limits)
    if n_points is None:
        return work
    predicting = prediction_work(config, n_train, n_points, season, limits)
    return {model: w + predicting.get(model, 0) for model, w in work.items()}


def training_work(config: ExperimentConfig, n_train: int, season: int,
                  limits: Limits | None = None) -> dict[str, int]:
    """Training work per network: weights x time steps per window x windows x epochs.

    An LSTM applies all its weights at every step of the window; an MLP once per window.
    With prediction intervals each network trains twice: its calibration copy on the head of
    the training part (``intervals.calibrate``), then the network on all of it.
    """
    limits = limits or get_limits()
    if tuning.applies(config, season):  # every variant trains: their work adds up
        work: dict[str, int] = {}
        for variant in tuning.variants(config, season):
            for model, w in training_work(variant.replace(tuning="off"), n_train, season,
                                          limits).items():
                work[model] = work.get(model, 0) + w
        return work
    lag = 0 if config.transform == "auto" else TargetTransform(config.transform, season).lag

    def trained_windows(points: int) -> int:
        count = max(0, window_count(points, config.window, config.horizon, start=lag))
        count = min(count, limits.max_train_windows)
        return count - int(round(count * config.validation_fraction))

    windows = trained_windows(n_train)
    if config.intervals:    # the calibration copy trains on the head of the training part
        windows += trained_windows(n_train - conformal.calibration_points(
            n_train, config.horizon, config.intervals, 0))
    work = {}
    sizes = _network_sizes(config.replace(strategy="direct"), season)
    if "lstm" in config.models:
        steps = steps_per_window(config.architecture, config.window, config.horizon)
        weights = sizes["lstm"][0][1]
        if batched_ensemble(config):     # batched weights: each member's work, no zeros
            weights = config.members * count_params(config.architecture, config.window,
                                                    config.horizon, config.layers, config.units,
                                                    n_features=1 + len(config.inputs))
        work["lstm"] = weights * steps * windows * config.epochs
    if "mlp" in config.models:
        work["mlp"] = sizes["mlp"][0][1] * windows * config.epochs
    return work


def prediction_work(config: ExperimentConfig, n_train: int, n_points: int, season: int,
                    limits: Limits | None = None) -> dict[str, int]:
    """Forecasting work per network: weights x time steps per window x forward passes / 3.

    A forward pass costs about a third of a training step (which adds the backward pass and
    the update). ``run_experiment`` forecasts from one origin every ``horizon`` points: over the
    test part, and over the training part from at most the most recent ``max_train_windows``
    origins, and with prediction intervals from every origin of the calibration tail
    (``intervals.calibration_points``); a recursive network makes ``horizon`` passes per
    origin. With tuning only the
    variant kept forecasts the run: the costliest variant is counted.
    """
    limits = limits or get_limits()
    horizon = config.horizon
    test_origins = -(-max(0, n_points - n_train) // horizon)
    work: dict[str, int] = {}
    for model, sizes in _network_sizes(config, season).items():
        for variant, weights in sizes:
            out_steps = 1 if variant.strategy == "recursive" else horizon
            steps = (steps_per_window(variant.architecture, variant.window, out_steps)
                     if model == "lstm" else 1)
            lag = (0 if variant.transform == "auto"
                   else TargetTransform(variant.transform, season).lag)
            in_sample = min(max(0, -(-(n_train - lag - variant.window) // horizon)),
                            limits.max_train_windows)
            calibrating = conformal.calibration_points(n_train, horizon, config.intervals, 0)
            passes = (in_sample + test_origins + calibrating) * (horizon // out_steps)
            work[model] = max(work.get(model, 0), -(-weights * steps * passes // 3))
    return work


def check_budget(config: ExperimentConfig, n_train: int, season: int,
                 limits: Limits | None = None, n_points: int | None = None) -> None:
    """Refuse, before any training, a run whose networks are too big (``check_weights``) or
    whose work exceeds the server's budget: training, and given ``n_points`` (the series'
    length), forecasting (``estimate_work``). When forecasting is the larger part, the message
    names the test size that would fit; otherwise the epochs."""
    limits = limits or get_limits()
    check_weights(config, season, limits)
    training = training_work(config, n_train, season, limits)
    predicting = ({} if n_points is None
                  else prediction_work(config, n_train, n_points, season, limits))
    for model, trained in training.items():
        forecast = predicting.get(model, 0)
        work = trained + forecast
        if work <= limits.max_work:
            continue
        size = (f"units {config.units}, layers {config.layers}, window {config.window}"
                if model == "lstm" else f"MLP units {config.mlp_units}, MLP layers "
                f"{config.mlp_layers}, window {config.window}")
        if n_points is not None and forecast > trained:
            raise ConfigError(_forecast_over_budget(config, model, n_train, n_points, season,
                                                    limits, trained, forecast, size))
        room = max(0, limits.max_work - forecast)
        fitting_epochs = config.epochs * room // trained
        fix = (f"Lower epochs to at most {fitting_epochs:,} (now {config.epochs:,}), or make "
               "the network smaller" if fitting_epochs >= 10 else "Make the network smaller")
        if tuning.applies(config, season):
            fix = ("Set tuning to off (tuning=auto trains each network up to three times), "
                   + fix[0].lower() + fix[1:])
        raise ConfigError(
            f"This run is too big for this server: the {model_label(model, config)} needs about "
            f"{fmt_number(work, 2)} weight updates and the budget is "
            f"{fmt_number(limits.max_work, 2)} (set by "
            f"{env_var('max_work')}). {fix}: now {size}.")


def _forecast_over_budget(config: ExperimentConfig, model: str, n_train: int, n_points: int,
                          season: int, limits: Limits, trained: int, forecast: int,
                          size: str) -> str:
    """The refusal of a run whose forecasts take most of its work, naming the largest test size
    that would fit. That size is checked against the most the training part could cost at any
    smaller test size (a longer training part has more windows, up to the cap), so it fits."""
    n_test = n_points - n_train
    label = model_label(model, config)
    longest = training_work(config, n_points - 1, season, limits).get(model, 0)

    def fits(test: int) -> bool:         # work grows with the test part: bisect
        return longest + prediction_work(config, n_points - 1, n_points - 1 + test, season,
                                         limits).get(model, 0) <= limits.max_work

    lo, hi = 0, n_test                               # fits(lo) holds (or lo == 0); hi does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    lo = lo if lo and fits(lo) else 0
    fix = (f"A test size of at most {lo:,} points would fit (now {n_test:,}), or make the "
           "network smaller" if lo else
           f"No test size fits beside its training: make the network smaller (now {size})")
    return (f"This run is too big for this server: forecasting {n_test:,} test points with the "
            f"{label} adds about {fmt_number(forecast, 2)} to the {fmt_number(trained, 2)} its "
            "training needs "
            "(weights x steps x windows, a forecast counting a third of a training step), and "
            f"the budget is {fmt_number(limits.max_work, 2)} (set by {env_var('max_work')}). "
            f"{fix}.")


def count_weights(config: ExperimentConfig, season: int) -> dict[str, int]:
    """Trainable weights of each network the run would build ("lstm", "mlp"); with tuning, of
    its biggest variant (tuning doubles the units). By formula: nothing is built."""
    return {model: max(w for _, w in sizes)
            for model, sizes in _network_sizes(config, season).items()}


def _network_sizes(config: ExperimentConfig,
                   season: int) -> dict[str, list[tuple[ExperimentConfig, int]]]:
    """Per network, every config it trains (one per tuning variant) and its weight count.

    An ensemble of K members is one model K times as wide (``ensembles.py``): its weights are
    those of a network with K x units and K x outputs, zeros between members included, since
    they take memory and time alike.
    """
    out: dict[str, list[tuple[ExperimentConfig, int]]] = {}
    features = 1 + len(config.inputs)      # values per time step: the target and each input
    for variant in tuning.variants(config, season):
        steps = 1 if variant.strategy == "recursive" else variant.horizon   # outputs per window
        if "lstm" in config.models:
            k = ensemble_size(variant.architecture, variant.members)
            out.setdefault("lstm", []).append((variant, count_params(
                variant.architecture, variant.window, steps * k, variant.layers,
                variant.units * k, n_features=features)))
        if "mlp" in config.models:
            k = variant.members
            out.setdefault("mlp", []).append((variant, mlp_params(
                features, variant.window, variant.mlp_units * k, variant.mlp_layers,
                steps * k)))
    return out


def check_weights(config: ExperimentConfig, season: int, limits: Limits | None = None) -> None:
    """Refuse, before any training, a network with more weights than ``limits.max_weights``.

    Size is not work: 300 million weights on a 40-point series pass the work budget yet take
    gigabytes of memory. The message names the network, its weights, the cap and its variable,
    and the largest units that would fit at these layers (and window, for the MLP).
    """
    limits = limits or get_limits()
    cap = limits.max_weights
    for model, sizes in _network_sizes(config, season).items():
        variant, weights = max(sizes, key=lambda pair: pair[1])
        if weights <= cap:
            continue
        units_field, layers_field = ("units", "layers") if model == "lstm" else \
            ("mlp_units", "mlp_layers")
        units, layers = getattr(config, units_field), getattr(config, layers_field)
        name = "units" if model == "lstm" else "MLP units"
        shape = f"{layers} layer{'s' * (layers != 1)} of {getattr(variant, units_field):,} units"
        if variant is not config:
            shape += (f", window {variant.window}: the variant tuning=auto also trains, with "
                      "twice the units")
        fits = _largest_units(config, model, units_field, season, cap)
        if fits:
            fix = (f"At {layers} layer{'s' * (layers != 1)}, {name} of at most {fits:,} would "
                   f"fit (now {units:,})")
        elif layers > 1:
            fix = (f"Not even 1 unit fits at {layers} layers: use fewer "
                   f"{'MLP layers' if model == 'mlp' else 'layers'}")
        else:
            fix = ("Not even 1 unit fits: use a shorter window, or ask for a higher "
                   f"{env_var('max_weights')}" if model == "mlp" else
                   f"Not even 1 unit fits: ask for a higher {env_var('max_weights')}")
        if sizes[0][1] <= cap:            # the settings as set fit; only a tuning variant does not
            fix += ", or set tuning to off (it trains a variant with twice the units)"
        raise ConfigError(
            f"This network is too big for this server: the {model_label(model, config)} "
            f"({shape}) would have {weights:,} weights, and one network may have at most "
            f"{cap:,} (set by {env_var('max_weights')}). {fix}.")


def _largest_units(config: ExperimentConfig, model: str, units_field: str, season: int,
                   cap: int) -> int:
    """The largest value of ``units_field`` whose every network variant has at most ``cap``
    weights, everything else as in ``config`` (0 when not even one unit fits)."""
    def fits(units: int) -> bool:
        sizes = _network_sizes(config.replace(**{units_field: units}), season)[model]
        return max(w for _, w in sizes) <= cap

    lo, hi = 0, getattr(config, units_field)          # fits(lo) holds (or lo == 0); hi does not
    while hi - lo > 1:                                # weights grow with units: bisect
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def time_left(limits: Limits, started: float) -> float:
    """Seconds left of a run's training time limit (``max_train_seconds``) since ``started``
    (a ``time.perf_counter()`` reading), at least 1: what each model fitted next may take."""
    return max(1.0, limits.max_train_seconds - (time.perf_counter() - started))


def limit_notes(name: str, model: Any, limits: Limits,
                 config: ExperimentConfig | None = None) -> list[str]:
    """What the server's limits did to a network, in words, named as the result names it."""
    notes = []
    label = fitted_label(name, model, config)
    if model.n_windows_total_ > model.n_windows_used_:
        notes.append(f"{label} trained on the most recent {model.n_windows_used_:,} of "
                     f"{model.n_windows_total_:,} windows ({env_var('max_train_windows')}).")
    if model.timed_out_:
        notes.append(f"{label} stopped at the time limit of {limits.max_train_seconds} s "
                     f"({env_var('max_train_seconds')}) after {model.epochs_run_} epochs; its "
                     "results use the weights learned so far.")
    return notes


def fitted_label(name: str, model: Any, config: ExperimentConfig | None) -> str:
    """A fitted network's display name: ``model_label`` of ``config`` with the transform the
    network used ("auto" resolved: "ES-LSTM (3 seeds)"), as ``ExperimentResult.label`` has it."""
    kind = getattr(getattr(model, "transform_", None), "kind", None)
    if config is not None and kind:
        config = config.replace(transform=kind)
    return model_label(name, config)


def _positions(origins: np.ndarray, horizon: int, end: int) -> np.ndarray:
    pos = (origins[:, None] + np.arange(horizon)).ravel()
    return pos[pos < end]


def _count(origins: np.ndarray, horizon: int, end: int) -> int:
    return int(((origins[:, None] + np.arange(horizon)) < end).sum())


def library_versions(neural: bool = True) -> dict[str, str]:
    """The versions behind a result. Keras and TensorFlow are imported only when a network
    trained (they are heavy; a run of baselines never loads them)."""
    versions = {"lstm_lab": __version__, "python": platform.python_version(),
                "numpy": np.__version__, "pandas": pd.__version__, "scikit-learn": sklearn.__version__}
    if "statsmodels" in sys.modules:
        versions["statsmodels"] = sys.modules["statsmodels"].__version__
    if neural:
        import keras
        import tensorflow as tf

        versions.update(keras=keras.__version__, tensorflow=tf.__version__)
    return versions


def finite_or_none(obj: Any) -> Any:
    """NaN and inf become None (numpy floats become floats), so the JSON is strict."""
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [finite_or_none(v) for v in obj]
    if isinstance(obj, np.floating):
        obj = float(obj)
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj
