"""Sweeps: grid parsing and expansion, the budget check, running through the queue, and the
figures over many runs. Runs use the naive models (no TensorFlow) unless marked otherwise."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from lstm_lab.errors import ConfigError, TrainingError
from lstm_lab.execution.jobs import DONE, JobRunner
from lstm_lab.experiments import sweep
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.sweep import (
    FAILED,
    INVALID,
    OK,
    OVER_BUDGET,
    SKIPPED,
    STOPPED,
    SweepResult,
    expand_grid,
    grid_size,
    parse_grid,
    parse_values,
    plan_sweep,
    run_sweep,
)
from lstm_lab.experiments.training import estimate_work, run_experiment
from lstm_lab.limits import Limits
from lstm_lab.store import RunStore
from tests.conftest import FAST, make_tiny_series, requires_tf

NAIVE = ("naive", "seasonal_naive")
OWNER = "c" * 32
ISSUE_GRID = {"window": "6,12,24", "layers": "1,2,3", "units": "16,32,64"}


@pytest.fixture
def series():
    return make_tiny_series()


@pytest.fixture
def base() -> ExperimentConfig:
    return ExperimentConfig(window=4, test_size=6, models=NAIVE, **FAST)


@pytest.fixture
def air():
    from lstm_lab.data.datasets import load_air_passengers

    return load_air_passengers()


# --- grids -------------------------------------------------------------------------------------

def test_parse_values_types_checks_and_dedupes() -> None:
    assert parse_values("window", " 6, 12,24 ,12") == (6, 12, 24)
    assert parse_values("learning_rate", "0.001,3e-3") == (0.001, 0.003)
    assert parse_values("dropout", "0,0.2") == (0.0, 0.2)
    assert parse_values("transform", "none, log_diff") == ("none", "log_diff")
    assert parse_values("units", [16, 32]) == (16, 32)


@pytest.mark.parametrize("name, text, message", [
    ("dataset", "air_passengers,damped_sine", "`dataset` cannot be swept. Sweepable settings: "
                                              "window, horizon"),
    ("window", "6,abc", "`window` values must be numbers separated by commas.*Received: 'abc'"),
    ("layers", "1,1.5", "`layers` values must be whole numbers. Received: '1.5'"),
    ("window", "0,6", "out of range: `window` must be between 1 and 512. Received: window=0"),
    ("transform", "none,cube", "`transform` must be one of"),
    ("units", " , ", "`units` needs at least one value"),
])
def test_parse_values_refuses_with_a_readable_message(name, text, message) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_values(name, text)


def test_the_issues_grid_expands_to_27_configs_first_axis_slowest(base) -> None:
    grid = parse_grid({**ISSUE_GRID, "dropout": ""})   # empty entries are left out
    assert grid == {"window": (6, 12, 24), "layers": (1, 2, 3), "units": (16, 32, 64)}
    assert grid_size(grid) == 27
    configs = expand_grid(base, grid)
    assert len(configs) == len(set(configs)) == 27
    assert [(c.window, c.layers, c.units) for c in configs[:4]] == [
        (6, 1, 16), (6, 1, 32), (6, 1, 64), (6, 2, 16)]
    assert (configs[-1].window, configs[-1].layers, configs[-1].units) == (24, 3, 64)
    assert {(c.epochs, c.models, c.test_size) for c in configs} == {(3, NAIVE, 6.0)}
    assert {c.tuning for c in configs} == {"off"}   # each trains exactly its settings


def test_a_sweep_may_vary_tuning_itself(base) -> None:
    configs = expand_grid(base, {"tuning": ("auto", "off")})
    assert [c.tuning for c in configs] == ["auto", "off"]


def test_an_empty_grid_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least one setting to vary"):
        parse_grid({"window": "", "units": None})


# --- planning and the budget -------------------------------------------------------------------

def test_configs_over_the_budget_are_flagged_not_trained(air, monkeypatch) -> None:
    # one network: an ensemble over the budget trains fewer members instead of being refused
    base = ExperimentConfig(epochs=50, models=("lstm",), members=1)
    grid = parse_grid(ISSUE_GRID)
    # A budget that a 1-layer, 16-unit LSTM on windows of 12 fits and a 2-layer one does not.
    fits = estimate_work(base.replace(window=12, layers=1, units=16), 120, 12,
                         n_points=len(air))["lstm"]
    monkeypatch.setenv("LSTM_LAB_MAX_WORK", str(fits))
    plan = plan_sweep(base, air, grid)
    status = {(r.values["window"], r.values["layers"], r.values["units"]): r.status
              for r in plan.runs}
    assert status[(6, 1, 16)] == status[(12, 1, 16)] == OK
    assert status[(24, 1, 16)] == status[(12, 2, 16)] == status[(24, 3, 64)] == OVER_BUDGET
    assert all(r.work <= fits for r in plan.runnable)
    assert all(r.work > fits and "LSTM_LAB_MAX_WORK" in r.reason for r in plan.refused)
    assert plan.summary().startswith(f"3 × 3 × 3 = 27 runs; {len(plan.runnable)} will train, "
                                     f"{len(plan.refused)} over the compute budget or size cap")
    assert list(plan.frame().columns) == ["window", "layers", "units", "status", "work",
                                          "reason"]


def test_configs_over_the_weights_cap_are_flagged_over_budget_not_invalid(air,
                                                                          monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_WEIGHTS", "5000")
    plan = plan_sweep(ExperimentConfig(epochs=1, models=("lstm",), tuning="off"), air,
                      {"units": (8, 64)})
    assert [r.status for r in plan.runs] == [OK, OVER_BUDGET]
    assert "LSTM_LAB_MAX_WEIGHTS" in plan.runs[1].reason
    assert "1 over the compute budget or size cap" in plan.summary()


def test_configs_impossible_for_the_data_are_flagged(air) -> None:
    plan = plan_sweep(ExperimentConfig(models=NAIVE), air, {"horizon": (12, 120)})
    assert [r.status for r in plan.runs] == [OK, INVALID]
    assert "the horizon or the test size" in plan.runs[1].reason


def test_a_sweep_over_the_budget_everywhere_is_refused(series, base, monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_WORK", "1")
    with pytest.raises(ConfigError, match="None of the 2 configurations can run.*window=3"):
        run_sweep(base.replace(models=("lstm",)), series, {"window": (3, 4)})


def test_a_grid_larger_than_the_cap_is_refused(series, base, monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_SWEEP_RUNS", "20")
    with pytest.raises(ConfigError, match="27 runs; at most 20.*LSTM_LAB_MAX_SWEEP_RUNS"):
        plan_sweep(base, series, parse_grid(ISSUE_GRID))
    monkeypatch.setenv("LSTM_LAB_MAX_SWEEP_RUNS", "many")
    with pytest.raises(ConfigError, match="LSTM_LAB_MAX_SWEEP_RUNS must be a whole number"):
        plan_sweep(base, series, parse_grid(ISSUE_GRID))


def test_the_sweep_cap_is_the_limits_one(series, base, monkeypatch) -> None:
    """One source: ``Limits.max_sweep_runs`` (default 36), from the environment or passed in."""
    monkeypatch.delenv("LSTM_LAB_MAX_SWEEP_RUNS", raising=False)
    assert not hasattr(sweep, "max_sweep_runs") and not hasattr(sweep, "MAX_SWEEP_RUNS_ENV")
    base = base.replace(models=("naive",))
    assert plan_sweep(base, series, {"seed": tuple(range(36))}).size == 36
    with pytest.raises(ConfigError) as refused:
        plan_sweep(base, series, {"seed": tuple(range(37))})
    assert str(refused.value) == ("This sweep has 37 runs; at most 36 are allowed "
                                  "(LSTM_LAB_MAX_SWEEP_RUNS). Try fewer values per setting.")
    with pytest.raises(ConfigError, match="This sweep has 4 runs; at most 3 are allowed"):
        plan_sweep(base, series, {"seed": (0, 1, 2, 3)}, Limits(max_sweep_runs=3))


# --- running -----------------------------------------------------------------------------------

def test_run_sweep_reports_stages_and_saves_every_run(series, base, tmp_path) -> None:
    store = RunStore(tmp_path / "runs.sqlite3")
    stages = []
    result = run_sweep(base, series, {"window": (3, 4), "seed": (0, 1)},
                       on_stage=lambda *a: stages.append(a), store=store, owner=OWNER)
    assert stages == [("run 1 of 4", 0, 4), ("run 2 of 4", 1, 4), ("run 3 of 4", 2, 4),
                      ("run 4 of 4", 3, 4)]
    assert [r.status for r in result.runs] == ["done"] * 4
    saved = store.list_runs(OWNER, sweep=result.sweep_id)
    assert sorted(s.id for s in saved) == sorted(r.run_id for r in result.runs)
    assert {(s.config.window, s.config.seed) for s in saved} == {(3, 0), (3, 1), (4, 0), (4, 1)}
    frame = result.frame()
    assert list(frame.columns[:4]) == ["window", "seed", "status", "run_id"]
    assert "naive.rmse" in frame and "seasonal_naive.mase" in frame
    best = result.best("seasonal_naive")
    assert best.metrics["seasonal_naive"]["rmse"] == frame["seasonal_naive.rmse"].min()


def test_skipped_and_failed_configs_are_reported_in_grid_order(series, base, monkeypatch) -> None:
    real = run_experiment

    def flaky(config, series, on_epoch=None, should_stop=None):
        if config.seed == 1:
            raise TrainingError("The LSTM diverged")
        return real(config, series, on_epoch, should_stop)

    monkeypatch.setattr(sweep, "run_experiment", flaky)
    result = run_sweep(base, series, {"seed": (0, 1, 2), "horizon": (4, 40)})
    assert [(r.values["seed"], r.values["horizon"], r.status) for r in result.runs] == [
        (0, 4, "done"), (0, 40, SKIPPED), (1, 4, FAILED), (1, 40, SKIPPED), (2, 4, "done"),
        (2, 40, SKIPPED)]
    assert result.runs[2].note == "The LSTM diverged"
    assert result.runs[1].note.startswith("invalid: ")


def test_an_unexpected_error_is_retried_once_then_reported(series, base, monkeypatch) -> None:
    real, calls = run_experiment, []

    def surprising(config, series, on_epoch=None, should_stop=None):
        calls.append(config.seed)
        if config.seed == 2 or (config.seed == 1 and calls.count(1) == 1):
            raise SystemError("AST constructor recursion depth mismatch (before=8, after=2)")
        return real(config, series)

    monkeypatch.setattr(sweep, "run_experiment", surprising)
    result = run_sweep(base, series, {"seed": (0, 1, 2, 3)})
    assert calls == [0, 1, 1, 2, 2, 3]
    assert [r.status for r in result.runs] == ["done", "done", FAILED, "done"]
    assert result.runs[2].note == ("failed unexpectedly (SystemError: AST constructor recursion "
                                   "depth mismatch (before=8, after=2))")


def test_stop_between_runs_keeps_the_finished_ones(series, base, tmp_path) -> None:
    store = RunStore(tmp_path / "runs.sqlite3")
    stages: list = []
    # Stop is pressed during run 2; naive models finish anyway, so run 2 is kept and run 3
    # never starts.
    result = run_sweep(base, series, {"seed": (0, 1, 2, 3)}, on_stage=lambda *a: stages.append(a),
                       should_stop=lambda: len(stages) >= 2, store=store, owner=OWNER)
    assert result.stopped_by_user
    assert len(stages) == 2
    assert [r.status for r in result.runs] == ["done", "done"]
    assert sorted(s.config.seed for s in store.list_runs(OWNER)) == [0, 1]


def test_a_run_cut_short_is_reported_and_not_saved(series, base, tmp_path, monkeypatch) -> None:
    def stopped_run(config, series, on_epoch=None, should_stop=None):
        result = run_experiment(config, series)
        result.stopped_by_user = config.seed == 1
        return result

    monkeypatch.setattr(sweep, "run_experiment", stopped_run)
    store = RunStore(tmp_path / "runs.sqlite3")
    result = run_sweep(base, series, {"seed": (0, 1, 2)}, store=store, owner=OWNER)
    assert [r.status for r in result.runs] == ["done", STOPPED]
    assert result.stopped_by_user
    assert [s.config.seed for s in store.list_runs(OWNER)] == [0]


def test_saving_needs_an_owner(series, base, tmp_path) -> None:
    with pytest.raises(ConfigError, match="owner"):
        run_sweep(base, series, {"seed": (0, 1)}, store=RunStore(tmp_path / "x.db"))


def test_a_sweep_runs_as_one_queued_job_with_stages_and_stop(series, base, monkeypatch) -> None:
    permits = threading.Semaphore(0)          # each run waits for a permit (or a stop)
    real = run_experiment

    def gated(config, series, on_epoch=None, should_stop=None):
        while not permits.acquire(timeout=0.01):
            if should_stop and should_stop():
                result = real(config, series)
                result.stopped_by_user = True   # as a network cut short would report
                return result
        return real(config, series)

    monkeypatch.setattr(sweep, "run_experiment", gated)
    runner = JobRunner(max_concurrent=1)
    grid = {"seed": (0, 1, 2, 3)}

    def task(job):
        return run_sweep(job.config, job.series, grid, job.on_stage, job.on_epoch,
                         job.stop_event.is_set)

    job = runner.submit(base, series, task=task, label="Sweep")
    deadline = time.monotonic() + 30
    while job.stage != "run 1 of 4" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (job.stage, job.stages_done, job.stages_total) == ("run 1 of 4", 0, 4)
    assert 0 <= job.progress() < 0.25
    permits.release(2)                         # runs 1 and 2 finish; run 3 waits
    while job.stage != "run 3 of 4" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert 0.5 <= job.progress() < 0.75
    job.request_stop()
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.status == DONE
    assert job.result.stopped_by_user
    assert [r.status for r in job.result.runs] == ["done", "done", STOPPED]


def test_the_job_time_limit_ends_the_sweep_as_a_whole(series, base, monkeypatch) -> None:
    """A sweep is one job: its runs share the job's time limit, and the result says it ran out."""
    real = run_experiment

    def until_stopped(config, series, on_epoch=None, should_stop=None):
        if config.seed == 0:                       # the first run is quick
            return real(config, series)
        while not should_stop():                   # the second one runs into the limit
            time.sleep(0.01)
        result = real(config, series)
        result.stopped_by_user = True              # as a network cut short would report
        return result

    monkeypatch.setattr(sweep, "run_experiment", until_stopped)
    runner = JobRunner(max_concurrent=1, limits=Limits(max_job_seconds=1))
    job = runner.submit(base, series, label="Sweep", task=lambda job: run_sweep(
        job.config, job.series, {"seed": (0, 1, 2)}, job.on_stage, job.on_epoch,
        job.stop_event.is_set))
    deadline = time.monotonic() + 60
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (job.status, job.stop_reason) == (DONE, "time limit")
    assert [r.status for r in job.result.runs] == ["done", STOPPED]   # run 3 never started
    assert job.result.stopped_by_user
    assert job.result.notes == [
        "This job reached the server's time limit of 1 s of running time per job "
        "(LSTM_LAB_MAX_JOB_SECONDS) and was stopped: what it finished is kept."]


