"""Server-wide setup done by app.py and the launcher: Keras is not reset after every rerun, and
a training backend that cannot start is one sentence, never a traceback."""

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


def test_a_training_backend_that_cannot_start_is_one_sentence_on_the_page(monkeypatch) -> None:
    """An unreachable Ray cluster (nothing listens on port 1): every page says so plainly and
    names the variable, instead of a traceback on each button."""
    from lstm_lab.ui import cache
    from tests.app.conftest import make_app

    monkeypatch.setattr(cache, "_STARTED", [])
    monkeypatch.setenv("LSTM_LAB_RAY_ADDRESS", "127.0.0.1:1")
    cache.job_runner.clear()
    try:
        at = make_app()
        at.run()
        assert not at.exception
        [error] = [e.value for e in at.error]
        assert error.startswith("Training is unavailable on this server:")
        assert "LSTM_LAB_RAY_ADDRESS" in error and "127.0.0.1:1" in error
    finally:
        cache.job_runner.clear()


def test_the_launcher_stops_with_one_sentence_when_workers_cannot_start(monkeypatch,
                                                                         capsys) -> None:
    from lstm_lab.ui import cache, serve

    monkeypatch.setattr(cache, "_STARTED", [])
    monkeypatch.delenv("LSTM_LAB_IN_PROCESS", raising=False)
    monkeypatch.setenv("LSTM_LAB_WORKERS", "many")
    assert serve.main(["--server.port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("LSTM Lab cannot start its training workers: LSTM_LAB_WORKERS must be "
                          "a whole number")
