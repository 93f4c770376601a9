"""Small experiments for the Learn page: each makes one limitation of the MLP visible."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lstm_lab.data.series import Series
from lstm_lab.errors import ConfigError, DataError
from lstm_lab.experiments import export
from lstm_lab.experiments.config import ExperimentConfig, field_default
from lstm_lab.experiments.training import run_experiment
from lstm_lab.models.architectures import ARCHITECTURES, count_params
from lstm_lab.models.base import StopFlag
from lstm_lab.models.networks import lstm_params, mlp_params

SERIES_COUNTS = (1, 2, 4, 8, 16, 32, 64)


def parameter_table(window: int = 12, units: int = 32,
                    series: tuple[int, ...] = SERIES_COUNTS) -> pd.DataFrame:
    """How each network grows with parallel input series (and, for the MLP, with the window)."""
    rows = []
    for n in series:
        rows.append({"parallel series": n, "window": window,
                     "MLP inputs": window * n, "MLP weights": mlp_params(n, window, units),
                     "LSTM inputs per step": n, "LSTM weights": lstm_params(n, units)})
    return pd.DataFrame(rows)


def weights_crossing(window: int, units: int) -> float | None:
    """The number of parallel series at which the MLP's weights overtake the LSTM's, or None
    when they never do (a window of 4 or less: the MLP adds ``window x units`` weights per
    series, the LSTM ``4 x units``).

    MLP: window·n·u + 2u + 1; LSTM: 4u(n + u + 1) + u + 1; equal at n = (4u + 3) / (window - 4).
    """
    if window <= 4:
        return None
    return (4 * units + 3) / (window - 4)


def scaling_caption(window: int, units: int, largest: int = SERIES_COUNTS[-1]) -> str:
    """What the weights chart shows, in numbers, including where the LSTM is the larger one."""
    lstm_start = lstm_params(1, units)
    per_mlp, per_lstm = window * units, 4 * units
    grows = (f"Each extra series adds {per_mlp:,} weights to the MLP (window {window} × "
             f"{units} units) and {per_lstm:,} to the LSTM (4 gates × {units} units), whatever "
             "the window.")
    crossing = weights_crossing(window, units)
    if crossing is None:
        return (f"{grows} With a window of {window} the MLP stays the smaller network for any "
                "number of series: the LSTM's gates cost more than a window this short.")
    first = math.floor(crossing) + 1
    if first > largest:
        return (f"{grows} The LSTM is the larger network up to {largest} series here "
                f"({lstm_start:,} weights for 1 series: its 4 gates each read the previous "
                f"state); the MLP would overtake it at {first:,} series. A longer window brings "
                "that point closer.")
    return (f"{grows} The LSTM starts larger ({lstm_start:,} weights against the MLP's "
            f"{mlp_params(1, window, units):,} for 1 series: its 4 gates each read the previous "
            f"state), and stays larger up to {math.floor(crossing):,} series; from {first:,} "
            f"series on the MLP is larger, and at {largest} series it has "
            f"{mlp_params(largest, window, units) / lstm_params(largest, units):.1f}× the LSTM's "
            "weights.")


def window_growth(windows=(3, 6, 12, 24, 48, 96), units: int = 32) -> pd.DataFrame:
    return pd.DataFrame({"window": list(windows),
                         "MLP weights": [mlp_params(1, w, units) for w in windows],
                         "LSTM weights": [lstm_params(1, units)] * len(windows)})


# --- the five limitations as live experiments (figures built here, shown by the Learn page) ----

LSTM_COLOR, MLP_COLOR, OTHER_COLOR = "#d62728", "#1f77b4", "#8c8c8c"


def _look(fig, title: str, height: int = 340, y_title: str = ""):
    fig.update_layout(title=dict(text=title, x=0.01, xanchor="left"), template="plotly_white",
                      height=height, margin=dict(l=10, r=10, t=60, b=10), yaxis_title=y_title,
                      legend=dict(orientation="h", y=-0.25, yanchor="top", x=0))
    return fig


def weights_figure(table: pd.DataFrame, x: str, title: str, height: int = 320,
                   crossing: float | None = None):
    """MLP and LSTM weight counts against ``x`` (parallel series, or the window); ``crossing``
    (an ``x`` where the MLP overtakes the LSTM) is marked by a dashed line."""
    fig = go.Figure()
    for model, color in (("MLP", MLP_COLOR), ("LSTM", LSTM_COLOR)):
        fig.add_trace(go.Scatter(x=table[x], y=table[f"{model} weights"], mode="lines+markers",
                                 name=f"{model} weights", line=dict(color=color, width=2.5)))
    if crossing is not None and table[x].min() <= crossing <= table[x].max():
        fig.add_vline(x=crossing, line_dash="dash", line_color=OTHER_COLOR,
                      annotation_text=f"MLP larger from {math.floor(crossing) + 1:,} {x} on",
                      annotation_position="top left")
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(tickformat=",")
    return _look(fig, title, height=height, y_title="trainable weights")


def echo_figure(table: pd.DataFrame):
    """Accuracy vs k for the LSTM and the MLP (``tasks.echo_experiment``), chance as a line and
    the k the MLP's window holds shaded and named."""
    fig = go.Figure()
    for model, color in (("LSTM", LSTM_COLOR), ("MLP", MLP_COLOR)):
        part = table[table["model"] == model]
        name = f"MLP (window {table.attrs['window']})" if model == "MLP" and "window" in \
            table.attrs else model
        fig.add_trace(go.Scatter(x=part["k"], y=part["accuracy"], mode="lines+markers",
                                 name=name, line=dict(color=color, width=2.5)))
    inside = table.loc[table["in MLP window"], "k"]
    window = table.attrs.get("window")
    if len(inside):
        label = (f"the MLP's window of {window} holds k = 0 … {window - 1}" if window
                 else "inside the MLP's window")
        fig.add_vrect(x0=inside.min() - 0.5, x1=inside.max() + 0.5, line_width=0, layer="below",
                      fillcolor="rgba(31,119,180,0.08)", annotation_text=label,
                      annotation_position="bottom left")
    chance = table.attrs.get("chance")
    if chance:
        fig.add_hline(y=chance, line_dash="dot", line_color=OTHER_COLOR,
                      annotation_text=f"chance ({chance:.0%})", annotation_position="top right")
    fig.update_xaxes(title_text="k = steps back to recall (k = 1: the one just before)",
                     dtick=1)
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    return _look(fig, "Recall the value k steps back", y_title="test accuracy")