def test_from_summaries_rebuilds_a_sweep_from_the_store(series, base, tmp_path) -> None:
    store = RunStore(tmp_path / "runs.sqlite3")
    done = run_sweep(base, series, {"window": (3, 4), "seed": (0, 5)}, store=store, owner=OWNER)
    again = SweepResult.from_summaries(store.list_runs(OWNER, sweep=done.sweep_id))
    assert again.grid == {"window": (3, 4), "seed": (0, 5)}
    assert again.sweep_id == done.sweep_id
    np.testing.assert_allclose(sorted(again.frame()["naive.rmse"]),
                               sorted(done.frame()["naive.rmse"]))
    with pytest.raises(ConfigError, match="no stored runs"):
        SweepResult.from_summaries([])


@requires_tf
def test_a_small_lstm_sweep_stores_its_networks(series, tmp_path) -> None:
    store = RunStore(tmp_path / "runs.sqlite3")
    base = ExperimentConfig(window=4, test_size=6, models=("lstm", "naive"),
                            **{**FAST, "epochs": 2})
    epochs = []
    result = run_sweep(base, series, {"units": (2, 4)}, on_epoch=epochs.append, store=store,
                       owner=OWNER)
    assert [r.status for r in result.runs] == ["done", "done"]
    assert len(epochs) == 4 and {e.model for e in epochs} == {"lstm"}
    for run in result.runs:
        assert store.keras_bytes(run.run_id, "lstm").startswith(b"PK")
    assert result.best("lstm").run_id in {r.run_id for r in result.runs}


