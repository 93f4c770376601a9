"""Rolling-origin backtests: fold boundaries, and no fold ever sees its own future."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_lab.errors import ConfigError, DataError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.evaluation import fold_bounds, run_backtest
from tests.conftest import FAST, make_tiny_series, make_tiny_values, requires_tf

CLASSICAL = ("naive", "seasonal_naive", "holt_winters")


def test_fold_bounds_are_consecutive_blocks_that_end_the_series() -> None:
    assert fold_bounds(100, 10, 3) == [(70, 80), (80, 90), (90, 100)]
    assert fold_bounds(40, 6, 1) == [(34, 40)]
    with pytest.raises(ConfigError, match="at least 1 fold"):
        fold_bounds(100, 10, 0)
    with pytest.raises(DataError) as info:
        fold_bounds(40, 10, 4)
    assert str(info.value) == ("4 folds of 10 test points need more than 40 points; the series "
                               "has 40. Use fewer folds or a smaller test size.")


def _poisoned(values: np.ndarray, start: int) -> np.ndarray:
    """The same history up to ``start``; everything from there on wildly different."""
    out = values.copy()
    out[start:] = out[start:] * 7.0 + 100.0
    return out


@pytest.mark.parametrize("models", [CLASSICAL, pytest.param(("mlp",), marks=requires_tf)])
def test_no_fold_sees_its_own_future(models) -> None:
    """One 6-step forecast per fold (horizon = test size): changing every value from a fold's
    start on must leave that fold's forecast unchanged, and each fold trains on exactly the
    points before its block."""
    config = ExperimentConfig(test_size=6, horizon=6, window=4, models=models, **FAST)
    values = make_tiny_values(80)             # Holt-Winters needs two seasons + the horizon
    result = run_backtest(config, make_tiny_series(values), folds=3)
    bounds = fold_bounds(len(values), 6, 3)
    assert [f["train_size"] for f in result.folds] == [start for start, _ in bounds]
    assert [f["start"] for f in result.folds] == ["2005-03-01", "2005-09-01", "2006-03-01"]
    for k, (start, _end) in enumerate(bounds, start=1):
        changed = run_backtest(config, make_tiny_series(_poisoned(values, start)), folds=3)
        for model in models:
            ours = result.predictions.loc[result.predictions["fold"] == k, model].to_numpy()
            theirs = changed.predictions.loc[changed.predictions["fold"] == k, model].to_numpy()
            np.testing.assert_array_equal(ours, theirs, err_msg=f"{model}, fold {k}")
        # ...while a later fold, whose history now includes the change, does move
        if k < 3:
            later = changed.predictions.loc[changed.predictions["fold"] == k + 1, models[0]]
            assert not np.array_equal(
                later.to_numpy(),
                result.predictions.loc[result.predictions["fold"] == k + 1, models[0]].to_numpy())


def test_naive_backtest_gives_the_textbook_values() -> None:
    """Naive repeats the last value before each block; seasonal naive the value a season back."""
    config = ExperimentConfig(test_size=6, horizon=6, models=("naive", "seasonal_naive"))
    values = make_tiny_values()
    result = run_backtest(config, make_tiny_series(values), folds=2)
    for k, (start, end) in enumerate(fold_bounds(len(values), 6, 2), start=1):
        block = result.predictions[result.predictions["fold"] == k]
        np.testing.assert_array_equal(block["naive"], [values[start - 1]] * 6)
        np.testing.assert_array_equal(block["seasonal_naive"], values[start - 12:start - 6])
        np.testing.assert_array_equal(block["actual"], values[start:end])


def test_refit_false_fits_once_and_reuses_the_models_on_later_blocks() -> None:
    config = ExperimentConfig(test_size=6, horizon=6, models=("naive", "seasonal_naive"))
    values = make_tiny_values()
    refit = run_backtest(config, make_tiny_series(values), folds=3, refit=True)
    reused = run_backtest(config, make_tiny_series(values), folds=3, refit=False)
    assert not reused.refit and refit.refit
    # naive models have nothing to learn: both ways give the same forecasts
    for model in ("naive", "seasonal_naive"):
        np.testing.assert_array_equal(refit.predictions[model], reused.predictions[model])
    summary = refit.summary()
    assert list(summary.index) == ["naive", "seasonal_naive"]
    assert summary.loc["naive", "rmse mean"] == pytest.approx(
        np.mean([f["metrics"]["naive"]["rmse"] for f in refit.folds]))


# --- deadlines and Stop: a backtest or a forecast ahead never trains unbounded ------------------

def test_a_stop_between_folds_ends_the_backtest_after_the_fold_it_finished() -> None:
    """Naive models never poll the flag while fitting; the backtest itself checks it between
    folds (a job's deadline arrives as this flag)."""
    config = ExperimentConfig(test_size=6, horizon=6, models=("naive",))
    calls = []

    def stop() -> bool:
        calls.append(1)
        return True

    result = run_backtest(config, make_tiny_series(), folds=3, should_stop=stop)
    assert [f["fold"] for f in result.folds] == [1] and result.stopped_by_user
    assert calls
    assert len(run_backtest(config, make_tiny_series(), folds=3,
                            should_stop=lambda: False).folds) == 3


@requires_tf
def test_forecast_ahead_stops_when_should_stop_turns_true() -> None:
    """Stop pressed during the MLP: it keeps what it learned (one epoch of 5,000), and the
    LSTM, not yet started, is skipped and named; the forecast still has every fitted model."""
    from lstm_lab.experiments.evaluation import forecast_future

    config = ExperimentConfig(window=4, test_size=6, horizon=6, tuning="off",
                              models=("naive", "mlp", "lstm"), **{**FAST, "epochs": 5000})
    epochs = []
    future = forecast_future(config, make_tiny_series(), 6, on_epoch=epochs.append,
                             should_stop=lambda: bool(epochs))
    assert {info.model for info in epochs} == {"mlp"} and len(epochs) == 1
    assert future.stopped_by_user and future.skipped == ["lstm"]
    assert list(future.forecasts.columns) == ["time", "naive", "mlp"]
    assert np.isfinite(future.forecasts["mlp"]).all()
    # the MLP's calibration copy polls the same Stop: no band, said so, never a made-up one
    assert future.label("mlp") == "ES-MLP (3 seeds)"
    assert future.notes == [
        "ES-MLP (3 seeds): no prediction interval, because its calibration was cut short. "
        "Training its calibration copy was stopped.",
        "Not fitted, because fitting was stopped: LSTM."]
    assert list(future.intervals) == ["naive"]


def test_forecast_ahead_stopped_before_it_starts_fits_nothing() -> None:
    from lstm_lab.experiments.evaluation import forecast_future

    config = ExperimentConfig(window=4, test_size=6, horizon=6, models=("naive", "holt_winters"))
    future = forecast_future(config, make_tiny_series(make_tiny_values(80)), 6,
                             should_stop=lambda: True)
    assert future.skipped == ["naive", "holt_winters"] and future.stopped_by_user
    assert list(future.forecasts.columns) == ["time"]


@requires_tf
def test_forecast_ahead_networks_share_the_training_time_limit(monkeypatch) -> None:
    """Forecast ahead used to train with no time limit: each network now gets what is left of
    LSTM_LAB_MAX_TRAIN_SECONDS, as in run_experiment, and a network that reaches it says so."""
    from lstm_lab.experiments.evaluation import forecast_future
    from lstm_lab.models import neural as forecasters
    from lstm_lab.models.fitting import FitOutcome

    caps = []
    real_fit = forecasters.fit_compiled

    def timed_out(model, *args, **kwargs):
        caps.append(kwargs["max_seconds"])
        outcome = real_fit(model, *args, **{**kwargs, "epochs": 2})
        return FitOutcome(outcome.history, 2, False, False, None, timed_out=True)

    monkeypatch.setattr(forecasters, "fit_compiled", timed_out)
    monkeypatch.setenv("LSTM_LAB_MAX_TRAIN_SECONDS", "7")
    config = ExperimentConfig(window=4, test_size=6, horizon=6, tuning="off",
                              models=("mlp", "lstm"), **FAST)
    future = forecast_future(config, make_tiny_series(), 6)
    # each network's fit, then its calibration copy's (unless the 7 s are spent by then: how
    # far a loaded machine gets is not fixed), each capped by what is left of the 7 s
    assert 2 <= len(caps) <= 4 and all(1.0 <= cap <= 7 for cap in caps)
    assert caps == sorted(caps, reverse=True)
    assert [note.split(" after ")[0] for note in future.notes[::2]] == [
        f"{future.label(name)} stopped at the time limit of 7 s (LSTM_LAB_MAX_TRAIN_SECONDS)"
        for name in ("mlp", "lstm")]
    # ...and neither gets a band: its calibration copy timed out, or never started
    for name, note in zip(("mlp", "lstm"), future.notes[1::2], strict=True):
        label, said = note.split(": ", 1)
        assert label == future.label(name)           # named as its time-limit note names it
        assert said.startswith("no prediction interval, because its calibration was cut short. ")
        assert said.endswith(("Training its calibration copy reached the run's time limit of "
                              "7 s (LSTM_LAB_MAX_TRAIN_SECONDS).",
                              "The run's time limit of 7 s (LSTM_LAB_MAX_TRAIN_SECONDS) was "
                              "reached first."))
    assert len(future.notes) == 4
    assert future.intervals == {}


def test_forecast_ahead_leaves_out_a_classical_fit_cut_short_and_keeps_the_rest(
        monkeypatch) -> None:
    from lstm_lab.experiments.evaluation import forecast_future
    from lstm_lab.models.classical import FitStopped, SarimaForecaster

    def time_out(self, *args, **kwargs):
        raise FitStopped("SARIMA stopped at the time limit of 60 s.", by_user=False)

    monkeypatch.setattr(SarimaForecaster, "fit", time_out)
    config = ExperimentConfig(test_size=12, season=12,
                              models=("naive", "seasonal_naive", "sarima"))
    future = forecast_future(config, make_tiny_series(make_tiny_values(80)), 6)
    assert "SARIMA stopped at the time limit of 60 s." in future.notes
    assert "sarima" not in future.forecasts.columns
    assert {"naive", "seasonal_naive"} <= set(future.forecasts.columns)
    assert future.stopped_by_user is False