def _span(values: pd.Series) -> str:
    """A percentage, or its min–max over seeds when they differ."""
    lo, hi = round(100 * values.min()), round(100 * values.max())
    return f"{lo}%" if lo == hi else f"{lo}–{hi}%"


def echo_caption(table: pd.DataFrame) -> str:
    """The echo result in numbers: the MLP inside and beyond its window, the LSTM for every k."""
    window, chance = table.attrs["window"], table.attrs["chance"]
    mlp, lstm = table[table["model"] == "MLP"], table[table["model"] == "LSTM"]
    inside, beyond = mlp[mlp["in MLP window"]], mlp[~mlp["in MLP window"]]
    parts = []
    if len(inside):
        parts.append(f"the MLP (window {window}) sees the symbols of k = 0 … {window - 1} and "
                     f"recalls them {_span(inside['accuracy'])} of the time")
    if len(beyond):
        parts.append(f"for k ≥ {window} the symbol has left its window: "
                     f"{_span(beyond['accuracy'])}, chance is {chance:.0%}")
    parts.append(f"the LSTM recalls {_span(lstm['accuracy'])} for k = {lstm['k'].min()} … "
                 f"{lstm['k'].max()}, carrying the symbol in its state")
    text = "; ".join(parts)
    return (f"{text[0].upper()}{text[1:]}. Trained in {table.attrs['seconds']:.1f} s.")


def variable_length_caption(table: pd.DataFrame) -> str:
    """``tasks.variable_length_demo`` in numbers: the LSTM on seen and unseen lengths, the MLP
    on the lengths it can take, guessing 0.5 for scale."""
    seen = table[table["trained on this length"]]
    unseen = table[~table["trained on this length"]]
    too_long = table.loc[~table["MLP can take it"], "length"].tolist()
    lo, hi = int(seen["length"].min()), int(seen["length"].max())
    text = (f"Mean absolute error: the LSTM {seen['LSTM MAE'].mean():.3f} on the lengths it "
            f"trained on ({lo}–{hi})")
    if len(unseen):
        text += (f" and {unseen['LSTM MAE'].mean():.3f} on lengths it never saw "
                 f"({', '.join(str(n) for n in unseen['length'])})")
    text += f"; the MLP {table['MLP MAE'].mean():.3f} on the lengths it can take"
    if too_long:
        text += (f", and it cannot read {', '.join(str(n) for n in too_long)} at all: it is "
                 f"sized for {hi} inputs")
    return (f"{text}. Always guessing 0.5 errs {table['guess 0.5 MAE'].mean():.3f}. The LSTM "
            "gets less exact far outside its training lengths, but one network reads them all.")


