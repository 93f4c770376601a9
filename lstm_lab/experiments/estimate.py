"""How long a job will take on this server, roughly, before it starts.

A job's cost is the work the core already counts for the server's budget
(``training.estimate_work``: weights x time steps x windows x epochs, plus forecasting), turned
into seconds with a rate, plus the costs that do not grow with that work:

- importing TensorFlow, once per server process (when it is not imported yet);
- per network fit, building and tracing the Keras model and forecasting with it: each network
  trains once, twice with prediction intervals (its calibration copy), and once per variant
  with tuning;
- per classical fit (Holt-Winters, SARIMA), again twice with prediction intervals;
- a backtest repeats all of it per fold (once with refit off), forecast ahead refits every
  model on all the data, a sweep adds up its cells.

Early stopping ends most trainings long before ``epochs``: the work counts the epochs a run
with ``patience`` typically trains (``patience`` + ``EARLY_STOP_EXTRA``), never more than
``epochs``.

The rate starts from ``DEFAULT_SECONDS_PER_WORK`` (measured on this machine by
bench/app_speed.py) and follows the server: ``RateBook`` keeps, per job kind, the seconds per
work unit that finished jobs really took (the fixed costs counted as work at the default rate),
and a job's estimate uses the median of the latest ones. A busy server makes every job slower,
so the record follows the load too. No Streamlit here.
"""

from __future__ import annotations

import math
import sys
import threading
from collections import deque
from dataclasses import dataclass

from lstm_lab.experiments import tuning
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.split import season_of, training_size
from lstm_lab.models.registry import get_spec

# Seeds for this server (2 cores), from its measurements: the default experiment (airline
# passengers, every model, 80/95% intervals) took 17 s from click to results on a quiet server
# (issue #17, TensorFlow's import included) and 31 s in one process at a load average of 3.7
# (its LSTM ~17 s, MLP ~3 s, Holt-Winters + SARIMA ~6 s, TensorFlow's import 19 s there); so
# about 20 s once TensorFlow is loaded. bench/app_speed.py --home-run measures it in Chromium
# with the machine's load. A busy server is slower: the record of finished jobs follows it.
DEFAULT_SECONDS_PER_WORK = 1.0e-8     # seconds per weight update actually trained
# The first network job of a server process imports TensorFlow and traces its first graphs:
# Home's default run took 34.0 s cold and 20.0 s warm (bench/app_speed.py --home-run, load
# 1.2-2.6 on 2 cores, 2026-12-02).
TF_IMPORT_SECONDS = 14.0
NETWORK_FIT_SECONDS = 1.2             # build, trace and forecast, per network fit
CLASSICAL_FIT_SECONDS = {"holt_winters": 0.6, "sarima": 0.9}
BASE_SECONDS = 0.5                    # split, baselines, metrics, saving the run
LESSON_SECONDS = 4.0                  # a Learn experiment before any has finished
EARLY_STOP_EXTRA = 10                 # epochs past ``patience`` a typical run trains
RECORD_SIZE = 10                      # finished jobs per kind the rate follows

KINDS = ("compare", "backtest", "future", "sweep", "lesson")


@dataclass(frozen=True)
class JobCost:
    """What a job costs before it runs: ``work`` (weight updates expected, after early
    stopping), ``fixed`` seconds that do not grow with it (fits, traces), and ``startup``
    seconds paid once per server process (importing TensorFlow)."""

    kind: str
    work: float = 0.0
    fixed: float = 0.0
    startup: float = 0.0

    def __add__(self, other: JobCost) -> JobCost:
        return JobCost(self.kind, self.work + other.work, self.fixed + other.fixed,
                       max(self.startup, other.startup))

    def units(self) -> float:
        """Work units, the fixed seconds counted at the default rate."""
        return self.work + self.fixed / DEFAULT_SECONDS_PER_WORK


class RateBook:
    """Seconds per work unit, per job kind, from the latest finished jobs of this process."""

    def __init__(self, default: float = DEFAULT_SECONDS_PER_WORK, size: int = RECORD_SIZE):
        self.default = default
        self._seen: dict[str, deque[float]] = {}
        self._size = size
        self._lock = threading.Lock()

    def rate(self, kind: str) -> float:
        """The median of the kind's latest rates; else of any kind's; else the default."""
        with self._lock:
            seen = list(self._seen.get(_family(kind), ()))
            if not seen:
                seen = [r for rates in self._seen.values() for r in rates]
        if not seen:
            return self.default
        seen.sort()
        mid = len(seen) // 2
        return seen[mid] if len(seen) % 2 else (seen[mid - 1] + seen[mid]) / 2

    def record(self, cost: JobCost, seconds: float, started_cold: bool = False) -> None:
        """Keep what a finished job took; ``started_cold``: it imported TensorFlow."""
        units = cost.units()
        took = seconds - (cost.startup if started_cold else 0.0)
        if units <= 0 or took <= 0 or not math.isfinite(took):
            return
        with self._lock:
            self._seen.setdefault(_family(cost.kind), deque(maxlen=self._size)).append(
                took / units)

    def seconds(self, cost: JobCost) -> float:
        """The job's expected running time (not counting the queue)."""
        startup = cost.startup if "tensorflow" not in sys.modules else 0.0
        return startup + cost.units() * self.rate(cost.kind)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


RATES = RateBook()   # this server process's record


