"""Chronological splits, target transforms, scaling fitted on training data only, sliding windows.

Windowing is where off-by-one bugs live, so the conventions are fixed here once:
an *origin* ``o`` is the number of observed points a forecast may use; the input window is
``values[o - window:o]`` and the target is ``values[o:o + horizon]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.preprocessing import StandardScaler

from lstm_lab.errors import ConfigError, DataError

TRANSFORM_HELP = {
    "auto": "chosen from the data: log if all values are positive, then the change from one "
            "season ago when the changes repeat each season (autocorrelation at the season lag "
            "above 0.3), else the change from the previous point",
    "none": "model the raw values",
    "log": "model log(values): turns multiplicative growth into additive",
    "diff": "model the change from the previous point",
    "log_diff": "model the change of log(values): relative growth step to step",
    "seasonal_diff": "model the change from one season ago",
    "log_seasonal_diff": "model the change of log(values) from one season ago",
    "detrend": "model the distance from a straight line fitted to the training values",
    "log_detrend": "model the distance of log(values) from a straight line fitted to the "
                   "training part: steady growth removed, the season and wiggles left",
    "es": "the ES hybrid: seasonal indices and an exponential-smoothing level fitted on the "
          "training part take out the season and the level; each window is read relative to "
          "the level at its end, and forecasts are re-seasonalised",
    "log_es": "the ES hybrid on log(values): season and level become ratios, so the network "
              "learns relative changes",
}
# Kinds that normalise each window by the exponential-smoothing level at its end (the ES hybrid).
ES_KINDS = ("es", "log_es")
MIN_ES_SEASONS = 3    # seasonal indices need this many seasons of training data (else none)
# Above this autocorrelation at the season lag, the season is real enough to difference by it.
SEASONAL_ACF_THRESHOLD = 0.3


def seasonal_autocorrelation(values: np.ndarray, season: int) -> float:
    """Autocorrelation at lag ``season`` of the first-differenced (log, if positive) values.

    Near 1 when each step's change repeats one season later (airline passengers: 0.81); near 0
    when the calendar gives a season the data do not have (daily temperatures at lag 7: 0.01).
    """
    values = np.asarray(values, dtype="float64")
    level = np.log(values) if np.min(values) > 0 else values
    changes = np.diff(level)
    changes = changes - changes.mean()
    total = float(np.dot(changes, changes))
    if season < 1 or len(changes) <= season or total == 0.0:
        return 0.0
    return float(np.dot(changes[season:], changes[:-season]) / total)


def direct(strategy: str) -> bool:
    """Whether "auto" may pick the ES hybrid: a direct forecast (a recursive one would have to
    re-estimate the smoothed level from its own predictions)."""
    return strategy == "direct"


def resolve_transform(kind: str, values: np.ndarray, season: int, hybrid: bool = False) -> str:
    """The concrete transform for ``kind``; "auto" looks at the training values and the season.

    ``hybrid``: the forecast is direct (``direct``). Then, for a seasonal series with at least
    ``MIN_ES_SEASONS`` seasons of training data, "auto" picks the ES hybrid (log_es for positive
    data): exponential smoothing carries the level, trend and season that a network would have
    to learn from a few windows (docs/quality.md measures both, one step and a season ahead).

    Positive data get a log (growth becomes additive). A seasonal difference needs at least three
    seasons and changes that really repeat at the season lag: differencing at a lag with no cycle
    only adds noise (weekly "seasons" of daily temperatures, 12-month ones of sunspots); such data
    get a first difference. Data with negative values and no season (a sine) are left as they are.
    """
    return kind if kind != "auto" else _auto_choice(values, season, hybrid)[0]


def explain_auto_transform(values: np.ndarray, season: int, hybrid: bool = False) -> str:
    """Why "auto" chose what it chose for these training values, in one sentence for learners."""
    return "auto: " + _auto_choice(values, season, hybrid)[1]


def _auto_choice(values: np.ndarray, season: int, hybrid: bool = False) -> tuple[str, str]:
    """The "auto" transform and the reason for it: one place decides, so the two cannot drift."""
    values = np.asarray(values, dtype="float64")
    positive = np.min(values) > 0
    log = ("all values are positive, so it models their logarithm (growth becomes additive); "
           if positive else "")
    if hybrid and season > 1 and len(values) >= MIN_ES_SEASONS * season:
        return ("log_es" if positive else "es",
                f"{log}the series has a season of {season} and at least {MIN_ES_SEASONS} seasons "
                "to learn it from, so it uses the ES hybrid: exponential smoothing, fitted on "
                "the training part, carries the level, trend and season, and the network learns "
                "what they miss.")
    first = "log_diff" if positive else "diff"
    step = "models the change from one point to the next"
    if season <= 1:
        if not positive:
            return "none", "no season is known and the values cross zero, so it models them as they are."
        return first, f"{log}no season is known, so it {step}."
    if len(values) < 3 * season:
        return first, f"{log}the training part spans fewer than 3 seasons of {season}, so it {step}."
    acf = seasonal_autocorrelation(values, season)
    if acf > SEASONAL_ACF_THRESHOLD:
        return ("log_seasonal_diff" if positive else "seasonal_diff",
                f"{log}the changes repeat every {season} points (autocorrelation {acf:.2f} > "
                f"{SEASONAL_ACF_THRESHOLD}), so it models the change from one season ago.")
    return first, (f"{log}the changes do not repeat every {season} points (autocorrelation "
                   f"{acf:.2f} ≤ {SEASONAL_ACF_THRESHOLD}), so it {step}; differencing by a "
                   "season the data do not have would only add noise.")


def split_by_time(n_points: int, test_size: int) -> int:
    """Index where the test part starts: the last ``test_size`` points are held out."""
    if not 1 <= test_size < n_points:
        raise ConfigError(f"test_size must leave at least one training point: the series has "
                          f"{n_points} points. Received: test_size={test_size}")
    return n_points - test_size


def window_count(n_points: int, window: int, horizon: int = 1, start: int = 0) -> int:
    """How many (input, target) pairs ``make_windows`` cuts from ``n_points`` (may be < 1)."""
    return n_points - start - window - horizon + 1


def make_windows(values: np.ndarray, window: int, horizon: int = 1,
                 start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Slice a 1-D series into supervised pairs: X (n, window), y (n, horizon).

    Pair i uses origin ``start + window + i``. Example: values [0..5], window 2, horizon 1 ->
    X [[0,1],[1,2],[2,3],[3,4]], y [[2],[3],[4],[5]].
    """
    values = np.asarray(values, dtype="float32")
    n = window_count(len(values), window, horizon, start)
    if values.ndim != 1 or n < 1:
        raise DataError(f"Need a 1-D series of at least start + window + horizon = "
                        f"{start + window + horizon} points. Received shape={values.shape}")
    starts = start + np.arange(n)[:, None]               # (n, 1)
    X = values[starts + np.arange(window)]               # (n, window)
    y = values[starts + window + np.arange(horizon)]     # (n, horizon)
    return X, y