def output_length_caption(errors: pd.DataFrame, horizon: int) -> str:
    """``tasks.output_length_demo`` in numbers: RMSE over the trained steps and beyond."""
    trained = f"RMSE steps 1-{horizon} (trained)"
    beyond = f"RMSE steps {horizon + 1}+ (never trained)"
    enc = errors[errors["model"].str.startswith("encoder-decoder")]
    mlp = errors[errors["model"].str.startswith("MLP")]
    lengths = ", ".join(str(n) for n in enc["output steps"])
    text = (f"The same encoder-decoder weights gave {lengths} steps. RMSE over the "
            f"{horizon} steps it trained for: encoder-decoder "
            f"{enc.loc[enc['output steps'] >= horizon, trained].mean():.3f}, MLP "
            f"{mlp[trained].mean():.3f}")
    far = enc[beyond].dropna()
    if len(far):
        text += (f"; past step {horizon} the decoder keeps going but drifts (RMSE "
                 f"{far.mean():.3f}), where the MLP gives nothing: its output layer has exactly "
                 f"{horizon} outputs")
    return text + "."


def order_figure(table: pd.DataFrame):
    """``tasks.order_experiment``: mean test accuracy per model, in time order and shuffled,
    with the seeds' lowest and highest as error bars and chance as a line."""
    fig = go.Figure()
    for inputs, color in (("in time order", "#2ca02c"), ("steps shuffled", "#ff7f0e")):
        part = (table[table["inputs"] == inputs].groupby("model", sort=False)["accuracy"]
                .agg(["mean", "min", "max"]).reindex(["MLP", "LSTM"]))
        fig.add_trace(go.Bar(
            x=part.index, y=part["mean"], name=inputs, marker_color=color,
            text=[f"{v:.0%}" for v in part["mean"]], textposition="inside",
            insidetextanchor="start",
            error_y=dict(type="data", symmetric=False, array=part["max"] - part["mean"],
                         arrayminus=part["mean"] - part["min"], color="#333")))
    chance = table.attrs.get("chance")
    if chance:
        fig.add_hline(y=chance, line_dash="dot", line_color=OTHER_COLOR,
                      annotation_text=f"chance ({chance:.0%})",
                      annotation_position="bottom right")
    seeds = table["seed"].nunique()
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    title = "Latest spike up or down? In time order vs shuffled"
    if seeds > 1:
        title += f"<br><sup>mean of {seeds} seeds; whiskers: lowest–highest</sup>"
    return _look(fig, title, y_title="test accuracy")


def order_caption(table: pd.DataFrame) -> str:
    """The shuffle result in numbers (the seeds' spread when they differ), and what it means."""
    acc = table.groupby(["model", "inputs"])["accuracy"]
    spans = {key: _span(values) for key, values in acc}
    means = acc.mean()
    seeds = table["seed"].nunique()

    def change(model: str) -> str:
        before, after = means[model, "in time order"], means[model, "steps shuffled"]
        points = 100 * (after - before)
        if abs(points) < 1:
            return "no change"
        return f"{abs(points):.0f} points {'lower' if points < 0 else 'higher'} on average"

    mlp = (f"MLP {spans['MLP', 'in time order']} → {spans['MLP', 'steps shuffled']} right "
           f"({change('MLP')}: it never knew which step came first)")
    lstm = (f"LSTM {spans['LSTM', 'in time order']} → {spans['LSTM', 'steps shuffled']} "
            f"({change('LSTM')}: it reads the steps in order, and the order was the answer)")
    runs = f" Ranges: the lowest and highest of {seeds} seeds;" if seeds > 1 else ""
    return (f"Shuffled the window's steps: {mlp}; {lstm}.{runs} chance is "
            f"{table.attrs['chance']:.0%}. Trained in {table.attrs['seconds']:.1f} s.")


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
    "forecast of a seasonal series with three seasons of training data. Results call it "
    "\"ES-LSTM\" (\"ES-MLP\"). Its forecast is, by default, the average of the network's and "
    "the smoothing's own (the ES weight: "
    f"{field_default('es_weight'):g}; set it to 0 to see the network alone). "
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


# The architectures whose trained network holds LSTM cells (gates and a cell state to show);
# a GRU has neither.
LSTM_CELL_ARCHITECTURES = ("lstm", "bilstm", "cnn_lstm", "encoder_decoder")


