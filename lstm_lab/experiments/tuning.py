"""``tuning="auto"``: for forecasts that cover a season, each network picks its framing by validation.

Why: at a horizon of a whole season no single framing wins on every series (docs/quality.md,
section 5d). A seasonal difference is best for car sales and monthly temperatures; a first
difference with a window of two seasons and more units is best for the airline series, where it
beats Holt-Winters. Which one suits a series shows in its own validation windows (the latest
training windows, never the test part), so each network trains the settings as given plus two
longer-window variants and keeps the one whose validation forecasts err least.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from lstm_lab.data.windows import TargetTransform, direct, resolve_transform, window_count
from lstm_lab.errors import LabError
from lstm_lab.experiments.config import ExperimentConfig, field_range
from lstm_lab.models.base import EpochHook, EpochInfo, StopFlag, check_fitted

MIN_WINDOWS = 10     # a longer-window variant is tried only with this many training windows
TRANSFORM_WORDS = {"seasonal_diff": "seasonal difference", "log_seasonal_diff":
                   "seasonal difference of logs", "diff": "first difference",
                   "log_diff": "first difference of logs", "none": "no transform", "log": "logs",
                   "detrend": "detrended", "log_detrend": "detrended logs",
                   "es": "ES hybrid", "log_es": "ES hybrid of logs"}


def applies(config: ExperimentConfig, season: int) -> bool:
    """Tuning runs for direct forecasts that cover a whole season, with validation windows to
    compare on. (A recursive network's validation windows are one step ahead: a season-long
    forecast judged on them would start from origins whose next values it was fitted to.)"""
    return (config.tuning == "auto" and season > 1 and config.horizon >= season
            and config.strategy == "direct" and config.validation_fraction > 0
            and bool(config.neural_models))


def variants(config: ExperimentConfig, season: int, positive: bool = True) -> list[ExperimentConfig]:
    """The configs each network tries, the settings as given first (they win ties).

    The others see two seasons (or the given window, if longer) with twice the units, once on
    seasonal and once on first differences (of logs when the data are positive). Without tuning,
    just ``[config]``.
    """
    if not applies(config, season):
        return [config]
    window = min(max(config.window, 2 * season), int(field_range("window")[1]))
    more = dict(units=min(2 * config.units, int(field_range("units")[1])),
                mlp_units=min(2 * config.mlp_units, int(field_range("mlp_units")[1])))
    kinds = ("log_seasonal_diff", "log_diff") if positive else ("seasonal_diff", "diff")
    out = [config]
    for kind in kinds:
        variant = config.replace(window=window, transform=kind, **more)
        if variant not in out:
            out.append(variant)
    return out


def describe(model: Any, kind: str, given: bool = False) -> str:
    """A network's framing in words: "first difference of logs, window 24, 64 units"."""
    text = f"{TRANSFORM_WORDS.get(kind, kind)}, window {model.window}, {model.units} units"
    return f"as set: {text}" if given else text