def _family(kind: str) -> str:
    """"backtest:3:1" -> "backtest"; a Learn experiment keeps its own name ("lesson:echo")."""
    head = kind.split(":", 1)[0]
    return kind if head == "lesson" else head


def expected_epochs(config: ExperimentConfig) -> int:
    """Epochs a network typically trains: early stopping needs a validation part."""
    if config.patience > 0 and config.validation_fraction > 0:
        return min(config.epochs, config.patience + EARLY_STOP_EXTRA)
    return config.epochs


def run_cost(config: ExperimentConfig, n_points: int, season: int, kind: str = "compare",
             n_train: int | None = None) -> JobCost:
    """One ``run_experiment`` of ``config`` on ``n_points`` points (``n_train`` of them for
    training: by default the config's split)."""
    from lstm_lab.experiments.training import prediction_work, training_work

    n_train = training_size(config, n_points) if n_train is None else n_train
    fits = 2 if config.intervals else 1
    variants = len(tuning.variants(config, season)) if tuning.applies(config, season) else 1
    try:
        trained = training_work(config, n_train, season)
        predicted = prediction_work(config, n_train, n_points, season)
    except Exception:  # noqa: BLE001 - an estimate never refuses: preflight does that
        trained, predicted = {}, {}
    share = expected_epochs(config) / config.epochs
    work = sum(w * share for w in trained.values()) + sum(predicted.values())
    fixed = BASE_SECONDS
    for model in config.models:
        if get_spec(model).kind == "network":
            fixed += NETWORK_FIT_SECONDS * fits * variants
        else:
            fixed += CLASSICAL_FIT_SECONDS.get(model, 0.0) * fits
    startup = TF_IMPORT_SECONDS if config.neural_models else 0.0
    return JobCost(kind, work, fixed, startup)


def compare_cost(config: ExperimentConfig, series) -> JobCost:
    """Train & compare on ``series``."""
    return run_cost(config, len(series), _season(config, series))


def backtest_cost(config: ExperimentConfig, series, folds: int, refit: bool = True) -> JobCost:
    """A rolling-origin backtest: one run per fold (each on the data up to its block's end),
    or one run with ``refit`` off."""
    n = len(series)
    n_test = config.test_count(n)
    cfg = config.replace(test_size=float(n_test))
    season = _season(config, series)
    ends = [n - k * n_test for k in range(max(1, folds))][::-1]
    ends = [e for e in ends if e - n_test > 1] or [n]
    runs = ends if refit else ends[:1]
    total = JobCost("backtest")
    for end in runs:
        total = total + run_cost(cfg, end, season, "backtest")
    if not refit:   # the later folds only forecast their blocks
        total = total + JobCost("backtest", fixed=0.2 * (len(ends) - 1))
    return total


def future_cost(config: ExperimentConfig, series, steps: int) -> JobCost:
    """Forecast ahead: every model fitted on all the data, then ``steps`` points forecast."""
    n = len(series)
    cfg = config.replace(test_size=float(config.horizon))
    cost = run_cost(cfg, n, _season(config, series), "future", n_train=n - config.horizon)
    return cost + JobCost("future", fixed=0.05 * math.ceil(steps / config.horizon))


def sweep_cost(configs: list[ExperimentConfig], series) -> JobCost:
    """A sweep: one run per cell that will train."""
    total = JobCost("sweep")
    for cfg in configs:
        total = total + run_cost(cfg, len(series), _season(cfg, series), "sweep")
    return total


def lesson_cost(name: str, seconds: float = LESSON_SECONDS) -> JobCost:
    """A Learn experiment: no config to count, so its own record (``seconds`` before any)."""
    return JobCost(f"lesson:{name}", fixed=seconds, startup=TF_IMPORT_SECONDS)


def _season(config: ExperimentConfig, series) -> int:
    try:
        return max(1, season_of(config, series))
    except Exception:  # noqa: BLE001 - an estimate never refuses
        return 1


def queue_wait(running_left: list[float], ahead: list[float], workers: int) -> float:
    """Seconds until a job behind ``ahead`` (their running times, in queue order) starts, with
    ``running_left`` seconds left of the running jobs and ``workers`` at work."""
    workers = max(1, workers)
    free = sorted(max(0.0, s) for s in running_left)[:workers]
    free = sorted(free + [0.0] * (workers - len(free)))
    for seconds in ahead:
        free[0] += seconds
        free.sort()
    return free[0]


def about(seconds: float, word: str = "about") -> str:
    """A duration as a person says it roughly: "about 5 s", "about 20 s", "about 2½ min"."""
    if seconds < 1.5:
        return f"{word} a second"
    if seconds < 7.5:
        return f"{word} {round(seconds)} s"
    if seconds < 57.5:
        return f"{word} {5 * round(seconds / 5)} s"
    minutes = seconds / 60
    if minutes < 9.75:
        whole, half = divmod(round(minutes * 2), 2)
        return f"{word} {whole}{'½' if half else ''} min"
    if minutes < 89.5:
        return f"{word} {round(minutes):,} min"
    whole, half = divmod(round(minutes / 30), 2)
    return f"{word} {whole:,}{'½' if half else ''} hours"


def sentence(seconds: float, wait: float = 0.0, ahead: int = 0) -> str:
    """The line beside a button: "Roughly 20 s on this server." and the queue's share."""
    text = about(seconds, "Roughly") + " on this server"
    if ahead:
        many = "jobs" if ahead != 1 else "job"
        text += f", after {about(wait)} in the queue ({ahead:,} {many} ahead)"
    return text + "."