def _openable(result) -> bool:
    """The run holds a trained recurrent network made of LSTM cells: decided from its config
    and whether the network is there, never by loading it (the web process has no Keras)."""
    return (export.has_network(result, "lstm")
            and getattr(getattr(result, "config", None), "architecture", "")
            in LSTM_CELL_ARCHITECTURES)


def run_description(result) -> str:
    """A run named for people: its recurrent network by architecture and depth ("GRU ×2"),
    and its series ("LSTM ×2 on airline passengers")."""
    name = result.label("lstm") if "lstm" in getattr(result, "models", []) else "a run"
    series = getattr(result, "series_name", "")
    return f"{name} on {series}" if series else name


def latest_lstm_run(runs: dict):
    """The latest stored run, when it holds a fitted network with LSTM layers; otherwise None
    (an older run is never shown in its place: ``latest_run_note`` says why)."""
    if not runs:
        return None
    latest = list(runs.values())[-1]
    return latest if _openable(latest) else None


def latest_run_note(runs: dict) -> str | None:
    """Why the latest run cannot be opened in the gates view (one plain sentence), or None
    when it can (or when there is no run yet)."""
    if not runs:
        return None
    latest = list(runs.values())[-1]
    if _openable(latest):
        return None
    models = getattr(latest, "models", [])
    if "lstm" not in models:
        return ("Your latest run on Train & compare trained no recurrent network (only "
                f"{', '.join(latest.label(m) for m in models) or 'baselines'}), so there are no "
                "gates to show; add the recurrent network to its Models to look inside it here.")
    spec = ARCHITECTURES.get(getattr(latest.config, "architecture", ""))
    kind = spec.short if spec is not None else "network of this kind"
    if not export.has_network(latest, "lstm"):
        return (f"Your latest run ({run_description(latest)}) was loaded without its trained "
                "network, so there is nothing to open; train it again on Train & compare to "
                "look inside it here.")
    return (f"Your latest run ({run_description(latest)}) has no LSTM cell state or gates to "
            f"show here: a {kind} is not an LSTM; pick the architecture LSTM (or BiLSTM, CNN-LSTM, "
            "encoder-decoder) on Train & compare to look inside your own run.")


# --- inside the LSTM, as a queued job -----------------------------------------------------------
# The web process never loads Keras: the "Inside the LSTM" view sends the run's network (its
# saved state and .keras bytes) and values to the training queue ("internals" task), which
# replays the chosen layer at a batch of origins and returns plain arrays; moving the origin
# slider within the batch queues nothing.

INSIDE_BUDGET = 2_000_000   # numbers one batch may hold (x and six gate/state arrays): ~16 MB
_INSIDE_CHUNK = 256        # origins per network call in the task
_INSIDE_ARRAYS = ("x", "i", "f", "g", "o", "c", "h", "prediction", "prediction_model")


def network_file(result, model: str = "lstm") -> tuple[dict[str, Any], bytes]:
    """A run's trained network as (state, .keras bytes): as stored or shipped, without Keras;
    a network trained in this process (the in-thread backend) is saved to bytes."""
    forecaster = result.forecasters[model]
    if callable(getattr(type(forecaster), "saved", None)):
        return forecaster.saved()
    from lstm_lab.models.base import to_plain

    kept = getattr(forecaster, "chosen_", forecaster)   # with tuning: the variant kept
    return to_plain(kept.get_state()), export.model_bytes(result, model)


def network_facts(result, model: str = "lstm") -> dict[str, int]:
    """``first_origin_``, ``window`` and ``horizon`` of a run's network, read from its saved
    state (a stored or shipped network is not restored) or from the live forecaster."""
    forecaster = result.forecasters[model]
    if callable(getattr(type(forecaster), "saved", None)):
        state = forecaster.saved()[0]
        return {"first_origin_": int(state["fitted"]["first_origin_"]),
                "window": int(state["params"]["window"]),
                "horizon": int(state["params"]["horizon"])}
    kept = getattr(forecaster, "chosen_", forecaster)   # with tuning: the variant kept
    return {"first_origin_": int(kept.first_origin_), "window": int(kept.window),
            "horizon": int(kept.horizon)}


