"""Did the input columns help? The same run with and without them, side by side.

Both runs share everything else (series, split, seeds, settings), so the difference in a
network's error is what the inputs brought. The baselines read the target only, so they are
fitted once, in the run with inputs, and shown as they are: the bar both networks must clear.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lstm_lab.data.series import Series
from lstm_lab.errors import ConfigError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.metrics import fmt_number
from lstm_lab.experiments.plots import COLORS, _layout, _shade_test, safe_text
from lstm_lab.experiments.training import ExperimentResult, run_experiment
from lstm_lab.models.base import EpochHook, StopFlag
from lstm_lab.models.registry import by_kind


@dataclass
class InputsComparison:
    """The run with its inputs (every model) and the same run without them (networks only)."""

    with_inputs: ExperimentResult
    without: ExperimentResult

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.with_inputs.config.inputs

    @property
    def stopped_by_user(self) -> bool:
        return self.with_inputs.stopped_by_user or self.without.stopped_by_user

    @property
    def networks(self) -> list[str]:
        """The networks scored in both runs, in fitting order."""
        return [m for m in by_kind("network")
                if m in self.with_inputs.metrics and m in self.without.metrics]

    def table(self) -> pd.DataFrame:
        """One row per network (with and without inputs) and per baseline (target only: the
        same score in both columns)."""
        rows = []
        for model in self.networks:
            a, b = self.with_inputs.metrics[model], self.without.metrics[model]
            rows.append({"Model": self.without.label(model),
                         "RMSE with inputs": a["rmse"], "RMSE without": b["rmse"],
                         "Change": change(a["rmse"], b["rmse"]),
                         "MASE with inputs": a["mase"], "MASE without": b["mase"],
                         "Weights with inputs": self.with_inputs.n_params.get(model),
                         "Weights without": self.without.n_params.get(model)})
        for model, scores in self.with_inputs.metrics.items():
            if model not in by_kind("network"):
                rows.append({"Model": f"{self.with_inputs.label(model)} (target only)",
                             "RMSE with inputs": scores["rmse"], "RMSE without": scores["rmse"],
                             "Change": np.nan, "MASE with inputs": scores["mase"],
                             "MASE without": scores["mase"], "Weights with inputs": None,
                             "Weights without": None})
        return pd.DataFrame(rows)

    def verdicts(self) -> list[str]:
        """One sentence per network: did the inputs lower its test error, and by how much."""
        named = ", ".join(self.inputs)
        out = []
        for model in self.networks:
            a = self.with_inputs.metrics[model]["rmse"]
            b = self.without.metrics[model]["rmse"]
            label = self.without.label(model)
            if not (np.isfinite(a) and np.isfinite(b)):
                continue
            delta = change(a, b)
            how = (f"the inputs lowered its error by {-delta:.0%}" if delta < -0.02 else
                   f"the inputs raised its error by {delta:.0%}" if delta > 0.02 else
                   "the inputs made no clear difference")
            out.append(f"{label}: test RMSE {fmt_number(a)} with {named}, {fmt_number(b)} "
                       f"without — {how}.")
        return out

    def figure(self) -> go.Figure:
        """The test part: actual, each network with its inputs (solid) and without (dotted)."""
        preds = self.with_inputs.predictions
        plain = self.without.predictions
        test = (preds["split"] == "test").to_numpy()
        start = max(0, int(np.argmax(test)) - max(int(test.sum()), 12))
        view, other = preds.iloc[start:], plain.iloc[start:]
        fig = go.Figure(go.Scatter(x=view["time"], y=view["actual"], name="actual",
                                   mode="lines", line=dict(color=COLORS["actual"], width=2.2)))
        for model in self.networks:
            label = safe_text(self.without.label(model))
            fig.add_trace(go.Scatter(x=view["time"], y=view[model], mode="lines",
                                     name=f"{label} with inputs", legendgroup=model,
                                     line=dict(color=COLORS.get(model), width=1.8)))
            fig.add_trace(go.Scatter(x=other["time"], y=other[model], mode="lines",
                                     name=f"{label} without", legendgroup=model,
                                     line=dict(color=COLORS.get(model), width=1.4, dash="dot"),
                                     opacity=0.8))
        times = preds["time"][test]
        _shade_test(fig, times.iloc[0], times.iloc[-1], "test (held out)")
        return _layout(fig, f"With and without {', '.join(self.inputs)} — test part and the "
                            "points before it", self.with_inputs.series_name, height=440)


def change(with_inputs: float, without: float) -> float:
    """The relative change of an error the inputs brought: -0.25 is 25% lower with them."""
    if not (np.isfinite(with_inputs) and np.isfinite(without)) or without == 0:
        return float("nan")
    return float(with_inputs / without - 1.0)


def compare_inputs(config: ExperimentConfig, series: Series, on_epoch: EpochHook | None = None,
                   should_stop: StopFlag | None = None,
                   on_stage=None) -> InputsComparison:
    """Run ``config`` with its inputs, then its networks again without them (same seeds).

    Raises ConfigError when the config names no inputs or no network (the baselines never
    read inputs, so there would be nothing to compare)."""
    if not config.inputs:
        raise ConfigError("Pick input columns first (the Data page, --inputs, or inputs= in a "
                          "link): with none there is nothing to compare.")
    if not config.neural_models:
        raise ConfigError("Only the networks read input columns; the baselines see the target "
                          "only. Add the LSTM or the MLP to the models.")
    if on_stage is not None:
        on_stage("with inputs", 0, 2)
    with_inputs = run_experiment(config, series, on_epoch, should_stop)
    if should_stop is not None and should_stop():
        raise ConfigError("Stopped before the run without inputs; press the button again to "
                          "compare.")
    if on_stage is not None:
        on_stage("without inputs", 1, 2)
    without = run_experiment(config.replace(inputs=(), models=config.neural_models),
                             series.target_only(), on_epoch, should_stop)
    return InputsComparison(with_inputs, without)
