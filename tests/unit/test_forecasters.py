"""Forecasters: naive baselines by hand, network shapes, hooks, stop flag, divergence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstm_lab.data import windows
from lstm_lab.errors import ConfigError, DataError, NotFittedError, TrainingError
from lstm_lab.models import neural as forecasters
from lstm_lab.models.base import EpochInfo
from lstm_lab.models.naive import NaiveForecaster
from lstm_lab.models.neural import LSTMForecaster, MLPForecaster
from lstm_lab.models.seasonal_naive import SeasonalNaiveForecaster
from tests.conftest import requires_tf

HAND = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0])


# --- naive baselines ---------------------------------------------------------------------------
def test_naive_repeats_the_last_observed_value() -> None:
    model = NaiveForecaster(horizon=3).fit(HAND)
    np.testing.assert_array_equal(model.predict(HAND, np.array([1, 4, 7])),
                                  [[10, 10, 10], [40, 40, 40], [70, 70, 70]])


def test_seasonal_naive_repeats_one_season_ago() -> None:
    model = SeasonalNaiveForecaster(horizon=3, season=3).fit(HAND)
    # origin 6: last observed season is positions 3, 4, 5 -> 40, 50, 60
    np.testing.assert_array_equal(model.predict(HAND, np.array([3, 6])),
                                  [[10, 20, 30], [40, 50, 60]])


def test_seasonal_naive_beyond_one_season_reuses_the_last_season() -> None:
    model = SeasonalNaiveForecaster(horizon=5, season=3).fit(HAND)
    np.testing.assert_array_equal(model.predict(HAND, np.array([6])), [[40, 50, 60, 40, 50]])
    model = SeasonalNaiveForecaster(horizon=4, season=2).fit(HAND)
    np.testing.assert_array_equal(model.predict(HAND, np.array([7])), [[60, 70, 60, 70]])


def test_seasonal_naive_with_season_1_is_naive() -> None:
    seasonal = SeasonalNaiveForecaster(horizon=4, season=1).fit(HAND)
    naive = NaiveForecaster(horizon=4).fit(HAND)
    origins = np.array([2, 5, 7])
    np.testing.assert_array_equal(seasonal.predict(HAND, origins), naive.predict(HAND, origins))


def test_seasonal_naive_refuses_season_0() -> None:
    with pytest.raises(ConfigError, match="season must be >= 1. Received: season=0"):
        SeasonalNaiveForecaster(season=0).fit(HAND)


@pytest.mark.parametrize("model", [NaiveForecaster(), SeasonalNaiveForecaster(),
                                   LSTMForecaster(), MLPForecaster()])
def test_predict_before_fit_raises(model) -> None:
    with pytest.raises(NotFittedError) as info:
        model.predict(HAND, np.array([6]))
    assert str(info.value) == (f"{type(model).__name__} is not fitted: "
                               "call fit() before predict().")


# --- networks ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("transform", "season", "strategy", "first"), [
    ("none", 1, "direct", 4), ("log_diff", 1, "direct", 5), ("seasonal_diff", 12, "direct", 16),
    ("auto", 12, "direct", 4),          # 3 seasons of 12, direct: the ES hybrid, no lag
    ("auto", 12, "recursive", 16)])     # recursive: log_seasonal_diff, a lag of 12
def test_first_origin_counts_window_and_lag(tiny_values, fast_kwargs, transform, season,
                                            strategy, first) -> None:
    model = MLPForecaster(window=4, transform=transform, season=season, strategy=strategy,
                          **fast_kwargs)
    assert model.fit(tiny_values[:36]).first_origin_ == first


def test_too_few_training_windows_is_a_data_error(tiny_values, fast_kwargs) -> None:
    with pytest.raises(DataError) as info:
        MLPForecaster(window=4, transform="diff", **fast_kwargs).fit(tiny_values[:6])
    assert str(info.value) == (
        "The training part has 6 points: with window 4, horizon 1 and transform 'diff' that "
        "leaves 1 training window(s); at least 2 are needed. Lower the window or the test size.")


@requires_tf
@pytest.mark.parametrize("cls", [LSTMForecaster, MLPForecaster])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("horizon", [1, 3])
def test_network_output_shapes(cls, layers, horizon, tiny_values, fast_kwargs) -> None:
    model = cls(window=4, horizon=horizon, layers=layers, transform="log_diff", season=12,
                **fast_kwargs).fit(tiny_values[:30])
    origins = np.arange(model.first_origin_, 38, 2)
    forecast = model.predict(tiny_values, origins)
    assert forecast.shape == (len(origins), horizon)
    assert np.isfinite(forecast).all()
    assert model.epochs_run_ == 3
    assert len(model.history_["loss"]) == 3
    assert model.history_["val_loss"] == []
    assert model.n_train_windows_ == 30 - 1 - 4 - horizon + 1
    # parameter counts of the Keras builders, by hand (units 4, window 4)
    if cls is LSTMForecaster:
        lstm = 4 * 4 * (1 + 4 + 1) + (layers - 1) * 4 * 4 * (4 + 4 + 1)
        assert model.n_params_ == lstm + 4 * horizon + horizon
    else:
        dense = (4 * 4 + 4) * layers
        assert model.n_params_ == dense + 4 * horizon + horizon


@requires_tf
@pytest.mark.parametrize("cls", [LSTMForecaster, MLPForecaster])
def test_predict_feeds_the_window_ending_just_before_each_origin(cls, tiny_values,
                                                                 fast_kwargs) -> None:
    """With a stand-in network that outputs the first input of its window, the forecast (after
    un-scaling) must be exactly values[origin - window]: no off-by-one in the windows."""
    model = cls(window=4, transform="none", **{**fast_kwargs, "epochs": 1}).fit(tiny_values[:30])

    def first_of_window(X, training=False):
        X = np.asarray(X)
        return X.reshape(len(X), -1)[:, :1]

    model.model_ = first_of_window
    origins = np.array([4, 10, 29, 30, 39])
    np.testing.assert_allclose(model.predict(tiny_values, origins)[:, 0],
                               tiny_values[origins - 4], rtol=1e-6)


@requires_tf
def test_zero_change_network_is_seasonal_naive(tiny_values, fast_kwargs) -> None:
    """seasonal_diff + a network predicting 'no change' reproduces seasonal naive exactly,
    including steps beyond one season (horizon 5, season 3)."""
    model = MLPForecaster(window=4, horizon=5, transform="seasonal_diff", season=3,
                          **{**fast_kwargs, "epochs": 1}).fit(tiny_values[:30])
    zero_scaled = -model.scaler_.mean / model.scaler_.scale
    model.model_ = lambda X, training=False: np.full((len(X), 5), zero_scaled)
    origins = np.array([7, 12, 30, 35])
    expected = SeasonalNaiveForecaster(horizon=5, season=3).fit(tiny_values).predict(
        tiny_values, origins)
    np.testing.assert_allclose(model.predict(tiny_values, origins), expected, rtol=1e-12)


@requires_tf
def test_scaler_is_fitted_on_the_training_values_only(tiny_values, fast_kwargs) -> None:
    model = MLPForecaster(window=4, transform="none", **{**fast_kwargs, "epochs": 1})
    model.fit(tiny_values[:30])
    assert model.scaler_.mean == pytest.approx(tiny_values[:30].mean())
    assert model.scaler_.scale == pytest.approx(tiny_values[:30].std())


@requires_tf
def test_predict_refuses_origins_without_a_full_window(tiny_values, fast_kwargs) -> None:
    model = MLPForecaster(window=4, transform="diff", **{**fast_kwargs, "epochs": 1})
    model.fit(tiny_values[:30])
    with pytest.raises(DataError) as info:
        model.predict(tiny_values, np.array([3, 10]))
    assert str(info.value) == "A forecast needs 5 earlier points; origin 3 has fewer."


@requires_tf
def test_on_epoch_gets_one_based_epochs(tiny_values, fast_kwargs) -> None:
    seen: list[EpochInfo] = []
    model = MLPForecaster(window=4, transform="log_diff",
                          **{**fast_kwargs, "validation_fraction": 0.25})
    model.fit(tiny_values[:30], on_epoch=seen.append)
    assert [info.epoch for info in seen] == [1, 2, 3]
    assert {info.model for info in seen} == {"mlp"}
    assert {info.epochs for info in seen} == {3}
    assert [info.loss for info in seen] == model.history_["loss"]
    assert [info.val_loss for info in seen] == model.history_["val_loss"]
    assert all(isinstance(info.val_loss, float) and math.isfinite(info.val_loss) for info in seen)
    assert model.stopped_by_user_ is False


@requires_tf
def test_on_epoch_without_validation_reports_none(tiny_values, fast_kwargs) -> None:
    seen: list[EpochInfo] = []
    LSTMForecaster(window=4, **{**fast_kwargs, "epochs": 2}).fit(tiny_values[:30],
                                                                 on_epoch=seen.append)
    assert [(info.model, info.epoch, info.val_loss) for info in seen] == [("lstm", 1, None),
                                                                          ("lstm", 2, None)]


@requires_tf
@pytest.mark.parametrize("cls", [LSTMForecaster, MLPForecaster])
def test_stop_flag_ends_training_early(cls, tiny_values, fast_kwargs) -> None:
    polls: list[int] = []

    def should_stop() -> bool:
        polls.append(1)
        return True

    model = cls(window=4, **{**fast_kwargs, "epochs": 200}).fit(tiny_values[:30],
                                                                should_stop=should_stop)
    assert model.stopped_by_user_ is True
    assert model.epochs_run_ < 200
    assert model.epochs_run_ == len(model.history_["loss"]) >= 1
    assert len(polls) == 1
    assert np.isfinite(model.predict(tiny_values, np.array([30, 35]))).all()  # still usable


@requires_tf
def test_nan_loss_raises_training_error(tiny_values, fast_kwargs, monkeypatch) -> None:
    """A loss that turns NaN (here: NaN targets through the real training loop) must surface as
    a TrainingError that tells the user what to change."""
    real_fit = forecasters.fit_compiled

    def fit_on_nan_targets(model, X, y, *args, **kwargs):
        return real_fit(model, X, np.full_like(y, np.nan), *args, **kwargs)

    monkeypatch.setattr(forecasters, "fit_compiled", fit_on_nan_targets)
    model = LSTMForecaster(window=4, learning_rate=0.5, **fast_kwargs)
    with pytest.raises(TrainingError) as info:
        model.fit(tiny_values[:30])
    assert str(info.value) == (
        "The LSTM diverged: its loss became NaN or infinite at epoch 1. Lower the learning "
        "rate (now 0.5) or choose a transform such as log_diff.")
    assert not hasattr(model, "history_")


@requires_tf
def test_fit_compiled_stops_at_the_first_nan_epoch() -> None:
    from lstm_lab.models.fitting import fit_compiled
    from lstm_lab.models.networks import build_mlp

    X = np.random.default_rng(0).normal(size=(12, 3)).astype("float32")
    y = np.full((12, 1), np.nan, dtype="float32")
    reported: list[int] = []
    outcome = fit_compiled(build_mlp(3, 1, units=4), X, y, None, None, epochs=5, batch_size=4,
                           patience=0, seed=0, report=lambda e, loss, val: reported.append(e))
    assert outcome.diverged is True
    assert outcome.epochs_run == 0
    assert outcome.history == {"loss": [], "val_loss": []}
    assert reported == []


@requires_tf
@pytest.mark.parametrize("report_seconds", [0.25, 0.0])   # 0.0: one epoch per compiled chunk
def test_fit_compiled_early_stopping(report_seconds) -> None:
    """Validation loss that only gets worse after epoch 1: with patience 3 training stops after
    epoch 4 and restores the weights of epoch 1, however the epochs are chunked."""
    from lstm_lab.models.fitting import fit_compiled
    from lstm_lab.models.networks import build_mlp

    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 3)).astype("float32")
    y = X.sum(axis=1, keepdims=True)
    X_val = rng.normal(size=(4, 3)).astype("float32")
    y_val = rng.normal(size=(4, 1)).astype("float32")          # unrelated to the inputs
    model = build_mlp(3, 1, units=4, learning_rate=0.05)
    outcome = fit_compiled(model, X, y, X_val, y_val, epochs=300, batch_size=16, patience=3,
                           seed=0, report_seconds=report_seconds)
    val = outcome.history["val_loss"]
    assert outcome.best_epoch == 1
    assert outcome.epochs_run == outcome.best_epoch + 3 == len(val) == len(outcome.history["loss"])
    assert val[0] == min(val)
    restored = float(np.mean((np.asarray(model(X_val, training=False)) - y_val) ** 2))
    assert restored == pytest.approx(val[0], rel=1e-5)


def test_recursive_strategy_feeds_predictions_back(tiny_values, fast_kwargs) -> None:
    """A one-step 'network' that returns the window's last value, fed back recursively, repeats
    the last observed value for every step: the naive forecast."""
    model = MLPForecaster(window=4, horizon=3, transform="none", strategy="recursive",
                          **fast_kwargs).fit(tiny_values[:30])
    assert model.model_.output_shape == (None, 1)            # the network predicts one step
    model.model_ = lambda X, training=False: X[:, -1:]
    origins = np.array([5, 12, 33])
    expected = NaiveForecaster(horizon=3).fit(tiny_values).predict(tiny_values, origins)
    np.testing.assert_allclose(model.predict(tiny_values, origins), expected, rtol=1e-5)


def test_recursive_forecast_of_a_linear_series_stays_on_the_line(fast_kwargs) -> None:
    """On a straight line, 'next = 2 * last - previous' fed back extrapolates the line exactly."""
    line = 3.0 + 0.5 * np.arange(40)
    model = MLPForecaster(window=3, horizon=6, transform="none", strategy="recursive",
                          **fast_kwargs).fit(line[:30])
    scaler = model.scaler_

    def next_point(X, training=False):
        raw = scaler.inverse(X)
        return scaler.transform(2 * raw[:, -1:] - raw[:, -2:-1])

    model.model_ = next_point
    np.testing.assert_allclose(model.predict(line, np.array([30, 34]))[0], line[30:36], rtol=1e-5)


@requires_tf
def test_a_reused_training_loop_gives_exactly_the_numbers_of_a_fresh_one(tiny_values) -> None:
    """Fits of the same shape in one thread share one traced loop; a fit in a new thread traces
    its own. Every piece of training state is reset, so the results are identical, whatever
    was trained before (here: another seed, with dropout, in between)."""
    import threading

    kwargs = dict(window=4, horizon=2, transform="log_diff", units=4, dropout=0.1, epochs=15,
                  patience=3, validation_fraction=0.2, batch_size=4)

    def fitted(seed: int):
        model = LSTMForecaster(seed=seed, **kwargs).fit(tiny_values[:30])
        return model.predict(tiny_values, np.array([30, 32])), model.history_

    first = fitted(0)
    fitted(1)                                    # trains the shared loop on another seed
    again = fitted(0)
    in_new_thread = {}
    worker = threading.Thread(target=lambda: in_new_thread.update(result=fitted(0)))
    worker.start()
    worker.join()
    for other in (again, in_new_thread["result"]):
        np.testing.assert_array_equal(other[0], first[0])
        assert other[1] == first[1]
    assert not np.array_equal(fitted(1)[0], first[0])       # the seed still matters


# --- the training cap: windows and prediction never materialise more ---------------------------

@requires_tf
@pytest.mark.parametrize("cls", [LSTMForecaster, MLPForecaster])
def test_fit_builds_only_the_windows_it_keeps(cls, tiny_values, fast_kwargs,
                                              monkeypatch) -> None:
    """40 points, window 4, lag 1: 35 windows, a cap of 30. The arrays built and trained on
    have 30 rows (not 35) and are exactly the latest 30 of all windows, the old path's."""
    built, trained = [], {}
    real_make, real_fit = windows.make_windows, forecasters.fit_compiled

    def spy_make(*args, **kwargs):
        out = real_make(*args, **kwargs)
        built.append(out[0].shape)
        return out

    def spy_fit(model, X, y, X_val, y_val, **kwargs):
        trained.update(X=X, y=y, X_val=X_val, y_val=y_val)
        return real_fit(model, X, y, X_val, y_val, **kwargs)

    monkeypatch.setattr("lstm_lab.data.windows.make_windows", spy_make)
    monkeypatch.setattr(forecasters, "fit_compiled", spy_fit)
    kwargs = {**fast_kwargs, "validation_fraction": 0.2}
    model = cls(window=4, transform="diff", max_windows=30, **kwargs).fit(tiny_values)
    assert built == [(30, 4)]
    assert (model.n_windows_total_, model.n_windows_used_, model.n_val_) == (35, 30, 6)

    z = model.transform_.forward(tiny_values)
    scaled = np.where(np.isnan(z), 0.0, model.scaler_.transform(np.nan_to_num(z)))
    X_old, y_old = real_make(scaled, 4, 1, start=1)                 # all 35, as before
    X_kept, y_kept = X_old[-30:], y_old[-30:]
    shaped = (lambda X: X[..., None]) if cls is LSTMForecaster else (lambda X: X)
    np.testing.assert_array_equal(trained["X"], shaped(X_kept[:24]))
    np.testing.assert_array_equal(trained["y"], y_kept[:24])
    np.testing.assert_array_equal(trained["X_val"], shaped(X_kept[24:]))
    np.testing.assert_array_equal(trained["y_val"], y_kept[24:])