# --- figures over many runs --------------------------------------------------------------------

@pytest.fixture
def small_sweep(series, base) -> SweepResult:
    return run_sweep(base, series, {"window": (3, 4), "seed": (0, 1), "horizon": (1, 2)})


def test_heatmap_shows_the_mean_over_seeds_per_cell(small_sweep) -> None:
    fig = sweep.heatmap_figure(small_sweep, "window", "horizon", "naive")
    heat = fig.data[0]
    assert np.asarray(heat.z).shape == (2, 2)          # y (horizon) rows x x (window) columns
    frame = small_sweep.frame()
    cell = frame[(frame["window"] == 4) & (frame["horizon"] == 2)]["naive.rmse"].mean()
    assert np.asarray(heat.z)[1, 1] == pytest.approx(cell)
    # the seed varies along with other settings: its values are repeats, not an axis
    assert small_sweep.settings == ["window", "horizon"]
    assert fig.layout.title.text == ("Naive (last value) test RMSE by Window and Horizon, "
                                     "mean of 2 seeds")
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("Window", "Horizon")
    [star] = [a for a in fig.layout.annotations if "best" in a.text]
    iy, ix = np.unravel_index(np.nanargmin(np.asarray(heat.z, dtype=float)), (2, 2))
    assert (star.x, star.y) == (ix, iy)            # by position: "4" is not category #4
    with pytest.raises(ConfigError, match="two different swept settings among Window, "
                                          "Horizon. Received: Window and Window."):
        sweep.heatmap_figure(small_sweep, "window", "window", "naive")


