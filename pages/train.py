"""Train & compare: the controls, live training, and the comparison of every model."""

import streamlit as st

from lstm_lab.data.series import freq_words
from lstm_lab.ui import live, state, views, widgets
from lstm_lab.ui.entry import ensure_entrypoint
from lstm_lab.ui.text import plain

ensure_entrypoint()

st.title("Train & compare")
state.show_notices()
series = widgets.require_series()
cfg = state.config()

# wide enough that the form's labels fit one line and the units slider has room (at 1280 px:
# 132 px for it, 112 at [1.3, 2.4]; a longer label like the test size still takes two)
controls, results = st.columns([1.6, 2.4], gap="medium")
with controls:
    st.caption(f"Data: **{plain(series.name, None)}** — {len(series):,} points"
               + (f", {freq_words(series.freq)}" if series.freq else ""))
    for line in views.inputs_lines(cfg, series):
        st.caption(line)
    submitted = widgets.config_form(cfg, series)
if submitted is not None:
    state.set_config(submitted)
    cfg = submitted
if submitted is not None or state.take_autostart():
    live.start_training(cfg, series)
with controls:   # right under the Train button: how long it takes, then how it is going
    job, _ = state.job()
    if job is None or job.finished:
        live.estimate_caption(cfg=cfg, series=series)
    live.status_panel()

with results:
    running = live.active_job_panel()
    offered = views.available(cfg)
    if st.session_state.get("train.view") not in (None, *offered):
        del st.session_state["train.view"]   # the inputs' view, after the inputs were cleared
    view = st.segmented_control(
        "View", offered, default=offered[0], key="train.view", required=True,
        label_visibility="collapsed",
        help="Compare: one split. Backtest: several test blocks in turn. Forecast ahead: "
             "past the end of the data." + (" With vs without inputs: the same run without "
                                            "the input columns, side by side." if cfg.inputs
                                            else ""))
    views.render(view, cfg, series, running)
