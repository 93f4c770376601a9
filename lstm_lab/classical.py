"""Classical forecasters on statsmodels: Holt-Winters exponential smoothing and seasonal ARIMA.

Same contract as ``forecasters.py``: ``__init__`` stores its arguments unchanged, ``fit`` learns
and returns self (learned attributes end in ``_``), ``predict(values, origins)`` forecasts
``horizon`` steps after each origin ``o`` using only ``values[:o]``.

Parameters (smoothing weights, initial states, ARMA coefficients) are estimated ONCE, in ``fit``,
on the training values. ``predict`` runs the fixed-parameter model once over
``values[:max(origins)]`` -- the exponential-smoothing recursion or the Kalman filter, both causal
-- reads the state at every origin and projects it ``horizon`` steps ahead. A forecast from
origin ``o`` therefore depends on ``values[:o]`` only, and nothing is re-estimated.

statsmodels is imported inside the functions that need it: importing this module does not load it.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

from lstm_lab.errors import ConfigError, DataError, LabError
from lstm_lab.forecasters import check_fitted

T = TypeVar("T")


# --- shared helpers ------------------------------------------------------------------------------
@contextmanager
def _quiet(sink: list[str]) -> Iterator[None]:
    """Silence statsmodels' warnings (convergence, start parameters, ...), keeping their text."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        yield
    for warning in caught:
        text = f"{warning.category.__name__}: {str(warning.message).strip().splitlines()[0]}"
        if text not in sink:
            sink.append(text)


_BLAS_LOCK = threading.Lock()


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """statsmodels' Kalman filter multiplies tiny matrices: multi-threaded BLAS only adds overhead
    (a SARIMA fit took ~1 s instead of ~0.1 s on a busy 2-core machine). The limit is process-wide,
    so the lock keeps concurrent jobs from restoring each other's settings out of order."""
    try:
        from threadpoolctl import threadpool_limits  # installed with scikit-learn
    except ImportError:  # pragma: no cover
        yield
        return
    with _BLAS_LOCK, threadpool_limits(limits=1, user_api="blas"):
        yield


def _call(what: str, hint: str, sink: list[str], func: Callable[[], T]) -> T:
    """Run a statsmodels call quietly; its exceptions become a DataError saying what to try."""
    try:
        with _one_blas_thread(), _quiet(sink):
            return func()
    except LabError:
        raise
    except Exception as exc:  # statsmodels raises ValueError, LinAlgError, IndexError, ...
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{what} failed ({reason}). {hint}") from exc


def _as_values(values: np.ndarray, model: str) -> np.ndarray:
    values = np.asarray(values, dtype="float64")
    if values.ndim != 1:
        raise DataError(f"{model} needs a single series (1-D values); received shape "
                        f"{values.shape}.")
    if not np.all(np.isfinite(values)):
        raise DataError(f"{model} needs finite values; the series has missing or infinite "
                        "values. Fill or drop them first.")
    return values


def _check_horizon_season(horizon: int, season: int) -> None:
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ConfigError(f"horizon must be an integer >= 1. Received: horizon={horizon!r}")
    if not isinstance(season, int | np.integer) or season < 1:
        raise ConfigError(f"season must be an integer >= 1. Received: season={season!r}")


def _check_positive_for_log(values: np.ndarray, model: str, part: str) -> None:
    if values.size and values.min() <= 0:
        raise DataError(
            f"{model} with log=True needs positive values, but the {part} has values down to "
            f"{values.min():g}. Use log=False (or shift the series above zero).")


def _check_origins(values: np.ndarray, origins: np.ndarray, first: int) -> np.ndarray:
    origins = np.asarray(origins, dtype=int).ravel()
    if origins.size and origins.min() < first:
        raise DataError(f"A forecast needs {first} earlier points; origin {origins.min()} has "
                        "fewer.")
    if origins.size and origins.max() > len(values):
        raise DataError(f"Origin {origins.max()} is past the end of the {len(values)} values.")
    return origins


