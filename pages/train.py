"""Train & compare: the controls, live training, and the comparison of every model."""

import streamlit as st

from lstm_lab.ui import live, state, widgets
from lstm_lab.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title("Train & compare")
state.show_notices()
series = widgets.require_series()
cfg = state.config()

controls, results = st.columns([1, 2.6], gap="medium")
with controls:
    st.caption(f"Data: **{series.name}** — {len(series):,} points"
               + (f", {series.freq} frequency" if series.freq else ""))
    submitted = widgets.config_form(cfg, series)
if submitted is not None:
    state.set_config(submitted)
    cfg = submitted
if submitted is not None or state.take_autostart():
    live.start_training(cfg, series)
    if submitted is not None:
        st.rerun()  # app.py drew the sidebar summary and its link from the previous config

with results:
    if not live.active_job_panel():
        key = state.run_key(cfg, series.fingerprint())
        result = state.get_run(key)
        if result is not None:
            widgets.render_results(result)
        elif state.failure(key):
            st.error(state.failure(key), icon=":material/error:")
        else:
            st.info("Set the controls and press **Train**. The networks train on this server; a "
                    "progress bar and a live loss chart appear here.", icon=":material/info:")
