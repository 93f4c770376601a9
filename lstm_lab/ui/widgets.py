"""Shared widgets: inputs in, core dataclasses out; results drawn from core figures."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from lstm_lab.data.gallery import GALLERY
from lstm_lab.data.series import Series
from lstm_lab.data.windows import TRANSFORM_HELP
from lstm_lab.errors import LabError
from lstm_lab.experiments import export, plots, tuning
from lstm_lab.experiments.config import (
    ARCHITECTURE_CHOICES,
    COMBINE,
    MAX_INTERVAL_LEVELS,
    MODELS,
    STRATEGIES,
    TRANSFORMS,
    TUNING,
    ExperimentConfig,
    field_default,
    field_help,
    field_range,
)
from lstm_lab.experiments.explanations import transform_name, transform_reason
from lstm_lab.experiments.intervals import level_key
from lstm_lab.experiments.metrics import METRIC_HELP, fmt_delta, fmt_number, fmt_percent
from lstm_lab.experiments.sources import load_series
from lstm_lab.experiments.sweep import setting_matters
from lstm_lab.experiments.training import ExperimentResult
from lstm_lab.models.architectures import ARCHITECTURES, architecture_keras_code, ensemble_size
from lstm_lab.models.registry import by_kind, model_label
from lstm_lab.ui import cache, controls, state
from lstm_lab.ui.text import code_span, plain

DATASET_LABELS = {"air_passengers": "Airline passengers (monthly, 1949–1960)",
                  **{key: entry.title for key, entry in GALLERY.items()},
                  "damped_sine": "Damped sine wave (generated)",
                  "csv": "Upload a CSV"}
UNIT_CHOICES = [1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024]
BATCH_CHOICES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
LR_CHOICES = [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 3e-2, 1e-1]
LEVEL_CHOICES = [0.8, 0.9, 0.95, 0.99]   # prediction-interval levels offered (inside the field's range)
_FILE_UNSAFE = re.compile(r"[^\w.-]+")   # what a download's file name keeps of a series name


def current_series(cfg: ExperimentConfig | None = None, quiet: bool = False) -> Series | None:
    """The series the config names, or None with a message saying what to do."""
    cfg = cfg or state.config()
    upload = state.upload()
    if cfg.dataset == "csv" and upload is None:
        if not quiet:
            st.info(f"This experiment uses an uploaded CSV ({code_span(cfg.csv_path)}). "
                    "Uploaded files can't travel in a link: upload it on the **Data** page.")
        return None

    def read_upload(column: str | None, date_column: str | None,
                    inputs: tuple[str, ...] = ()) -> Series:
        return cache.parse_upload(upload["data"], upload["name"], column, date_column,
                                  **state.csv_options(), inputs=tuple(inputs)).series

    try:
        return load_series(cfg, read_upload, air_passengers=cache.air_passengers,
                           damped_sine=cache.damped_sine, gallery=cache.gallery_series)
    except LabError as err:   # may quote the file's name or header cells: shown as typed
        if not quiet:
            st.error(plain(err, None))
        return None


def require_series() -> Series:
    series = current_series()
    if series is None:
        st.page_link("pages/data.py", label="Choose data", icon=":material/dataset:")
        st.stop()
    return series


def config_form(cfg: ExperimentConfig, series: Series) -> ExperimentConfig | None:
    """The training controls, in a form so moving a slider does not retrain.

    Returns the submitted config (None until submitted, or when the values are invalid).
    """
    n = len(series)
    with st.form("train_form", border=True):
        st.markdown("**Framing**")
        c1, c2 = st.columns(2)
        window = c1.number_input("Window", *fitted("window", cfg.window, hi=n - 3),
                                 help=field_help("window"))
        horizon = c2.number_input("Horizon", *fitted("horizon", cfg.horizon, hi=n // 3),
                                  help=field_help("horizon"))
        test_size = controls.test_size_input(cfg, n, c1)     # points or a share
        season = controls.season_input(cfg, series, c2)      # 0 = auto
        transform = c2.selectbox("Transform", TRANSFORMS, TRANSFORMS.index(cfg.transform),
                                 format_func=transform_name, help=TRANSFORM_TIP)
        c1, c2 = st.columns(2)
        strategy = c1.radio("Multi-step strategy", STRATEGIES, STRATEGIES.index(cfg.strategy),
                            horizontal=True, help=field_help("strategy"))
        tuning_choice = c2.radio("Tuning", TUNING, TUNING.index(cfg.tuning), horizontal=True,
                                 help=TUNING_TIP)
        es_weight = st.slider("ES weight (ES hybrid only)", *fitted("es_weight", cfg.es_weight),
                              0.05, help=field_help("es_weight"))
        with st.expander("About the transforms and tuning"):
            st.markdown(transform_help())
        st.markdown("**Recurrent network**")
        architecture = st.selectbox("Architecture", ARCHITECTURE_CHOICES,
                                    ARCHITECTURE_CHOICES.index(cfg.architecture),
                                    format_func=lambda n: ARCHITECTURES[n].label,
                                    help=field_help("architecture"))
        layers = st.slider("Recurrent layers", *fitted("layers", cfg.layers),
                           help=field_help("layers"))
        c1, c2 = st.columns(2)
        units = c1.select_slider("Units per layer", steps("units", UNIT_CHOICES, cfg.units),
                                 cfg.units, help=field_help("units"))
        dropout = c2.slider("Dropout", *fitted("dropout", cfg.dropout), 0.05,
                            help=field_help("dropout"))
        st.markdown("**Ensemble** · seeds side by side")
        c1, c2 = st.columns(2)
        members = c1.number_input("Ensemble size", *fitted("members", cfg.members),
                                  help=field_help("members"))
        combine = c2.radio("Combine members by", COMBINE, COMBINE.index(cfg.combine),
                           horizontal=True, help=field_help("combine"))
        st.markdown("**MLP baseline** · same window, flattened")
        c1, c2 = st.columns(2)
        mlp_layers = c1.slider("MLP layers", *fitted("mlp_layers", cfg.mlp_layers),
                               help=field_help("mlp_layers"))
        mlp_units = c2.select_slider("MLP units", steps("mlp_units", UNIT_CHOICES, cfg.mlp_units),
                                     cfg.mlp_units, help=field_help("mlp_units"))
        with st.expander("Training settings"):
            c1, c2 = st.columns(2)
            epochs = c1.number_input("Max epochs", *fitted("epochs", cfg.epochs),
                                     help=field_help("epochs"))
            patience = c2.number_input("Patience", *fitted("patience", cfg.patience),
                                       help=field_help("patience"))
            batch_size = c1.select_slider("Batch size",
                                          steps("batch_size", BATCH_CHOICES, cfg.batch_size),
                                          cfg.batch_size, help=field_help("batch_size"))
            learning_rate = c2.select_slider(
                "Learning rate", steps("learning_rate", LR_CHOICES, cfg.learning_rate),
                cfg.learning_rate, format_func=lambda v: f"{v:g}",
                help=field_help("learning_rate"))
            validation_fraction = c1.slider(
                "Validation share", *fitted("validation_fraction", cfg.validation_fraction), 0.05,
                help=field_help("validation_fraction"))
            seed = c2.number_input("Seed", *fitted("seed", cfg.seed), help=field_help("seed"))
        # pills, not a multiselect: every name shows whole in the narrow column ("SARIMA")
        models = st.pills("Models", MODELS, selection_mode="multi", default=list(cfg.models),
                          format_func=lambda m: model_label(m, cfg), help=field_help("models"))
        levels = st.multiselect("Prediction intervals", level_choices(cfg.intervals),
                                list(cfg.intervals), format_func=lambda v: f"{level_key(v)}%",
                                max_selections=MAX_INTERVAL_LEVELS,
                                placeholder="none: no bands", help=field_help("intervals"))
        submitted = st.form_submit_button("Train", type="primary", icon=":material/play_arrow:",
                                          width="stretch")
    if not submitted:
        return None
    try:
        return cfg.replace(window=int(window), horizon=int(horizon), test_size=float(test_size),
                           season=int(season),
                           transform=transform, strategy=strategy, tuning=tuning_choice,
                           architecture=architecture, layers=int(layers), units=int(units),
                           members=int(members), combine=combine,
                           es_weight=float(es_weight), dropout=float(dropout),
                           mlp_layers=int(mlp_layers),
                           mlp_units=int(mlp_units), epochs=int(epochs), batch_size=int(batch_size),
                           learning_rate=float(learning_rate), patience=int(patience),
                           seed=int(seed), validation_fraction=float(validation_fraction),
                           models=tuple(models), intervals=tuple(sorted(levels)))
    except LabError as err:
        st.error(plain(err, None))
        return None


TRANSFORM_TIP = ("How the values are changed before the networks see them (undone before "
                 "scoring). Each choice is explained under About the transforms and tuning.")
TUNING_TIP = ("Auto: when the horizon covers a season, each network also tries longer-window "
              "variants and keeps the best on validation (up to 3× the training time). Off: "
              "the settings as given.")


def transform_help() -> str:
    """The detail the short tooltips leave out: the field's own help, every transform on its
    line by name (the ES hybrid's included, as ``windows.TRANSFORM_HELP`` words them), and
    tuning."""
    return ("**Transform.** How the values are changed before scaling (undone before the "
            "metrics). Auto picks the ES hybrid (of logs for positive data) for a direct "
            "forecast of a seasonal "
            "series with three seasons of training data; otherwise logs for positive data, then "
            "a seasonal difference when the changes repeat each season, else a first "
            "difference.\n\n"
            + "\n".join(f"- **{transform_name(k)}**: {v}" for k, v in TRANSFORM_HELP.items())
            + "\n\n**Tuning.** " + field_help("tuning"))


def fitted(name: str, value, lo=None, hi=None) -> tuple:
    """``(min, max, value)`` for a config field's widget: the field's own range from the config
    (the one source of bounds), narrowed to ``[lo, hi]`` when the series allows less, with the
    value moved inside. Never raises: a range the series empties collapses to its lower end.

    >>> fitted("window", 500, hi=37)        # a 40-point series
    (1, 37, 37)
    """
    low, high = field_range(name)
    if lo is not None:
        low = max(low, type(low)(lo))
    if hi is not None:
        high = min(high, type(high)(hi))
    high = max(low, high)
    return low, high, type(low)(min(max(value, low), high))


def steps(name: str, choices: Sequence, value) -> list:
    """A select_slider's steps for a config field: the choices inside the field's range, plus the
    current value (a link may carry a value between the steps)."""
    low, high = field_range(name)
    return sorted({c for c in choices if low <= c <= high} | {value})


def level_choices(current: Sequence[float]) -> list[float]:
    """The interval levels the form offers: the usual ones inside the field's range, plus the
    current ones (a link may carry 0.85)."""
    low, high = field_range("intervals")
    return sorted({v for v in LEVEL_CHOICES if low <= v <= high} | set(current))


def levels_in_words(levels: Sequence[float]) -> str:
    """(0.8, 0.95) -> "80% and 95%"; (0.8, 0.9, 0.95) -> "80%, 90% and 95%"."""
    words = [f"{level_key(v)}%" for v in sorted(levels)]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def band_caption(levels: Sequence[float]) -> str:
    """The one-line explanation under a chart with prediction intervals."""
    darker = (f" (the darker, narrower band is the {level_key(min(levels))}% one)"
              if len(levels) > 1 else "")
    return (f"Shaded: where each model's forecast errors from the end of the training part say "
            f"the value will be, {levels_in_words(levels)} of the time{darker}. Hover a band for "
            "its range.")


def spread_caption(labels: Sequence[str], combine: str) -> str:
    return (f"Hatched: from the lowest to the highest of the members' forecasts "
            f"({', '.join(labels)}); the line is their {combine}. A wide spread: the seeds "
            "disagree, so trust that stretch less. It is not a prediction interval.")


def band_notes(notes: Sequence[str], labels: Sequence[str]) -> list[str]:
    """The notes that say a model (named by one of ``labels``) has no band, or none at some
    steps: "Holt-Winters: no prediction interval. ..." or "...: no 95% band at horizon ..."."""
    return [n for n in notes if any(n.startswith(f"{label}: no ") for label in labels)
            and ("band" in n or "prediction interval" in n)]


def bands_picker(models: Sequence[str], default: Sequence[str], label: Callable[[str], str],
                 key: str) -> list[str]:
    """A multiselect of the models whose bands a chart draws (a short default: the chart stays
    readable)."""
    return st.multiselect("Bands for", list(models), [m for m in default if m in models],
                          format_func=label, key=key, placeholder="no bands",
                          help="Whose prediction intervals (and an ensemble's members' spread) "
                               "to shade around the forecast. A few at a time keep the chart "
                               "readable.")


def render_results(result: ExperimentResult) -> None:
    """Everything about a finished run: headline, forecast chart, metrics, residuals, downloads."""
    if result.stopped_by_user:
        skipped = ", ".join(result.label(m) for m in result.skipped)
        st.warning("Training was stopped early: these are the weights learned so far"
                   + (f"; not trained: {skipped}." if skipped else "."))
    for note in result.notes:
        st.warning(note, icon=":material/speed:")
    best = result.best_model("rmse")
    per_row = 3 if len(result.metrics) > 4 else len(result.metrics)  # labels stay readable
    cols = [col for _ in range(0, len(result.metrics), per_row) for col in st.columns(per_row)]
    for col, (model, m) in zip(cols, result.metrics.items()):
        col.metric(result.label(model) + (" ★" if model == best else ""),
                   f"RMSE {fmt_number(m['rmse'])}", **metric_delta(result, model))
    forecast_chart(result)
    st.markdown("**Test metrics** (★ = lowest RMSE)")
    table = plots.metrics_table(result)
    st.dataframe(styled(table).highlight_min(subset=["RMSE", "MAE", "MAPE %", "MASE"],
                                             color="#d1fadf"), width="stretch",
                 column_config=column_help(plots.interval_column_help(result.config.intervals)))
    if result.config.intervals:
        st.caption(interval_table_caption(result.config.intervals))
    left, right = st.columns([3, 2])
    with left:
        lead = plots.reference_sentence(result)
        if lead:
            st.markdown(lead)
        for sentence in plots.skill_sentences(result):
            st.markdown(f"- {sentence}")
    with right:
        st.caption(" · ".join(f"**{k.upper()}**: {v}" for k, v in METRIC_HELP.items()))
        nets = ", ".join(f"{result.label(m)}: {result.n_params[m]:,} weights, "
                         f"{result.epochs_run[m]:,} epochs" for m in result.n_params)
        if nets:
            st.caption(nets)
        if result.transform:
            why = transform_reason(result)
            why = f" {why}" if why else ""
            mlp = result.tuning.get("mlp", {}).get("transform", result.transform)
            other = (f" The MLP kept **{transform_name(mlp).lower()}** ({TRANSFORM_HELP[mlp]})."
                     if mlp != result.transform and "lstm" in result.histories else "")
            st.caption(f"Target transform: **{transform_name(result.transform)}** "
                       f"({TRANSFORM_HELP[result.transform]}).{why}{other}")
        for model, info in result.tuning.items():
            st.caption(f"Tuning: {result.label(model)} kept **{info['chosen']}**.")
        for line in validation_lines(result):
            st.caption(line)
        timings = ", ".join(f"{result.label(k[:-6])} {fmt_number(v)} s"
                            for k, v in result.timings.items()
                            if k.endswith("_fit_s") and k[:-6] in result.n_params)
        st.caption(f"Training time: {timings or '—'}; total "
                   f"{fmt_number(result.timings['total_s'])} s")
    if result.tuning:
        with st.expander("How tuning chose each network's settings"):
            st.caption("The horizon covers a whole season, so each network trained its settings "
                       "as set plus longer-window variants, all holding out the same latest "
                       "training windows for validation (never the test part), and kept the one "
                       "whose forecasts of those windows erred least.")
            st.dataframe(tuning.table(result.tuning, result.label), hide_index=True,
                         column_config={"validation RMSE": st.column_config.NumberColumn(
                             format="%.4g")})
    c1, c2 = st.columns(2)
    c1.plotly_chart(plots.residual_figure(result), key="residual_chart")
    if result.histories:
        c2.plotly_chart(plots.loss_figure(result.histories, "Final loss curves", result.config),
                        key="loss_chart")
    downloads(result)


@st.fragment
def forecast_chart(result: ExperimentResult) -> None:
    """The forecast chart and its options. A fragment: changing an option redraws this chart
    alone, without rerunning the page (and never retrains)."""
    models = ",".join(result.models)
    shown = st.pills("Forecasts on the chart", result.models, selection_mode="multi",
                     default=result.models, format_func=result.label,
                     key=f"chart_models.{result.data_fingerprint}.{models}")
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    bands: list[str] = []
    if result.intervals or result.spread:
        with c1:
            bands = bands_picker(result.models, plots.default_bands(
                result.models, result.best_model("rmse")), result.label,
                key=f"chart_bands.{result.data_fingerprint}.{models}")
    zoom = c2.toggle("Zoom to the test part", key="chart_zoom",
                     help="Show the held-out part and as many points before it.")
    shown = list(shown or [])
    st.plotly_chart(plots.forecast_figure(result, shown, zoom_test=zoom, bands=bands),
                    key="forecast_chart")
    chart_captions([m for m in bands if m in shown], result.intervals, result.spread,
                   result.config, result.label, result.notes)


def chart_captions(banded: Sequence[str], intervals: dict, spread: dict, cfg: ExperimentConfig,
                   label: Callable[[str], str], notes: Sequence[str]) -> None:
    """Under a chart: what its shading means, and why a model asked for has no band."""
    drawn = [m for m in banded if plots.has_band(intervals.get(m, {}))]
    if drawn:
        st.caption(band_caption(cfg.intervals))
    spreads = [label(m) for m in banded if m in spread]
    if spreads:
        st.caption(spread_caption(spreads, cfg.combine))
    if cfg.intervals:
        for note in band_notes(notes, [label(m) for m in banded]):
            st.caption(plain(note, None))


def styled(table):
    """A metrics table's look: numbers as people read them (``fmt_number``: thousands
    separators, three significant digits, never 1.8e+03), percentages (coverage, skill) with
    one decimal, "—" for none."""
    numbers = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    return table.style.format({c: _percent_cell if _is_percent(c) else fmt_number
                               for c in numbers}, na_rep="—")


def _is_percent(column: object) -> bool:
    words = str(column).split(" ")
    return words[1:2] == ["coverage"] or "%" in words


def _percent_cell(value: float) -> str:
    return fmt_percent(value).rstrip("%")


def metric_delta(result: ExperimentResult, model: str) -> dict:
    """A metric card's delta against the run's reference baseline (``plots.reference_baseline``):
    "−1,777 (−49.8%) vs seasonal naive", green when lower, red when higher; and its help."""
    ref = plots.reference_baseline(result)
    help_text = "Test RMSE: root mean squared error on the held-out part (lower is better)."
    if ref is None or model == ref:
        return {"help": help_text + (" The reference the others are compared with."
                                     if model == ref else "")}
    score, base = result.metrics[model]["rmse"], result.metrics[ref]["rmse"]
    worse = score > base
    return {"delta": f"{fmt_delta(score, base)} vs {plots.baseline_words(result, ref)}",
            "delta_color": "gray" if score == base else ("red" if worse else "green"),
            "delta_arrow": "off" if score == base else ("up" if worse else "down"),
            "help": help_text + f" The change is against {plots.baseline_words(result, ref)}, "
                                "the strongest simple baseline for this forecast."}


def column_help(helps: dict[str, str]) -> dict:
    """``st.dataframe``'s column_config giving each named column its help tooltip."""
    return {name: st.column_config.Column(help=text) for name, text in helps.items()}