def test_parallel_coordinates_has_one_axis_per_setting_plus_the_score(small_sweep) -> None:
    fig = sweep.parallel_figure(small_sweep, "naive", "mae")
    dims = fig.data[0].dimensions
    assert [d.label for d in dims] == ["Window", "Seed", "Horizon", "MAE Naive (last value)"]
    assert len(dims[0].values) == 8


def test_config_differences_lists_only_what_differs() -> None:
    a, b = ExperimentConfig(), ExperimentConfig(window=6, units=64)
    diff = sweep.config_differences({"#1": a, "#2": b, "#3": a})
    assert list(diff.index) == ["Window", "Units per layer"]
    assert diff.loc["Window"].tolist() == ["12", "6", "12"]
    assert sweep.config_differences({"#1": a, "#2": a}).empty


def test_config_differences_list_only_settings_that_act_on_the_runs() -> None:
    one = ExperimentConfig(dataset="csv", csv_path="passengers.csv", sine_period=40.0,
                           models=("naive", "seasonal_naive"))
    two = one.replace(csv_path="car_sales.csv", sine_period=12.0, seed=3, epochs=7,
                      architecture="gru", units=8)
    diff = sweep.config_differences({"#1": one, "#2": two})
    # sine settings between two CSV runs, and network settings of runs without a network,
    # change nothing: only the file differs
    assert list(diff.index) == ["File"]
    assert diff.loc["File"].tolist() == ["passengers.csv", "car_sales.csv"]
    # a sine run next to a CSV run: the data differs; the sine's settings have one sine run
    sine = ExperimentConfig(dataset="damped_sine", sine_period=12.0, models=one.models)
    assert list(sweep.config_differences({"#1": one, "#2": sine}).index) == ["Data"]
    both = sweep.config_differences({"#1": sine, "#2": sine.replace(sine_period=40.0)})
    assert both.loc["Sine period"].tolist() == ["12", "40"]
    # networks: their settings count, named for people; a run without one shows "—"
    gru = ExperimentConfig(architecture="gru", layers=2, models=("lstm", "naive"), members=1)
    lstm = gru.replace(architecture="lstm", layers=1, seed=4, validation_fraction=0.2)
    diff = sweep.config_differences({"#1": gru, "#2": lstm, "#3": one})
    assert diff.loc["Architecture"].tolist() == ["GRU", "LSTM", "—"]
    assert diff.loc["Recurrent layers"].tolist() == ["2", "1", "—"]
    assert diff.loc["Validation share"].tolist() == ["10%", "20%", "—"]
    assert diff.loc["Models"].tolist() == ["GRU ×2, Naive (last value)",
                                           "LSTM, Naive (last value)",
                                           "Naive (last value), Seasonal naive"]
    text = " ".join(map(str, [*diff.index, *diff.to_numpy().ravel()]))
    for raw in ("seasonal_naive", "sine_", "validation_fraction", "None", "True", "e+"):
        assert raw not in text


