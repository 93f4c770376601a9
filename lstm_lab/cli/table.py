"""The tables the command line prints for a run (``run`` and ``runs show``) and a backtest."""

from __future__ import annotations

import math
from collections.abc import Mapping

from lstm_lab.experiments import tuning
from lstm_lab.experiments.explanations import transform_reason
from lstm_lab.experiments.intervals import interval_metric_name
from lstm_lab.experiments.training import ExperimentResult
from lstm_lab.store.tables import interval_levels

# The lines under the prediction-interval table that say what its columns mean.
COVERAGE_LINE = "coverage: % of test points inside the band (an 80% band should hold about 80%)"
WIDTH_LINE = ("width: mean band width; Winkler: width plus 2/(1 - level) times each miss, lower "
              "is better")


def format_table(result: ExperimentResult) -> str:
    """A readable metrics table with the best model (by RMSE) marked, then the prediction
    intervals' coverage, width and Winkler score per model and level."""
    best = result.best_model("rmse")
    lines = [f"{result.series_name}: {result.n_points} points, {result.n_train} train, "
             f"{result.n_points - result.n_train} test, horizon {result.config.horizon}",
             f"{'model':<22}{'RMSE':>11}{'MAE':>11}{'MAPE %':>9}{'MASE':>8}  fit s"]
    for name, m in result.metrics.items():
        mark = "  <- best" if name == best else ""
        fit = result.timings.get(f"{name}_fit_s", 0.0)
        lines.append(f"{result.label(name):<22}{m['rmse']:>11.3f}{m['mae']:>11.3f}"
                     f"{m['mape']:>9.2f}{m['mase']:>8.3f}  {fit:5.2f}{mark}")
    lines += interval_table({result.label(m): s for m, s in result.metrics.items()},
                            "Prediction intervals (calibrated on the training part, scored on "
                            "the test part)")
    if result.transform and result.histories:
        why = transform_reason(result)
        lines.append(f"transform: {result.transform}" + (f" ({why})" if why else ""))
    for name, info in result.tuning.items():
        lines.append("tuning: " + tuning.sentence(result.label(name), info).replace("**", ""))
    if result.stopped_by_user:
        lines.append("Training was stopped early by request.")
    lines.extend(f"note: {note}" for note in result.notes)
    lines.append(f"total {result.timings['total_s']:.2f} s")
    return "\n".join(lines)


def interval_table(scores: Mapping[str, Mapping[str, float]], title: str,
                   suffix: str = "") -> list[str]:
    """Lines of the prediction-interval table: one row per model (``scores``' keys, as shown)
    and level, with its coverage %, mean width and mean Winkler score (``coverage_80`` ...,
    each name followed by ``suffix``, e.g. " mean" for a backtest's summary); "—" where a model
    has no band. No lines when no model has an interval score."""
    levels = interval_levels({k[:len(k) - len(suffix)]: v for k, v in one.items()
                              if k.endswith(suffix)} for one in scores.values())
    if not levels:
        return []
    lines = ["", title,
             f"{'model':<22}{'level':>6}{'coverage %':>12}{'width':>12}{'Winkler':>12}"]
    for label, values in scores.items():
        for key in levels:
            level = float(key) / 100
            cells = [values.get(interval_metric_name(m, level) + suffix, math.nan)
                     for m in ("coverage", "width", "winkler")]
            if not any(v is not None and math.isfinite(v) for v in cells):
                lines.append(f"{label:<22}{key + '%':>6}{'—':>12}  no band")
                continue
            lines.append(f"{label:<22}{key + '%':>6}{_cell(cells[0], 1)}{_cell(cells[1], 3)}"
                         f"{_cell(cells[2], 3)}")
    return [*lines, COVERAGE_LINE, WIDTH_LINE]


def _cell(value: float | None, decimals: int) -> str:
    return f"{'—':>12}" if value is None or not math.isfinite(value) \
        else f"{value:>12.{decimals}f}"