@requires_tf
@pytest.mark.parametrize(("cls", "strategy", "horizon"),
                         [(LSTMForecaster, "direct", 3), (MLPForecaster, "direct", 1),
                          (LSTMForecaster, "recursive", 3)])
def test_predict_runs_in_chunks_of_the_cap_with_the_numbers_of_one_call(
        cls, strategy, horizon, tiny_values, fast_kwargs, monkeypatch) -> None:
    model = cls(window=4, horizon=horizon, transform="log_diff", strategy=strategy,
                max_windows=7, **fast_kwargs).fit(tiny_values[:30])
    origins = np.arange(5, 38)                                       # 33 origins
    batches = []
    real_forward = model._forward

    def counted(X):
        batches.append(len(X))
        return real_forward(X)

    monkeypatch.setattr(model, "_forward", counted)
    chunked = model.predict(tiny_values, origins)
    steps = horizon if strategy == "recursive" else 1
    assert sorted(batches) == sorted([7, 7, 7, 7, 5] * steps)      # never more than the cap
    model.max_windows = 1000                                          # one call for all 33
    batches.clear()
    whole = model.predict(tiny_values, origins)
    assert batches == [33] * steps
    assert chunked.shape == whole.shape == (33, horizon)
    # the same numbers up to float32 rounding (the kernels block a batch of 7 unlike one of 33)
    np.testing.assert_allclose(chunked, whole, rtol=1e-6)


