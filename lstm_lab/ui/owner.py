"""Whose runs these are: this session's owner id in the run store.

Its own module, below the widgets that need it: ``live`` queues a session's jobs under it and
``history`` shows its signed key and switches to another.
"""

from __future__ import annotations

import streamlit as st

from lstm_lab.store import RunStore

KEY_OWNER = "lab.owner"   # this session's owner id in the run store


def session_owner() -> str:
    """This session's owner id in the run store, issued by the server on first use: 32 random
    hex digits (uuid4), private to the session. What a person copies is its signed history key
    (``history.owner_key_box``), never the id alone."""
    return st.session_state.setdefault(KEY_OWNER, RunStore.new_owner())


def set_session_owner(owner: str) -> None:
    """Act as ``owner`` from now on (a history key this server issued was typed in)."""
    st.session_state[KEY_OWNER] = owner
