"""The Learn page's sections: the MLP's five limits, each with a small live experiment, the view
inside a trained LSTM, and the LSTM family.

One function per section; the page calls them in order. Each live experiment runs in the
server's training queue as this session's one job and leaves its result in session state
(keys in ui/state.py), so a rerun keeps it on screen.
"""

from __future__ import annotations

import math
import os

import streamlit as st

from lstm_lab.data.gallery import GALLERY
from lstm_lab.data.series import Series
from lstm_lab.errors import LabError
from lstm_lab.execution.tasks import TaskSpec
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.explanations import transform_name
from lstm_lab.experiments.training import ExperimentResult
from lstm_lab.lessons import experiments as lessons
from lstm_lab.models import internals
from lstm_lab.ui import cache, live, state, text, widgets

_PRESS = "Press the button to run it live."
# LSTM_LAB_LEARN_QUICK=1: every lesson trains a few steps on little data (its numbers mean
# little); for the browser tests and for a demo on a machine far too busy to train
_QUICK = {
    "echo_experiment": dict(n_train=64, n_test=32, steps=5, units=4),
    "order_experiment": dict(seeds=(0, 1), n_train=64, n_test=64, steps=5, units=4),
    "parallel_experiment": dict(length=80, epochs=2),
    "variable_length_demo": dict(n_train=64, n_test=16, steps=5, units=4),
    "output_length_demo": dict(n_points=80, epochs=2, units=4),
}


def _sized(name: str) -> dict:
    """The settings ``LSTM_LAB_LEARN_QUICK`` shrinks lesson ``name`` to, or none."""
    return _QUICK[name] if os.environ.get("LSTM_LAB_LEARN_QUICK") == "1" else {}


def _lesson(name: str, **settings) -> TaskSpec:
    """Lesson ``name`` of ``lessons/tasks.py`` as a queued task, with ``settings``."""
    return TaskSpec(f"lesson:{name}", {**_sized(name), **settings})
_SMALL_LSTM_SPINNER = "Training a small LSTM on the airline series…"
SMALL_LSTM_LABEL = "Training a small LSTM"   # its job's name, and its record of running times


def _run_live(column, label: str, icon: str, spinner: str, key: str, experiment) -> None:
    """A button that runs ``experiment`` (a ``TaskSpec``: a few seconds of training) in the
    server's training queue, as this session's one job, and keeps its result in session state
    under ``key``; a LabError (a full server too) is shown as a message, never a traceback."""
    if column.button(label, icon=icon):
        live.run_in_queue(key, label, spinner, experiment)
    else:
        live.wait_in_queue(key, spinner)  # queued before a rerun cut the wait short
    live.estimate_caption(column, kind=f"lesson:{label}")


def stateless_section() -> None:
    """1 · The echo task: the MLP forgets what left its window, the LSTM carries it."""
    st.subheader("1 · Stateless: no memory beyond the window")
    c1, c2 = st.columns([2, 3])
    c1.markdown("**The echo task.** A stream of random symbols (4 kinds) goes by; at every step, "
                "name the symbol seen *k* steps ago (*k* = 1: the one just before). The MLP sees "
                "a fixed window of the latest symbols: a window of 5 holds the current one and "
                "the 4 before it, so it can answer up to *k* = 4 and nothing older. The LSTM "
                "reads the whole stream one symbol at a time and can *carry* a symbol in its "
                "cell state for as long as it needs.")
    echo_window = c1.select_slider("MLP window", [3, 5, 8], 5, key=state.KEY_LEARN_ECHO_WINDOW,
                                   help="How many of the latest symbols the MLP sees at once.")
    c1.caption("Trains one LSTM and one MLP on 2,000 sequences of 25 symbols, k = 1 … 10 "
               "(a few seconds).")
    _run_live(c1, "Run the echo experiment", ":material/replay:",
              "Training an LSTM and an MLP on the echo task…", state.KEY_LEARN_ECHO,
              _lesson("echo_experiment", window=echo_window))
    echo = state.result(state.KEY_LEARN_ECHO)
    if echo is None:
        c2.info(_PRESS)
        return
    c2.plotly_chart(lessons.echo_figure(echo), key="echo_chart")
    c2.caption(lessons.echo_caption(echo))


