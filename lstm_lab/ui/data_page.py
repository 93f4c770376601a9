"""The Data page's widgets: the series picker, the sine's shape, the CSV upload with its column
pickers and cleaning options, the season and test size, the parsed rows, and the preview of the
split and one window.

Each input function takes the config and returns it changed by the widgets; the page stores it.
Widget bounds come from the config's ranges (``widgets.fitted``); widget keys live in ui/state.py.
Messages and notes quote file names and header cells: they are shown with ``text.plain``, as typed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from lstm_lab.data.csv_reader import (
    BAD_VALUE_LABELS,
    BAD_VALUE_POLICIES,
    BAD_VALUES_LABEL,
    CLEANING_OPTIONS,
    DUPLICATE_LABELS,
    DUPLICATE_POLICIES,
    DUPLICATES_LABEL,
    FILL_GAPS_LABEL,
    ROW_NUMBER,
    CsvLoad,
)
from lstm_lab.data.gallery import FREQ_NAMES, GALLERY
from lstm_lab.data.series import Series, freq_words
from lstm_lab.errors import LabError
from lstm_lab.experiments import plots
from lstm_lab.experiments.config import ExperimentConfig, field_help
from lstm_lab.limits import get_limits
from lstm_lab.ui import cache, controls, state, text, widgets
from lstm_lab.ui.state import seed_widget

ROW_NUMBER_LABEL = "none: the row order is the time"
PREVIEW_ROWS = 5      # first and last rows in the parsed rows' table
SPLIT_KEYS = (state.data_widget_key("season"), state.data_widget_key("test_size"))


GALLERY_CHOICE = "gallery"   # the radio's option for "one of the gallery's series"
SOURCE_LABELS = {"air_passengers": widgets.DATASET_LABELS["air_passengers"],
                 GALLERY_CHOICE: f"Gallery of real series ({len(GALLERY)})",
                 "damped_sine": widgets.DATASET_LABELS["damped_sine"],
                 "csv": widgets.DATASET_LABELS["csv"]}
SPARK_POINTS = 120    # points of each gallery preview (longer series are averaged down)


def dataset_choice(cfg: ExperimentConfig) -> str:
    """Which series: airline passengers, the gallery, the damped sine or an upload."""
    initial = GALLERY_CHOICE if cfg.dataset in GALLERY else cfg.dataset
    return st.radio("Series", list(SOURCE_LABELS), format_func=SOURCE_LABELS.get,
                    horizontal=True, key=seed_widget(state.KEY_DATA_DATASET, initial),
                    help=field_help("dataset"))


def gallery_inputs(cfg: ExperimentConfig) -> ExperimentConfig:
    """The gallery's picker: every series with its story, frequency, length and a sparkline;
    the one chosen becomes the config's dataset (and so every page's series)."""
    keys = list(GALLERY)
    initial = cfg.dataset if cfg.dataset in GALLERY else keys[0]
    key = st.selectbox("Real series", keys, format_func=lambda k: GALLERY[k].title,
                       key=seed_widget(state.KEY_DATA_GALLERY, initial),
                       help="Real series shipped with LSTM Lab (nothing is downloaded). The "
                            "table below shows them all; the CLI takes the same names: "
                            f"--dataset {keys[0]}.")
    chosen = GALLERY[key]
    load = cache.gallery_load(key)
    st.markdown(f"**{chosen.title}** · {FREQ_NAMES[chosen.freq]} · {len(load.series):,} points"
                f"  \n{chosen.story}")
    extra = (f" Other columns (parallel series): {', '.join(chosen.others)}."
             if chosen.others else "")
    st.caption(f"Forecasting **{chosen.target}** from `{chosen.file}`. Source: {chosen.source}."
               f"{extra} CLI: `--dataset {key}`.")
    for note in load.warnings:
        st.caption(f"Read as an upload would be: {note}")
    cfg = cfg.replace(dataset=key)
    cfg = input_columns(cfg, list(chosen.others)) if chosen.others else cfg.replace(inputs=())
    with st.expander(f"All {len(GALLERY)} series of the gallery", expanded=False):
        st.dataframe(gallery_table(), hide_index=True, key="gallery_table",
                     column_config={"Preview": st.column_config.LineChartColumn(
                         "Preview", width="small")})
    return cfg


INPUTS_KEY = state.data_widget_key("inputs")
INPUTS_CAPTION = ("Inputs: at every step of the window the networks read each input's past "
                  "values beside the target's (never future ones), so forecasting needs no "
                  "future inputs; the baselines read the target only.")


def input_columns(cfg: ExperimentConfig, offered: list[str]) -> ExperimentConfig:
    """The "Input columns" multiselect over ``offered`` (the series' other numeric columns);
    returns the config reading the ones picked. Picks that ``offered`` no longer holds (another
    series, another value column) are dropped, in the config and in the widget."""
    by_lower = {c.lower(): c for c in offered}
    kept = [by_lower[c.lower()] for c in cfg.inputs if c.lower() in by_lower]
    if INPUTS_KEY in st.session_state:
        st.session_state[INPUTS_KEY] = [c for c in st.session_state[INPUTS_KEY] if c in offered]
    limit = get_limits().max_inputs
    picked = st.multiselect(
        "Input columns", offered, key=seed_widget(INPUTS_KEY, kept[:limit]),
        max_selections=limit, placeholder="none: the networks read the target only",
        help=field_help("inputs"))
    st.caption(INPUTS_CAPTION)
    try:
        return cfg.replace(inputs=tuple(picked))
    except LabError as err:   # a header cell the config cannot carry (too long, control chars)
        st.error(text.plain(f"{err}. Rename it in the file, or choose another column.", 400),
                 icon=":material/error:")
        return cfg.replace(inputs=())


def gallery_table() -> pd.DataFrame:
    """One row per gallery series: title, frequency, points, columns, story and a sparkline."""
    rows = []
    for key, e in GALLERY.items():
        series = cache.gallery_series(key)
        values = series.values
        if len(values) > SPARK_POINTS:   # block means: the shape, in a cell's width
            cut = len(values) // SPARK_POINTS * SPARK_POINTS
            values = values[-cut:].reshape(SPARK_POINTS, -1).mean(axis=1)
        rows.append({"Series": e.title, "Name": key, "Frequency": FREQ_NAMES[e.freq],
                     "Points": len(series), "Columns": 1 + len(e.others),
                     "Story": e.story, "Preview": [round(float(v), 4) for v in values]})
    return pd.DataFrame(rows)


def _sine_input(column, kind: str, label: str, cfg: ExperimentConfig, name: str, **options):
    """One sine control, bounded by the config's range for ``name``."""
    lo, hi, _ = widgets.fitted(name, getattr(cfg, name))
    draw = column.number_input if kind == "number" else column.slider
    return draw(label, lo, hi, key=seed_widget(state.data_widget_key(name), getattr(cfg, name)),
                help=field_help(name), **options)


def sine_inputs(cfg: ExperimentConfig) -> ExperimentConfig:
    """The sine's shape; wide ranges get a number input, narrow ones a slider."""
    c1, c2, c3 = st.columns(3)
    length = _sine_input(c1, "number", "Length (points)", cfg, "sine_length", step=10)
    period = _sine_input(c2, "number", "Period (points)", cfg, "sine_period", step=1.0,
                         format="%g")   # 40, or 12.5: no trailing zeros
    decay = _sine_input(c3, "slider", "Decay rate", cfg, "sine_decay", step=0.001,
                        format="%.3f")
    c1, c2, c3 = st.columns(3)
    amplitude = _sine_input(c1, "number", "Amplitude", cfg, "sine_amplitude", step=0.1,
                            format="%.3f")
    phase = _sine_input(c2, "slider", "Phase (degrees)", cfg, "sine_phase", step=5.0)
    noise = _sine_input(c3, "number", "Noise (std)", cfg, "sine_noise", step=0.01, format="%.3f")
    return cfg.replace(dataset="damped_sine", inputs=(), sine_length=length, sine_period=period,
                       sine_decay=decay, sine_amplitude=amplitude, sine_phase=phase,
                       sine_noise=noise)


def csv_inputs(cfg: ExperimentConfig) -> ExperimentConfig:
    """The upload, its value and date columns and the cleaning options; the loader's notes.

    Stops the page (``st.stop``) with a message while there is no file, no value column chosen,
    or the file cannot be read; the config reached so far is stored first where it matters.
    """
    cfg = _take_upload(cfg)
    upload = state.upload()
    if upload is None:
        st.info("Upload a CSV with a date column and a numeric column. Semicolons, decimal commas, "
                "footers and most date formats are understood.", icon=":material/upload_file:")
        st.stop()
    st.caption(f"Using **{text.plain(upload['name'])}** ({len(upload['data']):,} bytes). Uploaded files stay in "
               "this browser session and can't travel in a link.")
    try:
        found = cache.inspect_upload(upload["data"], upload["name"])
    except LabError as err:
        st.error(text.plain(err, None))
        st.stop()
    cfg, value_col, date_col = _column_pickers(cfg, upload, found)
    if value_col is None:
        _ask_for_value_column(cfg.replace(inputs=()), upload, found.numeric_columns)
    others = [c for c in found.numeric_columns if c not in (value_col, date_col)]
    cfg = input_columns(cfg, others) if others else cfg.replace(inputs=())
    _cleaning_options()
    try:
        info = cache.parse_upload(upload["data"], upload["name"], value_col, date_col,
                                  **state.csv_options())
    except LabError as err:
        state.set_config(cfg)
        st.error(text.plain(err, None))
        st.stop()
    for note in info.warnings:
        st.warning(text.plain(note, None), icon=":material/warning:")
    return cfg


def _take_upload(cfg: ExperimentConfig) -> ExperimentConfig:
    """Keep a newly uploaded file in the session; a new file forgets the old one's columns."""
    limits = get_limits()
    uploaded = st.file_uploader(
        "CSV file", type=["csv", "txt", "tsv"], key=state.KEY_DATA_UPLOAD,
        help=f"A date column and one or more numeric columns. Up to {limits.max_upload_mb} MB and "
             f"{limits.max_rows:,} rows.")
    if uploaded is not None:
        current = state.upload()
        if current is None or current["name"] != uploaded.name or \
                len(current["data"]) != uploaded.size:
            state.set_upload(uploaded.name, uploaded.getvalue())
            cfg = cfg.replace(column="", date_column="", inputs=())
            for key in (state.KEY_DATA_VALUE_COLUMN, state.KEY_DATA_DATE_COLUMN, INPUTS_KEY):
                st.session_state.pop(key, None)   # new file, new columns
    return cfg


def _column_pickers(cfg: ExperimentConfig, upload: dict, found) -> tuple:
    """The value and date column pickers; returns the config naming them and the two choices."""
    numeric = found.numeric_columns
    c1, c2 = st.columns(2)
    initial_value = cfg.column if cfg.column in numeric else (numeric[0] if len(numeric) == 1
                                                              else None)
    value_col = c1.selectbox("Value column", numeric, placeholder="Choose the column to forecast",
                             key=seed_widget(state.KEY_DATA_VALUE_COLUMN, initial_value),
                             help=field_help("column"))
    date_choices = [ROW_NUMBER, *found.columns]
    initial_date = cfg.date_column or found.date_column or ROW_NUMBER
    date_col = c2.selectbox("Date column", date_choices,
                            key=seed_widget(state.KEY_DATA_DATE_COLUMN,
                                            initial_date if initial_date in date_choices
                                            else ROW_NUMBER),
                            format_func=lambda c: ROW_NUMBER_LABEL if c == ROW_NUMBER else c,
                            help="The column holding the dates; it is detected when one looks "
                                 f"like dates. Choose \"{ROW_NUMBER_LABEL}\" to ignore the "
                                 "dates and count the rows instead.")
    try:   # names from the file: the config caps their length and refuses control characters
        cfg = cfg.replace(dataset="csv", csv_path=upload["name"], column=value_col or "",
                          date_column=date_col)
    except LabError as err:
        st.error(text.plain(f"{err}. Rename it in the file, or choose another column.", 400),
                 icon=":material/error:")
        st.stop()
    return cfg, value_col, date_col


def _ask_for_value_column(cfg: ExperimentConfig, upload: dict, numeric: list[str]) -> None:
    """No value column chosen: store the config, say why (the loader's words if none is
    numeric) and stop the page."""
    state.set_config(cfg)
    if not numeric:  # let the loader say what it found
        try:
            cache.parse_upload(upload["data"], upload["name"], None, None)
        except LabError as err:
            st.error(text.plain(err, None))
            st.stop()
    st.info(f"{text.plain(upload['name'])} has several numeric columns "
            f"({', '.join(text.plain(c, 40) for c in numeric[:20])}"
            f"{', …' if len(numeric) > 20 else ''}): choose the one to forecast.",
            icon=":material/table_chart:")
    st.stop()


def _cleaning_options() -> None:
    """What to do with unreadable cells, repeated times and gaps; kept in the session."""
    with st.expander(CLEANING_OPTIONS):
        options = state.csv_options()
        c1, c2, c3 = st.columns(3)
        bad_values = c1.radio(
            BAD_VALUES_LABEL, BAD_VALUE_POLICIES,
            key=seed_widget(state.KEY_DATA_BAD_VALUES, options["bad_values"]),
            format_func=BAD_VALUE_LABELS.get,
            help="Cells such as '?0.2' or blanks in the value column. The warning lists them.")
        duplicates = c2.radio(
            DUPLICATES_LABEL, DUPLICATE_POLICIES,
            key=seed_widget(state.KEY_DATA_DUPLICATES, options["duplicates"]),
            format_func=DUPLICATE_LABELS.get, help="Several rows with the same date.")
        fill_gaps = c3.toggle(FILL_GAPS_LABEL,
                              key=seed_widget(state.KEY_DATA_FILL_GAPS, options["fill_gaps"]),
                              help="Missing dates in a regular series (e.g. a skipped day) are "
                                   "reported; on, they are filled by linear interpolation.")
        state.set_csv_options(bad_values=bad_values, duplicates=duplicates, fill_gaps=fill_gaps)


def split_controls(cfg: ExperimentConfig, series: Series) -> ExperimentConfig:
    """The season (auto, or an override) and the test size, with what they mean for this series.

    A value the series cannot take is refused in a sentence and the config keeps its old value.
    """
    n = len(series)
    c1, c2 = st.columns(2)
    season_key, test_size_key = SPLIT_KEYS
    season = controls.season_input(cfg, series, c1, key=seed_widget(season_key, int(cfg.season)))
    test_size = controls.test_size_input(cfg, n, c2, key=seed_widget(test_size_key,
                                                                     float(cfg.test_size)))
    refusal = controls.test_size_problem(test_size, n)
    if refusal:
        st.error(refusal, icon=":material/error:")
    else:
        cfg = cfg.replace(test_size=test_size)
    refusal = controls.season_problem(season, series, cfg)
    if refusal:
        st.error(refusal, icon=":material/error:")
    else:
        cfg = cfg.replace(season=season)
    c1.caption(f"Season — {controls.season_caption(cfg.season, series)}")
    c2.caption(f"Test part — {controls.test_size_words(cfg.test_size, n)}")
    return cfg


def series_preview(cfg: ExperimentConfig, series: Series) -> None:
    """Points, frequency, season and split; the parsed rows; the series with its test part; one
    window."""
    n_test = min(cfg.test_count(len(series)), len(series) - 2)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Points", f"{len(series):,}")
    words = freq_words(series.freq, isinstance(series.index, pd.DatetimeIndex))
    c2.metric("Frequency", words.split(" (")[0],     # the detail in the help: a metric is narrow
              help=f"{words[0].upper()}{words[1:]}. Detected from the dates; it sets the season "
                   "used by seasonal naive, MASE, Holt-Winters and SARIMA.")
    c3.metric("Season", f"{cfg.season or series.season:,}" if (cfg.season or series.season) > 1
              else "none", help=f"Season {controls.season_caption(cfg.season, series)}.")
    c4.metric("Train / test", f"{len(series) - n_test:,} / {n_test:,}")
    rows_preview(cfg, series)
    st.plotly_chart(plots.series_figure(series, n_test), key="series_chart")
    window = min(cfg.window, max(1, len(series) // 3))
    horizon = min(cfg.horizon, max(1, len(series) - window))   # the example fits in the series
    st.plotly_chart(plots.window_figure(series, window, horizon), key="window_chart")
    st.caption(f"With window {window} and horizon {horizon}, the networks learn from every such "
               "slice of the training part. Change them on **Train & compare**.")
    st.page_link("pages/train.py", label="Train on this series", icon=":material/arrow_forward:")


def rows_preview(cfg: ExperimentConfig, series: Series) -> None:
    """The first and last rows as parsed (a CSV's file line, time, value and repairs), the count
    of rows and what was left out or filled."""
    info = _upload_info(cfg)
    with st.expander(f"Parsed rows: the first and last {PREVIEW_ROWS}",
                     expanded=cfg.dataset == "csv" and info is not None):
        if info is not None:
            table = info.preview(PREVIEW_ROWS)
            st.caption(_rows_summary(info))
        else:
            n = len(series)
            keep = np.arange(n) if n <= 2 * PREVIEW_ROWS else \
                np.r_[0:PREVIEW_ROWS, n - PREVIEW_ROWS:n]
            table = pd.DataFrame({"Point": keep + 1, "Time": series.index[keep],
                                  series.name: series.values[keep]})
            st.caption(f"{n:,} points, nothing left out or filled.")
        table = _with_inputs(table, series)
        if isinstance(series.index, pd.DatetimeIndex):
            table["Time"] = table["Time"].dt.strftime(
                "%Y-%m-%d" if (series.index == series.index.normalize()).all()
                else "%Y-%m-%d %H:%M:%S")
        else:
            table = table.rename(columns={"Time": "Time (step)"})
        st.dataframe(table, hide_index=True, key="rows_preview")


def _with_inputs(table: pd.DataFrame, series: Series) -> pd.DataFrame:
    """The parsed rows' table with each input column's values after the target's."""
    if series.inputs is None or not len(table):
        return table
    rows = table["Point"].to_numpy(dtype=int) - 1
    at = table.columns.get_loc(series.name) + 1
    for j, name in enumerate(series.input_names):
        if name not in table.columns:
            table.insert(at + j, name, series.inputs[rows, j])
    return table


def _upload_info(cfg: ExperimentConfig) -> CsvLoad | None:
    """The parsed upload or gallery file the config names (cached), or None for a built-in
    series."""
    if cfg.dataset in GALLERY:
        return cache.gallery_load(cfg.dataset, cfg.inputs)
    upload = state.upload()
    if cfg.dataset != "csv" or upload is None:
        return None
    try:
        return cache.parse_upload(upload["data"], upload["name"], cfg.column or None,
                                  cfg.date_column or None, **state.csv_options(),
                                  inputs=tuple(cfg.inputs))
    except LabError:
        return None


def _rows_summary(info: CsvLoad) -> str:
    """"144 data rows read, 144 points; none left out, none filled." and the like."""
    left, filled = info.n_left_out, info.n_filled
    return (f"{info.n_rows_read:,} data rows read, {len(info.series):,} points; "
            f"{f'{left:,} left out (dropped or merged)' if left else 'none left out'}, "
            f"{f'{filled:,} filled by interpolation' if filled else 'none filled'}.")