# --- Holt-Winters --------------------------------------------------------------------------------
class HoltWintersForecaster:
    """Holt-Winters exponential smoothing (statsmodels ``ExponentialSmoothing``).

    Defaults are the textbook model for the airline series: additive trend, multiplicative
    seasonality, no damping, on the raw values. Smoothing weights and initial level, trend and
    seasonal indices are estimated by least squares on the training values
    (``initialization_method="estimated"``).

    Forecasts use the textbook formula (Hyndman & Athanasopoulos, FPP 7.3)
    ``y[t+h|t] = (l_t + (phi + ... + phi^h) b_t) * s_{t+h-m(k+1)}``, ``k = (h-1) // m``, i.e. the
    latest estimate of each seasonal index. (statsmodels 0.15.0's own ``forecast`` uses the
    index from one season earlier at steps h = m, 2m, ...; statsmodels issue #9538.)

    Falls back, and says so in ``fallback_``: to a non-seasonal model when ``season < 2`` or the
    training part is shorter than two seasons, and from multiplicative to additive seasonality
    when the training values are not all positive.
    """

    name = "holt_winters"

    def __init__(self, horizon: int = 1, season: int = 12, trend: str | None = "add",
                 seasonal: str | None = "mul", damped: bool = False, log: bool = False) -> None:
        self.horizon, self.season = horizon, season
        self.trend, self.seasonal, self.damped, self.log = trend, seasonal, damped, log

    def fit(self, values: np.ndarray, **_: object) -> HoltWintersForecaster:
        started = time.perf_counter()
        values = _as_values(values, "Holt-Winters")
        _check_horizon_season(self.horizon, self.season)
        if self.trend not in ("add", None):
            raise ConfigError(f"trend must be 'add' or None. Received: trend={self.trend!r}")
        if self.seasonal not in ("add", "mul", None):
            raise ConfigError("seasonal must be 'add', 'mul' or None. Received: "
                              f"seasonal={self.seasonal!r}")
        if self.log:
            _check_positive_for_log(values, "Holt-Winters", "training part")
        n = len(values)
        seasonal, notes = self.seasonal, []
        if seasonal and self.season < 2:
            notes.append(f"Season {self.season} has no seasonal pattern: fitted Holt's "
                         "non-seasonal model (level and trend) instead.")
            seasonal = None
        elif seasonal and n < 2 * self.season:
            notes.append(f"The training part has {n} points, fewer than two seasons of "
                         f"{self.season}: fitted Holt's non-seasonal model (level and trend) "
                         "instead.")
            seasonal = None
        if seasonal == "mul" and not self.log and values.min() <= 0:
            notes.append("Multiplicative seasonality needs positive values and the training "
                         f"part goes down to {values.min():g}: used additive seasonality.")
            seasonal = "add"
        trend = self.trend if (seasonal or not notes) else (self.trend or "add")
        minimum = 2 * self.season if seasonal else 4
        if n < minimum:
            raise DataError(f"Holt-Winters needs at least {minimum} training points; the "
                            f"training part has {n}. Use a longer series or a smaller test size.")

        self.seasonal_, self.trend_ = seasonal, trend
        self.damped_ = bool(self.damped and trend)
        self.season_ = self.season if seasonal else 1
        self.fallback_ = " ".join(notes) or None
        self.first_origin_ = 2 * self.season_ if seasonal else (2 if trend else 1)
        self.warnings_: list[str] = []
        z = np.log(values) if self.log else values

        def estimate():
            from statsmodels.tsa.holtwinters import ExponentialSmoothing

            return ExponentialSmoothing(
                z, trend=trend, damped_trend=self.damped_, seasonal=seasonal,
                seasonal_periods=self.season_ if seasonal else None,
                initialization_method="estimated").fit()

        result = _call(f"Fitting Holt-Winters ({self._describe()}) to {n} training points",
                       "Try seasonal='add', log=True, damped=True or a longer training part.",
                       self.warnings_, estimate)
        p = result.params
        self.params_ = {
            "alpha": float(p["smoothing_level"]),
            "beta": float(p["smoothing_trend"]) if trend else None,
            "gamma": float(p["smoothing_seasonal"]) if seasonal else None,
            "phi": float(p["damping_trend"]) if self.damped_ else None,
            "initial_level": float(p["initial_level"]),
            "initial_trend": float(p["initial_trend"]) if trend else None,
            "initial_seasons": np.asarray(p["initial_seasons"], float) if seasonal else None,
        }
        self.sse_ = float(result.sse)
        if not np.isfinite(self.sse_):
            raise DataError(f"Holt-Winters ({self._describe()}) produced non-finite fitted "
                            "values. Try log=True or seasonal='add'.")
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _describe(self) -> str:
        trend = getattr(self, "trend_", self.trend)
        seasonal = getattr(self, "seasonal_", self.seasonal)
        damped = getattr(self, "damped_", self.damped)
        season = getattr(self, "season_", self.season)
        kind = {"add": "additive", "mul": "multiplicative"}
        text = f"{'damped ' if damped else ''}{kind.get(trend, 'no')} trend, "
        text += f"{kind.get(seasonal, 'no')} seasonality"
        text += f" (season {season})" if seasonal else ""
        return text + (", on log values" if self.log else "")

    @property
    def description_(self) -> str:
        check_fitted(self, "params_")
        return f"Holt-Winters: {self._describe()}"

    def _states(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Level and trend after each point of ``z``, and all seasonal indices (initial first).

        Runs statsmodels' recursion with the fitted weights and initial states fixed.
        """
        p = self.params_

        def run():
            from statsmodels.tsa.holtwinters import ExponentialSmoothing

            model = ExponentialSmoothing(
                z, trend=self.trend_, damped_trend=self.damped_, seasonal=self.seasonal_,
                seasonal_periods=self.season_ if self.seasonal_ else None,
                initialization_method="known", initial_level=p["initial_level"],
                initial_trend=p["initial_trend"], initial_seasonal=p["initial_seasons"])
            return model.fit(smoothing_level=p["alpha"], smoothing_trend=p["beta"],
                             smoothing_seasonal=p["gamma"], damping_trend=p["phi"],
                             optimized=False)

        result = _call(f"Running the fitted Holt-Winters model over {len(z)} points",
                       "Check the series for extreme values, or try seasonal='add'.",
                       self.warnings_, run)
        level = np.asarray(result.level, float)
        trend = np.asarray(result.trend, float) if self.trend_ else np.zeros_like(level)
        seasons = (np.concatenate([p["initial_seasons"], np.asarray(result.season, float)])
                   if self.seasonal_ else np.zeros(0))
        return level, trend, seasons

    def predict(self, values: np.ndarray, origins: np.ndarray) -> np.ndarray:
        check_fitted(self, "params_")
        values = np.asarray(values, dtype="float64")
        origins = _check_origins(values, origins, self.first_origin_)
        if not origins.size:
            return np.zeros((0, self.horizon))
        seen = _as_values(values[: origins.max()], "Holt-Winters")
        if self.log:
            _check_positive_for_log(seen, "Holt-Winters", "series before the last origin")
        level, trend, seasons = self._states(np.log(seen) if self.log else seen)
        steps = np.arange(1, self.horizon + 1)
        phi = self.params_["phi"] or 1.0
        reach = np.cumsum(phi ** steps) if self.damped_ else steps.astype(float)
        z = level[origins - 1, None] + trend[origins - 1, None] * reach[None, :]
        if self.seasonal_:
            # latest index for each season: s[o + (h-1) % m] was updated from values[:o]
            s = seasons[origins[:, None] + (steps[None, :] - 1) % self.season_]
            z = z * s if self.seasonal_ == "mul" else z + s
        with np.errstate(over="ignore"):
            return np.exp(z) if self.log else z


# --- SARIMA --------------------------------------------------------------------------------------
class SarimaForecaster:
    """Seasonal ARIMA (statsmodels ``SARIMAX``); by default the airline model
    SARIMA(0,1,1)(0,1,1)m on log values (Box & Jenkins).

    ``fit`` estimates the coefficients by maximum likelihood once. ``predict`` runs the Kalman
    filter with those coefficients over ``values[:max(origins)]``, takes the one-step predicted
    state at each origin and iterates the transition ``horizon - 1`` times more. On the log
    scale the forecast is exponentiated (the median, no bias correction).

    Drops the seasonal part, and says so in ``fallback_``, when ``season < 2`` or the training
    part is shorter than two seasons.
    """

    name = "sarima"

    def __init__(self, horizon: int = 1, season: int = 12, order: tuple[int, int, int] = (0, 1, 1),
                 seasonal_order: tuple[int, int, int] = (0, 1, 1), log: bool = True) -> None:
        self.horizon, self.season = horizon, season
        self.order, self.seasonal_order, self.log = order, seasonal_order, log

    def fit(self, values: np.ndarray, **_: object) -> SarimaForecaster:
        started = time.perf_counter()
        values = _as_values(values, "SARIMA")
        _check_horizon_season(self.horizon, self.season)
        order = self._orders(self.order, "order")
        seasonal_order = self._orders(self.seasonal_order, "seasonal_order")
        if self.log:
            _check_positive_for_log(values, "SARIMA", "training part")
        n = len(values)
        notes = []
        if any(seasonal_order) and self.season < 2:
            notes.append(f"Season {self.season} has no seasonal pattern: fitted the non-seasonal "
                         f"ARIMA{order} instead.")
            seasonal_order = (0, 0, 0)
        elif any(seasonal_order) and n < 2 * self.season:
            notes.append(f"The training part has {n} points, fewer than two seasons of "
                         f"{self.season}: fitted the non-seasonal ARIMA{order} instead.")
            seasonal_order = (0, 0, 0)
        season = self.season if any(seasonal_order) else 0
        (p, d, q), (sp, sd, sq) = order, seasonal_order
        lost = d + sd * season                       # points used up by differencing
        minimum = lost + p + q + sp + sq + 3         # enough left to estimate the coefficients
        if n < minimum:
            raise DataError(
                f"{self._describe(order, (*seasonal_order, season))} needs at least {minimum} "
                f"training points; the training part has {n}. Use a longer series, a smaller "
                "test size or a smaller order.")
        self.order_, self.seasonal_order_ = order, (*seasonal_order, season)
        self.fallback_ = " ".join(notes) or None
        self.first_origin_ = lost + 1
        self.warnings_: list[str] = []
        z = np.log(values) if self.log else values

        def estimate():
            return self._model(z).fit(disp=False, cov_type="none")

        result = _call(f"Fitting {self._describe(order, self.seasonal_order_)} to {n} training "
                       "points", "Try log=True/False, a smaller order or a longer training part.",
                       self.warnings_, estimate)
        self.params_ = dict(zip(result.model.param_names, np.asarray(result.params, float)))
        self.converged_ = bool(result.mle_retvals.get("converged", True))
        if not self.converged_:
            self.warnings_.append("The maximum-likelihood optimizer did not converge.")
        self.llf_, self.aic_ = float(result.llf), float(result.aic)
        if not np.isfinite(self.llf_):
            raise DataError(f"{self._describe(order, self.seasonal_order_)} gave a non-finite "
                            "likelihood. Try log=True/False or a smaller order.")
        self.fit_seconds_ = time.perf_counter() - started
        return self

    @staticmethod
    def _orders(value: Any, label: str) -> tuple[int, int, int]:
        try:
            ints = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            ints = ()
        if len(ints) != 3 or min(ints) < 0 or ints != tuple(value):
            raise ConfigError(f"{label} must be three integers >= 0, e.g. (0, 1, 1). "
                              f"Received: {label}={value!r}")
        return ints

    def _describe(self, order: tuple, seasonal_order: tuple) -> str:
        p, d, q = order
        sp, sd, sq, s = seasonal_order
        name = (f"SARIMA({p},{d},{q})({sp},{sd},{sq}){s}" if s else f"ARIMA({p},{d},{q})")
        return name + (" on log values" if self.log else "")

    @property
    def description_(self) -> str:
        check_fitted(self, "params_")
        return self._describe(self.order_, self.seasonal_order_)

    def _model(self, z: np.ndarray):
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        seasonal = self.seasonal_order_ if self.seasonal_order_[3] else (0, 0, 0, 0)
        return SARIMAX(z, order=self.order_, seasonal_order=seasonal)

    def predict(self, values: np.ndarray, origins: np.ndarray) -> np.ndarray:
        check_fitted(self, "params_")
        values = np.asarray(values, dtype="float64")
        origins = _check_origins(values, origins, self.first_origin_)
        if not origins.size:
            return np.zeros((0, self.horizon))
        seen = _as_values(values[: origins.max()], "SARIMA")
        if self.log:
            _check_positive_for_log(seen, "SARIMA", "series before the last origin")
        z = np.log(seen) if self.log else seen
        params = np.fromiter(self.params_.values(), float)

        def run():
            model = self._model(z)
            filtered = model.filter(params, cov_type="none")
            return model.ssm, filtered.filter_results.predicted_state

        ssm, predicted = _call(f"Running the fitted {self.description_} over {len(z)} points",
                               "Check the series for extreme values, or try log=False.",
                               self.warnings_, run)

        def matrix(key: str) -> np.ndarray:       # time-invariant system matrices
            m = np.asarray(ssm[key])
            return m[..., 0] if m.ndim == (3 if key in ("design", "transition") else 2) else m

        design, transition = matrix("design"), matrix("transition")
        obs_intercept, state_intercept = matrix("obs_intercept"), matrix("state_intercept")
        state = predicted[:, origins]             # a[o | values[:o]], one column per origin
        out = np.empty((len(origins), self.horizon))
        for step in range(self.horizon):
            out[:, step] = obs_intercept[0] + design[0] @ state
            state = state_intercept[:, None] + transition @ state
        with np.errstate(over="ignore"):
            return np.exp(out) if self.log else out
