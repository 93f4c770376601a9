"""Small experiments for the Learn page: each makes one limitation of the MLP visible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lstm_lab.data.series import Series
from lstm_lab.errors import ConfigError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.metrics import rmse
from lstm_lab.experiments.training import run_experiment
from lstm_lab.models.architectures import ARCHITECTURES, count_params
from lstm_lab.models.base import StopFlag
from lstm_lab.models.internals import recurrent_layers
from lstm_lab.models.networks import lstm_params, mlp_params
from lstm_lab.models.neural import LSTMForecaster, MLPForecaster


def parameter_table(window: int = 12, units: int = 32, max_series: int = 16) -> pd.DataFrame:
    """How each network grows with parallel input series and with the window."""
    rows = []
    for n in (1, 2, 4, 8, max_series):
        rows.append({"parallel series": n, "window": window,
                     "MLP inputs": window * n, "MLP weights": mlp_params(n, window, units),
                     "LSTM inputs per step": n, "LSTM weights": lstm_params(n, units)})
    return pd.DataFrame(rows)


def window_growth(windows=(3, 6, 12, 24, 48, 96), units: int = 32) -> pd.DataFrame:
    return pd.DataFrame({"window": list(windows),
                         "MLP weights": [mlp_params(1, w, units) for w in windows],
                         "LSTM weights": [lstm_params(1, units)] * len(windows)})


def _shuffled(cls, permutation: np.ndarray):
    """A forecaster class that reorders every input window by one fixed permutation.

    For the MLP the first layer's initial weights are reordered the same way, so the shuffled
    network starts as exactly the same function: any difference after training would have to
    come from the order itself. (An LSTM shares its weights across steps; there is no such map.)
    """

    class Shuffled(cls):
        def _build(self):
            model = super()._build()
            if isinstance(self, MLPForecaster):
                kernel = model.get_layer("dense_1").kernel
                kernel.assign(kernel.numpy()[permutation])
            return model

        def _inputs(self, X: np.ndarray) -> np.ndarray:
            return super()._inputs(X[:, permutation])

    return Shuffled


def order_experiment(series: Series, window: int = 12, test_size: int = 24, epochs: int = 150,
                     seed: int = 0, should_stop: StopFlag | None = None) -> pd.DataFrame:
    """Test RMSE of MLP and LSTM fed windows in time order vs with their points shuffled.

    The MLP gives the same result either way (to float rounding): it never knew the order. The
    LSTM reads the window step by step, so shuffling the steps changes what it learns.
    ``should_stop`` (Stop, a job's time limit) ends each network's training early.
    """
    values = series.values
    n_train = len(values) - test_size
    origins = np.arange(n_train, len(values))
    permutation = np.random.default_rng(seed).permutation(window)
    kwargs = dict(window=window, horizon=1, transform="log_diff" if values.min() > 0 else "diff",
                  season=series.season, units=32, epochs=epochs, batch_size=16,
                  learning_rate=3e-3, patience=30, validation_fraction=0.1, seed=seed)
    rows = []
    for label, cls in (("MLP", MLPForecaster), ("LSTM", LSTMForecaster)):
        for order in ("in time order", "points shuffled"):
            model_class = _shuffled(cls, permutation) if order == "points shuffled" else cls
            model = model_class(**kwargs)
            model.fit(values[:n_train], should_stop=should_stop)
            pred = model.predict(values, origins)[:, 0]
            rows.append({"model": label, "inputs": order, "test RMSE": rmse(values[n_train:], pred)})
    return pd.DataFrame(rows)


# --- the five limitations as live experiments (figures built here, shown by the Learn page) ----

LSTM_COLOR, MLP_COLOR, OTHER_COLOR = "#d62728", "#1f77b4", "#8c8c8c"


def _look(fig, title: str, height: int = 340, y_title: str = ""):
    fig.update_layout(title=dict(text=title, x=0.01, xanchor="left"), template="plotly_white",
                      height=height, margin=dict(l=10, r=10, t=60, b=10), yaxis_title=y_title,
                      legend=dict(orientation="h", y=-0.25, yanchor="top", x=0))
    return fig


def weights_figure(table: pd.DataFrame, x: str, title: str, height: int = 320):
    """MLP and LSTM weight counts against ``x`` (parallel series, or the window)."""
    fig = go.Figure()
    for model, color in (("MLP", MLP_COLOR), ("LSTM", LSTM_COLOR)):
        fig.add_trace(go.Scatter(x=table[x], y=table[f"{model} weights"], mode="lines+markers",
                                 name=f"{model} weights", line=dict(color=color, width=2.5)))
    fig.update_xaxes(title_text=x)
    return _look(fig, title, height=height, y_title="trainable weights")


def echo_figure(table: pd.DataFrame):
    """Accuracy vs k for the LSTM and the MLP (``tasks.echo_experiment``), chance as a line and
    the MLP's window shaded."""
    fig = go.Figure()
    for model, color in (("LSTM", LSTM_COLOR), ("MLP", MLP_COLOR)):
        part = table[table["model"] == model]
        fig.add_trace(go.Scatter(x=part["k"], y=part["accuracy"], mode="lines+markers",
                                 name=model, line=dict(color=color, width=2.5)))
    inside = table.loc[table["in MLP window"], "k"]
    if len(inside):
        fig.add_vrect(x0=inside.min() - 0.5, x1=inside.max() + 0.5, line_width=0, layer="below",
                      fillcolor="rgba(31,119,180,0.08)", annotation_text="inside the MLP's window",
                      annotation_position="bottom left")
    chance = table.attrs.get("chance")
    if chance:
        fig.add_hline(y=chance, line_dash="dot", line_color=OTHER_COLOR,
                      annotation_text="chance", annotation_position="top right")
    fig.update_xaxes(title_text="k: how many steps back the answer lies", dtick=1)
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    return _look(fig, "Recall the value k steps back", y_title="test accuracy")


def variable_length_figure(table: pd.DataFrame):
    """MAE per input length (``tasks.variable_length_demo``), the trained lengths shaded."""
    fig = go.Figure()
    for column, name, color, dash in (("LSTM MAE", "LSTM (one network, any length)", LSTM_COLOR,
                                       "solid"),
                                      ("MLP MAE", "MLP (padded to a fixed size)", MLP_COLOR,
                                       "solid"),
                                      ("guess 0.5 MAE", "always guess 0.5", OTHER_COLOR, "dot")):
        fig.add_trace(go.Scatter(x=table["length"], y=table[column], mode="lines+markers",
                                 name=name, line=dict(color=color, dash=dash)))
    trained = table.loc[table["trained on this length"], "length"]
    if len(trained):
        fig.add_vrect(x0=trained.min(), x1=trained.max(), line_width=0, layer="below",
                      fillcolor="rgba(214,39,40,0.07)", annotation_text="lengths seen in training",
                      annotation_position="top left")
    if not table["MLP can take it"].all():
        longest = table.loc[table["MLP can take it"], "length"].max()
        fig.add_vline(x=longest + 0.5, line_dash="dash", line_color=MLP_COLOR,
                      annotation_text="the MLP cannot take more", annotation_position="top right")
    fig.update_xaxes(title_text="sequence length")
    return _look(fig, "Average of a sequence: error by length", y_title="mean absolute error")


def output_length_figure(forecasts: pd.DataFrame, horizon: int):
    """Forecasts of several output lengths from one encoder-decoder, the MLP's fixed output,
    and the actual values (``tasks.output_length_demo``)."""
    fig = go.Figure(go.Scatter(x=forecasts["step"], y=forecasts["actual"], mode="lines",
                               name="actual", line=dict(color="#1f2937", width=1.5)))
    reds = ("#f4a3a3", "#e45756", "#8b0000", "#5a0000")
    enc = [c for c in forecasts.columns if c.startswith("encoder-decoder")]
    for column, color in zip(enc, reds):
        fig.add_trace(go.Scatter(x=forecasts["step"], y=forecasts[column], mode="lines+markers",
                                 name=column, line=dict(color=color),
                                 marker=dict(size=5)))
    for column in (c for c in forecasts.columns if c.startswith("MLP")):
        fig.add_trace(go.Scatter(x=forecasts["step"], y=forecasts[column], mode="markers",
                                 name=column, marker=dict(color=MLP_COLOR, symbol="square",
                                                          size=7)))
    fig.add_vline(x=horizon + 0.5, line_dash="dash", line_color=OTHER_COLOR,
                  annotation_text=f"trained for {horizon} steps", annotation_position="top left")
    fig.update_xaxes(title_text="steps after the last input")
    return _look(fig, "One encoder-decoder, output sequences of any length", height=360)


def architecture_table(window: int = 12, units: int = 32, layers: int = 1,
                       horizon: int = 1) -> pd.DataFrame:
    """The LSTM family at one setting: label, one-line explanation and trainable weights."""
    rows = []
    for name, arch in ARCHITECTURES.items():
        try:
            weights = count_params(name, window, horizon, layers, units)
        except ConfigError:  # the CNN-LSTM cannot split this window
            weights = None
        rows.append({"architecture": arch.label, "name": name, "weights": weights,
                     "what it does": arch.help})
    return pd.DataFrame(rows)


def architecture_lines(table: pd.DataFrame) -> list[str]:
    """``architecture_table`` as Markdown list items, explanations in full."""
    lines = []
    for row in table.to_dict("records"):
        weights = ("cannot split this window into sub-windows" if pd.isna(row["weights"])
                   else f"{int(row['weights']):,} weights")
        lines.append(f"- **{row['architecture']}** ({weights}): {row['what it does']}")
    return lines


ES_HYBRID_LINE = (
    "- **ES-LSTM hybrid** (any network above, or the MLP, behind exponential smoothing): "
    "exponential smoothing (Holt-Winters: level, damped trend and seasonal indices) is fitted on "
    "the training part only and carries the level, trend and season; each window is read "
    "relative to the smoothed level at its end, so the network sees shapes rather than heights "
    "and learns only the rest, what smoothing misses; its forecasts go back onto the smoothing's "
    "forecast and are re-seasonalised. Select it with the transform `es` (or `log_es`, where "
    "season and level become ratios: growth that multiplies); `auto` picks it for a direct "
    "forecast whose horizon covers a whole season. Results call it \"ES-LSTM\" (\"ES-MLP\"). "
    "It needs the direct strategy: a recursive forecast would feed it its own smoothed level.")


def ensemble_note(members: int, combine: str) -> str:
    """The Learn page's note on ensembles, with the current ensemble size and combination."""
    now = (f"now {members} seeds, combined by their {combine}" if members > 1
           else "now 1: a single network")
    return ("**Ensembles** (ensemble size K, " + now + "): K copies of the network, each "
            "starting from its own seed, train side by side as one model K times as wide; the "
            "forecast is their mean or median, which evens out the luck of any one start. On the "
            "forecast chart the light band around the line shows their spread, from the lowest "
            "to the highest member: where it is wide, the seeds disagree. The LSTM, the GRU and "
            "the MLP ensemble; the other architectures train one network.")


def small_lstm_config() -> ExperimentConfig:
    """A run small enough to train live in class (~2 s) whose units fit on a heatmap (no
    prediction intervals: their calibration would train the network twice)."""
    return ExperimentConfig(dataset="air_passengers", window=12, horizon=1, units=8,
                            epochs=200, patience=30, learning_rate=0.01, models=("lstm",),
                            intervals=())


def train_small_lstm(series: Series, config=None, should_stop: StopFlag | None = None):
    """Train ``small_lstm_config()`` (or ``config``) on ``series``; the ExperimentResult keeps
    the fitted LSTM for ``internals.internals_for_result``. ``should_stop`` as for any run."""
    return run_experiment(config or small_lstm_config(), series, should_stop=should_stop)


def latest_lstm_run(runs: dict):
    """The most recently stored run that still holds a fitted network with LSTM layers (a GRU
    has none to open), or None."""
    for result in reversed(list(runs.values())):
        forecaster = (getattr(result, "forecasters", None) or {}).get("lstm")
        if hasattr(forecaster, "model_") and recurrent_layers(forecaster.model_):
            return result
    return None
