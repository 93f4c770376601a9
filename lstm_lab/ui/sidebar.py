"""The shared sidebar, drawn around the page so that it shows the config the page settled on.

Streamlit can fill the sidebar after the main area. The summary goes into a slot before the page
runs (a page that ends early with ``st.stop()`` still shows it; nothing can be drawn after a
stop) and is redrawn in the same slot after the page when the page changed the config, so no
page has to rerun just to refresh the sidebar summary and its Copy link.
"""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from lstm_lab.ui import state, widgets


def run_page_with_sidebar(page: StreamlitPage) -> None:
    """Run ``page`` (what ``st.navigation`` returned) and keep the sidebar summary current."""
    before = state.config()
    slot = st.sidebar.empty()
    widgets.sidebar_summary(before, slot.container())
    page.run()
    after = state.config()
    if after != before:
        widgets.sidebar_summary(after, slot.container())
