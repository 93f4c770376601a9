"""estimate.py: a job's running time from its counted work, the rate this server measured, the
fixed costs, and the queue ahead -- said roughly."""

from __future__ import annotations

import pytest

from lstm_lab.experiments import estimate
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.estimate import JobCost, RateBook
from lstm_lab.experiments.sources import load_series
from lstm_lab.experiments.training import training_work

CFG = ExperimentConfig()
AIR = load_series(CFG)


def test_the_work_is_the_budgets_work_after_early_stopping() -> None:
    cfg = CFG.replace(models=("lstm", "naive"), intervals=(), patience=0)
    cost = estimate.compare_cost(cfg, AIR)
    trained = training_work(cfg, 120, 12)["lstm"]
    assert trained < cost.work < 1.5 * trained          # + forecasting, a third of a step each
    # early stopping: patience 30 trains about 40 of 200 epochs
    stopping = estimate.compare_cost(cfg.replace(patience=30), AIR)
    assert stopping.work - (cost.work - trained) == pytest.approx(trained * 40 / 200, rel=1e-9)
    assert estimate.expected_epochs(cfg.replace(patience=30)) == 40
    assert estimate.expected_epochs(cfg.replace(patience=30, validation_fraction=0.0)) == 200
    assert estimate.expected_epochs(cfg.replace(patience=30, epochs=25)) == 25


def test_the_estimate_grows_with_the_work() -> None:
    book = RateBook()
    seconds = [book.seconds(estimate.compare_cost(CFG.replace(epochs=e, patience=0), AIR))
               for e in (10, 50, 200, 800)]
    assert seconds == sorted(seconds) and len(set(seconds)) == 4
    wider = [book.seconds(estimate.compare_cost(CFG.replace(units=u), AIR)) for u in (8, 32, 128)]
    assert wider == sorted(wider) and len(set(wider)) == 3


def test_fixed_costs_count_fits_intervals_tuning_and_classical_models() -> None:
    alone = estimate.compare_cost(CFG.replace(models=("naive",), intervals=()), AIR)
    assert (alone.work, alone.fixed, alone.startup) == (0, estimate.BASE_SECONDS, 0.0)
    hw = estimate.compare_cost(CFG.replace(models=("naive", "holt_winters"), intervals=()), AIR)
    assert hw.fixed - alone.fixed == pytest.approx(estimate.CLASSICAL_FIT_SECONDS["holt_winters"])
    banded = estimate.compare_cost(CFG.replace(models=("naive", "holt_winters")), AIR)
    assert banded.fixed - alone.fixed == pytest.approx(
        2 * estimate.CLASSICAL_FIT_SECONDS["holt_winters"])
    mlp = estimate.compare_cost(CFG.replace(models=("mlp",), intervals=()), AIR)
    assert mlp.fixed == pytest.approx(estimate.BASE_SECONDS + estimate.NETWORK_FIT_SECONDS)
    assert mlp.startup == estimate.TF_IMPORT_SECONDS       # a network needs TensorFlow
    tuned = estimate.compare_cost(CFG.replace(models=("mlp",), intervals=(), tuning="auto",
                                              horizon=12, test_size=12), AIR)
    assert tuned.fixed == pytest.approx(estimate.BASE_SECONDS + 3 * estimate.NETWORK_FIT_SECONDS)
    assert tuned.work > mlp.work


def test_backtest_folds_refits_and_sweep_cells_add_up() -> None:
    book = RateBook()

    def warm(cost: JobCost) -> float:   # TensorFlow's one-off import aside (paid once per process)
        return cost.units() * book.rate(cost.kind)

    run = warm(estimate.compare_cost(CFG, AIR))
    folds = [warm(estimate.backtest_cost(CFG, AIR, k)) for k in (2, 3, 4)]
    assert folds == sorted(folds) and len(set(folds)) == 3
    assert folds[1] > 2 * run                 # three runs, the earlier two on shorter data
    once = warm(estimate.backtest_cost(CFG, AIR, 3, refit=False))
    assert once < folds[1] and once < run
    # forecast ahead refits every model on all the data: more than the comparison's training
    future = estimate.future_cost(CFG, AIR, 24)
    assert future.kind == "future" and warm(future) > run
    assert warm(estimate.future_cost(CFG, AIR, 120)) > warm(future)
    cells = [CFG.replace(units=u) for u in (8, 16)]
    sweep = estimate.sweep_cost(cells, AIR)
    assert sweep.kind == "sweep"
    assert sweep.work == pytest.approx(sum(estimate.compare_cost(c, AIR).work for c in cells))
    assert sweep.fixed == pytest.approx(sum(estimate.compare_cost(c, AIR).fixed for c in cells))


