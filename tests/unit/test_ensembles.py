"""Ensembles (issue #15): K networks side by side in one plain Keras model, their members'
forecasts combined by the median or the mean, the spread they show, and their cost."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import count_weights, run_experiment
from lstm_lab.models.architectures import count_params
from lstm_lab.models.networks import mlp_params
from lstm_lab.models.neural import combine_members
from tests.conftest import FAST, make_tiny_series, requires_tf

pytestmark = requires_tf

WINDOW, HORIZON, UNITS, K = 6, 3, 5, 3
FAST_NET = dict(epochs=3, batch_size=8, units=4, patience=0, validation_fraction=0.0)


def _windows(n: int = 7, features: bool = True) -> np.ndarray:
    X = np.random.default_rng(1).normal(size=(n, WINDOW)).astype("float32")
    return X[..., None] if features else X


def _out(model, X) -> np.ndarray:
    return np.asarray(model(X, training=False))


# --- combining ----------------------------------------------------------------------------------

def test_combining_one_member_gives_that_member() -> None:
    one = np.random.default_rng(0).normal(size=(5, 1, 4))
    for how in ("median", "mean"):
        np.testing.assert_array_equal(combine_members(one, how), one[:, 0, :])


def test_combining_takes_the_median_or_the_mean_of_the_members() -> None:
    members = np.array([[[1.0, 10.0], [2.0, 20.0], [9.0, 90.0]]])        # [1, 3, 2]
    np.testing.assert_array_equal(combine_members(members, "median"), [[2.0, 20.0]])
    np.testing.assert_array_equal(combine_members(members, "mean"), [[4.0, 40.0]])


@pytest.fixture(scope="module")
def fitted_ensemble():
    from lstm_lab.models.neural import LSTMForecaster

    values = make_tiny_series().values
    model = LSTMForecaster(window=4, horizon=2, members=K, combine="mean", seed=3,
                           **{**FAST_NET, "epochs": 3}).fit(values[:34])
    return model, values



def test_members_differ_and_combine_as_configured(fitted_ensemble) -> None:
    model, values = fitted_ensemble
    origins = np.arange(34, 39)
    members = model.predict_members(values, origins)
    assert members.shape == (5, K, 2)
    for a in range(K):                  # every member forecasts differently from the others
        for b in range(a + 1, K):
            assert not np.allclose(members[:, a], members[:, b])
    np.testing.assert_allclose(model.predict(values, origins), members.mean(axis=1), rtol=1e-12)
    model.combine = "median"
    try:
        median = model.predict(values, origins)
    finally:
        model.combine = "mean"
    np.testing.assert_allclose(median, np.median(members, axis=1), rtol=1e-12)
    assert not np.allclose(median, members.mean(axis=1))        # the choice matters


def test_a_fresh_ensembles_members_start_from_different_weights() -> None:
    from lstm_lab.models.networks import build_lstm

    model = build_lstm(WINDOW, HORIZON, units=UNITS, seed=0, members=K)
    kernel = model.get_layer("lstm_1").get_weights()[0]              # [1, 4 * K * units]
    blocks = kernel[:, :K * UNITS].reshape(1, K, UNITS)              # the input gate, per member
    for a in range(K):
        for b in range(a + 1, K):
            assert not np.allclose(blocks[:, a], blocks[:, b])


# --- ensembles.py equivalences ------------------------------------------------------------------

@pytest.mark.parametrize("layers", [1, 2])
def test_batched_weights_give_the_wide_models_outputs(layers) -> None:
    from lstm_lab.models.ensembles import wide_weights
    from lstm_lab.models.networks import build_batched_lstm, build_lstm

    batched = build_batched_lstm(WINDOW, HORIZON, layers, UNITS, 0.0, 1e-3, 4, K)
    rng = np.random.default_rng(layers)   # as training would leave them: no longer the start
    batched.set_weights([w + rng.normal(0, 0.3, w.shape).astype("float32")
                         for w in batched.get_weights()])
    wide = build_lstm(WINDOW, HORIZON, layers=layers, units=UNITS, seed=4, members=K)
    wide.set_weights(wide_weights(batched))
    X = _windows()
    expected = _out(batched, X)
    assert expected.shape == (7, K, HORIZON)
    np.testing.assert_allclose(_out(wide, X), expected, atol=1e-5)


@pytest.mark.parametrize("kind,layers", [("LSTM", 1), ("LSTM", 2), ("GRU", 2), ("MLP", 2)])
def test_each_member_of_a_fresh_ensemble_is_the_lone_network_of_its_seed(kind, layers) -> None:
    from lstm_lab.models.ensembles import member_seed
    from lstm_lab.models.networks import build_mlp, build_stacked

    def make(seed: int, members: int):
        if kind == "MLP":
            return build_mlp(WINDOW, HORIZON, layers, UNITS, seed=seed, members=members)
        return build_stacked(kind, WINDOW, HORIZON, layers, UNITS, 0.0, 1e-3, 1, seed, members)

    X = _windows(features=kind != "MLP")
    ensemble = _out(make(5, K), X)                                   # [7, K, horizon]
    assert ensemble.shape == (7, K, HORIZON)
    for k in range(K):
        lone = _out(make(member_seed(5, k), 1), X)                  # [7, horizon]
        np.testing.assert_allclose(ensemble[:, k], lone, atol=1e-5)


def test_plain_copy_holds_only_keras_classes_and_predicts_the_same() -> None:
    import keras

    from lstm_lab.models.ensembles import plain_copy
    from lstm_lab.models.networks import build_lstm

    model = build_lstm(WINDOW, HORIZON, layers=2, units=UNITS, seed=0, members=K)
    config = json.dumps(model.get_config())
    assert "MemberBlocks" in config and "MemberInit" in config       # what the copy must drop
    copy = plain_copy(model)
    text = json.dumps(copy.get_config())
    assert "MemberBlocks" not in text and "MemberInit" not in text
    assert all(type(layer).__module__.startswith("keras.") for layer in copy.layers)
    for layer in copy.layers:
        for attr in ("kernel_constraint", "recurrent_constraint"):
            assert getattr(layer, attr, None) is None
    restored = keras.Model.from_config(json.loads(text))      # loads with no lab class known
    restored.set_weights(copy.get_weights())
    X = _windows()
    np.testing.assert_array_equal(_out(copy, X), _out(model, X))
    np.testing.assert_array_equal(_out(restored, X), _out(model, X))


def test_member_blocks_keep_cross_member_weights_at_zero_while_training() -> None:
    from lstm_lab.models.ensembles import block_mask
    from lstm_lab.models.fitting import fit_compiled
    from lstm_lab.models.networks import build_stacked

    model = build_stacked("GRU", WINDOW, HORIZON, 2, UNITS, 0.0, 0.05, 1, 0, K)
    X = _windows(40)
    y = np.random.default_rng(2).normal(size=(40, K, HORIZON)).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    fit_compiled(model, X, y, None, None, epochs=3, batch_size=8, patience=0, seed=0)
    checked = 0
    for layer, gates in (("gru_2", 3), ("forecast", 1)):
        weights = model.get_layer(layer).get_weights()
        kernels = [weights[0]] + ([weights[1]] if layer.startswith("gru") else [])
        for kernel in kernels:
            mask = block_mask(kernel.shape, K, gates, wide_input=True)
            assert (mask == 0).any()
            assert np.all(kernel[mask == 0] == 0.0)                    # exactly zero
            assert not np.allclose(kernel[mask == 1], 0.0)
            checked += 1
    rec = model.get_layer("gru_1").get_weights()[1]
    mask = block_mask(rec.shape, K, 3, wide_input=True)
    assert np.all(rec[mask == 0] == 0.0)
    assert checked == 3
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


# --- run_experiment -----------------------------------------------------------------------------

def _config(**changes) -> ExperimentConfig:
    return ExperimentConfig(**{**FAST, "window": 4, "test_size": 6, "horizon": 2,
                               "models": ("lstm", "mlp"), "tuning": "off", "members": K,
                               **changes})


@pytest.fixture(scope="module")
def runs():
    series = make_tiny_series()
    return {"a": run_experiment(_config(), series), "again": run_experiment(_config(), series),
            "seed 1": run_experiment(_config(seed=1), series),
            "one": run_experiment(_config(members=1), series)}


def test_the_same_config_and_seed_give_the_same_ensemble(runs) -> None:
    a, again, other = runs["a"], runs["again"], runs["seed 1"]
    for model in ("lstm", "mlp"):
        np.testing.assert_array_equal(a.predictions[model], again.predictions[model])
        for side in ("low", "high"):
            np.testing.assert_array_equal(a.spread[model][side], again.spread[model][side])
        test = a.predictions["split"] == "test"
        assert not np.allclose(a.predictions[model][test], other.predictions[model][test])
        assert not np.allclose(a.spread[model]["low"][test], other.spread[model]["low"][test])


def test_the_spread_brackets_the_ensembles_forecast(runs) -> None:
    result = runs["a"]
    for model in ("lstm", "mlp"):
        pred = result.predictions[model].to_numpy()
        low, high = result.spread[model]["low"], result.spread[model]["high"]
        assert low.shape == high.shape == pred.shape
        made = ~np.isnan(pred)
        assert made[-6:].all() and made.sum() > 6
        np.testing.assert_array_equal(np.isnan(low), ~made)
        assert np.all(low[made] <= pred[made] + 1e-9) and np.all(pred[made] <= high[made] + 1e-9)
        assert np.all(high[made] - low[made] > 0)                  # the members disagree
        assert "seeds" in result.label(model) and "(3 seeds)" in result.label(model)


def test_a_single_network_has_no_spread(runs) -> None:
    result = runs["one"]
    assert result.spread == {}
    assert "seeds" not in result.label("lstm") and "seeds" not in result.label("mlp")
    assert result.forecasters["lstm"].members == 1


def test_a_bilstm_trains_one_network_even_when_members_are_asked_for() -> None:
    result = run_experiment(_config(architecture="bilstm", models=("lstm",)), make_tiny_series())
    assert result.config.members == K
    assert result.forecasters["lstm"].members == 1
    assert "lstm" not in result.spread
    assert "seeds" not in result.label("lstm") and "BiLSTM" in result.label("lstm")
    assert result.forecasters["lstm"].predict_members(make_tiny_series().values,
                                                      np.arange(34, 38)).shape == (4, 1, 2)


def test_the_weight_cap_counts_every_member() -> None:
    one = count_weights(_config(members=1), 12)
    three = count_weights(_config(members=3), 12)
    five = count_weights(_config(members=5), 12)
    assert one["lstm"] < three["lstm"] < five["lstm"]
    assert one["mlp"] < three["mlp"] < five["mlp"]
    assert three["lstm"] == count_params("lstm", 4, 2 * 3, 1, FAST["units"] * 3)
    assert three["mlp"] == mlp_params(1, 4, FAST["mlp_units"] * 3, 1, 2 * 3)
    bilstm = [count_weights(_config(members=m, architecture="bilstm"), 12)["lstm"]
              for m in (1, 3)]
    assert bilstm[0] == bilstm[1]                    # one network, whatever members says


def test_an_ensembles_weights_match_what_its_network_holds(runs) -> None:
    result = runs["a"]
    expected = count_weights(result.config, result.season)
    for model in ("lstm", "mlp"):
        assert result.forecasters[model].model_.count_params() == expected[model]
        assert result.n_params[model] == expected[model]