def order_section() -> None:
    """2 · Shuffled windows: the same forecast for the MLP, another one for the LSTM."""
    st.subheader("2 · Blind to order")
    c1, c2 = st.columns([2, 3])
    c1.markdown("**The task.** Each window of 12 steps holds small noise and 2 to 5 spikes, some "
                "up, some down; the answer is whether the *latest* spike went up. Only the order "
                "of the values tells which spike is the latest. The MLP sees the window all at "
                "once, one input per step, and nothing marks which step came first. The LSTM "
                "reads the steps in order and can simply overwrite its memory at every spike.")
    c1.markdown("**The shuffle.** Reorder the steps of every window by one fixed permutation, in "
                "training and in testing. The MLP learns *exactly* the same thing (its inputs "
                "were never ordered for it); the LSTM loses the order it reads.")
    c1.caption("Trains an MLP and an LSTM per order and seed, 3 seeds, on 2,000 windows "
               "(a few seconds).")
    _run_live(c1, "Run the shuffle experiment", ":material/shuffle:",
              "Training MLPs and LSTMs, in time order and shuffled…", state.KEY_LEARN_ORDER,
              _lesson("order_experiment"))
    table = state.result(state.KEY_LEARN_ORDER)
    if table is None:
        c2.info(_PRESS)
        return
    c2.plotly_chart(lessons.order_figure(table), key="order_chart")
    c2.caption(lessons.order_caption(table))


@st.fragment
def scaling_and_input_sections() -> None:
    """Sections 3 and 4 share the Units slider. A fragment: moving a slider reruns only these
    two sections, not the whole page (a chart option should answer at once)."""
    units = _scaling_section()
    _input_size_section(units)


def _real_parallel_example(where) -> None:
    """A link to the gallery's first multivariate series: parallel series in real data."""
    example = next(e for e in GALLERY.values() if e.multivariate)

    def show() -> None:
        state.set_config(state.config().replace(dataset=example.key))
        for key in (state.KEY_DATA_DATASET, state.KEY_DATA_GALLERY):
            st.session_state.pop(key, None)   # the Data page seeds them from the config

    where.markdown(f"See it on real data: **{example.title.split(':')[0]}** "
                   f"({example.target} with {', '.join(example.others)}) on the Data page.")
    if where.button(f"Open {example.title.split(':')[0]} on the Data page",
                    icon=":material/dataset:", key="learn.real_parallel", on_click=show):
        st.switch_page("pages/data.py")


def _scaling_section() -> int:
    """3 · Parallel series: the MLP's weights grow with window × series, the LSTM's do not
    depend on the window. Returns the chosen units (section 4 counts with them too)."""
    st.subheader("3 · Messy scaling with parallel series")
    c1, c2 = st.columns([2, 3])
    window = c1.slider("Window", 3, 96, 12, help="How many past steps each network sees.")
    units = c1.select_slider("Units", [8, 16, 32, 64, 128], 32,
                             help="Hidden units of both networks.")
    table = lessons.parameter_table(window, units)
    c1.markdown("With several input series, the MLP's input is *window × series* wide; its "
                "weights grow with both. The LSTM takes one vector of *series* values per step: "
                "its size does not depend on the window at all. It pays more up front (4 gates, "
                "each reading the previous state), so for a few series it is the larger one.")
    c2.plotly_chart(lessons.weights_figure(
        table, "parallel series", f"Trainable weights vs number of parallel series (window "
        f"{window}, {units} units)", crossing=lessons.weights_crossing(window, units)),
        key="params_chart")
    c2.caption(lessons.scaling_caption(window, units))
    c2.table(table.set_index("parallel series").style.format("{:,}"))
    n_series = c1.select_slider("Input series", [2, 4, 8, 16], 8,
                                key=state.KEY_LEARN_PARALLEL_SERIES,
                                help="How many parallel input series predict the one target.")
    live_window, live_units = min(window, 36), min(units, 32)
    c1.caption(f"Trains both networks on {n_series} generated series with window {live_window} "
               f"and {live_units} units; the weights are counted by Keras and by formula.")
    _run_live(c1, "Train both on parallel series", ":material/stacked_line_chart:",
              f"Training an MLP and an LSTM on {n_series} input series…",
              state.KEY_LEARN_PARALLEL,
              _lesson("parallel_experiment", n_series=n_series, window=live_window,
                      units=live_units))
    _real_parallel_example(c1)
    trained = state.result(state.KEY_LEARN_PARALLEL)
    if trained is not None:
        c2.dataframe(trained, hide_index=True, width="stretch",
                     column_config={"test RMSE": st.column_config.NumberColumn(format="%.3f")})
        rows = trained.set_index("model")
        c2.caption(f"{trained.attrs['n_series']} series × window {trained.attrs['window']}: the "
                   f"MLP's first layer reads all {rows.loc['MLP', 'first-layer input width']:,} "
                   f"values at once with {rows.loc['MLP', 'weights (Keras)']:,} weights; the LSTM "
                   f"reads one row of {trained.attrs['n_series']} values per step with "
                   f"{rows.loc['LSTM', 'weights (Keras)']:,}. Test RMSE: MLP "
                   f"{rows.loc['MLP', 'test RMSE']:.3f}, LSTM {rows.loc['LSTM', 'test RMSE']:.3f} "
                   f"(the target's spread is {trained.attrs['target_std']:.2f}: an RMSE well "
                   "below it means the network learned).")
    return units