def test_overlay_figures_have_one_trace_per_run(series, base) -> None:
    results = {f"#{i}": run_experiment(base.replace(seed=i, horizon=i), series) for i in (1, 2)}
    forecasts = sweep.overlay_forecast_figure(results, "naive")
    assert [t.name for t in forecasts.data] == ["actual", "#1", "#2"]
    bars = sweep.metrics_bar_figure(results, "rmse")
    assert [t.name for t in bars.data] == ["#1", "#2"]
    assert list(bars.data[0].x) == ["Naive (last value)", "Seasonal naive"]
    results["#1"].histories["lstm"] = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    results["#2"].histories["lstm"] = {"loss": [0.9, 0.4, 0.3], "val_loss": []}
    losses = sweep.overlay_loss_figure(results, "lstm")
    assert [t.name for t in losses.data] == ["#1 train", "#1 validation", "#2 train"]


# --- grids pasted by a hostile or careless user --------------------------------------------------

def test_too_many_values_are_refused_before_any_is_converted(monkeypatch) -> None:
    """Pasting "1," 200,000 times once took 72 s per rerun (an ExperimentConfig per item and an
    O(n^2) dedupe); now the count is checked right after splitting."""
    converted = []
    real = sweep._typed
    monkeypatch.setattr(sweep, "_typed", lambda *a: converted.append(a) or real(*a))
    with pytest.raises(ConfigError, match=r"`window` has 200,000 values, but a sweep has at most "
                                          r"36 runs \(LSTM_LAB_MAX_SWEEP_RUNS\): give at most 36"):
        parse_values("window", "1," * 200_000, Limits())
    assert converted == []
    with pytest.raises(ConfigError, match="`units` has 5 values.*at most 4 runs"):
        parse_values("units", "1,2,3,4,5", Limits(max_sweep_runs=4))
    assert parse_values("units", "1,2,3,4", Limits(max_sweep_runs=4)) == (1, 2, 3, 4)


