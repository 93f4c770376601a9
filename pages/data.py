"""Data: choose the series (the airline passengers, one of the gallery's real series, the sine
or an upload), shape the sine, or upload a CSV; set the season and test size; preview the parsed
rows, the split and one window."""

import streamlit as st

from lstm_lab.ui import data_page, state, widgets
from lstm_lab.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title("Data")
state.show_notices()
cfg = state.config()

state.keep_widget_state(*data_page.SPLIT_KEYS)   # drawn only once a series is there
dataset = data_page.dataset_choice(cfg)
if dataset == "damped_sine":
    cfg = data_page.sine_inputs(cfg)
elif dataset == "csv":
    cfg = data_page.csv_inputs(cfg)
elif dataset == data_page.GALLERY_CHOICE:
    cfg = data_page.gallery_inputs(cfg)
else:
    cfg = cfg.replace(dataset="air_passengers", inputs=())   # one column: no inputs
if cfg != state.config():
    state.set_config(cfg)  # app.py redraws the sidebar summary after the page

series = widgets.current_series(cfg)
if series is None:
    st.stop()
cfg = data_page.split_controls(cfg, series)
if cfg != state.config():
    state.set_config(cfg)
data_page.series_preview(cfg, series)