def interval_table_caption(levels: Sequence[float]) -> str:
    return (f"Prediction intervals ({levels_in_words(levels)}): **coverage** is the share of "
            "test points inside the band (should be near its level), **width** its mean width, "
            "**Winkler** the interval score (width plus a penalty for every miss; lower is "
            "better); — means no band.")


def validation_lines(result: ExperimentResult) -> list[str]:
    """One line per network: its RMSE on its own validation windows (inside the training part)
    against seasonal naive's from the same origins (the notes say when it did worse)."""
    simple = "seasonal naive" if result.season > 1 else "naive"
    return [f"{result.label(model)} validation: RMSE {fmt_number(check['rmse'])} vs {simple} "
            f"{fmt_number(check['seasonal_naive_rmse'])} over {check['origins']:,} origins"
            for model, check in result.validation.items() if check]


def downloads(result: ExperimentResult) -> None:
    stem = "lstm_lab_" + (_FILE_UNSAFE.sub("_", result.series_name).strip("_.")[:60] or "series")
    c1, c2, c3 = st.columns(3)
    c1.download_button("Predictions CSV", export.predictions_csv(result), f"{stem}_predictions.csv",
                       "text/csv", icon=":material/download:")
    c2.download_button("Metrics + config JSON", export.metrics_json(result), f"{stem}_metrics.json",
                       "application/json", icon=":material/download:")
    network = result.label("lstm")   # named by its architecture: "GRU ×2", never "LSTM"
    if export.has_network(result, "lstm"):   # decided without loading the network
        c3.download_button(f"Trained {network} (.keras)", model_download(result),
                           f"{stem}_{result.config.architecture}.keras",
                           "application/octet-stream", icon=":material/download:",
                           help="Load with keras.saving.load_model(path) (safe mode).")
    with st.expander(f"Show the Keras code for this {network}"):
        st.code(architecture_keras_code(result.network_config("lstm")), language="python")