class TunedForecaster:
    """Fits one network per variant; forecasts with the one whose validation forecasts err least.

    A ``Forecaster`` itself (``fit``, ``predict``, ``first_origin_``, ``get_state``). What the
    lab reads of a fitted network (``KEPT_NETWORK_FACTS``: ``history_``, ``model_``,
    ``transform_``, ...) reads from the network kept, ``chosen_``, and nothing else does.
    ``choice_`` names the chosen variant and ``scores_`` gives each tried variant's validation
    RMSE.
    """

    def __init__(self, name: str, candidates: list[Any], horizon: int) -> None:
        self.name, self.candidates, self.horizon = name, candidates, horizon
        self.max_seconds: float | None = None

    @property
    def first_origin_(self) -> int:
        if "chosen_" not in vars(self):       # unfitted: absent, as on any forecaster
            raise AttributeError("first_origin_")
        return self.chosen_.first_origin_

    def get_state(self) -> dict[str, Any]:
        """The state of the network kept: a saved tuned network is that network."""
        check_fitted(self, "chosen_")
        return self.chosen_.get_state()

    @classmethod
    def from_state(cls, state: Mapping[str, Any], network: Any = None) -> Any:
        """Not restorable as such: restore the kept network with its model's
        ``ModelSpec.state_class.from_state`` (``get_state`` saved that network)."""
        raise TypeError("A tuned network is saved as the variant it kept: restore it with its "
                        "model's ModelSpec.state_class.from_state.")

    def fit(self, values: np.ndarray, on_epoch: EpochHook | None = None,
            should_stop: StopFlag | None = None) -> TunedForecaster:
        values = np.asarray(values, dtype="float64")
        started = time.perf_counter()
        self.skipped_: dict[str, str] = {}
        plan = self._plan(values)
        tried: list[tuple[str, Any]] = []
        for i, (label, model) in enumerate(plan):
            if i:
                why = self._reason_to_stop(tried[-1][1], should_stop, started)
                if why:
                    self.skipped_.update({lbl: why for lbl, _ in plan[i:]})
                    break
            if self.max_seconds is not None:
                model.max_seconds = max(1.0, self.max_seconds - (time.perf_counter() - started))
            hook = None if on_epoch is None else _tagged(on_epoch, label, i, len(plan))
            try:
                model.fit(values, on_epoch=hook, should_stop=should_stop)
            except LabError as err:          # a variant that fails does not fail the run
                if not i:
                    raise
                self.skipped_[label] = str(err)
                continue
            tried.append((label, model))
        self.scores_ = validation_scores(tried, values, self.horizon)
        finite = {k: v for k, v in self.scores_.items() if np.isfinite(v)}
        label, chosen = (min((t for t in tried if t[0] in finite), key=lambda t: finite[t[0]])
                         if finite else tried[0])
        self.choice_, self.chosen_ = label, chosen
        self.stopped_by_user_ = any(m.stopped_by_user_ for _, m in tried)
        return self

    def _plan(self, values: np.ndarray) -> list[tuple[str, Any]]:
        """The variants worth training, labelled, all holding out the same number of latest
        windows: windows are aligned at the end of the data, so the networks share one boundary
        between fitting and validation, and are scored on the same held-out windows."""
        plan, seen, windows = [], set(), []
        for i, model in enumerate(self.candidates):
            kind = resolve_transform(model.transform, values, model.season,
                                     direct(model.strategy))
            label = describe(model, kind, given=not i)
            lag = TargetTransform(kind, model.season).lag
            n = window_count(len(values), model.window, model.output_steps, start=lag)
            if model.max_windows:
                n = min(n, model.max_windows)
            if i and (model.window, model.units, kind) in seen:
                self.skipped_[label] = "the same network as the settings as set"
                continue
            if i and n < MIN_WINDOWS:
                self.skipped_[label] = f"fewer than {MIN_WINDOWS} training windows"
                continue
            seen.add((model.window, model.units, kind))
            plan.append((label, model))
            windows.append(n)
        # As many as the settings as set hold out on their own, so that variant trains exactly
        # as with tuning off; every variant keeps at least one window to fit on.
        fraction = plan[0][1].validation_fraction
        common = min(max(1, int(round(windows[0] * fraction))), min(windows) - 1) if fraction else 0
        for _, model in plan:
            model.validation_windows = common
        return plan

    def _reason_to_stop(self, previous: Any, should_stop: StopFlag | None,
                        started: float) -> str:
        """Why the remaining variants are not trained ("" to go on)."""
        if previous.stopped_by_user_ or (should_stop and should_stop()):
            return "training was stopped"
        if getattr(previous, "timed_out_", False) or (
                self.max_seconds is not None
                and time.perf_counter() - started >= self.max_seconds):
            return "the training time limit was reached"
        return ""

    def predict(self, values: np.ndarray, origins: np.ndarray) -> np.ndarray:
        check_fitted(self, "chosen_")
        return self.chosen_.predict(values, origins)

    def summary(self) -> dict[str, Any]:
        """What a result records: the variant kept, its settings, every score, what was skipped."""
        return {"chosen": self.choice_, "window": self.chosen_.window,
                "units": self.chosen_.units, "transform": self.chosen_.transform_.kind,
                "scores": dict(self.scores_), "skipped": dict(self.skipped_)}


