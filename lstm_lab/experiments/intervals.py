"""Conformal prediction intervals: each model's band from its own forecast errors.

Split conformal prediction for forecasts, as statsforecast's and neuralforecast's conformal
intervals do it: a copy of the model is fitted on the *head* of the training part, forecasts
every origin of the training part's *tail* (the last ``calibration_points`` points, each origin
seeing only the values before it), and the absolute errors at each horizon step set that
step's band. With n errors at a step, the level-L band's half-width is the
``ceil((n + 1) L)``-th smallest: if future errors behave like these, the band holds the actual
value with probability at least L. The test part is never read. The model that forecasts the
test part is then fitted on the whole training part as before, so a band is slightly
conservative (the calibration copy saw less data).

Errors are measured on the scale the model forecasts on (its ``error_scale``): ``"absolute"``
(actual - forecast, a band forecast +/- q) for most models; ``"log"`` for a model that forecasts
log values (SARIMA on a positive series, Holt-Winters with log=True), whose errors grow with the
series' level: log(actual / forecast), a band from forecast * exp(-q) to forecast * exp(q). On a
growing series, absolute errors from the calibration tail (a lower level) are too small for the
test part (a higher one) and such a band under-covers; ratios carry over. The guarantee is the
same, for that error.

A step with too few errors for a level (fewer than ``errors_needed(level)``: 4 for 80%, 19
for 95%) gets no band at that level and a note, never a made-up one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstm_lab.errors import DataError

CALIBRATION_SHARE = 0.2          # of the training part held back to calibrate, at least
MAX_CALIBRATION_ORIGINS = 200    # forecast origins calibrated from, at most
ERROR_SCALES = ("absolute", "log")   # how a model's errors are measured (module docstring)


def level_key(level: float) -> str:
    """A level as results, metrics and columns name it: 0.8 -> "80", 0.975 -> "97.5"."""
    return f"{level * 100:.4g}"


def errors_needed(level: float) -> int:
    """The fewest errors whose conformal quantile at ``level`` is finite:
    ceil((n + 1) level) <= n, i.e. n >= level / (1 - level)."""
    return max(1, math.ceil(level / (1 - level) - 1e-9))


def calibration_points(n_train: int, horizon: int, levels: tuple[float, ...],
                       head_needed: int) -> int:
    """How many of the training part's last points to calibrate on: a fifth of it, at least
    enough for the highest level at the last horizon step, at most what leaves the head
    ``head_needed`` points (0 when not even the lowest level fits)."""
    if not levels:
        return 0
    want = max(horizon - 1 + errors_needed(max(levels)), math.ceil(CALIBRATION_SHARE * n_train))
    want = min(want, horizon - 1 + MAX_CALIBRATION_ORIGINS)
    room = n_train - head_needed
    return max(0, min(want, room))


def conformal_halfwidth(errors: np.ndarray, level: float) -> float:
    """The ``ceil((n + 1) level)``-th smallest absolute error (NaN errors ignored); NaN when
    there are too few for that level."""
    e = np.sort(np.abs(errors[np.isfinite(errors)]))
    k = math.ceil((e.size + 1) * level - 1e-9)
    return float(e[k - 1]) if 1 <= k <= e.size else float("nan")


@dataclass
class Calibration:
    """A model's calibrated half-widths per level and horizon step, and where they came from."""

    levels: tuple[float, ...]
    points: int                                   # training points calibrated on (the tail)
    counts: list[int]                             # errors per horizon step
    halfwidths: dict[str, list[float]]            # level_key -> per step (NaN: no band)
    notes: list[str] = field(default_factory=list)
    error_scale: str = "absolute"                 # "log": half-widths are of log(actual/forecast)

    def halfwidth(self, level: float) -> np.ndarray:
        return np.asarray(self.halfwidths.get(level_key(level), []), dtype="float64")

    def band(self, forecast: np.ndarray, steps: np.ndarray, level: float
             ) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) around ``forecast``, whose points are ``steps`` (0-based horizon step of
        each) after their origins; NaN where that step has no band."""
        width = self.halfwidth(level)
        steps = np.asarray(steps, dtype=int)
        h = np.full(steps.shape, np.nan)
        inside = steps < width.size
        h[inside] = width[steps[inside]]
        forecast = np.asarray(forecast, dtype="float64")
        if self.error_scale == "log":
            with np.errstate(all="ignore"):
                return forecast * np.exp(-h), forecast * np.exp(h)
        return forecast - h, forecast + h

    def to_dict(self) -> dict[str, Any]:
        return {"levels": list(self.levels), "points": self.points, "counts": self.counts,
                "halfwidths": {k: [None if not np.isfinite(x) else float(x) for x in v]
                               for k, v in self.halfwidths.items()},
                "notes": list(self.notes), "error_scale": self.error_scale}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(levels=tuple(float(x) for x in data["levels"]), points=int(data["points"]),
                   counts=[int(c) for c in data["counts"]],
                   halfwidths={str(k): [np.nan if x is None else float(x) for x in v]
                               for k, v in data["halfwidths"].items()},
                   notes=[str(n) for n in data.get("notes", [])],
                   error_scale=str(data.get("error_scale", "absolute")))


def calibrate(make_model: Callable[[], Any], train: np.ndarray, horizon: int,
              levels: tuple[float, ...], head_needed: int, label: str,
              predict: Callable[[Any, np.ndarray, np.ndarray], np.ndarray] | None = None,
              fit: Callable[[Any, np.ndarray], Any] | None = None) -> Calibration:
    """Fit ``make_model()`` on the head of ``train``, forecast every origin of its tail and
    turn the errors, on the model's ``error_scale`` (default ``"absolute"``), into half-widths
    per level and horizon step.

    Args:
        head_needed: the fewest points the model needs to fit and forecast (what ``preflight``
            asks of a training part), so the head is never too short to fit.
        label: the model's display name, for the notes.
        predict: ``predict(model, values, origins) -> [n, horizon]`` (default
            ``model.predict``); fit: ``fit(model, head)`` (default ``model.fit(head)``).
    """
    train = np.asarray(train, dtype="float64")
    n = len(train)
    levels = tuple(sorted(levels))
    points = calibration_points(n, horizon, levels, head_needed)
    counts = [max(0, points - h) for h in range(horizon)]
    if points < errors_needed(levels[0]):
        return Calibration(levels, 0, [0] * horizon,
                           {level_key(v): [float("nan")] * horizon for v in levels},
                           [too_short_note(label, n, head_needed, levels[0])])
    model = make_model()
    try:
        (fit or (lambda m, v: m.fit(v)))(model, train[: n - points])
    except DataError as err:      # the head is too short for this model after all
        return Calibration(levels, 0, [0] * horizon,
                           {level_key(v): [float("nan")] * horizon for v in levels},
                           [f"{label}: no prediction interval. Fitted on the {n - points} "
                            f"training points before its calibration tail, it could not "
                            f"start: {err}"])
    origins = np.arange(n - points, n)
    origins = origins[origins >= getattr(model, "first_origin_", 0)]
    forecast = np.asarray((predict or (lambda m, v, o: m.predict(v, o)))(model, train, origins),
                          dtype="float64")[:, :horizon]
    index = origins[:, None] + np.arange(horizon)
    actual = np.where(index < n, train[np.minimum(index, n - 1)], np.nan)
    scale = getattr(model, "error_scale", "absolute")
    if scale not in ERROR_SCALES:
        raise ValueError(f"error_scale must be one of {', '.join(ERROR_SCALES)}; "
                         f"{label} has {scale!r}.")
    errors = actual - forecast                                  # [origins, horizon], NaN past n
    if scale == "log":                                          # NaN where a value is not > 0
        with np.errstate(all="ignore"):
            errors = np.log(np.where((actual > 0) & (forecast > 0), actual / forecast, np.nan))
    counts = [int(np.isfinite(errors[:, h]).sum()) for h in range(horizon)]
    halfwidths = {level_key(v): [conformal_halfwidth(errors[:, h], v) for h in range(horizon)]
                  for v in levels}
    notes = []
    for v in levels:
        missing = [h + 1 for h in range(horizon) if not np.isfinite(halfwidths[level_key(v)][h])]
        if missing:
            notes.append(missing_steps_note(label, v, missing, counts, horizon))
    return Calibration(levels, points, counts, halfwidths, notes, scale)


def too_short_note(label: str, n_train: int, head_needed: int, level: float) -> str:
    return (f"{label}: no prediction interval. Its {level_key(level)}% band needs at least "
            f"{errors_needed(level)} forecast errors from the end of the training part, and "
            f"{n_train} training points leave "
            f"{f'only {n_train - head_needed}' if n_train > head_needed else 'none'} beside "
            f"the {head_needed} it needs to fit. "
            "Use a longer series or a smaller test size, window or horizon.")


def missing_steps_note(label: str, level: float, missing: list[int], counts: list[int],
                       horizon: int) -> str:
    steps = (f"step {missing[0]}" if len(missing) == 1 else
             f"steps {missing[0]}-{missing[-1]}" if missing == list(range(missing[0],
                                                                          missing[-1] + 1))
             else "steps " + ", ".join(map(str, missing)))
    few = min(counts[h - 1] for h in missing)
    return (f"{label}: no {level_key(level)}% band at horizon {steps} of {horizon}: that needs "
            f"{errors_needed(level)} calibration errors per step and the training part gives "
            f"{few}. Use a longer series, a smaller horizon or a lower level.")


# --- scoring -------------------------------------------------------------------------------------
INTERVAL_METRICS = ("coverage", "width", "winkler")
INTERVAL_HELP = {
    "coverage": "share of test points inside the band (%); should be near its level",
    "width": "mean width of the band, in the series' units; narrower is better at equal coverage",
    "winkler": "interval score: width plus 2/(1 - level) times any miss; lower is better",
}


def interval_metric_name(metric: str, level: float) -> str:
    """``coverage_80``, ``width_95``, ``winkler_97.5``."""
    return f"{metric}_{level_key(level)}"


def score(actual: np.ndarray, low: np.ndarray, high: np.ndarray, level: float
          ) -> dict[str, float]:
    """Coverage (%), mean width and mean Winkler score over the points that have a band (all
    NaN when none does)."""
    actual, low, high = (np.asarray(a, dtype="float64") for a in (actual, low, high))
    ok = np.isfinite(actual) & np.isfinite(low) & np.isfinite(high)
    names = [interval_metric_name(m, level) for m in INTERVAL_METRICS]
    if not ok.any():
        return dict.fromkeys(names, float("nan"))
    y, lo, hi = actual[ok], low[ok], high[ok]
    alpha = 1 - level
    winkler = (hi - lo) + (2 / alpha) * (np.maximum(lo - y, 0) + np.maximum(y - hi, 0))
    return dict(zip(names, (float(np.mean((y >= lo) & (y <= hi)) * 100),
                            float(np.mean(hi - lo)), float(np.mean(winkler))), strict=True))