def model_download(result: ExperimentResult) -> Callable[[], bytes]:
    """The ``.keras`` bytes of this session's own result, made only when the user clicks.

    Nothing is cached between sessions (a cache keyed on ``id(result)`` once handed one
    session's model to another whose new result reused a freed object's id): the callable holds
    the result itself, and Streamlit keeps it with this session's page.
    """
    return partial(export.model_bytes, result, "lstm")


def sidebar_summary(cfg: ExperimentConfig, where=None) -> None:
    """The current experiment at a glance, and a link that reproduces it; ``where``: a sidebar
    container to draw into (app.py redraws it when the page changed the config)."""
    with where if where is not None else st.sidebar:
        st.caption("Current experiment")
        st.markdown(f"**{DATASET_LABELS[cfg.dataset].split(' (')[0]}**"
                    + (f" · {code_span(cfg.csv_path, 40)}" if cfg.dataset == "csv" else ""))
        parts = [f"window {cfg.window}", f"horizon {cfg.horizon}"]
        if cfg.inputs:    # a CSV's header cells: shown as typed, in code spans
            parts.append("inputs " + ", ".join(code_span(n, 20) for n in cfg.inputs))
        if cfg.season:
            parts.append(f"season {cfg.season}")
        if "lstm" in cfg.models:   # only settings that act on the run: no network, no layers
            network = ARCHITECTURES[cfg.architecture].short   # "GRU", not "LSTM", for a GRU
            seeds = ensemble_size(cfg.architecture, cfg.members)
            parts.append(f"{cfg.layers}×{cfg.units} {network}"
                         + (f" · {seeds} seeds" if seeds > 1 else ""))
        elif "mlp" in cfg.models:
            parts.append(f"MLP {cfg.mlp_layers}×{cfg.mlp_units}")
        if set(cfg.models) & set(by_kind("network")):
            parts += [f"{cfg.epochs} epochs", f"seed {cfg.seed}"]
            if cfg.es_weight != field_default("es_weight") and setting_matters("es_weight", cfg):
                parts.append(f"ES weight {cfg.es_weight:g}")
        parts.append("/".join(level_key(v) for v in cfg.intervals) + "% bands" if cfg.intervals
                     else "no bands")
        st.markdown(" · ".join(parts))
        with st.popover("Copy link", icon=":material/link:", width="stretch"):
            st.caption("This link reopens the lab with every setting restored"
                       + (" (the CSV itself must be uploaded again)." if cfg.dataset == "csv"
                          else "."))
            st.code(share_url(cfg), language=None, wrap_lines=True)


def share_url(cfg: ExperimentConfig) -> str:
    base = (st.context.url or "").split("?")[0]
    query = urlencode(cfg.to_query_params())
    return f"{base}?{query}" if query else base


def sync_from_url() -> None:
    """On a session's first run, restore the config from the URL; repaired values get a notice."""
    if st.session_state.get(state.KEY_URL_READ):
        return
    st.session_state[state.KEY_URL_READ] = True
    params = {k: st.query_params[k] for k in st.query_params}
    if not params:
        return
    cfg, notes = ExperimentConfig.from_query_params(params)
    state.set_config(cfg)
    for note in notes:
        state.add_notice(note)


def sync_to_url() -> None:
    params = state.config().to_query_params()
    current = {k: st.query_params[k] for k in st.query_params}
    if current != params:
        st.query_params.from_dict(params)

