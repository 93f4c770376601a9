"""Make a session's first page run go through app.py, even from a deep link on a fresh server.

With a ``pages/`` folder beside the entrypoint, Streamlit starts in its legacy multipage mode:
until some session has called ``st.navigation``, a deep-linked page file runs on its own — no
URL sync, no sidebar summary, the legacy page list. Each page calls ``ensure_entrypoint()``
first: on a session's first run in that mode it switches Streamlit to app.py's navigation and
reruns, which lands on the same page through app.py. (Only the first run: a rerun there loses
nothing, while later runs may carry a click.)
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner

from lstm_lab.ui import state


def ensure_entrypoint() -> None:
    if PagesManager.uses_pages_directory and not st.session_state.get(state.KEY_URL_READ):
        PagesManager.uses_pages_directory = False
        st.rerun()


def skip_keras_reset_between_reruns() -> None:
    """Stop Streamlit from calling ``keras.backend.clear_session()`` after every script run.

    Once keras is imported, Streamlit resets it after each rerun of every session. With a few
    finished runs in memory that costs ~240 ms holding the GIL (bench/memory.py), which stalls
    the next rerun and the trainings in the worker threads, and it resets Keras' global state
    under those trainings. LSTM Lab keeps nothing in that global state (every network is built
    and seeded explicitly), and memory per finished run is the same with or without the reset
    (bench/memory.py), so the reset only costs. Idempotent; a no-op if Streamlit changes.
    """
    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = _no_reset


def _no_reset() -> None:
    """Stands in for Streamlit's reset of stateful modules (keras, matplotlib): none is used."""