def recent_windows(values: np.ndarray, window: int, horizon: int = 1, start: int = 0,
                   keep: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """The latest ``keep`` pairs of ``make_windows(values, window, horizon, start)``, built alone.

    Returns (X, y, total): exactly ``make_windows(...)[0][-keep:]`` and ``[1][-keep:]``, and how
    many pairs the whole series gives. Only the kept pairs are materialised: a long series with a
    cap of 5,000 windows costs 5,000 x window floats, not n x window. ``keep`` None keeps all.
    """
    total = window_count(len(values), window, horizon, start)
    skip = max(0, total - keep) if keep else 0       # the oldest pairs, never built
    X, y = make_windows(values, window, horizon, start=start + skip)
    return X, y, total


def windows_at(values: np.ndarray, origins: np.ndarray, window: int) -> np.ndarray:
    """Input windows ending just before each origin: (len(origins), window)."""
    origins = np.asarray(origins)
    return np.asarray(values, dtype="float32")[origins[:, None] - window + np.arange(window)]


class Scaler:
    """Standardises with statistics of the training part only (wraps sklearn's StandardScaler)."""

    def __init__(self) -> None:
        self._scaler = StandardScaler()

    def fit(self, values: np.ndarray) -> Scaler:
        self._scaler.fit(np.asarray(values, dtype="float64").reshape(-1, 1))
        return self

    @property
    def mean(self) -> float:
        return float(self._scaler.mean_[0])

    @property
    def scale(self) -> float:
        return float(self._scaler.scale_[0])

    def transform(self, values: np.ndarray) -> np.ndarray:
        arr = np.asarray(values, dtype="float64")
        return ((arr - self.mean) / self.scale).astype("float32")

    def inverse(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype="float64") * self.scale + self.mean

    def get_state(self) -> dict[str, float]:
        """The two fitted statistics, as plain numbers (a saved network's scaler)."""
        return {"mean": self.mean, "scale": self.scale}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Scaler:
        """The fitted Scaler ``get_state`` describes."""
        scaler = cls()
        scaler._scaler.mean_ = np.array([float(state["mean"])])
        scaler._scaler.scale_ = np.array([float(state["scale"])])
        scaler._scaler.n_features_in_ = 1
        return scaler


@dataclass(frozen=True)
class TargetTransform:
    """log, lag-differencing or detrending applied before scaling, and undone exactly afterwards.

    ``lag`` is 0 (no differencing), 1 (first difference) or the season length. ``trend`` is the
    (intercept, slope) of the straight line the detrend kinds subtract, fitted by ``fitted`` on
    the training values only, over the time step 0, 1, 2, ...
    """

    kind: str = "none"
    season: int = 1
    trend: tuple[float, float] = (0.0, 0.0)
    # the ES hybrid's fitted components (``fit_smoothing``): the smoothing weights of the level
    # and the trend, the trend's damping, the level and trend before the first point, and one
    # seasonal index per phase (time step modulo the season; empty: none)
    alpha: float = 1.0
    level0: float = 0.0
    indices: tuple[float, ...] = ()
    beta: float = 0.0
    phi: float = 0.0
    trend0: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in TRANSFORM_HELP:
            raise ConfigError(f"Unknown transform {self.kind!r}. Choose one of "
                              f"{', '.join(TRANSFORM_HELP)}.")

    @property
    def uses_log(self) -> bool:
        return self.kind.startswith("log")

    @property
    def detrends(self) -> bool:
        return self.kind.endswith("detrend")

    @property
    def smooths(self) -> bool:
        """The ES hybrid: windows are read relative to a smoothed level (see ``offsets``)."""
        return self.kind in ES_KINDS

    @property
    def lag(self) -> int:
        if self.kind.endswith("seasonal_diff"):
            return max(1, self.season)
        return 1 if self.kind.endswith("diff") else 0

    def fitted(self, values: np.ndarray) -> TargetTransform:
        """This transform with its trend line (or, for the ES hybrid, its level and seasonal
        indices) fitted to ``values``, the training part (unchanged if it has none)."""
        if self.smooths:
            self.check(values)
            return fit_smoothing(self, values)
        if not self.detrends:
            return self
        self.check(values)
        level = self.level(values)
        slope, intercept = np.polyfit(np.arange(len(level), dtype="float64"), level, 1)
        return TargetTransform(self.kind, self.season, (float(intercept), float(slope)))

    def _line(self, steps: np.ndarray) -> np.ndarray:
        intercept, slope = self.trend
        return intercept + slope * np.asarray(steps, dtype="float64")

    def _seasonal(self, steps: np.ndarray) -> np.ndarray:
        """The seasonal index of each time step (zeros without indices)."""
        steps = np.asarray(steps)
        if not self.indices:
            return np.zeros(steps.shape)
        return np.asarray(self.indices, dtype="float64")[steps % len(self.indices)]

    def smoothed(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ES hybrid's level and trend after each point, on the original scale (damped
        Holt on the deseasonalised values d: l_t = a d_t + (1 - a)(l + phi b),
        b_t = beta (l_t - l) + (1 - beta) phi b, with l, b those after the point before, from
        ``level0``, ``trend0``). For log_es, d = values / season (a multiplicative season); no
        value after t is used."""
        d = self.forward(values)
        d = (np.exp(d) if self.uses_log else d).tolist()
        a, beta, phi = self.alpha, self.beta, self.phi
        level, trend = self.level0, self.trend0
        levels, trends = [], []
        for x in d:                 # a plain loop: 100,000 points take well under a second
            new = a * x + (1 - a) * (level + phi * trend)
            trend = beta * (new - level) + (1 - beta) * phi * trend
            level = new
            levels.append(level)
            trends.append(trend)
        return np.asarray(levels), np.asarray(trends)

    def _scaled(self, path: np.ndarray, level: np.ndarray) -> np.ndarray:
        """A level (or forecast) path on the modelling scale: its log for log_es, kept above a
        millionth of the level's size so the log exists."""
        if not self.uses_log:
            return path
        floor = 1e-6 * np.maximum(np.abs(level), 1e-12)
        return np.log(np.maximum(path, floor))

    def offsets(self, values: np.ndarray, origins: np.ndarray,
                steps: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """What each origin's window ([n, 1]) and its ``steps`` targets ([n, steps]) are read
        relative to, on the modelling scale: for the ES hybrid, the level after the window's
        last point (origin - 1), and for the targets that level carried forward by the damped
        trend (the ES forecast without its season); zeros for every other kind."""
        origins = np.asarray(origins, dtype=int)
        if not self.smooths or not origins.size:
            return np.zeros((origins.size, 1)), np.zeros((origins.size, steps))
        levels, trends = self.smoothed(np.asarray(values)[: origins.max()])
        level, trend = levels[origins - 1][:, None], trends[origins - 1][:, None]
        damped = np.cumsum(self.phi ** np.arange(1, steps + 1))[None, :]       # phi + ... + phi^k
        return self._scaled(level, level), self._scaled(level + trend * damped, level)

    def centred(self, values: np.ndarray) -> np.ndarray:
        """``forward(values)`` with each point read relative to the ES forecast one step before
        (the ES hybrid; the values a network's scaler is fitted on), or ``forward(values)``."""
        z = self.forward(values)
        if not self.smooths:
            return z
        levels, trends = self.smoothed(values)
        before = np.concatenate([[self.level0 + self.phi * self.trend0],
                                 levels[:-1] + self.phi * trends[:-1]])
        return z - self._scaled(before, np.concatenate([[self.level0], levels[:-1]]))

    def components(self) -> dict[str, Any]:
        """What ``fitted`` learned, as plain numbers (saved with a network; shown in Learn)."""
        return {"kind": self.kind, "season": int(self.season),
                "trend": [float(v) for v in self.trend], "alpha": float(self.alpha),
                "level0": float(self.level0), "indices": [float(v) for v in self.indices],
                "beta": float(self.beta), "phi": float(self.phi), "trend0": float(self.trend0)}

    @classmethod
    def from_components(cls, state: Mapping[str, Any]) -> TargetTransform:
        """The transform ``components`` describes (older saves have no ES fields)."""
        return cls(str(state["kind"]), int(state["season"]),
                   tuple(float(v) for v in state.get("trend", (0.0, 0.0))),
                   float(state.get("alpha", 1.0)), float(state.get("level0", 0.0)),
                   tuple(float(v) for v in state.get("indices", ())),
                   float(state.get("beta", 0.0)), float(state.get("phi", 0.0)),
                   float(state.get("trend0", 0.0)))

    def check(self, values: np.ndarray) -> None:
        if self.uses_log and np.min(values) <= 0:
            raise DataError(f"The '{self.kind}' transform needs positive values; the smallest is "
                            f"{np.min(values):g}. Choose transform 'none' or 'diff'.")

    def level(self, values: np.ndarray) -> np.ndarray:
        """Values on the modelling scale (log or identity), before differencing."""
        values = np.asarray(values, dtype="float64")
        return np.log(values) if self.uses_log else values

    def forward(self, values: np.ndarray) -> np.ndarray:
        """Transformed series, same length; the first ``lag`` entries are NaN."""
        self.check(values)
        level = self.level(values)
        if self.smooths:
            return level - self._seasonal(np.arange(len(level)))
        if self.detrends:
            return level - self._line(np.arange(len(level)))
        if not self.lag:
            return level
        out = np.full_like(level, np.nan)
        out[self.lag:] = level[self.lag:] - level[:-self.lag]
        return out

    def inverse(self, z_hat: np.ndarray, values: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Undo the transform for forecasts made at ``origins`` (n, horizon) -> original scale.

        ``values`` are the observed series; forecast k steps after origin o builds on observed
        values before o and on earlier forecasts of the same origin, never on values at or after o.
        """
        z_hat = np.asarray(z_hat, dtype="float64")
        origins = np.asarray(origins)
        if self.smooths:  # re-seasonalise (``offsets`` added the level back already)
            level = z_hat + self._seasonal(origins[:, None] + np.arange(z_hat.shape[1]))
        elif self.detrends:  # the line is known at every step: no earlier values needed
            level = z_hat + self._line(origins[:, None] + np.arange(z_hat.shape[1]))
        elif not self.lag:
            level = z_hat
        else:
            level_obs = self.level(values)
            level = np.empty_like(z_hat)
            for k in range(z_hat.shape[1]):
                back = k - self.lag
                base = level[:, back] if back >= 0 else level_obs[origins + back]
                level[:, k] = base + z_hat[:, k]
        return np.exp(level) if self.uses_log else level


def fit_smoothing(transform: TargetTransform, values: np.ndarray) -> TargetTransform:
    """The ES hybrid's components fitted on the training part's ``values`` (original scale).

    statsmodels' Holt-Winters with a damped additive trend and, when the training part spans at
    least ``MIN_ES_SEASONS`` seasons, a season (multiplicative for log_es, additive for es) is
    fitted to the training part: its smoothing weights, damping and starting level and trend are
    kept, and its seasonal indices as they stand at the end of the training part (the latest
    estimate of the season; for log_es stored as logs of the ratios, centred to mean zero). The
    damped trend is the robust default of the forecasting literature: it follows a trend
    without extrapolating it for ever.

    Like the classical models, the fit reads at most the latest ``max_classical_points`` points
    (statsmodels holds the interpreter while it optimises: a 20,000-point fit took 27 s) and a
    season only up to ``max_classical_season``; a longer series' level and trend then start
    from its first value and catch up by the time the fitted part begins.
    """
    import warnings

    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    from lstm_lab.limits import get_limits

    limits = get_limits()
    m = int(transform.season)
    whole = np.asarray(values, dtype="float64")
    values = whole[-limits.max_classical_points:]
    cut = len(values) < len(whole)
    seasonal = 1 < m <= limits.max_classical_season and len(values) >= MIN_ES_SEASONS * m
    multiplicative = transform.uses_log
    out = TargetTransform(transform.kind, transform.season, transform.trend, 1.0,
                          float(values[0]) if len(values) else 0.0)
    if len(values) < 10 or np.ptp(values) == 0:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")    # statsmodels' optimiser notes are not for users
        fit = ExponentialSmoothing(
            values, trend="add", damped_trend=True,
            seasonal=("mul" if multiplicative else "add") if seasonal else None,
            seasonal_periods=m if seasonal else None, initialization_method="estimated").fit()
    params = fit.params
    found = [params[k] for k in ("smoothing_level", "smoothing_trend", "damping_trend",
                                 "initial_level", "initial_trend")]
    if not all(np.isfinite(found)):
        return out
    indices: tuple[float, ...] = ()
    if seasonal:
        last = np.asarray(fit.season)[-m:]                  # indices of steps n-m ... n-1
        if multiplicative:
            last = np.log(np.maximum(last, 1e-12))
        by_phase = np.empty(m)
        by_phase[(len(whole) - m + np.arange(m)) % m] = last
        indices = tuple(float(v) for v in by_phase - by_phase.mean())
    alpha, beta, phi, level0, trend0 = (float(v) for v in found)
    if cut:        # the recursion runs over the whole series: start it at the first value
        first = whole[0] / np.exp(indices[0]) if multiplicative and indices else \
            whole[0] - (indices[0] if indices else 0.0)
        level0, trend0 = float(first), 0.0
    return TargetTransform(transform.kind, transform.season, transform.trend, alpha, level0,
                           indices, beta, phi, trend0)