def test_the_value_count_follows_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_SWEEP_RUNS", "3")
    with pytest.raises(ConfigError, match="`window` has 4 values.*LSTM_LAB_MAX_SWEEP_RUNS"):
        parse_grid({"window": "6,12,24,36"})
    assert parse_grid({"window": "6,12,24"}) == {"window": (6, 12, 24)}


def test_duplicates_count_as_typed_but_are_dropped_once_checked() -> None:
    assert parse_values("window", ",".join(["12", "6"] * 18), Limits()) == (12, 6)
    assert parse_values("learning_rate", "0.001, 1e-3, 0.0010", Limits()) == (0.001,)


def test_an_unreadable_long_paste_is_quoted_short() -> None:
    with pytest.raises(ConfigError, match="needs at least one value") as caught:
        parse_values("window", " ," * 10_000, Limits(max_sweep_runs=100_000))
    assert len(str(caught.value)) < 200


# --- names and user text in the figures ----------------------------------------------------------

HOSTILE = '<a href="https://x">y</a>'


def figure_text(fig) -> str:
    """A figure's JSON as Plotly.js reads it (``to_json`` writes ``<`` as ``\\u003c``)."""
    return json.dumps(json.loads(fig.to_json()))


def test_overlay_figures_escape_series_names_and_labels(series, base) -> None:
    results = {}
    for i in (1, 2):   # two data sets, so the second actual trace is named by its series
        data = make_tiny_series(make_tiny_series().values + i, name=f'{HOSTILE}<b>{i}</b>')
        results[f"#{i} <span style='color:red'>x</span>"] = run_experiment(base, data)
    for fig in (sweep.overlay_forecast_figure(results, "naive"),
                sweep.metrics_bar_figure(results, "rmse")):
        text = figure_text(fig)
        assert "<a " not in text and "<b>" not in text and "<span" not in text
        assert "&lt;span style=" in text
    assert "&lt;a href=" in figure_text(sweep.overlay_forecast_figure(results, "naive"))
    forecasts = sweep.overlay_forecast_figure(results, "naive")
    assert forecasts.data[1].name == 'actual (&lt;a href="https://x"&gt;y&lt;/a&gt;&lt;b&gt;2&lt;/b&gt;)'
    assert forecasts.layout.yaxis.title.text.startswith("&lt;a href=")


