"""Classical forecasters on statsmodels: Holt-Winters exponential smoothing and seasonal ARIMA.

Same contract as every forecaster (``base.Forecaster``): ``__init__`` stores its arguments unchanged, ``fit`` learns
and returns self (learned attributes end in ``_``), ``predict(values, origins)`` forecasts
``horizon`` steps after each origin ``o`` using only ``values[:o]``.

Parameters (smoothing weights, initial states, ARMA coefficients) are estimated ONCE, in ``fit``,
on the training values. ``predict`` runs the fixed-parameter model once over
``values[:max(origins)]`` -- the exponential-smoothing recursion or the Kalman filter, both causal
-- reads the state at every origin and projects it ``horizon`` steps ahead. A forecast from
origin ``o`` therefore depends on ``values[:o]`` only, and nothing is re-estimated.

Shared-server limits (``lstm_lab.limits``), which apply on top of any stricter caller's
setting: ``check_season`` refuses a season above ``max_classical_season`` before anything is
fitted; ``fit`` estimates on the most recent ``max_classical_points`` training points only (and
says so in ``notes_``); ``fit`` ends with ``FitStopped`` when ``should_stop()`` turns true or after
``max_classical_seconds`` -- statsmodels' optimisers are interrupted from their callbacks, so a
partial fit is never kept; ``beyond_test_cap`` leaves them out of a run whose test part is longer
than ``max_classical_points`` (their forecasts run over it in one uninterruptible call).

statsmodels is imported inside the functions that need it (it is heavy, and only a classical fit
needs it): importing this module does not load it.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
from threadpoolctl import threadpool_limits  # installed with scikit-learn

from lstm_lab.errors import ConfigError, DataError, LabError, TrainingError
from lstm_lab.limits import Limits, env_var, get_limits
from lstm_lab.models.base import RunConfig, StopFlag, check_fitted, plain_state, restore_plain

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


@functools.cache
def _one_blas_thread() -> None:
    """statsmodels' Kalman filter multiplies tiny matrices: multi-threaded BLAS only adds overhead
    (a SARIMA fit took ~1 s instead of ~0.1 s on a busy 2-core machine). The first classical fit
    limits BLAS to one thread for the whole process, once, and never restores it: no lock is held
    during a fit, so one session's slow fit never makes another session's wait."""
    threadpool_limits(limits=1, user_api="blas")   # not a context manager: the limit stays


def _call(what: str, hint: str, sink: list[str], func: Callable[[], T]) -> T:
    """Run a statsmodels call quietly; its exceptions become a DataError saying what to try."""
    _one_blas_thread()
    try:
        with _quiet(sink):
            return func()
    except (LabError, _Abort):
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


# --- the server's limits -------------------------------------------------------------------------
CLASSICAL_MODELS = {"holt_winters": "Holt-Winters", "sarima": "SARIMA"}


def check_season(models: Collection[str], season: int, inferred: bool = False,
                 limits: Limits | None = None) -> None:
    """Refuse, before anything is fitted, Holt-Winters or SARIMA with a season above
    ``limits.max_classical_season``: a season of 365 makes a state of ~730 numbers, and one fit
    runs for many minutes.

    Args:
        models: the run's models; only ``holt_winters`` and ``sarima`` are checked.
        inferred: the season was inferred from the dates, not set (the message says so).
    """
    cap = (limits or get_limits()).max_classical_season
    chosen = [label for name, label in CLASSICAL_MODELS.items() if name in models]
    if not chosen or season <= cap:
        return
    names = " and ".join(chosen)
    which = "the season inferred from the dates" if inferred else "season"
    raise ConfigError(
        f"{names} cannot fit {which} {season} on this server: the longest season "
        f"{'they fit' if len(chosen) > 1 else 'it fits'} is {cap} (set by "
        f"{env_var('max_classical_season')}). Set a season of {cap} or less, or leave {names} "
        "out of the models.")


def beyond_test_cap(models: Collection[str], n_test: int,
                    limits: Limits | None = None) -> list[str]:
    """The classical models of ``models`` that a test part of ``n_test`` points leaves out.

    Holt-Winters and SARIMA forecast by running their recursion (SARIMA: its Kalman filter) over
    every point from the start of their fit to the last forecast origin, in one call that holds
    the GIL: about 2 s per 40,000 points for SARIMA with season 24, so a test part of 2 million
    points would stall every session for minutes and cannot be stopped. The test part they
    forecast is therefore capped like the part they fit, at ``limits.max_classical_points``.

    Why leave them out rather than refuse the run: on a long series with a long test part the
    networks and baselines still fit the budget and are worth running, and a refusal would make
    the student edit the model list to get any result. So the run goes on without them, before
    anything starts, and the note (``beyond_test_cap_note``) says what would keep them. Only a
    run with nothing else in it is refused (``training.preflight``).
    """
    cap = (limits or get_limits()).max_classical_points
    return [name for name in CLASSICAL_MODELS if name in models and n_test > cap]


def beyond_test_cap_note(names: Collection[str], n_test: int, limits: Limits | None = None,
                         alone: bool = False) -> str:
    """Why ``beyond_test_cap`` left ``names`` out, and the test size that keeps them;
    ``alone``: they are the run's only models, so the run is refused (the refusal's words)."""
    cap = (limits or get_limits()).max_classical_points
    labels = " and ".join(CLASSICAL_MODELS[name] for name in names)
    many = len(names) > 1
    they = "they forecast" if many else "it forecasts"
    if alone:
        return (f"{labels} cannot forecast a test part of {n_test:,} points on this server: "
                f"{they} at most {cap:,} (set by {env_var('max_classical_points')}). Set a test "
                f"size of {cap:,} or less, or add a network or a baseline to the models.")
    return (f"{labels} {'were' if many else 'was'} left out: the test part has {n_test:,} "
            f"points and {they} at most {cap:,} on this server (set by "
            f"{env_var('max_classical_points')}); a test size of {cap:,} or less keeps "
            f"{'them' if many else 'it'}.")


class FitStopped(TrainingError):
    """A fit (or a network's forecasts, ``NeuralForecaster.predict``) ended by Stop or by a
    time limit; nothing of it is kept.

    ``by_user`` is True for Stop, False for the time limit.
    """

    def __init__(self, message: str, by_user: bool) -> None:
        super().__init__(message)
        self.by_user = by_user


_clock = time.monotonic      # the time limit's clock (tests replace it)


class _Abort(Exception):
    """Raised from an optimiser callback to leave statsmodels; ``_Guard.run`` turns it into
    ``FitStopped``."""


class _Guard:
    """Polled from the optimisers' callbacks: Stop and the time limit of one classical fit."""

    def __init__(self, label: str, should_stop: StopFlag | None, max_seconds: float | None,
                 limits: Limits) -> None:
        cap = limits.max_classical_seconds
        self.label, self.should_stop = label, should_stop
        if max_seconds is not None and max_seconds < cap:
            self.seconds = max(float(max_seconds), 0.0)
            self.why = f"the run's time limit ({self.seconds:.3g} s were left for it)"
        else:
            self.seconds = float(cap)
            self.why = f"the time limit of {cap} s ({env_var('max_classical_seconds')})"
        self.deadline = _clock() + self.seconds

    def check(self, *_: object, **__: object) -> None:
        if self.should_stop is not None and self.should_stop():
            raise _Abort("stop")
        if _clock() > self.deadline:
            raise _Abort("time")

    def run(self, func: Callable[[], T], hint: str) -> T:
        """``func()``; Stop or the time limit, polled inside it, become ``FitStopped``."""
        try:
            self.check()                               # Stop pressed before this model started
            return func()
        except _Abort as abort:
            if str(abort) == "stop":
                raise FitStopped(f"{self.label} was stopped on request before its fit finished, "
                                 "so it has no results.", by_user=True) from None
            raise FitStopped(f"{self.label} stopped at {self.why} before its fit finished, so "
                             f"it has no results. {hint}", by_user=False) from None


def _recent(values: np.ndarray, max_points: int | None, limits: Limits,
            model: str) -> tuple[np.ndarray, int, list[str]]:
    """The most recent points a classical model may fit on, where they start, and a note."""
    cap = limits.max_classical_points
    if max_points is not None:
        cap = min(cap, max(int(max_points), 1))
    start = max(0, len(values) - cap)
    if not start:
        return values, 0, []
    return values[start:], start, [
        f"{model} estimated its parameters on the most recent {cap:,} of {len(values):,} "
        f"training points ({env_var('max_classical_points')}); the earlier points are not used."]


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

    Limits: ``max_points`` and ``max_seconds`` (None: the server's ``max_classical_points`` and
    ``max_classical_seconds``; the server's limits apply in any case). Fitting uses the most
    recent ``max_points`` training points (``start_`` is the first, ``notes_`` says so).
    """

    name = "holt_winters"

    def __init__(self, horizon: int = 1, season: int = 12, trend: str | None = "add",
                 seasonal: str | None = "mul", damped: bool = False, log: bool = False,
                 max_points: int | None = None, max_seconds: float | None = None) -> None:
        self.horizon, self.season = horizon, season
        self.trend, self.seasonal, self.damped, self.log = trend, seasonal, damped, log
        self.max_points, self.max_seconds = max_points, max_seconds

    @classmethod
    def for_run(cls, config: RunConfig, season: int, limits: Limits,
                positive: bool) -> HoltWintersForecaster:
        return cls(config.horizon, season)

    def get_state(self) -> dict[str, Any]:
        """Parameters and fitted weights and initial states, as plain JSON values."""
        return plain_state(self)

    @classmethod
    def from_state(cls, state: Mapping[str, Any], network: Any = None) -> HoltWintersForecaster:
        model = restore_plain(cls, state)
        if hasattr(model, "params_") and model.params_["initial_seasons"] is not None:
            model.params_ = {**model.params_,
                             "initial_seasons": np.asarray(model.params_["initial_seasons"], float)}
        return model

    def fit(self, values: np.ndarray, should_stop: StopFlag | None = None,
            **_: object) -> HoltWintersForecaster:
        """Estimate the weights and initial states on the most recent training points.

        Raises:
            FitStopped: ``should_stop()`` turned true, or the time limit passed, during the fit.
        """
        started = time.perf_counter()
        limits = get_limits()
        values = _as_values(values, "Holt-Winters")
        _check_horizon_season(self.horizon, self.season)
        if self.seasonal:
            check_season([self.name], self.season, limits=limits)
        if self.trend not in ("add", None):
            raise ConfigError(f"trend must be 'add' or None. Received: trend={self.trend!r}")
        if self.seasonal not in ("add", "mul", None):
            raise ConfigError("seasonal must be 'add', 'mul' or None. Received: "
                              f"seasonal={self.seasonal!r}")
        if self.log:
            _check_positive_for_log(values, "Holt-Winters", "training part")
        values, start, limit_notes = _recent(values, self.max_points, limits, "Holt-Winters")
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
        self.notes_ = limit_notes + [f"Holt-Winters: {note}" for note in notes]
        self.start_ = start
        self.first_origin_ = start + (2 * self.season_ if seasonal else (2 if trend else 1))
        self.warnings_: list[str] = []
        z = np.log(values) if self.log else values
        guard = _Guard("Holt-Winters", should_stop, self.max_seconds, limits)

        def estimate():
            from statsmodels.tsa.holtwinters import ExponentialSmoothing

            # scipy's minimize calls back after every iteration: Stop and the time limit
            return ExponentialSmoothing(
                z, trend=trend, damped_trend=self.damped_, seasonal=seasonal,
                seasonal_periods=self.season_ if seasonal else None,
                initialization_method="estimated").fit(minimize_kwargs={"callback": guard.check})

        result = guard.run(lambda: _call(
            f"Fitting Holt-Winters ({self._describe()}) to {n} training points",
            "Try seasonal='add', log=True, damped=True or a longer training part.",
            self.warnings_, estimate), "A shorter season fits faster.")
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

    @property
    def error_scale(self) -> str:
        """How its conformal calibration measures errors (``intervals.calibrate``): ``"log"``
        (log(actual / forecast)) when it forecasts log values -- its errors then grow with the
        series' level, and absolute errors from the calibration tail would be too small for a
        test part at a higher level -- else ``"absolute"``."""
        return "log" if self.log else "absolute"

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
        # the recursion starts where the fitted initial states are: at start_, not at 0
        seen = _as_values(values[self.start_: origins.max()], "Holt-Winters")
        if self.log:
            _check_positive_for_log(seen, "Holt-Winters", "series before the last origin")
        level, trend, seasons = self._states(np.log(seen) if self.log else seen)
        origins = origins - self.start_
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

    Limits as for ``HoltWintersForecaster``: ``max_points``, ``max_seconds``, ``start_``,
    ``notes_``. Stop and the time limit are polled at every likelihood evaluation.
    """

    name = "sarima"

    def __init__(self, horizon: int = 1, season: int = 12, order: tuple[int, int, int] = (0, 1, 1),
                 seasonal_order: tuple[int, int, int] = (0, 1, 1), log: bool = True,
                 max_points: int | None = None, max_seconds: float | None = None) -> None:
        self.horizon, self.season = horizon, season
        self.order, self.seasonal_order, self.log = order, seasonal_order, log
        self.max_points, self.max_seconds = max_points, max_seconds

    @classmethod
    def for_run(cls, config: RunConfig, season: int, limits: Limits,
                positive: bool) -> SarimaForecaster:
        """The airline model, on log values when the data are all positive."""
        return cls(config.horizon, season, log=positive)

    def get_state(self) -> dict[str, Any]:
        """Parameters, orders and fitted coefficients, as plain JSON values."""
        return plain_state(self)

    @classmethod
    def from_state(cls, state: Mapping[str, Any], network: Any = None) -> SarimaForecaster:
        model = restore_plain(cls, state)
        for key in ("order_", "seasonal_order_"):
            if hasattr(model, key):
                setattr(model, key, tuple(getattr(model, key)))
        return model

    def fit(self, values: np.ndarray, should_stop: StopFlag | None = None,
            **_: object) -> SarimaForecaster:
        """Estimate the coefficients by maximum likelihood on the most recent training points.

        Raises:
            FitStopped: ``should_stop()`` turned true, or the time limit passed, during the fit.
        """
        started = time.perf_counter()
        limits = get_limits()
        values = _as_values(values, "SARIMA")
        _check_horizon_season(self.horizon, self.season)
        order = self._orders(self.order, "order")
        seasonal_order = self._orders(self.seasonal_order, "seasonal_order")
        if any(seasonal_order):
            check_season([self.name], self.season, limits=limits)
        if self.log:
            _check_positive_for_log(values, "SARIMA", "training part")
        values, start, limit_notes = _recent(values, self.max_points, limits, "SARIMA")
        n = len(values)
        notes = []
        if any(seasonal_order) and self.season < 2:
            notes.append(f"Season {self.season} has no seasonal pattern: fitted the non-seasonal "
                         f"ARIMA{order} instead.")
            seasonal_order = (0, 0, 0)
        elif any(seasonal_order) and self.season > limits.max_sarima_season:
            notes.append(f"Season {self.season} is longer than the {limits.max_sarima_season} "
                         "points SARIMA's seasonal part may span on this server (its Kalman "
                         "filter would hold the server for seconds per pass; "
                         f"{env_var('max_sarima_season')}): fitted the non-seasonal "
                         f"ARIMA{order} instead. Holt-Winters keeps the season.")
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
        self.notes_ = limit_notes + [f"SARIMA: {note}" for note in notes]
        self.start_ = start
        self.first_origin_ = start + lost + 1
        self.warnings_: list[str] = []
        z = np.log(values) if self.log else values
        guard = _Guard("SARIMA", should_stop, self.max_seconds, limits)

        def estimate():
            model = self._model(z)
            loglike = model.loglike

            def checked(*args: Any, **kwargs: Any) -> Any:
                guard.check()         # one evaluation can take seconds: poll at each one
                return loglike(*args, **kwargs)

            model.loglike = checked   # what the optimiser and its numerical gradient call
            # low_memory: the final pass keeps no k x k covariance per point (~0.5 GB at 60)
            return model.fit(disp=False, cov_type="none", low_memory=True,
                             callback=guard.check)

        result = guard.run(lambda: _call(
            f"Fitting {self._describe(order, self.seasonal_order_)} to {n} training points",
            "Try log=True/False, a smaller order or a longer training part.",
            self.warnings_, estimate), "A shorter season or a smaller order fits faster.")
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

    @property
    def error_scale(self) -> str:
        """As ``HoltWintersForecaster.error_scale``: ``"log"`` on log values."""
        return "log" if self.log else "absolute"

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
        # the filter starts where the fit's data started (start_): its state there is the one
        # the coefficients were estimated from, so forecasts match the fit's
        seen = _as_values(values[self.start_: origins.max()], "SARIMA")
        if self.log:
            _check_positive_for_log(seen, "SARIMA", "series before the last origin")
        z = np.log(seen) if self.log else seen
        params = np.fromiter(self.params_.values(), float)

        def run():
            from statsmodels.tsa.statespace.kalman_filter import (
                MEMORY_CONSERVE,
                MEMORY_NO_PREDICTED_MEAN,
            )

            model = self._model(z)
            model.update(params)
            # only the predicted states are kept: no k x k covariance per point
            filtered = model.ssm.filter(
                conserve_memory=MEMORY_CONSERVE & ~MEMORY_NO_PREDICTED_MEAN)
            return model.ssm, np.asarray(filtered.predicted_state)

        ssm, predicted = _call(f"Running the fitted {self.description_} over {len(z)} points",
                               "Check the series for extreme values, or try log=False.",
                               self.warnings_, run)

        def matrix(key: str) -> np.ndarray:       # time-invariant system matrices
            m = np.asarray(ssm[key])
            return m[..., 0] if m.ndim == (3 if key in ("design", "transition") else 2) else m

        design, transition = matrix("design"), matrix("transition")
        obs_intercept, state_intercept = matrix("obs_intercept"), matrix("state_intercept")
        state = predicted[:, origins - self.start_]   # a[o | values[:o]], one per origin
        out = np.empty((len(origins), self.horizon))
        for step in range(self.horizon):
            out[:, step] = obs_intercept[0] + design[0] @ state
            state = state_intercept[:, None] + transition @ state
        with np.errstate(over="ignore"):
            return np.exp(out) if self.log else out