# What the lab reads of a fitted network (results, charts, the store, Learn's internals view),
# read on a tuned network from the variant it kept. ``inputs``: internals.py feeds windows
# through it.
KEPT_NETWORK_FACTS = ("model_", "transform_", "scaler_", "history_", "epochs_run_", "best_epoch_",
                      "n_params_", "timed_out_", "n_windows_total_", "n_windows_used_",
                      "n_train_windows_", "n_val_", "fit_seconds_", "window", "units",
                      "transform", "season", "strategy", "architecture", "output_steps",
                      "predict_chunk", "inputs", "members", "combine", "predict_members")


def _read_from_kept(attr: str) -> property:
    def read(self: TunedForecaster) -> Any:
        if "chosen_" not in vars(self):       # unfitted: as absent as on a plain network
            raise AttributeError(attr)
        return getattr(self.chosen_, attr)
    return property(read, doc=f"``{attr}`` of the network kept.")


for _fact in KEPT_NETWORK_FACTS:
    setattr(TunedForecaster, _fact, _read_from_kept(_fact))


def table(tuned: dict[str, dict[str, Any]], label: Any = str) -> pd.DataFrame:
    """One row per variant of each network: its validation RMSE and whether it was kept (or why
    it was not trained)."""
    rows = []
    for model, info in tuned.items():
        rows += [{"network": label(model), "variant": variant, "validation RMSE": score,
                  "kept": "✓" if variant == info["chosen"] else ""}
                 for variant, score in info["scores"].items()]
        rows += [{"network": label(model), "variant": variant, "validation RMSE": np.nan,
                  "kept": f"not trained: {why}"}
                 for variant, why in info.get("skipped", {}).items()]
    return pd.DataFrame(rows, columns=["network", "variant", "validation RMSE", "kept"])


def sentence(label: str, info: dict[str, Any]) -> str:
    """One line for learners: which variant a network kept, and the validation errors behind it."""
    chosen, scores = info["chosen"], info["scores"]
    if not scores:
        skipped = "; ".join(f"{k}: {v}" for k, v in info.get("skipped", {}).items())
        return (f"{label}: trained as set ({chosen}); no other variant was trained"
                + (f" ({skipped})." if skipped else "."))
    others = "; ".join(f"{v:.4g} for {k}" for k, v in scores.items() if k != chosen)
    return (f"{label} kept **{chosen}**: validation RMSE {scores[chosen]:.4g}, against "
            f"{others}.")


def validation_scores(tried: list[tuple[str, Any]], values: np.ndarray,
                      horizon: int) -> dict[str, float]:
    """RMSE, on the original scale, of each network's forecasts from the same validation origins:
    the latest ones whose whole horizon lies in the training part, as many as the network with
    the fewest validation windows held out. Empty when there is nothing to compare."""
    k = min((m.n_val_ for _, m in tried), default=0)
    if len(tried) < 2 or k < 1:
        return {}
    end = len(values) - horizon
    first = max(m.first_origin_ for _, m in tried)
    origins = np.arange(max(first, end - k + 1), end + 1)
    if not origins.size:
        return {}
    actual = np.stack([values[o:o + horizon] for o in origins])
    return {label: float(np.sqrt(np.mean((model.predict(values, origins) - actual) ** 2)))
            for label, model in tried}


def _tagged(on_epoch: EpochHook, label: str, index: int, count: int) -> EpochHook:
    """The epoch hook, with each report saying which variant is training."""
    def hook(info: EpochInfo) -> None:
        on_epoch(replace(info, variant=label, variant_index=index, variants=count))
    return hook
