"""The metrics table the command line prints for a run (``run`` and ``runs show``)."""

from __future__ import annotations

from lstm_lab.experiments import tuning
from lstm_lab.experiments.explanations import transform_reason
from lstm_lab.experiments.training import ExperimentResult


def format_table(result: ExperimentResult) -> str:
    """A readable metrics table with the best model (by RMSE) marked."""
    best = result.best_model("rmse")
    lines = [f"{result.series_name}: {result.n_points} points, {result.n_train} train, "
             f"{result.n_points - result.n_train} test, horizon {result.config.horizon}",
             f"{'model':<22}{'RMSE':>11}{'MAE':>11}{'MAPE %':>9}{'MASE':>8}  fit s"]
    for name, m in result.metrics.items():
        mark = "  <- best" if name == best else ""
        fit = result.timings.get(f"{name}_fit_s", 0.0)
        lines.append(f"{result.label(name):<22}{m['rmse']:>11.3f}{m['mae']:>11.3f}"
                     f"{m['mape']:>9.2f}{m['mase']:>8.3f}  {fit:5.2f}{mark}")
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
