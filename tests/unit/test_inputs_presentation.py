"""How the networks present an input column (#19): a wandering input is read as its changes,
a stationary one as its levels, decided on the training part alone."""

from __future__ import annotations

import numpy as np

from lstm_lab.models.neural import LSTMForecaster, wanders


def test_a_random_walk_wanders_and_white_noise_does_not() -> None:
    rng = np.random.default_rng(3)
    assert wanders(np.cumsum(rng.normal(size=300)))
    assert not wanders(rng.normal(size=300))
    assert not wanders(np.full(50, 2.0))          # constant: nothing to difference
    assert not wanders(rng.normal(size=8))        # too short to test


def _fitted(inputs: np.ndarray, n_train: int) -> LSTMForecaster:
    rng = np.random.default_rng(0)
    target = 10 + rng.normal(size=len(inputs))
    model = LSTMForecaster(window=4, units=4, epochs=1, transform="none", inputs=inputs)
    return model.fit(target[:n_train])


def test_a_wandering_input_is_read_as_its_changes_scaled_on_the_training_part() -> None:
    rng = np.random.default_rng(1)
    walk = np.cumsum(rng.normal(size=200))
    noise = rng.normal(size=200)
    model = _fitted(np.column_stack([walk, noise]), n_train=150)
    assert model.input_diff_ == [True, False]
    steps = np.diff(walk[:150])
    assert np.isclose(model.input_mean_[0], steps.mean())
    assert np.isclose(model.input_scale_[0], steps.std())
    assert np.isclose(model.input_mean_[1], noise[1:150].mean())
    # the window before origin 160 holds the walk's changes at rows 156..159, standardised
    X = model.with_inputs(np.zeros((1, 4), dtype="float32"), np.array([160]))
    expected = (walk[156:160] - walk[155:159] - steps.mean()) / steps.std()
    assert np.allclose(X[0, :, 1], expected, atol=1e-5)
    assert np.allclose(X[0, :, 2], (noise[156:160] - model.input_mean_[1]) /
                       model.input_scale_[1], atol=1e-5)


def test_the_test_part_of_an_input_does_not_change_how_it_is_presented() -> None:
    rng = np.random.default_rng(2)
    walk = np.cumsum(rng.normal(size=200))
    other = walk.copy()
    other[150:] = 1000 + rng.normal(size=50)      # a test part unlike the training part
    a, b = _fitted(walk[:, None], 150), _fitted(other[:, None], 150)
    assert a.input_diff_ == b.input_diff_
    assert a.input_mean_ == b.input_mean_ and a.input_scale_ == b.input_scale_


def test_inside_the_lstm_of_a_run_with_inputs_needs_and_uses_their_values() -> None:
    import pytest

    from lstm_lab.errors import DataError
    from lstm_lab.experiments.config import ExperimentConfig
    from lstm_lab.experiments.sources import load_series
    from lstm_lab.experiments.training import run_experiment
    from lstm_lab.lessons.experiments import inside_lstm, inside_task_params

    cfg = ExperimentConfig(dataset="us_change", inputs=("Income", "Production"), epochs=2,
                           units=4, members=1, intervals=(), models=("lstm", "naive"),
                           patience=0, transform="none")
    series = load_series(cfg)
    result = run_experiment(cfg, series)
    with pytest.raises(DataError, match="reads Income, Production beside the target"):
        inside_task_params(result, result.n_train, None)
    with pytest.raises(DataError, match="on the Data page"):   # other data: refused too
        inside_task_params(result, result.n_train, None, series=series.target_only())
    params = inside_task_params(result, result.n_train, None, series=series)
    assert len(params["inputs"]) == len(series) and len(params["inputs"][0]) == 2
    batch = inside_lstm(**params)
    assert result.n_train in [int(o) for o in batch["origins"]]
    assert batch["window"] == cfg.window
