"""Home: what the lab is, and a one-click default experiment."""

import streamlit as st

from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.ui import live, state
from lstm_lab.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title("LSTM Lab")
st.markdown(
    "Train a **Keras LSTM** on a time series right here, and see whether it beats an "
    "**MLP on sliding windows** and two honest baselines that need no training at all: "
    "*repeat the last value* and *repeat last season's value*.")
state.show_notices()

c1, c2, c3 = st.columns(3)
c1.markdown("#### 1 · Data\nThe airline passengers classic, a damped sine you shape with sliders, "
            "or your own CSV.")
c2.markdown("#### 2 · Train & compare\nSet the window, layers and units; watch the loss live; "
            "compare forecasts, metrics and residuals.")
c3.markdown("#### 3 · Learn\nWhat an MLP on windows cannot do, and what an LSTM's memory adds — "
            "with small live experiments.")

st.divider()
left, right = st.columns([2, 3])
with left:
    st.markdown("**Try it now:** the airline passengers series, the last 24 months held out, "
                "a one-layer LSTM with 32 units against the MLP and naive forecasts. "
                f"It takes {live.default_run_words()} on this server (a rough estimate from "
                "the speed of its latest trainings; the first one also loads TensorFlow).")
    if st.button("Train the default experiment", type="primary", icon=":material/play_arrow:"):
        state.set_config(ExperimentConfig())
        state.request_autostart()
        st.switch_page("pages/train.py")
with right:
    st.info("Every setting lives in the page address: use **Copy link** in the sidebar to share an "
            "experiment with a class. Results stay private to your browser session.",
            icon=":material/link:")