def _input_size_section(units: int) -> None:
    """4 · Sequences of any length: one LSTM reads them all, the MLP only its fixed width."""
    st.subheader("4 · Fixed-size inputs")
    c1, c2 = st.columns([2, 3])
    c1.markdown("An MLP's first layer has one weight per input: a window of 12 can never take 13 "
                "values, and a longer history means a new, bigger network. An LSTM applies the "
                "same cell at every step, so one trained network can read a sequence of any "
                "length. **The task:** give the average of a sequence of 3 to 12 numbers. Both "
                "train on padded sequences — the LSTM's `Masking` layer skips the padding, the "
                "MLP has to read it. Then both are tested on lengths from 2 to 30.")
    growth = lessons.window_growth(units=units)
    c2.plotly_chart(lessons.weights_figure(growth, "window", "Weights vs window length (1 series)",
                                           height=300), key="window_growth_chart")
    c1.caption("Trains one LSTM and one MLP on 2,000 sequences (a few seconds).")
    _run_live(c1, "Run the variable-length demo", ":material/straighten:",
              "Training on sequences of different lengths…", state.KEY_LEARN_VARLEN,
              _lesson("variable_length_demo"))
    by_length = state.result(state.KEY_LEARN_VARLEN)
    if by_length is not None:
        c2.plotly_chart(lessons.variable_length_figure(by_length), key="varlen_chart")
        c2.caption(lessons.variable_length_caption(by_length))


def output_size_section() -> None:
    """5 · An encoder-decoder emits any number of steps from the same weights."""
    st.subheader("5 · Fixed-size outputs")
    c1, c2 = st.columns([2, 3])
    c1.markdown("An MLP's output layer is `Dense(horizon)`: it gives exactly *horizon* numbers. "
                "An **encoder-decoder LSTM** reads the window into one vector (encoder), then "
                "unrolls a decoder LSTM for as many output steps as asked: its weights do not "
                "depend on the number of steps. Both train here to forecast 12 steps of a noisy "
                "wave; the same encoder-decoder weights are then asked for 6, 12 and 24 steps.")
    c1.caption("Trains an encoder-decoder and an MLP (a few seconds).")
    _run_live(c1, "Run the output-length demo", ":material/format_list_numbered:",
              "Training an encoder-decoder LSTM and an MLP…", state.KEY_LEARN_OUTLEN,
              _lesson("output_length_demo"))
    found = state.result(state.KEY_LEARN_OUTLEN)
    if found is not None:
        forecasts, errors = found
        c2.plotly_chart(lessons.output_length_figure(forecasts, horizon=12), key="outlen_chart")
        number = st.column_config.NumberColumn
        c2.dataframe(errors, hide_index=True, width="stretch", column_config={
            "RMSE steps 1-12 (trained)": number("RMSE 1–12 (trained)", format="%.3f"),
            "RMSE steps 13+ (never trained)": number("RMSE 13+ (untrained)", format="%.3f")})
        c2.caption(lessons.output_length_caption(errors, horizon=12))


