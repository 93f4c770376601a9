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

from lstm_lab.ui import state


def ensure_entrypoint() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and not st.session_state.get(state.KEY_URL_READ):
        PagesManager.uses_pages_directory = False
        st.rerun()
