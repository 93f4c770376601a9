"""Whose runs these are: this session's owner id in the run store.

Its own module, below the widgets that need it: ``live`` queues a session's jobs under it (and
under the browser's address, ``session_client``) and ``history`` shows its signed key and
switches to another.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from lstm_lab.store import RunStore

KEY_OWNER = "lab.owner"   # this session's owner id in the run store


def session_owner() -> str:
    """This session's owner id in the run store, issued by the server on first use: 32 random
    hex digits (uuid4), private to the session. What a person copies is its signed history key
    (``history.owner_key_box``), never the id alone."""
    return st.session_state.setdefault(KEY_OWNER, RunStore.new_owner())


XSRF_COOKIE = "_streamlit_xsrf"   # set once per browser by Streamlit's server (XSRF protection)


def session_client() -> str:
    """Who is asking, for the queue's per-client cap (``LSTM_LAB_MAX_JOBS_PER_CLIENT``).

    Every tab and reload is a new session with a new owner id, so the client is the BROWSER:
    the XSRF cookie Streamlit's server sets once per browser (``enableXsrfProtection`` is on in
    .streamlit/config.toml), hashed so the token itself is kept nowhere. Opening tabs cannot get
    round the one-job-per-person rule, and a classroom behind one NAT or proxy still gets a cap
    per student's browser. Without the cookie (XSRF off, AppTest), the browser's address stands
    in (``st.context.ip_address``), and without that (a browser on the server itself) the
    session's owner id."""
    token = xsrf_token(_text(st.context.cookies.get(XSRF_COOKIE) if st.context.cookies else None))
    if token:
        return "browser:" + hashlib.sha256(token.encode()).hexdigest()[:24]
    address = _text(st.context.ip_address)
    return f"address:{address}" if address else session_owner()


def xsrf_token(cookie: str) -> str:
    """The browser's XSRF token inside Streamlit's (Tornado's) cookie. Version 2 cookies are
    ``2|mask|masked token|timestamp`` and are written anew, with a new mask, at each page load:
    the token under the mask is what stays the same for one browser. "" when unreadable."""
    parts = cookie.split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            return ""
        if not mask:
            return ""
        return bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked)).hex()
    return cookie if len(parts) == 1 else ""     # version 1: the token itself


def _text(value: object) -> str:
    """A real, non-empty string, or "" (AppTest's mock runtime answers with mocks)."""
    return value if isinstance(value, str) else ""


def set_session_owner(owner: str) -> None:
    """Act as ``owner`` from now on (a history key this server issued was typed in)."""
    st.session_state[KEY_OWNER] = owner