def inside_task_params(result, origin: int, layer: str | None, model: str = "lstm",
                       series: Series | None = None) -> dict[str, Any]:
    """The "internals" task's parameters (JSON values) for ``result`` around ``origin``.

    A network that reads input columns needs their values (never saved with it): ``series``,
    the run's data with those inputs (its fingerprint must be the run's). Raises DataError
    when they are missing."""
    state, blob = network_file(result, model)
    values = result.predictions["actual"].to_numpy(dtype="float64")
    params = {"model": model, "state": state, "keras": base64.b64encode(blob).decode("ascii"),
              "values": [float(v) for v in values],
              "first": network_facts(result, model)["first_origin_"], "wanted": int(origin),
              "layer": layer}
    reads = int((state.get("fitted") or {}).get("n_inputs_") or 0)
    if reads:
        if series is None or series.inputs is None or \
                series.fingerprint() != result.data_fingerprint:
            names = ", ".join(result.config.inputs) or f"{reads} input column(s)"
            raise DataError(f"This network reads {names} beside the target, and their values "
                            "are not saved with it: choose that data, with those inputs, on "
                            "the Data page to look inside it.")
        params["inputs"] = series.inputs[:len(values)].tolist()
    return params


def inside_lstm(model: str, state: Mapping[str, Any], keras: str, values: list[float],
                first: int, wanted: int, layer: str | None = None,
                should_stop: StopFlag | None = None,
                inputs: list[list[float]] | None = None) -> dict[str, Any]:
    """The "internals" task (runs where Keras is): restore the network, replay ``layer``
    (default: ``internals.default_layer``) at every origin of a contiguous batch around
    ``wanted`` (all of first..len(values)-1 when they fit ``INSIDE_BUDGET``), and return plain
    arrays stacked by origin, the network's LSTM layers and the one shown."""
    from lstm_lab.models import internals
    from lstm_lab.store.stored_network import load_keras, restore_network

    forecaster = restore_network(model, state, load_keras(base64.b64decode(keras)))
    if inputs is not None:       # the run's input columns (``inside_task_params``)
        forecaster.inputs = np.asarray(inputs, dtype="float64")
    network = forecaster.model_
    layers = internals.recurrent_layers(network)
    default = internals.default_layer(network)
    chosen = layer if layer in layers else default
    values = np.asarray(values, dtype="float64")
    shell = SimpleNamespace(forecasters={model: forecaster}, n_train=int(wanted),
                            predictions=pd.DataFrame({"time": np.arange(len(values)),
                                                      "actual": values}))
    last = len(values) - 1
    wanted = min(max(int(wanted), int(first)), last)
    probe = internals.internals_for_result(shell, wanted, model, chosen)
    per_origin = sum(np.asarray(probe[k]).size for k in _INSIDE_ARRAYS)
    count = max(1, min(last - first + 1, INSIDE_BUDGET // max(1, per_origin)))
    start = min(max(wanted - count // 2, first), last - count + 1)
    rows = []
    for chunk in range(start, start + count, _INSIDE_CHUNK):   # one network call per chunk
        if should_stop is not None and should_stop() and rows:
            break   # what is done so far is shown; the slider asks again beyond it
        rows += internals.internals_for_result_many(
            shell, range(chunk, min(chunk + _INSIDE_CHUNK, start + count)), model, chosen)
    origins = [int(r["origin"]) for r in rows]
    if wanted not in origins:
        rows.append(probe)
        origins.append(wanted)
    return {"layers": list(layers), "default_layer": default, "layer": probe["layer"],
            "direction": probe["direction"], "members": int(probe["members"]),
            "window": int(forecaster.window), "horizon": int(forecaster.horizon),
            "origins": np.asarray(origins, dtype="int64"),
            **{k: np.stack([np.asarray(r[k], dtype="float64") for r in rows])
               for k in _INSIDE_ARRAYS}}


def internals_at(batch: Mapping[str, Any], result, origin: int) -> dict[str, Any] | None:
    """What ``internals.internals_for_result`` gives at ``origin``, from a batch the
    "internals" task returned and the run's own values and times; None when the batch does not
    hold ``origin``."""
    origins = [int(o) for o in batch["origins"]]
    if int(origin) not in origins:
        return None
    k = origins.index(int(origin))
    values = result.predictions["actual"].to_numpy(dtype="float64")
    times = list(result.predictions["time"])
    window, horizon = int(batch["window"]), int(batch["horizon"])
    steps = np.arange(origin, origin + horizon)
    actual = np.full(horizon, np.nan)
    inside = steps < len(values)
    actual[inside] = values[steps[inside]]
    return {**{key: np.asarray(batch[key][k]) for key in _INSIDE_ARRAYS},
            "layer": batch["layer"], "direction": batch["direction"],
            "members": batch["members"], "origin": int(origin),
            "time": times[origin - window:origin], "window": values[origin - window:origin],
            "forecast_time": [times[s] if s < len(times) else None for s in steps],
            "actual": actual}
