"""Limits that protect a shared server: compute budget, window cap, wall-clock cap."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from lstm_lab.data.series import Series
from lstm_lab.errors import ConfigError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import (
    affordable_members,
    check_budget,
    estimate_work,
    preflight,
    run_experiment,
)
from lstm_lab.limits import Limits
from tests.conftest import FAST, make_tiny_series, make_tiny_values, requires_tf


def test_work_counts_weights_steps_windows_and_epochs() -> None:
    config = ExperimentConfig(window=12, units=32, mlp_units=32, epochs=200,
                              validation_fraction=0.0, transform="none", members=1,
                              intervals=())
    work = estimate_work(config, n_train=120, season=12, limits=Limits())
    windows = 120 - 12 - 1 + 1
    assert work["lstm"] == (4 * 32 * (1 + 32 + 1) + 33) * 12 * windows * 200
    assert work["mlp"] == (12 * 32 + 32 + 33) * windows * 200
    # an ensemble of 3: the batched LSTM works each member's weights once, the MLP is one
    # model 3 x as wide (3 x 32 units, 3 outputs)
    ensemble = estimate_work(config.replace(members=3), n_train=120, season=12, limits=Limits())
    assert ensemble["lstm"] == 3 * work["lstm"]
    assert ensemble["mlp"] == (12 * 96 + 96 + 96 * 3 + 3) * windows * 200


def test_prediction_intervals_add_the_calibration_copy_s_training_and_forecasts() -> None:
    """With intervals each network also trains on the head of the training part (all but the
    last max(horizon + 18, 20%) points) and forecasts every origin of that tail."""
    plain = ExperimentConfig(window=12, epochs=200, validation_fraction=0.0, transform="none",
                             members=1, intervals=())
    calibrated = plain.replace(intervals=(0.8, 0.95))
    base = estimate_work(plain, n_train=120, season=12, limits=Limits())
    more = estimate_work(calibrated, n_train=120, season=12, limits=Limits())
    head_windows, windows = (120 - 24) - 12 - 1 + 1, 120 - 12 - 1 + 1     # tail: 24 points
    for model in ("lstm", "mlp"):
        per_window = base[model] / (windows * 200)
        assert more[model] - base[model] == per_window * head_windows * 200
    forecasting = estimate_work(calibrated, 120, 12, Limits(), n_points=144)["mlp"] - more["mlp"]
    plain_forecasting = estimate_work(plain, 120, 12, Limits(), n_points=144)["mlp"] - base["mlp"]
    assert forecasting > plain_forecasting                     # + 24 calibration origins


def test_default_experiment_is_well_within_the_budget() -> None:
    """Each network of the default ensemble is well within the budget, and the whole default
    ensemble is trained (not cut to fewer members)."""
    config = ExperimentConfig()
    lone = config.replace(members=1)
    assert max(estimate_work(lone, 120, 12, Limits()).values()) < Limits().max_work / 50
    assert affordable_members(config, 120, 12, Limits(), n_points=144) == config.members


def test_a_huge_run_is_refused_before_training_naming_the_knobs() -> None:
    config = ExperimentConfig(units=1024, epochs=5000, members=1, intervals=())
    with pytest.raises(ConfigError) as info:
        check_budget(config, n_train=120, season=12, limits=Limits())
    message = str(info.value)
    assert message.startswith("This run is too big for this server: the LSTM needs about 24 "
                              "trillion weight updates")
    assert "LSTM_LAB_MAX_WORK" in message and "units 1024" in message


def test_a_long_run_is_refused_with_the_epochs_that_would_fit() -> None:
    config = ExperimentConfig(epochs=5000, transform="log_diff", members=1, intervals=())
    with pytest.raises(ConfigError, match=r"Lower epochs to at most 3,959 \(now 5,000\)"):
        check_budget(config, 120, 12, Limits(max_work=20_000_000_000))


def test_long_series_train_on_the_most_recent_windows(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_TRAIN_WINDOWS", "10")
    config = ExperimentConfig(window=4, test_size=6, models=("mlp", "naive"), **FAST)
    result = run_experiment(config, make_tiny_series())
    model = result.forecasters["mlp"]
    assert model.n_windows_used_ == 10 and model.n_windows_total_ > 10
    assert result.notes == [f"{result.label('mlp')} trained on the most recent 10 of "
                            f"{model.n_windows_total_} windows (LSTM_LAB_MAX_TRAIN_WINDOWS).",
                            IN_SAMPLE_NOTE]


def test_a_limit_note_names_the_network_as_the_run_does(monkeypatch) -> None:
    """With 42 training points (3 seasons of 12) auto picks the ES hybrid: the note says
    "ES-MLP (3 seeds)" as the table does, not the config's "MLP (3 seeds)"."""
    monkeypatch.setenv("LSTM_LAB_MAX_TRAIN_WINDOWS", "10")
    config = ExperimentConfig(window=4, test_size=6, models=("mlp",), **FAST)
    result = run_experiment(config, make_tiny_series(make_tiny_values(48)))
    assert result.transform == "log_es" and result.label("mlp").startswith("ES-MLP")
    assert result.notes[0].startswith(f"{result.label('mlp')} trained on the most recent 10 of ")


