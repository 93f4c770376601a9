"""The Data page's widgets: the series picker, the sine's shape, the CSV upload with its column
pickers and cleaning options, and the preview of the split and one window.

Each input function takes the config and returns it changed by the widgets; the page stores it.
Widget bounds come from the config's ranges (``widgets.fitted``); widget keys live in ui/state.py.
Messages and notes quote file names and header cells: they are shown with ``text.plain``, as typed.
"""

from __future__ import annotations

import streamlit as st

from lstm_lab.data.csv_reader import BAD_VALUE_POLICIES, DUPLICATE_POLICIES, ROW_NUMBER
from lstm_lab.data.series import Series
from lstm_lab.errors import LabError
from lstm_lab.experiments import plots
from lstm_lab.experiments.config import ExperimentConfig, field_help
from lstm_lab.limits import get_limits
from lstm_lab.ui import cache, state, text, widgets
from lstm_lab.ui.state import seed_widget

_BAD_VALUE_LABELS = {"interpolate": "interpolate (warn)", "drop": "drop the rows",
                     "error": "stop and show them"}
_DUPLICATE_LABELS = {"error": "refuse", "mean": "average them", "last": "keep the last"}


def dataset_choice(cfg: ExperimentConfig) -> str:
    """Which series: airline passengers, the damped sine or an upload."""
    return st.radio("Series", list(widgets.DATASET_LABELS),
                    format_func=widgets.DATASET_LABELS.get, horizontal=True,
                    key=seed_widget(state.KEY_DATA_DATASET, cfg.dataset),
                    help=field_help("dataset"))


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
    period = _sine_input(c2, "number", "Period (points)", cfg, "sine_period", step=1.0)
    decay = _sine_input(c3, "slider", "Decay rate", cfg, "sine_decay", step=0.001,
                        format="%.3f")
    c1, c2, c3 = st.columns(3)
    amplitude = _sine_input(c1, "number", "Amplitude", cfg, "sine_amplitude", step=0.1,
                            format="%.3f")
    phase = _sine_input(c2, "slider", "Phase (degrees)", cfg, "sine_phase", step=5.0)
    noise = _sine_input(c3, "number", "Noise (std)", cfg, "sine_noise", step=0.01, format="%.3f")
    return cfg.replace(dataset="damped_sine", sine_length=length, sine_period=period,
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
        _ask_for_value_column(cfg, upload, found.numeric_columns)
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
            cfg = cfg.replace(column="", date_column="")
            for key in (state.KEY_DATA_VALUE_COLUMN, state.KEY_DATA_DATE_COLUMN):
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
                            help=field_help("date_column"))
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
    with st.expander("Cleaning options"):
        options = state.csv_options()
        c1, c2, c3 = st.columns(3)
        bad_values = c1.radio(
            "Unreadable or empty cells", BAD_VALUE_POLICIES,
            key=seed_widget(state.KEY_DATA_BAD_VALUES, options["bad_values"]),
            format_func=_BAD_VALUE_LABELS.get,
            help="Cells such as '?0.2' or blanks in the value column. The warning lists them.")
        duplicates = c2.radio(
            "Repeated times", DUPLICATE_POLICIES,
            key=seed_widget(state.KEY_DATA_DUPLICATES, options["duplicates"]),
            format_func=_DUPLICATE_LABELS.get, help="Several rows with the same date.")
        fill_gaps = c3.toggle("Fill gaps by interpolation",
                              key=seed_widget(state.KEY_DATA_FILL_GAPS, options["fill_gaps"]),
                              help="Missing dates in a regular series (e.g. a skipped day) are "
                                   "reported; on, they are filled by linear interpolation.")
        state.set_csv_options(bad_values=bad_values, duplicates=duplicates, fill_gaps=fill_gaps)


def series_preview(cfg: ExperimentConfig, series: Series) -> None:
    """Points, frequency, season and split; the series with its test part; one window."""
    n_test = min(cfg.test_count(len(series)), len(series) - 2)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Points", f"{len(series):,}")
    c2.metric("Frequency", series.freq or "none (index)",
              help="Detected from the dates; sets the season used by seasonal naive and MASE.")
    c3.metric("Season", series.season)
    c4.metric("Train / test", f"{len(series) - n_test:,} / {n_test:,}")
    st.plotly_chart(plots.series_figure(series, n_test), key="series_chart")
    window = min(cfg.window, max(1, len(series) // 3))
    horizon = min(cfg.horizon, max(1, len(series) - window))   # the example fits in the series
    st.plotly_chart(plots.window_figure(series, window, horizon), key="window_chart")
    st.caption(f"With window {window} and horizon {horizon}, the networks learn from every such "
               "slice of the training part. Change them on **Train & compare**.")
    st.page_link("pages/train.py", label="Train on this series", icon=":material/arrow_forward:")
