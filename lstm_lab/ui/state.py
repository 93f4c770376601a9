"""Every session_state key in one place, with typed getters and setters.

Finished runs live here, per session, keyed by config + data fingerprint: resubmitting the same
experiment is instant and nobody sees another session's runs. A session keeps at most
``limits.max_session_runs`` of them (``LSTM_LAB_MAX_SESSION_RUNS``); the oldest go first, and a
page asked for an evicted run simply offers to train it again (History still has it).
"""

from __future__ import annotations

import streamlit as st

from lstm_lab.execution.jobs import TrainingJob
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import ExperimentResult
from lstm_lab.limits import get_limits

KEY_CONFIG = "lab.config"
KEY_UPLOAD = "lab.upload"          # {"name": str, "data": bytes}
KEY_CSV_OPTIONS = "lab.csv_options"  # how to clean the upload: bad_values, duplicates, fill_gaps
KEY_RUNS = "lab.runs"              # run key -> ExperimentResult
KEY_FAILURES = "lab.failures"      # run key -> error message of its last failed training
KEY_JOB = "lab.job"                # the TrainingJob being trained or queued, if any
KEY_JOB_KEY = "lab.job_key"        # its run key
KEY_URL_READ = "lab.url_read"      # True once the URL's config was read this session
KEY_NOTICES = "lab.notices"        # messages to show once (e.g. repaired URL values)
KEY_AUTOSTART = "lab.autostart"    # the Home page's "try it" asks the Train page to start

# Data page widgets (page widgets reset between pages: seed_widget() fills them from the config)
KEY_DATA_DATASET = "data.dataset"
KEY_DATA_GALLERY = "data.gallery"
KEY_DATA_UPLOAD = "data.upload"
KEY_DATA_VALUE_COLUMN = "data.value_col"
KEY_DATA_DATE_COLUMN = "data.date_col"
KEY_DATA_BAD_VALUES = "data.bad_values"
KEY_DATA_DUPLICATES = "data.duplicates"
KEY_DATA_FILL_GAPS = "data.fill_gaps"

# Learn page: the results of its live experiments, and its widgets
KEY_LEARN_ECHO = "learn.echo"
KEY_LEARN_ORDER = "learn.order"
KEY_LEARN_PARALLEL = "learn.parallel"
KEY_LEARN_VARLEN = "learn.varlen"
KEY_LEARN_OUTLEN = "learn.outlen"
KEY_LEARN_SMALL_RUN = "learn.small_run"
KEY_LEARN_ECHO_WINDOW = "learn.echo_window"
KEY_LEARN_PARALLEL_SERIES = "learn.parallel_series"
KEY_LEARN_WHICH = "learn.which"


def learn_origin_key(n_points: int, first: int) -> str:
    """The Learn page's forecast-origin slider key. It names the slider's bounds, so another run
    gets a fresh slider rather than a kept value outside its range."""
    return f"learn.origin.{n_points}.{first}"


def learn_layer_key(n_layers: int) -> str:
    """The Learn page's LSTM-layer picker key, fresh for a network with another layer count."""
    return f"learn.layer.{n_layers}"


def data_widget_key(field: str) -> str:
    """The Data page's widget key for a config field (e.g. ``data.sine_length``)."""
    return f"data.{field}"


def seed_widget(key: str, initial) -> str:
    """Seed a page widget's state once (page widgets reset between pages); returns ``key``."""
    if key not in st.session_state:
        st.session_state[key] = initial
    return key


def keep_widget_state(*keys: str) -> None:
    """Carry widgets' values through a run that does not draw them: Streamlit forgets a widget's
    state after such a run, and drawn again (a CSV's controls, once the file is uploaded) its
    box would show its minimum while the page used the re-seeded value."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def result(key: str):
    """What a page's live experiment left under ``key`` (None before it has run)."""
    return st.session_state.get(key)


def config() -> ExperimentConfig:
    return st.session_state.setdefault(KEY_CONFIG, ExperimentConfig())


def set_config(cfg: ExperimentConfig) -> None:
    st.session_state[KEY_CONFIG] = cfg


def upload() -> dict | None:
    return st.session_state.get(KEY_UPLOAD)


def set_upload(name: str, data: bytes) -> None:
    st.session_state[KEY_UPLOAD] = {"name": name, "data": data}


def csv_options() -> dict:
    return st.session_state.setdefault(
        KEY_CSV_OPTIONS, {"bad_values": "interpolate", "duplicates": "error", "fill_gaps": False})


def set_csv_options(**options) -> None:
    st.session_state[KEY_CSV_OPTIONS] = {**csv_options(), **options}


def run_key(cfg: ExperimentConfig, fingerprint: str, kind: str = "compare") -> str:
    """What identifies a finished run: settings, data, and what was run on them."""
    return f"{kind}|{cfg.to_json()}|{fingerprint}"


def runs() -> dict[str, ExperimentResult]:
    return st.session_state.setdefault(KEY_RUNS, {})


def get_run(key: str) -> ExperimentResult | None:
    return runs().get(key)


def save_run(key: str, result: ExperimentResult) -> list[str]:
    """Keep a finished run (as the newest), evicting the oldest beyond the session's limit.

    Returns the keys evicted, oldest first.
    """
    kept = runs()
    kept.pop(key, None)          # saved again: it becomes the newest
    kept[key] = result
    evicted = []
    while len(kept) > get_limits().max_session_runs:
        oldest = next(iter(kept))
        del kept[oldest]
        evicted.append(oldest)
    return evicted


def failure(key: str) -> str | None:
    return st.session_state.setdefault(KEY_FAILURES, {}).get(key)


def set_failure(key: str, message: str | None) -> None:
    failures = st.session_state.setdefault(KEY_FAILURES, {})
    failures.pop(key, None)
    if message is not None:
        failures[key] = message
        while len(failures) > get_limits().max_session_runs:   # bounded like the runs
            del failures[next(iter(failures))]


def job() -> tuple[TrainingJob | None, str | None]:
    return st.session_state.get(KEY_JOB), st.session_state.get(KEY_JOB_KEY)


def set_job(new_job: TrainingJob | None, key: str | None = None) -> None:
    st.session_state[KEY_JOB] = new_job
    st.session_state[KEY_JOB_KEY] = key


def add_notice(text: str, level: str = "warning") -> None:
    """Queue a message for the next page render; level is "error", "warning" or "info"."""
    st.session_state.setdefault(KEY_NOTICES, []).append((level, text))


def show_notices() -> None:
    for level, text in st.session_state.pop(KEY_NOTICES, []):
        getattr(st, level)(text)


def request_autostart() -> None:
    st.session_state[KEY_AUTOSTART] = True


def take_autostart() -> bool:
    return bool(st.session_state.pop(KEY_AUTOSTART, False))