def _gru_sweep(base) -> SweepResult:
    configs = [base.replace(architecture="gru", layers=n, models=("lstm", "naive"))
               for n in (1, 2)]
    runs = [sweep.SweepRun(c, {"layers": c.layers}, sweep.DONE,
                           {"lstm": {"rmse": 2.0 - c.layers / 2, "mae": 1.0, "mape": 1.0,
                                     "mase": 1.0},
                            "naive": {"rmse": 3.0, "mae": 1.0, "mape": 1.0, "mase": 1.0}},
                           run_id=c.layers)
            for c in configs]
    return SweepResult(configs[0], {"layers": (1, 2)}, runs, "s1", "tiny")


def test_a_gru_sweep_names_its_network_gru(base) -> None:
    result = _gru_sweep(base)
    assert result.label("lstm") == "GRU" and result.label("naive") == "Naive (last value)"
    assert "LSTM" not in sweep.parallel_figure(result, "lstm").to_json()
    mixed = {"#1": result.runs[0], "#2": result.runs[1]}
    assert sweep.models_label("lstm", [r.config for r in mixed.values()]) == "GRU"
    assert sweep.models_label("lstm", [base, base.replace(architecture="gru")]) == "LSTM / GRU"


# --- seeds per setting and the seed noise (#17) --------------------------------------------------

def test_seeds_per_setting_repeat_every_setting_with_the_next_seeds(series, base) -> None:
    plan = plan_sweep(base.replace(seed=5), series, {"window": (3, 4), "horizon": (1, 2)},
                      seeds=3)
    assert plan.size == 12 and plan.seeds == 3
    assert [(r.values["window"], r.config.seed) for r in plan.runs[:4]] == [
        (3, 5), (3, 6), (3, 7), (3, 5)]
    assert plan.summary() == "2 × 2 = 4 settings × 3 seeds = 12 runs"
    assert list(plan.frame().columns) == ["window", "horizon", "seed", "status", "work",
                                          "reason"]
    # a grid that varies the seed itself: its seeds are the repeats
    assert plan_sweep(base, series, {"seed": (0, 1), "window": (3, 4)}, seeds=3).size == 4
    with pytest.raises(ConfigError, match=r"^This sweep has 16 settings × 3 seeds = 48 runs; "
                                          r"at most 36 are allowed \(LSTM_LAB_MAX_SWEEP_RUNS\)\. "
                                          r"Try fewer values per setting or fewer seeds per "
                                          r"setting\.$"):
        plan_sweep(base, series, {"window": (1, 2, 3, 4), "horizon": (1, 2, 3, 4)}, seeds=3)
    with pytest.raises(ConfigError, match=r"^Seeds per setting must be a whole number from 1 "
                                          r"to 5\. Received: 9$"):
        plan_sweep(base, series, {"window": (3, 4)}, seeds=9)


def test_a_sweep_with_two_seeds_trains_each_setting_twice(series, base) -> None:
    result = run_sweep(base, series, {"window": (3, 4)}, seeds=2)
    assert [(r.values, r.config.seed) for r in result.runs] == [
        ({"window": 3}, 0), ({"window": 3}, 1), ({"window": 4}, 0), ({"window": 4}, 1)]
    assert result.repeats == 2 and result.settings == ["window"]
    cells = result.cells("naive")
    assert cells["n"].tolist() == [2, 2]


def _noisy_gru_sweep(base) -> SweepResult:
    """window 6 / 12 x layers 1 / 2, two seeds each, a GRU's RMSE: seeds 24 apart everywhere
    (sd 16.97); (12, 1) is 23 above the best (6, 1), within the noise; the rest 73+ above."""
    scores = {(6, 1): (1707, 1731), (12, 1): (1730, 1754), (6, 2): (1797, 1821),
              (12, 2): (1780, 1804)}
    runs, run_id = [], 0
    for (window, layers), pair in scores.items():
        for seed, score in enumerate(pair):
            run_id += 1
            config = base.replace(architecture="gru", layers=layers, window=window, seed=seed,
                                  models=("lstm", "naive"), members=1)
            runs.append(sweep.SweepRun(config, {"window": window, "layers": layers}, sweep.DONE,
                                       {"lstm": {"rmse": float(score), "mae": 1.0, "mape": 1.0,
                                                 "mase": 1.0},
                                        "naive": {"rmse": 3000.0, "mae": 1.0, "mape": 1.0,
                                                  "mase": 1.0}}, run_id=run_id))
    return SweepResult(runs[0].config, {"window": (6, 12), "layers": (1, 2)}, runs, "s2", "x")


