"""tuning="auto": which variants a network tries, how one is kept, and what a run records."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from lstm_lab.errors import TrainingError
from lstm_lab.execution.jobs import TrainingJob
from lstm_lab.experiments import export, tuning
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import estimate_work, run_experiment
from lstm_lab.store import RunStore
from tests.conftest import FAST, make_tiny_series, requires_tf

MULTI = ExperimentConfig(test_size=12, horizon=12, tuning="auto")   # tuning is off by default


# --- which variants -------------------------------------------------------------------------------

def test_a_horizon_covering_the_season_tries_two_longer_window_variants() -> None:
    configs = tuning.variants(MULTI, season=12)
    assert configs[0] == MULTI                                   # the settings as given, first
    assert [(c.window, c.units, c.mlp_units, c.transform) for c in configs[1:]] == [
        (24, 64, 64, "log_seasonal_diff"), (24, 64, 64, "log_diff")]
    plain = [(c.transform) for c in tuning.variants(MULTI, season=12, positive=False)[1:]]
    assert plain == ["seasonal_diff", "diff"]                    # no logs of non-positive data


@pytest.mark.parametrize("changes, season", [
    ({"horizon": 11}, 12),                       # the horizon does not cover the season
    ({}, 1),                                     # no season
    ({"tuning": "off"}, 12),
    ({"strategy": "recursive"}, 12),             # its validation windows are one step ahead
    ({"validation_fraction": 0.0}, 12),          # nothing to compare the variants on
    ({"models": ("naive", "holt_winters")}, 12),  # no network
])
def test_no_tuning_without_a_season_to_cover_or_a_way_to_compare(changes, season) -> None:
    config = MULTI.replace(**changes)
    assert not tuning.applies(config, season)
    assert tuning.variants(config, season) == [config]


def test_variants_keep_a_longer_given_window_and_respect_the_ranges() -> None:
    long = tuning.variants(MULTI.replace(window=36, units=1024), season=12)
    assert {(c.window, c.units) for c in long[1:]} == {(36, 1024)}
    weekly = tuning.variants(MULTI.replace(test_size=300, horizon=300, season=300), 300)
    assert weekly[1].window == 512                               # the window's maximum
    capped = MULTI.replace(window=24, units=1024, mlp_units=4096, transform="log_diff")
    same = tuning.variants(capped, 12)                           # the first-difference variant
    assert [c.transform for c in same] == ["log_diff", "log_seasonal_diff"]  # is "as set": dropped


def test_the_budget_counts_every_variant() -> None:
    one = estimate_work(MULTI.replace(tuning="off"), n_train=132, season=12)
    tuned = estimate_work(MULTI, n_train=132, season=12)
    expected = {m: sum(estimate_work(v.replace(tuning="off"), 132, 12)[m]
                       for v in tuning.variants(MULTI, 12)) for m in ("lstm", "mlp")}
    assert tuned == expected
    assert tuned["lstm"] > 3 * one["lstm"]          # the variants see longer windows, more units


# --- keeping the best variant (stand-in networks with known errors) -------------------------------

class Offset:
    """A network stand-in whose forecasts are the truth plus a fixed offset."""

    def __init__(self, offset: float, window: int = 12, transform: str = "none",
                 fail: Exception | None = None, timed_out: bool = False) -> None:
        self.offset, self.window, self.transform, self.season = offset, window, transform, 12
        self.units, self.output_steps, self.max_seconds, self.max_windows = 8, 12, None, None
        self.horizon, self.strategy = 12, "direct"                 # as NeuralForecaster
        self.validation_fraction, self.validation_windows = 0.1, None
        self.fail, self.timed_out = fail, timed_out
        self.fitted_on = None

    def fit(self, values, on_epoch=None, should_stop=None):
        if self.fail is not None:
            raise self.fail
        self.fitted_on = values
        self.n_val_ = self.validation_windows
        self.last_fit_origin = len(values) - self.output_steps - self.n_val_   # as NeuralForecaster
        self.first_origin_, self.stopped_by_user_ = self.window, False
        self.timed_out_ = self.timed_out
        self.transform_ = SimpleNamespace(kind=self.transform)
        self.history_ = {"loss": [self.offset]}
        return self

    def predict(self, values, origins):
        return np.stack([values[o:o + 12] + self.offset for o in origins])


def test_the_variant_with_the_smallest_validation_error_is_kept() -> None:
    values = np.arange(100.0)
    given, worse, best = Offset(3.0), Offset(-5.0, 24, "diff"), Offset(1.5, 24, "seasonal_diff")
    model = tuning.TunedForecaster("lstm", [given, worse, best], horizon=12).fit(values)
    assert model.chosen_ is best
    assert model.scores_ == {"as set: no transform, window 12, 8 units": pytest.approx(3.0),
                             "first difference, window 24, 8 units": pytest.approx(5.0),
                             "seasonal difference, window 24, 8 units": pytest.approx(1.5)}
    assert model.choice_ == "seasonal difference, window 24, 8 units"
    assert model.chosen_.history_ == {"loss": [1.5]}     # the kept network, through chosen_
    np.testing.assert_allclose(model.predict(values, np.array([80])), [values[80:92] + 1.5])


def test_variants_share_one_validation_boundary_and_are_scored_on_those_windows() -> None:
    seen = []

    class Recording(Offset):
        def predict(self, values, origins):
            seen.append((len(values), origins.tolist()))
            return super().predict(values, origins)

    values = np.arange(100.0)
    short, long = Recording(1.0), Recording(2.0, 36)   # 77 and 53 windows: 10% is 8 and 5
    tuning.TunedForecaster("lstm", [short, long], 12).fit(values)
    # as many as the settings as set hold out on their own (as with tuning off), for both
    assert short.validation_windows == long.validation_windows == 8
    assert short.last_fit_origin == long.last_fit_origin == 80
    assert seen == [(100, list(range(81, 89)))] * 2    # the held-out windows, nothing else


def test_ties_keep_the_settings_as_given_and_short_data_skip_variants() -> None:
    values = np.arange(40.0)
    given, long = Offset(2.0), Offset(2.0, 24)
    model = tuning.TunedForecaster("lstm", [given, long], horizon=12).fit(values)
    assert model.chosen_ is given
    assert long.fitted_on is None                   # 40 - 24 - 12 + 1 = 5 windows < 10: skipped
    assert model.skipped_ == {"no transform, window 24, 8 units": "fewer than 10 training windows"}
    assert model.scores_ == {}                      # nothing left to compare
    assert tuning.sentence("LSTM", model.summary()) == (
        "LSTM: trained as set (as set: no transform, window 12, 8 units); no other variant was "
        "trained (no transform, window 24, 8 units: fewer than 10 training windows).")
    tied = tuning.TunedForecaster("lstm", [Offset(2.0), Offset(-2.0, 24)], 12).fit(
        np.arange(100.0))
    assert tied.choice_.startswith("as set")


def test_a_failing_variant_is_skipped_and_the_settings_as_set_still_fail_loudly() -> None:
    values = np.arange(100.0)
    diverged = Offset(0.0, 24, fail=TrainingError("The LSTM diverged"))
    model = tuning.TunedForecaster("lstm", [Offset(2.0), diverged], 12).fit(values)
    assert model.choice_.startswith("as set")
    assert model.skipped_ == {"no transform, window 24, 8 units": "The LSTM diverged"}
    with pytest.raises(TrainingError):
        tuning.TunedForecaster("lstm", [Offset(0.0, fail=TrainingError("x")), Offset(1.0, 24)],
                               12).fit(values)


def test_the_time_limit_ends_tuning_and_nan_scores_are_never_kept() -> None:
    values = np.arange(100.0)
    late = Offset(1.0, 24)
    model = tuning.TunedForecaster("lstm", [Offset(2.0, timed_out=True), late], 12).fit(values)
    assert late.fitted_on is None
    assert model.skipped_ == {"no transform, window 24, 8 units":
                              "the training time limit was reached"}
    broken = tuning.TunedForecaster("lstm", [Offset(np.nan), Offset(5.0, 24)], 12).fit(values)
    assert broken.choice_ == "no transform, window 24, 8 units"


def test_a_variant_equal_to_the_settings_as_set_is_not_trained_twice() -> None:
    twin = Offset(1.0)
    model = tuning.TunedForecaster("lstm", [Offset(2.0), twin], 12).fit(np.arange(100.0))
    assert twin.fitted_on is None
    assert model.skipped_ == {"no transform, window 12, 8 units":
                              "the same network as the settings as set"}


# --- a real run ------------------------------------------------------------------------------------

@requires_tf
def test_a_tuned_run_records_its_choice_and_forecasts_with_it(tmp_path) -> None:
    series = make_tiny_series(10 + np.sin(np.arange(72) * 2 * np.pi / 12) + 0.05 * np.arange(72))
    config = ExperimentConfig(test_size=12, horizon=12, **{**FAST, "validation_fraction": 0.2},
                              tuning="auto", models=("lstm", "naive"))
    result = run_experiment(config, series)
    info = result.tuning["lstm"]
    assert len(info["scores"]) == 3
    assert info["chosen"] == min(info["scores"], key=info["scores"].get)
    model = result.forecasters["lstm"]
    held_out = {m.n_val_ for m in model.candidates}
    assert len(held_out) == 1 and held_out.pop() >= 1    # one validation boundary for all three
    plain = run_experiment(config.replace(tuning="off"), series)   # "as set" = the untuned run
    np.testing.assert_allclose(
        model.candidates[0].predict(series.values, np.array([60])),
        plain.forecasters["lstm"].predict(series.values, np.array([60])), rtol=1e-6)
    assert (info["window"], info["units"], info["transform"]) == (
        model.window, model.units, model.transform_.kind)
    forecast = model.chosen_.predict(series.values, np.array([60]))[0]
    np.testing.assert_allclose(result.predictions["lstm"].to_numpy()[60:], forecast)
    assert result.network_config("lstm").window == info["window"]
    assert result.transform == info["transform"]
    assert type(result).from_dict(result.to_dict()).tuning == result.tuning
    exported = json.loads(export.metrics_json(result))    # the download names the kept variant
    assert exported["tuning"]["lstm"]["chosen"] == info["chosen"]
    assert exported["transform"] == info["transform"]
    one_step = run_experiment(config.replace(horizon=1), series)
    assert one_step.tuning == {}                       # a horizon below the season: no tuning

    # saved and reloaded, the run keeps its record and the network it kept
    store = RunStore(tmp_path / "runs.sqlite3")
    loaded = store.load_run(store.save_run(result, "a" * 32), "a" * 32)
    assert loaded.tuning == result.tuning
    np.testing.assert_allclose(loaded.forecasters["lstm"].predict(series.values, np.array([60])),
                               [forecast], rtol=1e-6)


def test_live_progress_follows_each_variant() -> None:
    from lstm_lab.models.base import EpochInfo

    job = TrainingJob(MULTI.replace(models=("lstm",), epochs=10), make_tiny_series())
    shares = []
    for index in range(3):
        for epoch in range(1, 11):
            job.on_epoch(EpochInfo("lstm", epoch, 10, 1.0, None, f"variant {index}", index, 3))
            shares.append(job.progress())
        assert len(job.live_histories()["lstm"]["loss"]) == 10   # this variant's epochs only
    assert shares == sorted(shares) and shares[-1] == pytest.approx(0.99)
    assert shares[9] == pytest.approx(1 / 3)
    assert (job.current_variant, job.variant_index, job.variants) == ("variant 2", 2, 3)


@requires_tf
def test_backtest_folds_and_forecasts_ahead_say_what_tuning_kept() -> None:
    from lstm_lab.experiments.evaluation import forecast_future, run_backtest

    series = make_tiny_series(10 + np.sin(np.arange(72) * 2 * np.pi / 12) + 0.05 * np.arange(72))
    config = ExperimentConfig(test_size=12, horizon=12, **{**FAST, "validation_fraction": 0.2},
                              tuning="auto", models=("lstm",))
    backtest = run_backtest(config, series, folds=2)
    for fold in backtest.folds:
        assert set(fold["tuning"]) == {"lstm"}
        assert fold["tuning"]["lstm"].startswith(("as set", "seasonal", "first"))
    future = forecast_future(config, series, 12)
    assert set(future.tuning) == {"lstm"}
    info = future.tuning["lstm"]
    assert info["chosen"] == min(info["scores"], key=info["scores"].get)
