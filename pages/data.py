"""Data: choose the series, shape the sine, or upload a CSV; preview the split and one window."""

import streamlit as st

from lstm_lab.data.csv_reader import BAD_VALUE_POLICIES, DUPLICATE_POLICIES, ROW_NUMBER
from lstm_lab.errors import LabError
from lstm_lab.experiments import plots
from lstm_lab.experiments.config import field_help
from lstm_lab.limits import get_limits
from lstm_lab.ui import cache, state, text, widgets
from lstm_lab.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title("Data")
state.show_notices()
cfg = state.config()


def bound(key: str, initial):
    """Seed a page widget's state from the config once (page widgets reset between pages)."""
    if key not in st.session_state:
        st.session_state[key] = initial
    return key


names = list(widgets.DATASET_LABELS)
dataset = st.radio("Series", names, format_func=widgets.DATASET_LABELS.get, horizontal=True,
                   key=bound("data.dataset", cfg.dataset), help=field_help("dataset"))

if dataset == "damped_sine":
    # Bounds come from the config's ranges (widgets.fitted); wide ranges get a number input.
    c1, c2, c3 = st.columns(3)
    lo, hi, _ = widgets.fitted("sine_length", cfg.sine_length)
    length = c1.number_input("Length (points)", lo, hi, step=10,
                             key=bound("data.sine_length", cfg.sine_length),
                             help=field_help("sine_length"))
    lo, hi, _ = widgets.fitted("sine_period", cfg.sine_period)
    period = c2.number_input("Period (points)", lo, hi, step=1.0,
                             key=bound("data.sine_period", cfg.sine_period),
                             help=field_help("sine_period"))
    lo, hi, _ = widgets.fitted("sine_decay", cfg.sine_decay)
    decay = c3.slider("Decay rate", lo, hi, step=0.001, format="%.3f",
                      key=bound("data.sine_decay", cfg.sine_decay), help=field_help("sine_decay"))
    c1, c2, c3 = st.columns(3)
    lo, hi, _ = widgets.fitted("sine_amplitude", cfg.sine_amplitude)
    amplitude = c1.number_input("Amplitude", lo, hi, step=0.1, format="%.3f",
                                key=bound("data.sine_amplitude", cfg.sine_amplitude),
                                help=field_help("sine_amplitude"))
    lo, hi, _ = widgets.fitted("sine_phase", cfg.sine_phase)
    phase = c2.slider("Phase (degrees)", lo, hi, step=5.0,
                      key=bound("data.sine_phase", cfg.sine_phase), help=field_help("sine_phase"))
    lo, hi, _ = widgets.fitted("sine_noise", cfg.sine_noise)
    noise = c3.number_input("Noise (std)", lo, hi, step=0.01, format="%.3f",
                            key=bound("data.sine_noise", cfg.sine_noise),
                            help=field_help("sine_noise"))
    cfg = cfg.replace(dataset="damped_sine", sine_length=length, sine_period=period,
                      sine_decay=decay, sine_amplitude=amplitude, sine_phase=phase,
                      sine_noise=noise)
elif dataset == "csv":
    limits = get_limits()
    uploaded = st.file_uploader(
        "CSV file", type=["csv", "txt", "tsv"], key="data.upload",
        help=f"A date column and one or more numeric columns. Up to {limits.max_upload_mb} MB and "
             f"{limits.max_rows:,} rows.")
    if uploaded is not None:
        current = state.upload()
        if current is None or current["name"] != uploaded.name or \
                len(current["data"]) != uploaded.size:
            state.set_upload(uploaded.name, uploaded.getvalue())
            cfg = cfg.replace(column="", date_column="")
            for key in ("data.value_col", "data.date_col"):  # new file, new columns
                st.session_state.pop(key, None)
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
        st.error(str(err))
        st.stop()
    numeric = found.numeric_columns
    c1, c2 = st.columns(2)
    initial_value = cfg.column if cfg.column in numeric else (numeric[0] if len(numeric) == 1
                                                              else None)
    value_col = c1.selectbox("Value column", numeric, placeholder="Choose the column to forecast",
                             key=bound("data.value_col", initial_value), help=field_help("column"))
    date_choices = [ROW_NUMBER, *found.columns]
    initial_date = cfg.date_column or found.date_column or ROW_NUMBER
    date_col = c2.selectbox("Date column", date_choices,
                            key=bound("data.date_col", initial_date if initial_date in date_choices
                                      else ROW_NUMBER),
                            help=field_help("date_column"))
    try:   # names from the file: the config caps their length and refuses control characters
        cfg = cfg.replace(dataset="csv", csv_path=upload["name"], column=value_col or "",
                          date_column=date_col)
    except LabError as err:
        st.error(text.plain(f"{err}. Rename it in the file, or choose another column.", 400),
                 icon=":material/error:")
        st.stop()
    if value_col is None:
        state.set_config(cfg)
        if not numeric:  # let the loader say what it found
            try:
                cache.parse_upload(upload["data"], upload["name"], None, None)
            except LabError as err:
                st.error(str(err))
                st.stop()
        st.info(f"{text.plain(upload['name'])} has several numeric columns "
                f"({', '.join(text.plain(c, 40) for c in numeric[:20])}"
                f"{', …' if len(numeric) > 20 else ''}): choose the one to forecast.",
                icon=":material/table_chart:")
        st.stop()
    with st.expander("Cleaning options"):
        options = state.csv_options()
        c1, c2, c3 = st.columns(3)
        bad_values = c1.radio(
            "Unreadable or empty cells", BAD_VALUE_POLICIES,
            key=bound("data.bad_values", options["bad_values"]),
            format_func={"interpolate": "interpolate (warn)", "drop": "drop the rows",
                         "error": "stop and show them"}.get,
            help="Cells such as '?0.2' or blanks in the value column. The warning lists them.")
        duplicates = c2.radio(
            "Repeated times", DUPLICATE_POLICIES,
            key=bound("data.duplicates", options["duplicates"]),
            format_func={"error": "refuse", "mean": "average them", "last": "keep the last"}.get,
            help="Several rows with the same date.")
        fill_gaps = c3.toggle("Fill gaps by interpolation",
                              key=bound("data.fill_gaps", options["fill_gaps"]),
                              help="Missing dates in a regular series (e.g. a skipped day) are "
                                   "reported; on, they are filled by linear interpolation.")
        state.set_csv_options(bad_values=bad_values, duplicates=duplicates, fill_gaps=fill_gaps)
    try:
        info = cache.parse_upload(upload["data"], upload["name"], value_col, date_col,
                                  **state.csv_options())
    except LabError as err:
        state.set_config(cfg)
        st.error(str(err))
        st.stop()
    for note in info.warnings:
        st.warning(note, icon=":material/warning:")
else:
    cfg = cfg.replace(dataset="air_passengers")

if cfg != state.config():
    state.set_config(cfg)  # app.py redraws the sidebar summary after the page
series = widgets.current_series(cfg)
if series is None:
    st.stop()

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
