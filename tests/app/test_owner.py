"""The queue's per-client cap follows the browser, not the tab: Streamlit's XSRF cookie is
written with a new mask at every page load, and the token under the mask is the browser's."""

from __future__ import annotations

from lstm_lab.ui.owner import xsrf_token

# Two tabs of one Chromium and a second browser context, as Streamlit 1.67 set them (real values).
TAB_1 = "2|24fcef57|44dbc69b4146b2a7d8a92aa9e757f922|1796142404"
TAB_2 = "2|b800f862|d827d1aeddbaa59244553d9c7babee17|1796142404"
OTHER_BROWSER = "2|92e36334|1bc3cdeeaa9ac9dbf3764bd043fd84c1|1796142408"


def test_two_tabs_of_one_browser_are_one_client_and_another_browser_is_not() -> None:
    assert xsrf_token(TAB_1) == xsrf_token(TAB_2) == "602729cc65ba5df0fc55c5fec3ab1675"
    assert xsrf_token(OTHER_BROWSER) not in ("", xsrf_token(TAB_1))


def test_unreadable_cookies_give_no_token() -> None:
    assert xsrf_token("") == ""
    assert xsrf_token("2|zz|00|1") == ""
    assert xsrf_token("2||00|1") == ""
    assert xsrf_token("3|a|b") == ""
    assert xsrf_token("abc123") == "abc123"       # version 1: the token itself
