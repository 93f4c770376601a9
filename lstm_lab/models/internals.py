"""Inside the LSTM: gates and states of every unit at every step, recomputed from the weights.

For one input window, ``lstm_internals`` replays a trained Keras LSTM layer step by step in NumPy
and returns what it computed on the way::

    z_t = x_t W + h_{t-1} U + b            # W kernel (features, 4u), U recurrent (u, 4u), b (4u,)
    i_t = sigmoid(z_t[:, 0u:1u])           # input gate: how much of g_t to write
    f_t = sigmoid(z_t[:, 1u:2u])           # forget gate: how much of c_{t-1} to keep
    g_t = tanh(z_t[:, 2u:3u])              # candidate values
    o_t = sigmoid(z_t[:, 3u:4u])           # output gate: how much of the cell to show
    c_t = f_t * c_{t-1} + i_t * g_t        # cell state (the long-term memory)
    h_t = o_t * tanh(c_t)                  # hidden state (what the next layer sees)

That is Keras' layout and gate order (i, f, c, o; activation tanh, recurrent activation sigmoid),
so ``h`` matches the layer's own output (the tests check the last step to 1e-5).
``internals_for_result`` does the same for the LSTM of a finished run, fed exactly the window its
``predict`` uses, and ``internals_figure`` draws the arrays as heatmaps over time.

An ensemble of K networks is one LSTM of K x u units with zeros between members
(``ensembles.py``): the view opens member 1 only, a network of u units. Its weights are member
0's blocks of the wide matrices: gate g's columns ``g*K*u + 0 ... + u``, and for a layer reading
the previous ensemble layer, the rows of member 0's inputs (the first ``rows / K``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_lab.errors import ConfigError, DataError, NotFittedError

# What each heatmap row shows, in the order information flows through the cell.
PANELS = (
    ("f", "forget gate f<sub>t</sub>", "1 keeps the old cell state, 0 erases it"),
    ("i", "input gate i<sub>t</sub>", "how much of the candidate is written"),
    ("g", "candidate g<sub>t</sub>", "the new values offered to the cell"),
    ("c", "cell state c<sub>t</sub>", "the memory carried from step to step"),
    ("o", "output gate o<sub>t</sub>", "how much of the cell is shown"),
    ("h", "hidden state h<sub>t</sub>", "the output; its last step feeds the forecast"),
)
_GATES = ("i", "f", "o")


def recurrent_layers(model) -> list[str]:
    """Names of the layers ``lstm_internals`` can open: LSTM layers and bidirectional LSTMs."""
    import keras

    names = []
    for layer in model.layers:
        inner = getattr(layer, "forward_layer", layer)
        if isinstance(inner, keras.layers.LSTM):
            names.append(layer.name)
    return names


def default_layer(model) -> str:
    """The LSTM layer the view opens first: the last one that reads the window (for an
    encoder-decoder, the last encoder layer rather than the decoder)."""
    names = recurrent_layers(model)
    readers = [n for n in names if n != "decoder"]
    if not readers:
        _pick_layer(model, None)  # raises the "has none" ConfigError
    return readers[-1]


def lstm_internals(model_or_layer, window_values: np.ndarray, layer: str | int | None = None,
                   direction: str = "forward") -> dict[str, Any]:
    """Gates and states of one LSTM layer for one input window.

    Args:
        model_or_layer: a functional Keras model holding LSTM layers, or an LSTM layer.
        window_values: the model's input for one window, (T,) or (T, features) (a leading batch
            axis of 1 is dropped). For a bare layer: that layer's input sequence.
        layer: which LSTM layer of the model (name, or index into ``recurrent_layers``);
            default ``default_layer(model)``: the last one reading the window.
        direction: for a bidirectional LSTM, ``"forward"`` or ``"backward"``. Backward arrays are
            returned in time order: row t is the state after reading steps T-1 down to t.

    Returns:
        ``x`` (T, inputs of the layer), ``i``, ``f``, ``g``, ``o``, ``c``, ``h`` (T, units) as
        float64, ``prediction`` (the model's output for the window, (outputs,); None for a bare
        layer), ``layer`` (the layer's name) and ``direction``.

    Raises:
        ConfigError: the model has no LSTM layer, the layer is unknown, or the layer uses
            activations other than tanh / sigmoid.
    """
    import keras

    window_values = np.asarray(window_values, dtype="float32")
    if window_values.ndim == 3 and window_values.shape[0] == 1:
        window_values = window_values[0]
    if window_values.ndim == 1:
        window_values = window_values[:, None]                            # [T, 1]
    if window_values.ndim != 2:
        raise DataError("window_values must be (T,) or (T, features). "
                        f"Received shape={window_values.shape}")
    if isinstance(model_or_layer, keras.Model):
        return lstm_internals_many(model_or_layer, window_values[None], layer, direction)[0]
    return _open(model_or_layer, window_values, None, direction, members=1, first_layer=True)


def lstm_internals_many(model, windows: np.ndarray, layer: str | int | None = None,
                        direction: str = "forward") -> list[dict[str, Any]]:
    """``lstm_internals`` for each of ``windows`` (N, T, features) of one Keras model: the
    network runs once on the whole batch (its output, and the chosen layer's input), then each
    window's steps are replayed in NumPy. One dict per window, as ``lstm_internals`` gives."""
    import keras

    windows = np.asarray(windows, dtype="float32")
    if windows.ndim != 3:
        raise DataError("windows must be (N, T, features). "
                        f"Received shape={windows.shape}")
    chosen = _pick_layer(model, default_layer(model) if layer is None else layer)
    first = model.layers[1] if isinstance(model.layers[0], keras.layers.InputLayer) else None
    if chosen is first:
        xs = windows
    else:  # the chosen layer's own input: run the layers below it (inference mode)
        below = keras.Model(model.input, chosen.input)
        xs = np.asarray(below(windows, training=False))
    predictions = np.asarray(model(windows, training=False), dtype="float64")
    members = model_members(model)
    return [_open(chosen, xs[n], predictions[n], direction, members, chosen is first)
            for n in range(len(windows))]


def _open(chosen, x: np.ndarray, prediction: np.ndarray | None, direction: str, members: int,
          first_layer: bool) -> dict[str, Any]:
    """One window's replay of layer ``chosen`` (its input ``x``, the model's ``prediction``)."""
    import keras

    cell_layer = chosen
    if hasattr(chosen, "forward_layer"):  # Bidirectional
        if direction not in ("forward", "backward"):
            raise ConfigError("direction must be 'forward' or 'backward'. "
                              f"Received: direction={direction!r}")
        cell_layer = chosen.forward_layer if direction == "forward" else chosen.backward_layer
    if not isinstance(cell_layer, keras.layers.LSTM):
        raise ConfigError(f"Layer '{chosen.name}' is a {type(cell_layer).__name__}, not an LSTM.")
    weights = _weights(cell_layer)
    if members > 1:           # member 1 of the ensemble: its blocks of the wide layer
        weights = member_weights(*weights, members, wide_input=not first_layer)
        if not first_layer:
            x = x[:, :x.shape[1] // members]
        prediction = prediction[0] if prediction is not None and prediction.ndim == 2 \
            else prediction
    reverse = bool(getattr(cell_layer, "go_backwards", False))
    arrays = _replay(cell_layer, x[::-1] if reverse else x, weights)
    if reverse:
        arrays = {k: v[::-1] for k, v in arrays.items()}
    return {"x": np.asarray(x, dtype="float64"), **arrays, "prediction": prediction,
            "layer": chosen.name, "direction": "backward" if reverse else "forward",
            "members": members}


def model_members(model) -> int:
    """How many networks a Keras model holds side by side (``ensembles.py``): its
    output's middle axis, [batch, members, horizon]; 1 for a lone network."""
    shape = model.output_shape
    return int(shape[1]) if isinstance(shape, tuple) and len(shape) == 3 else 1


def member_weights(kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray,
                   members: int, wide_input: bool, member: int = 0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Member ``member``'s LSTM weights out of a wide ensemble LSTM's (kernel [F, 4Ku],
    recurrent [Ku, 4Ku], bias [4Ku]): [F or F/K, 4u], [u, 4u], [4u], gates in Keras' order."""
    from lstm_lab.models.ensembles import to_batched  # the one slicing of member blocks

    units = recurrent_kernel.shape[1] // 4 // members
    return (to_batched(kernel, members, units, wide_input, 4)[member],
            to_batched(recurrent_kernel, members, units, True, 4)[member],
            to_batched(bias[None, :], members, units, False, 4)[member][0])


def _pick_layer(model, layer: str | int | None):
    names = recurrent_layers(model)
    if not names:
        kinds = ", ".join(type(lyr).__name__ for lyr in model.layers[1:])
        raise ConfigError(f"The internals view opens LSTM layers; model '{model.name}' has none "
                          f"(its layers: {kinds}).")
    if layer is None:
        layer = -1
    if isinstance(layer, int):
        try:
            return model.get_layer(names[layer])
        except IndexError:
            raise ConfigError(f"Model '{model.name}' has {len(names)} LSTM layer(s). "
                              f"Received: layer={layer}") from None
    if layer not in names:
        raise ConfigError(f"No LSTM layer named {layer!r}. Choose one of {', '.join(names)}.")
    return model.get_layer(layer)


def _weights(lstm) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The LSTM layer's kernel [F, 4u], recurrent kernel [u, 4u] and bias [4u], in float64."""
    weights = [np.asarray(w, dtype="float64") for w in lstm.get_weights()]
    kernel, recurrent_kernel = weights[0], weights[1]
    bias = weights[2] if len(weights) > 2 else np.zeros(recurrent_kernel.shape[1])
    return kernel, recurrent_kernel, bias


def _replay(lstm, x: np.ndarray,
            weights: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
            ) -> dict[str, np.ndarray]:
    """Step through the LSTM's equations in float64 with the layer's own weights (or
    ``weights``: one member's, see ``member_weights``)."""
    activation = getattr(lstm.activation, "__name__", str(lstm.activation))
    recurrent = getattr(lstm.recurrent_activation, "__name__", str(lstm.recurrent_activation))
    if (activation, recurrent) != ("tanh", "sigmoid"):
        raise ConfigError("The internals view replays the standard LSTM (activation tanh, "
                          f"recurrent_activation sigmoid). Received: {activation}, {recurrent}")
    kernel, recurrent_kernel, bias = weights if weights is not None else _weights(lstm)
    units = recurrent_kernel.shape[0]                                 # [F, 4u], [u, 4u], [4u]
    x = np.asarray(x, dtype="float64")
    if x.shape[1] != kernel.shape[0]:
        raise DataError(f"Layer '{lstm.name}' takes {kernel.shape[0]} input(s) per step. "
                        f"Received: {x.shape[1]}")
    steps = len(x)
    out = {k: np.zeros((steps, units)) for k in ("i", "f", "g", "o", "c", "h")}
    h, c = np.zeros(units), np.zeros(units)
    projected = x @ kernel + bias                                     # [T, 4u]
    for t in range(steps):
        z = projected[t] + h @ recurrent_kernel                       # [4u]
        i, f = _sigmoid(z[:units]), _sigmoid(z[units:2 * units])
        g, o = np.tanh(z[2 * units:3 * units]), _sigmoid(z[3 * units:])
        c = f * c + i * g
        h = o * np.tanh(c)
        for key, value in (("i", i), ("f", f), ("g", g), ("o", o), ("c", c), ("h", h)):
            out[key][t] = value
    return out


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def internals_for_result(result, origin: int | None = None, model: str = "lstm",
                         layer: str | int | None = None) -> dict[str, Any]:
    """``lstm_internals`` for the trained LSTM of a run, at one forecast origin.

    The input window is built exactly as ``LSTMForecaster.predict`` builds it: the transform
    and scaler fitted on the training part, applied to the values before ``origin``.

    Args:
        result: an ``ExperimentResult`` still holding its fitted forecasters.
        origin: index of the first forecast point; its window is the ``window`` points before.
            Default: the first test point (``result.n_train``).
        model: which forecaster of the run to open.
        layer: as in ``lstm_internals``.

    Returns:
        ``lstm_internals``' arrays plus ``prediction`` in the original units (horizon,),
        ``prediction_model`` (the network's raw, scaled output), ``origin``, ``time`` (the
        window's time stamps), ``window`` (its values in original units), ``forecast_time`` and
        ``actual`` (the values the forecast is scored against; NaN past the end of the data).
    """
    origin = getattr(result, "n_train", None) if origin is None else origin
    return internals_for_result_many(result, [origin], model, layer)[0]


def internals_for_result_many(result, origins, model: str = "lstm",
                              layer: str | int | None = None) -> list[dict[str, Any]]:
    """``internals_for_result`` at each of ``origins``: the network and the forecaster's
    ``predict`` run once on all their windows (a whole slider's worth in one call)."""
    forecaster = (getattr(result, "forecasters", None) or {}).get(model)
    if forecaster is None or not hasattr(forecaster, "model_"):
        raise NotFittedError(f"This run holds no trained {model.upper()} (runs read back from a "
                             "file keep no weights, and the model must be in the run's models). "
                             "Train it again to look inside.")
    values = result.predictions["actual"].to_numpy(dtype="float64")
    times = list(result.predictions["time"])                           # Timestamps or ints
    origins = [result.n_train if o is None else int(o) for o in origins]
    window = forecaster.window
    for origin in origins:
        if not forecaster.first_origin_ <= origin <= len(values):
            raise DataError(f"origin must be between {forecaster.first_origin_} (the first "
                            f"point with {forecaster.first_origin_} earlier points) and "
                            f"{len(values)}. Received: origin={origin}")
    # --- each window exactly as NeuralForecaster.predict builds it ------------------------
    from lstm_lab.data.windows import windows_at

    inputs = []
    shift = getattr(forecaster, "_shift", None)  # the ES hybrid reads windows from its level
    for origin in origins:
        z = forecaster.transform_.forward(values[:origin])
        scaled = forecaster.scaler_.transform(np.nan_to_num(z))
        X = windows_at(scaled, np.array([origin]), window)             # [1, window]
        if shift is not None and getattr(forecaster.transform_, "smooths", False):
            X = X - shift(values, np.array([origin]))[0]
        if getattr(forecaster, "n_inputs_", 0):    # the input columns' windows beside it
            X = forecaster.with_inputs(X.astype("float32"), np.array([origin]))
        inputs.append(np.asarray(forecaster.model_inputs(X))[0])        # [window, features]
    opened = lstm_internals_many(forecaster.model_, np.stack(inputs), layer=layer)
    horizon = forecaster.horizon
    predictions = forecaster.predict(values, np.array(origins))        # [N, horizon], original
    out = []
    for origin, found, prediction in zip(origins, opened, predictions, strict=True):
        steps = np.arange(origin, origin + horizon)
        actual = np.full(horizon, np.nan)
        inside = steps < len(values)
        actual[inside] = values[steps[inside]]
        out.append({**found, "prediction_model": found["prediction"], "prediction": prediction,
                    "origin": origin, "time": times[origin - window:origin],
                    "window": values[origin - window:origin],
                    "forecast_time": [times[s] if s < len(times) else None for s in steps],
                    "actual": actual})
    return out


def internals_figure(internals: dict[str, Any], title: str | None = None,
                     max_units: int = 64) -> go.Figure:
    """Heatmaps over time of every unit's gates and states, with the input and the prediction.

    Left: the input the layer reads (top), then one heatmap per quantity (``PANELS``), step on x,
    unit on y; gates share a 0..1 scale, states and candidates a scale centred on 0. Right: the
    window in original units with the prediction (and the actual values when known) beside it.
    Layers wider than ``max_units`` show their first ``max_units`` units.
    """
    steps = len(internals["h"])
    units = min(internals["h"].shape[1], max_units)
    x_labels = [f"t-{steps - t}" for t in range(steps)]
    unit_labels = [f"unit {u + 1}" for u in range(units)]
    rows = 1 + len(PANELS)
    titles = ["input x<sub>t</sub> the layer reads", "window and prediction"]
    titles += [f"{label} — {meaning}" for _, label, meaning in PANELS]
    # right column: the prediction panel over the top three rows, the colour bars below it
    specs = [[{}, {"rowspan": 3}], [{}, None], [{}, None]] + [[{}, None]] * (rows - 3)
    fig = make_subplots(rows=rows, cols=2, column_widths=[0.74, 0.26], specs=specs,
                        horizontal_spacing=0.07, vertical_spacing=0.035,
                        subplot_titles=titles, row_heights=[0.7] + [1.0] * len(PANELS))
    x_in = np.asarray(internals["x"])
    for j in range(min(x_in.shape[1], 8)):
        fig.add_trace(go.Scatter(x=x_labels, y=x_in[:, j], mode="lines+markers",
                                 name=f"input {j + 1}" if x_in.shape[1] > 1 else "input",
                                 showlegend=x_in.shape[1] > 1, line={"width": 1.5}), 1, 1)
    c_max = max(1.0, float(np.abs(internals["c"][:, :units]).max()))
    for r, (key, label, _) in enumerate(PANELS, start=2):
        gate = key in _GATES
        z = np.asarray(internals[key])[:, :units].T                   # [units, T]
        fig.add_trace(go.Heatmap(
            z=z, x=x_labels, y=unit_labels, coloraxis="coloraxis" if gate else "coloraxis2",
            name=key, hovertemplate=f"{label}<br>%{{y}}, %{{x}}: %{{z:.3f}}<extra></extra>"), r, 1)
        fig.update_yaxes(showticklabels=units <= 16, autorange="reversed", row=r, col=1)
    for r in range(1, rows):
        fig.update_xaxes(showticklabels=False, row=r, col=1)
    fig.update_xaxes(tickangle=0, title_text="step of the input window", row=rows, col=1)
    _add_prediction_panel(fig, internals, steps)
    bar = {"len": 0.42, "y": 0.0, "yanchor": "bottom", "thickness": 14}
    fig.update_layout(
        title=title or _title(internals),
        template="plotly_white", height=260 + 120 * len(PANELS),
        margin={"l": 60, "r": 20, "t": 80, "b": 40},
        legend={"orientation": "h", "x": 0.77, "y": 0.56, "xanchor": "left", "yanchor": "top"},
        coloraxis={"colorscale": "Viridis", "cmin": 0, "cmax": 1,
                   "colorbar": {**bar, "title": "gates<br>(0 shut, 1 open)", "x": 0.80}},
        coloraxis2={"colorscale": "RdBu", "cmid": 0, "cmin": -c_max, "cmax": c_max,
                    "colorbar": {**bar, "title": "g, c, h", "x": 0.93}})
    return fig


def _title(internals: dict[str, Any]) -> str:
    """"Inside LSTM layer 'lstm_1'", with "member 1 of K" for an ensemble's first member."""
    title = f"Inside LSTM layer '{internals.get('layer', '')}'"
    members = int(internals.get("members", 1) or 1)
    if members > 1:
        title += (f" — member 1 of {members} (each member is a network of its own; the "
                  "forecast combines them)")
    return title


def _add_prediction_panel(fig: go.Figure, internals: dict[str, Any], steps: int) -> None:
    window = internals.get("window")
    prediction = internals.get("prediction")
    if window is None:  # a bare lstm_internals dict: the model's raw output
        window = np.asarray(internals["x"])[:, 0]
    if prediction is None:
        return
    prediction = np.atleast_1d(np.asarray(prediction, dtype="float64"))
    past = list(range(-steps, 0))
    ahead = list(range(len(prediction)))
    fig.add_trace(go.Scatter(x=past, y=window, mode="lines+markers", name="window",
                             line={"color": "#636EFA"}), 1, 2)
    fig.add_trace(go.Scatter(x=ahead, y=prediction, mode="markers+lines", name="prediction",
                             marker={"size": 10, "symbol": "star", "color": "#EF553B"}), 1, 2)
    actual = internals.get("actual")
    if actual is not None and np.isfinite(actual).any():
        fig.add_trace(go.Scatter(x=ahead, y=actual, mode="markers", name="actual",
                                 marker={"size": 9, "symbol": "circle-open",
                                         "color": "#00CC96"}), 1, 2)
    fig.update_xaxes(title_text="steps from the origin", row=1, col=2)
