"""Server-wide setup done by app.py: Streamlit must not reset Keras after every rerun."""

from __future__ import annotations

import inspect


def test_streamlit_no_longer_resets_keras_after_each_script_run(monkeypatch) -> None:
    import keras
    from streamlit.runtime.scriptrunner import script_runner

    from lstm_lab.ui import entry

    # the hook this patches is where Streamlit resets keras (if it moves, this test says so)
    assert "clear_session" in inspect.getsource(script_runner)
    calls = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: calls.append(1))
    monkeypatch.setattr(script_runner, "_clean_problem_modules",
                        lambda: keras.backend.clear_session())   # Streamlit's behaviour
    script_runner._clean_problem_modules()
    assert calls == [1]
    entry.skip_keras_reset_between_reruns()
    entry.skip_keras_reset_between_reruns()                         # idempotent
    assert script_runner._clean_problem_modules is entry._no_reset
    script_runner._clean_problem_modules()
    assert calls == [1]