def inside_the_lstm_section() -> None:
    """6 · Every gate of every unit for one input window, from your latest run on Train &
    compare or from a small LSTM trained here."""
    st.subheader("6 · Inside the LSTM: gates and memory, step by step")
    st.markdown("At each step the LSTM's gates decide what to **forget** (f), what to **write** "
                "(i, with candidate values g) to the cell state c, and what to **output** (o) as "
                "the hidden state h. The heatmaps below recompute every gate of every unit from "
                "the trained weights, for one input window, with the forecast beside them. "
                "Stacked layers (*Train & compare → LSTM layers*) let the lower layer track fast, "
                "step-to-step patterns while the upper one, reading the lower layer's sequence, "
                "models slower ones such as the seasonal cycle.")
    runs = state.runs()
    latest = lessons.latest_lstm_run(runs)
    note = lessons.latest_run_note(runs)
    if note:
        st.info(note)
    small = _small_lstm()
    latest_label = (f"your latest run on Train & compare ({lessons.run_description(latest)})"
                    if latest is not None else "")
    choices = {label: run for label, run in (
        (latest_label, latest),
        ("the small LSTM trained here (8 units, airline passengers)", small)) if run is not None}
    if not choices:
        st.info("Train an LSTM on *Train & compare*, or press the button for a small one here.")
        return
    source = (st.radio("Look inside", list(choices), horizontal=True, key=state.KEY_LEARN_WHICH)
              if len(choices) > 1 else next(iter(choices)))
    _internals_view(choices[source], source)


def _small_lstm() -> ExperimentResult | None:
    """The small LSTM trained on this page, or a button that trains it once (then it goes)."""
    small = state.result(state.KEY_LEARN_SMALL_RUN)
    if small is not None:
        return small
    slot, note = st.empty(), st.empty()
    if slot.button("Train a small LSTM here", icon=":material/neurology:",
                   help="8 units on the airline series."):
        live.run_in_queue(state.KEY_LEARN_SMALL_RUN, SMALL_LSTM_LABEL, _SMALL_LSTM_SPINNER,
                          TaskSpec("small_lstm"), cache.air_passengers())
    else:
        live.wait_in_queue(state.KEY_LEARN_SMALL_RUN, _SMALL_LSTM_SPINNER)
    small = state.result(state.KEY_LEARN_SMALL_RUN)
    if small is not None:
        slot.empty()  # trained once: same settings, same network
    else:
        live.estimate_caption(note, kind=f"lesson:{SMALL_LSTM_LABEL}")
    return small


INSIDE_KEY = "learn.inside"                 # the queued "internals" job's result (a batch)
INSIDE_BATCHES = "learn.inside.batches"    # {(id(run), layer or None): (run, batch)}
INSIDE_ASKED = "learn.inside.asked"        # ((id(run), layer), run) the queued job was for
INSIDE_LABEL = "Opening the LSTM"          # its job's name, and its record of running times
_INSIDE_SPINNER = "Replaying the LSTM's gates at every origin…"


def _inside_batch(run: ExperimentResult, origin: int, layer: str | None) -> dict | None:
    """The gates of ``layer`` (None: the default one) at a batch of origins holding ``origin``:
    kept from an earlier job, or computed now by a short job in the training queue (the web
    process never loads Keras). None, with a sentence shown, when it cannot run now."""
    batches = st.session_state.setdefault(INSIDE_BATCHES, {})
    token = (id(run), layer)

    def kept() -> dict | None:
        entry = batches.get(token)
        if entry is not None and entry[0] is run and origin in [int(o) for o in
                                                                entry[1]["origins"]]:
            return entry[1]
        return None

    if (found := kept()) is not None:
        return found
    if st.session_state.get(INSIDE_KEY + live.JOB_SUFFIX) is None:
        if cache.job_runner().active(live.session_owner()):
            st.info("Your training is still running; the view inside the network needs a short "
                    "job of its own and opens once it has finished (one job per person at a "
                    "time).")
            return None
        st.session_state.pop(INSIDE_KEY, None)
        st.session_state[INSIDE_ASKED] = (token, run)
        try:
            params = lessons.inside_task_params(run, origin, layer,
                                                series=_inputs_series(run))
        except LabError as err:
            st.info(text.plain(err, None), icon=":material/info:")
            return None
        live.run_in_queue(INSIDE_KEY, INSIDE_LABEL, _INSIDE_SPINNER, TaskSpec("internals", params))
    else:   # queued before a rerun cut the wait short
        live.wait_in_queue(INSIDE_KEY, _INSIDE_SPINNER)
    found, asked = st.session_state.pop(INSIDE_KEY, None), st.session_state.get(INSIDE_ASKED)
    if found is None or asked is None:
        return None
    (asked_token, asked_run) = asked
    if len(batches) > 8:              # a few runs and layers are plenty to keep
        batches.clear()
    batches[asked_token] = (asked_run, found)
    if asked_token[1] is None:        # the default layer, under its name too
        batches[(asked_token[0], found["layer"])] = (asked_run, found)
    if asked_token != token:          # that job was another view's: ask for this one now
        return _inside_batch(run, origin, layer)
    return kept()