def test_the_recorded_rate_follows_finished_jobs_per_kind() -> None:
    book = RateBook(default=1e-8, size=3)
    cost = JobCost("compare", work=1e9, fixed=5.0, startup=8.0)
    units = cost.units()
    assert units == 1e9 + 5.0 / estimate.DEFAULT_SECONDS_PER_WORK
    assert book.rate("compare") == 1e-8
    book.record(cost, 40.0)                           # slower than the default
    assert book.rate("compare") == pytest.approx(40.0 / units)
    assert book.rate("backtest") == pytest.approx(40.0 / units)   # no backtest yet: any kind
    book.record(JobCost("backtest:3:1", work=1e9), 5.0)
    assert book.rate("backtest") == pytest.approx(5e-9)           # its own record now
    assert book.rate("compare") == pytest.approx(40.0 / units)
    # the median of the latest three: one slow job does not swing it
    for seconds in (20.0, 22.0, 400.0):
        book.record(cost, seconds)
    assert book.rate("compare") == pytest.approx(22.0 / units)
    # a cold start's TensorFlow import is not the job's speed
    cold = RateBook(default=1e-8, size=1)
    cold.record(cost, 48.0, started_cold=True)
    assert cold.rate("compare") == pytest.approx(40.0 / units)
    # stopped or empty jobs teach nothing
    cold.record(JobCost("compare"), 10.0)
    cold.record(cost, 0.0)
    assert cold.rate("compare") == pytest.approx(40.0 / units)


def test_lessons_keep_their_own_record() -> None:
    book = RateBook()
    echo = estimate.lesson_cost("Run the echo experiment")
    assert book.seconds(echo) >= estimate.LESSON_SECONDS
    book.record(echo, 2.0)
    book.record(estimate.lesson_cost("Train both on parallel series"), 12.0)
    assert book.rate(echo.kind) == pytest.approx(2.0 / echo.units())


def test_the_queue_adds_the_jobs_ahead_over_the_workers() -> None:
    assert estimate.queue_wait([], [], 2) == 0.0
    assert estimate.queue_wait([10.0], [], 2) == 0.0             # a free worker
    assert estimate.queue_wait([10.0, 30.0], [], 2) == 10.0
    assert estimate.queue_wait([10.0, 30.0], [20.0], 2) == 30.0  # 10 + 20, or the other's 30
    assert estimate.queue_wait([10.0, 30.0], [20.0, 5.0], 2) == 30.0
    assert estimate.queue_wait([10.0], [20.0, 5.0], 1) == 35.0
    # more jobs ahead never shorten the wait
    waits = [estimate.queue_wait([12.0, 7.0], [15.0] * k, 2) for k in range(6)]
    assert waits == sorted(waits) and waits[-1] > waits[0]


@pytest.mark.parametrize("seconds, words", [
    (0.4, "about a second"), (3.2, "about 3 s"), (12, "about 10 s"), (22, "about 20 s"),
    (58, "about 1 min"), (80, "about 1½ min"), (150, "about 2½ min"), (600, "about 10 min"),
    (3000, "about 50 min"), (5400, "about 1½ hours"), (36_000, "about 10 hours"),
    (4_000_000, "about 1,111 hours")])
def test_durations_are_said_roughly(seconds: float, words: str) -> None:
    assert estimate.about(seconds) == words


def test_the_sentence_beside_a_button() -> None:
    assert estimate.sentence(21) == "Roughly 20 s on this server."
    assert estimate.sentence(150, 44, 2) == ("Roughly 2½ min on this server, after about 45 s "
                                             "in the queue (2 jobs ahead).")
    assert estimate.sentence(10, 5, 1).endswith("(1 job ahead).")
