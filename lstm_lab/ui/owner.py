"""Whose runs these are: this session's owner id in the run store.

Its own module, below the widgets that need it: ``live`` queues a session's jobs under it (and
under the browser's address, ``session_client``) and ``history`` shows its signed key and
switches to another.
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


def session_client() -> str:
    """Who is asking, for the queue's per-client cap (``LSTM_LAB_MAX_JOBS_PER_CLIENT``): the
    browser's address, ``st.context.ip_address``. Every tab and reload is a new session with a
    new owner id but the same address, so opening tabs cannot get round the one-job-per-person
    rule. Streamlit gives no address for a browser on the server itself (and in AppTest): then
    the session's owner id stands in. A classroom reaching the server from one address (behind
    one NAT or proxy) shares the cap: raise ``LSTM_LAB_MAX_JOBS_PER_CLIENT`` there."""
    address = st.context.ip_address   # AppTest's mock runtime answers with a mock: not a str
    return address if isinstance(address, str) and address else session_owner()


def set_session_owner(owner: str) -> None:
    """Act as ``owner`` from now on (a history key this server issued was typed in)."""
    st.session_state[KEY_OWNER] = owner