# the naive model forecasts the 34 training points from origins 1..33
IN_SAMPLE_NOTE = ("The fit on the training part is drawn from the most recent 10 of 33 forecast "
                  "origins (LSTM_LAB_MAX_TRAIN_WINDOWS); earlier training points show no fitted "
                  "values.")


def test_the_fit_on_the_training_part_is_drawn_from_the_most_recent_origins_only(
        monkeypatch) -> None:
    config = ExperimentConfig(test_size=6, models=("naive",))
    whole = run_experiment(config, make_tiny_series())
    assert whole.notes == []
    assert np.isfinite(whole.predictions["naive"][:34]).sum() == 33
    monkeypatch.setenv("LSTM_LAB_MAX_TRAIN_WINDOWS", "10")
    capped = run_experiment(config, make_tiny_series())
    assert capped.notes == [IN_SAMPLE_NOTE]
    column, full = capped.predictions["naive"].to_numpy(), whole.predictions["naive"].to_numpy()
    assert np.isnan(column[:24]).all()                          # the earlier origins: none
    np.testing.assert_array_equal(column[24:], full[24:])       # the rest: the same numbers


def test_training_stops_at_the_wall_clock_cap_and_says_so(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_TRAIN_SECONDS", "1")
    config = ExperimentConfig(window=4, test_size=6, models=("mlp",),
                              **{**FAST, "epochs": 5000})
    result = run_experiment(config, make_tiny_series())
    assert result.epochs_run["mlp"] < 5000
    note, no_interval = result.notes
    assert note.startswith(f"{result.label('mlp')} stopped at the time limit of 1 s "
                           "(LSTM_LAB_MAX_TRAIN_SECONDS)")
    # the time is spent: no calibration copy is trained past it, and the result says so
    assert no_interval == (f"{result.label('mlp')}: no prediction interval, because its "
                           "calibration was cut short. The run's time limit of 1 s "
                           "(LSTM_LAB_MAX_TRAIN_SECONDS) was reached first.")
    assert "mlp" not in result.intervals


def test_a_constant_series_is_refused_honestly() -> None:
    import numpy as np

    from lstm_lab.errors import DataError

    series = make_tiny_series(np.full(40, 5.0), name="flat")
    with pytest.raises(DataError, match=r"The training part of 'flat' is constant \(all 34 "
                                        r"values are 5\): there is nothing to learn"):
        run_experiment(ExperimentConfig(window=4, test_size=6, models=("naive",)), series)


# --- the size of a network: max_weights -----------------------------------------------------------

HUGE = ExperimentConfig(architecture="bilstm", layers=8, units=1024, mlp_layers=8, mlp_units=4096,
                        window=4, test_size=6, epochs=3, tuning="off", members=1)


def test_a_huge_network_on_a_tiny_series_passes_the_work_budget_but_not_the_size_cap() -> None:
    """The issue's case: a BiLSTM of 8 x 1024 units and an MLP of 8 x 4096 on 40 points is
    little work (few windows, 3 epochs) but ~300M weights; preflight refuses it by size."""
    from lstm_lab.experiments.training import count_weights, preflight

    assert max(estimate_work(HUGE, 34, 12, Limits()).values()) < Limits().max_work
    assert count_weights(HUGE, 12) == {"lstm": 184_625_153, "mlp": 117_493_761}
    with pytest.raises(ConfigError) as info:
        preflight(HUGE, make_tiny_series(), Limits())
    assert str(info.value) == (
        "This network is too big for this server: the BiLSTM ×8 (8 layers of 1,024 units) would "
        "have 184,625,153 weights, and one network may have at most 5,000,000 (set by "
        "LSTM_LAB_MAX_WEIGHTS). At 8 layers, units of at most 168 would fit (now 1,024).")


def test_an_oversized_mlp_is_refused_naming_the_mlp_units_that_fit() -> None:
    with pytest.raises(ConfigError) as info:
        check_budget(HUGE.replace(units=32), 34, 12, Limits())
    assert str(info.value) == (
        "This network is too big for this server: the MLP (8 layers of 4,096 units) would have "
        "117,493,761 weights, and one network may have at most 5,000,000 (set by "
        "LSTM_LAB_MAX_WEIGHTS). At 8 layers, MLP units of at most 844 would fit (now 4,096).")


@pytest.mark.parametrize(("model", "field", "fits"), [("lstm", "units", 168),
                                                     ("mlp", "mlp_units", 844)])
def test_the_units_named_are_the_largest_that_fit(model, field, fits) -> None:
    from lstm_lab.experiments.training import count_weights

    small = HUGE.replace(units=32, mlp_units=32)
    assert count_weights(small.replace(**{field: fits}), 12)[model] <= 5_000_000
    assert count_weights(small.replace(**{field: fits + 1}), 12)[model] > 5_000_000
    check_budget(small.replace(**{field: fits}), 34, 12, Limits())          # not refused


def test_weights_count_every_tuning_variant_and_tuning_off_is_offered() -> None:
    """tuning=auto also trains each network with twice the units: 100 units as set fit a cap of
    50,000 weights, the 200-unit variant does not."""
    config = ExperimentConfig(horizon=12, test_size=12, units=100, members=1, tuning="auto")
    limits = Limits(max_weights=50_000)
    check_budget(config.replace(tuning="off"), 132, 12, limits)
    with pytest.raises(ConfigError) as info:
        check_budget(config, 132, 12, limits)
    assert str(info.value) == (
        "This network is too big for this server: the LSTM (1 layer of 200 units, window 24: the "
        "variant tuning=auto also trains, with twice the units) would have 164,012 weights, and "
        "one network may have at most 50,000 (set by LSTM_LAB_MAX_WEIGHTS). At 1 layer, units "
        "of at most 54 would fit (now 100), or set tuning to off (it trains a variant with "
        "twice the units).")


def test_when_not_one_unit_fits_the_message_says_what_else_to_change() -> None:
    config = ExperimentConfig(window=4, test_size=6, layers=3, tuning="off", models=("lstm",))
    with pytest.raises(ConfigError, match=r"at most 20 \(set by LSTM_LAB_MAX_WEIGHTS\)\. Not "
                                          r"even 1 unit fits at 3 layers: use fewer layers\.$"):
        check_budget(config, 34, 12, Limits(max_weights=20))
    with pytest.raises(ConfigError, match=r"Not even 1 unit fits: ask for a higher "
                                          r"LSTM_LAB_MAX_WEIGHTS\.$"):
        check_budget(config.replace(layers=1), 34, 12, Limits(max_weights=5))


@requires_tf
@pytest.mark.parametrize("architecture", ["lstm", "gru", "bilstm", "cnn_lstm", "encoder_decoder"])
@pytest.mark.parametrize("strategy", ["direct", "recursive"])
@pytest.mark.parametrize("members", [None, 1])          # None: the default ensemble size
def test_count_weights_is_what_keras_builds(architecture, strategy, members) -> None:
    """An ensemble's count is its wide model's (the one Keras model a run keeps), built as the
    forecasters build it; bilstm, cnn_lstm and encoder_decoder build one network."""
    from lstm_lab.experiments.training import count_weights
    from lstm_lab.models.architectures import build, ensemble_size
    from lstm_lab.models.networks import build_mlp

    config = ExperimentConfig(architecture=architecture, strategy=strategy, window=8, horizon=3,
                              layers=2, units=5, mlp_layers=2, mlp_units=6, tuning="off")
    if members is not None:
        config = config.replace(members=members)
    k = config.members
    steps = 1 if strategy == "recursive" else 3
    assert count_weights(config, 12) == {
        "lstm": build(architecture, 8, steps, 2, 5,
                      members=ensemble_size(architecture, k)).count_params(),
        "mlp": build_mlp(8, steps, 2, 6, members=k).count_params()}


def test_an_oversized_run_is_refused_before_any_training(monkeypatch) -> None:
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr("lstm_lab.models.neural.fit_compiled", no_training)
    monkeypatch.setenv("LSTM_LAB_MAX_WEIGHTS", "100")
    config = ExperimentConfig(window=4, test_size=6, models=("naive", "mlp"), **FAST)
    with pytest.raises(ConfigError, match=r"the MLP \(1 layer of 40 units\) would have 241 "
                                          r"weights, .* at most 100 .* at most 16 would fit"):
        run_experiment(config.replace(mlp_units=40), make_tiny_series())


# --- forecasting counts in the budget ------------------------------------------------------------
def long_sine(n: int = 100_000) -> Series:
    return Series(2 + np.sin(np.arange(n) * 2 * np.pi / 50), pd.RangeIndex(n), name="sine")


def test_work_counts_the_forecasts_a_third_of_a_training_step_each() -> None:
    config = ExperimentConfig(window=12, units=32, mlp_units=32, epochs=200,
                              validation_fraction=0.0, transform="none", tuning="off", members=1,
                              intervals=())
    trained = estimate_work(config, n_train=120, season=12, limits=Limits())
    work = estimate_work(config, n_train=120, season=12, limits=Limits(), n_points=144)
    origins = (120 - 12) + 24                      # in the training part, then the test part
    lstm, mlp = 4 * 32 * (1 + 32 + 1) + 33, 12 * 32 + 32 + 33
    assert work["lstm"] - trained["lstm"] == -(-lstm * 12 * origins // 3)
    assert work["mlp"] - trained["mlp"] == -(-mlp * origins // 3)
    # at most max_train_windows origins in the training part
    capped = estimate_work(config, 120, 12, Limits(max_train_windows=10), n_points=144)
    trained = estimate_work(config, 120, 12, Limits(max_train_windows=10))
    assert capped["mlp"] - trained["mlp"] == -(-mlp * (10 + 24) // 3)


def test_a_run_whose_forecasts_are_over_the_budget_is_refused_before_training(
        monkeypatch) -> None:
    """100,000 points, 99,000 held out: training sees ~500 windows and fits the budget, but
    forecasting 99,000 windows of 512 steps with 2 x 128 units is ~30 times over it."""
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr("lstm_lab.models.neural.fit_compiled", no_training)
    config = ExperimentConfig(test_size=99_000, window=512, layers=2, units=128, epochs=1,
                              models=("naive", "lstm"), intervals=())
    with pytest.raises(ConfigError) as info:
        run_experiment(config, long_sine())
    message = str(info.value)
    assert message.startswith("This run is too big for this server: forecasting 99,000 test "
                              "points with the LSTM ×2 adds about 3.4 trillion to the 45 billion its "
                              "training needs")
    assert "the budget is 100 billion (set by LSTM_LAB_MAX_WORK)" in message
    # a shorter test part leaves a longer training part: 5,000 windows are over the budget too
    assert message.endswith("No test size fits beside its training: make the network smaller "
                            "(now units 128, layers 2, window 512).")


def test_the_test_size_named_fits_and_twice_it_does_not() -> None:
    limits = Limits(max_work=1_000_000_000)
    config = ExperimentConfig(test_size=99_000, window=24, units=32, epochs=1,
                              models=("naive", "lstm"), intervals=())
    series = long_sine()
    with pytest.raises(ConfigError, match=r"A test size of at most [\d,]+ points would fit "
                                          r"\(now 99,000\), or make the network smaller\.$") as info:
        preflight(config, series, limits)
    fits = int(re.search(r"at most ([\d,]+) points", str(info.value)).group(1).replace(",", ""))
    assert 1_000 < fits < 99_000
    assert preflight(config.replace(test_size=float(fits)), series, limits) == \
        (100_000 - fits, 50)   # the season is found in the values
    with pytest.raises(ConfigError, match="forecasting"):
        preflight(config.replace(test_size=float(2 * fits)), series, limits)
