"""LSTM Lab entrypoint: page config, navigation, shared sidebar and URL sync.

Run with `make run` (or `streamlit run app.py`).
"""

import streamlit as st

from lstm_lab.ui import live, state, widgets
from lstm_lab.ui.entry import skip_keras_reset_between_reruns
from lstm_lab.ui.sidebar import run_page_with_sidebar


def run() -> None:
    skip_keras_reset_between_reruns()
    st.set_page_config(page_title="LSTM Lab", page_icon=":material/timeline:", layout="wide")
    live.require_runner()   # the training queue (and its worker processes) starts with the server
    widgets.sync_from_url()
    page = st.navigation([
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/data.py", title="Data", icon=":material/dataset:"),
        st.Page("pages/train.py", title="Train & compare", icon=":material/model_training:"),
        st.Page("pages/history.py", title="History", icon=":material/history:"),
        st.Page("pages/sweep.py", title="Sweep", icon=":material/grid_on:"),
        st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
    ])
    run_page_with_sidebar(page)  # the sidebar summary follows a config the page changed
    state.show_notices()  # a page that has not shown them (Learn) still tells what a link repaired
    widgets.sync_to_url()


run()