@requires_tf
def test_predict_without_origins_returns_an_empty_forecast(tiny_values, fast_kwargs) -> None:
    model = MLPForecaster(window=4, horizon=2, max_windows=5, **fast_kwargs).fit(tiny_values)
    assert model.predict(tiny_values, np.array([], dtype=int)).shape == (0, 2)


@requires_tf
def test_predict_stops_between_chunks_when_asked(tiny_values, fast_kwargs, monkeypatch) -> None:
    """Stop is polled between chunks, never before the first: a stopped network still forecasts
    one chunk; past it, the call ends with FitStopped and keeps nothing."""
    from lstm_lab.models.classical import FitStopped

    model = MLPForecaster(window=4, max_windows=7, **fast_kwargs).fit(tiny_values[:30])
    batches, polls = [], []
    real_forward = model._forward

    def counted(X):
        batches.append(len(X))
        return real_forward(X)

    monkeypatch.setattr(model, "_forward", counted)
    origins = np.arange(5, 38)                                       # 33 origins: 5 chunks
    assert model.predict(tiny_values, origins[:7], should_stop=lambda: True).shape == (7, 1)
    batches.clear()
    with pytest.raises(FitStopped, match=r"^MLP was stopped on request while forecasting "
                                         r"\(14 of 33 forecast origins done\)") as err:
        model.predict(tiny_values, origins, should_stop=lambda: polls.append(1) or len(polls) > 1)
    assert err.value.by_user and batches == [7, 7] and len(polls) == 2
    batches.clear()
    with pytest.raises(FitStopped, match=r"^MLP stopped at the time limit of 9 s \(X\) while "
                                         r"forecasting \(7 of 33") as err:
        model.predict(tiny_values, origins, deadline=0.0, deadline_text="the time limit of 9 s (X)")
    assert not err.value.by_user and batches == [7]


def test_model_inputs_is_what_the_keras_model_reads() -> None:
    X = np.arange(12, dtype="float32").reshape(3, 4)
    assert LSTMForecaster(window=4).model_inputs(X).shape == (3, 4, 1)
    np.testing.assert_array_equal(MLPForecaster(window=4).model_inputs(X), X)
    # with input columns beside the target: [n, window, 1 + k]; the MLP flattens each window
    wide = np.arange(36, dtype="float32").reshape(3, 4, 3)
    np.testing.assert_array_equal(LSTMForecaster(window=4).model_inputs(wide), wide)
    np.testing.assert_array_equal(MLPForecaster(window=4).model_inputs(wide),
                                  wide.reshape(3, 12))