def _inputs_series(run: ExperimentResult) -> Series | None:
    """The data of a run whose networks read input columns (their values are not saved with
    the network), when the data the config names is at hand; None otherwise."""
    if not run.config.inputs:
        return None
    return widgets.current_series(run.config, quiet=True)


def _internals_view(run: ExperimentResult, source: str) -> None:
    """The origin and layer pickers, the forecast at that origin and the gates' heatmaps."""
    first = lessons.network_facts(run)["first_origin_"]
    c1, c2, c3 = st.columns([3, 2, 2])
    origin = c1.slider("Forecast origin (index of the first predicted point)", first,
                       run.n_points - 1, min(max(run.n_train, first), run.n_points - 1),
                       key=state.learn_origin_key(run.n_points, first),
                       help="The LSTM reads the window of points just before it.")
    try:
        batch = _inside_batch(run, origin, None)
        if batch is None:
            return
        layers = batch["layers"]
        position = {name: f"layer {i} of {len(layers)}" for i, name in enumerate(layers, 1)}
        layer = c2.selectbox("LSTM layer", layers,
                             index=layers.index(batch["default_layer"]),
                             format_func=position.get,
                             key=state.learn_layer_key(len(layers))) if len(layers) > 1 else None
        if layer is not None and layer != batch["layer"]:
            batch = _inside_batch(run, origin, layer)
            if batch is None:
                return
        found = lessons.internals_at(batch, run, origin)
    except LabError as err:
        st.error(text.plain(err, None))
        return
    prediction, actual, when = (found["prediction"][0], found["actual"][0],
                                found["forecast_time"][0])
    c3.metric(f"Prediction for {when:%Y-%m-%d}" if hasattr(when, "strftime")
              else "Prediction", f"{prediction:,.1f}",
              None if math.isnan(actual) else f"{prediction - actual:+,.1f} vs actual "
              f"{actual:,.1f}", delta_color="off")
    where = (f", LSTM {position.get(found['layer'], 'layer 1 of 1')}" if len(layers) > 1
             else "")
    transform = (f"the series after its transform ({transform_name(run.transform).lower()}), "
                 "standardised" if run.transform and run.transform != "none"
                 else "the series' values, standardised")
    st.caption(f"Showing {source}: window {run.network_config().window}, "
               f"{found['h'].shape[1]} units{where}. The inputs are what the network reads: "
               f"{transform}.")
    st.plotly_chart(internals.internals_figure(found), key="internals_chart")


def family_section(cfg: ExperimentConfig) -> None:
    """The LSTM family, weights counted at the current settings, and a link to try them."""
    st.subheader("The LSTM family")
    family = lessons.architecture_table(cfg.window, cfg.units, cfg.layers, cfg.horizon)
    st.markdown(f"Five networks that all read the window step by step; weights counted for the "
                f"current settings (window {cfg.window}, {cfg.units} units, {cfg.layers} "
                f"layer{'s' if cfg.layers > 1 else ''}); and a hybrid that puts any of them "
                f"behind exponential smoothing:\n\n"
                + "\n".join([*lessons.architecture_lines(family), lessons.ES_HYBRID_LINE]))
    st.markdown(lessons.ensemble_note(cfg.members, cfg.combine))
    st.page_link("pages/train.py", label="Try them on Train & compare",
                 icon=":material/arrow_forward:")