def test_the_seed_noise_marks_settings_within_it_as_about_best(base) -> None:
    result = _noisy_gru_sweep(base)
    assert result.noise("lstm") == pytest.approx(24 / np.sqrt(2))
    cells = result.cells("lstm")
    assert [(c["window"], c["layers"]) for _, c in cells.iterrows()] == [
        (6, 1), (12, 1), (12, 2), (6, 2)]
    assert cells["mean"].tolist() == [1719, 1742, 1792, 1809]
    assert cells["near_best"].tolist() == [True, True, False, False]
    assert cells["best_run"].tolist() == [1, 3, 7, 5]          # each setting's best seed
    best = result.best_setting("lstm")
    assert (best["window"], best["layers"], best["n"]) == (6, 1, 2)


def test_the_heatmap_reads_noise_as_noise(base) -> None:
    result = _noisy_gru_sweep(base)
    fig = sweep.heatmap_figure(result, "window", "layers", "lstm")
    heat = fig.data[0]
    # one hue, never red against green
    colours = [c for _, c in heat.colorscale]
    assert colours == ["#3f88c5", "#f4f8fc"]
    assert "RdYlGn" not in fig.to_json()
    # the colour range spans at least four noise widths: 1719-1809 over at least 68
    assert heat.zmin == 1719 and heat.zmax >= 1719 + 4 * result.noise("lstm") - 1e-9
    assert [list(row) for row in heat.text] == [["1,719 ± 17", "1,742 ± 17<br>≈ best"],
                                                ["1,809 ± 17", "1,792 ± 17"]]
    [star] = [a for a in fig.layout.annotations if "best" in a.text]
    assert (star.text, star.x, star.y) == ("★ best", 0, 0)
    assert fig.layout.title.text == ("GRU test RMSE by Window and Recurrent layers, "
                                     "mean of 2 seeds")
    assert "LSTM" not in fig.to_json()


def test_one_seed_per_setting_marks_nothing_as_about_best(base) -> None:
    result = _noisy_gru_sweep(base)
    result.runs = [r for r in result.runs if r.config.seed == 0]
    assert np.isnan(result.noise("lstm")) and result.repeats == 1
    assert result.cells("lstm")["near_best"].tolist() == [False] * 4
    fig = sweep.heatmap_figure(result, "window", "layers", "lstm")
    assert "≈ best" not in fig.to_json() and "±" not in fig.to_json()
    assert fig.layout.title.text.endswith(", one seed each")


def test_numbers_and_spreads_are_written_for_people() -> None:
    assert sweep.spread_text(1719.3, 12.2) == "1,719 ± 12"
    assert sweep.spread_text(0.05234, 0.00113) == "0.0523 ± 0.0011"
    assert sweep.spread_text(52.14, float("nan")) == "52.1"
    assert sweep.people_number(-1234567.8) == "\u22121,234,568"
    assert sweep.fmt_value(100_000_000_000) == "100,000,000,000"
    assert sweep.fmt_value(0.003) == "0.003"
    assert sweep.fmt_value((0.8, 0.95), "intervals") == "80%, 95%"
    assert sweep.fmt_value("cnn_lstm", "architecture") == "CNN-LSTM"
    assert sweep.setting_name("learning_rate") == "Learning rate"


def test_runs_on_different_data_get_a_panel_and_an_axis_each(series, base) -> None:
    small = make_tiny_series(name="passengers")
    large = make_tiny_series(make_tiny_series().values * 40 + 5000, name="car sales")
    results = {"#1": run_experiment(base, small), "#2": run_experiment(base, large),
               "#3": run_experiment(base.replace(seed=1), small)}
    fig = sweep.overlay_forecast_figure(results, "naive")
    assert [(t.name, t.yaxis) for t in fig.data] == [
        ("actual", "y"), ("actual (car sales)", "y2"), ("#1", "y"), ("#2", "y2"), ("#3", "y")]
    assert fig.layout.yaxis.title.text == "passengers"
    assert fig.layout.yaxis2.title.text == "car sales"
    assert [a.text for a in fig.layout.annotations][:2] == ["passengers", "car sales"]
    assert "2 data sets, one panel each" in fig.layout.title.text
    one = sweep.overlay_forecast_figure({"#1": results["#1"], "#3": results["#3"]}, "naive")
    assert {t.yaxis for t in one.data} == {None} and "yaxis2" not in one.layout.to_plotly_json()
