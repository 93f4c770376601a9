"""The only st.cache_data / st.cache_resource wrappers. Core functions stay undecorated.

Training is never cached here (progress updates would break, and runs must stay private):
finished runs live in session state instead, and so do downloads of trained networks. What is
cached depends only on its arguments (a dataset, a generated sine, an upload's own bytes), so no
session can receive another's data; entries expire after an hour and are few, because an upload
may be 50 MB and the server is shared.
"""

from __future__ import annotations

import streamlit as st

from lstm_lab.data import datasets, gallery
from lstm_lab.data.csv_reader import CsvColumns, CsvLoad, inspect_csv, load_csv
from lstm_lab.data.series import Series
from lstm_lab.execution.choice import make_backend
from lstm_lab.execution.jobs import JobRunner

CACHE_SECONDS = 3600   # how long a cached sine or parsed upload is kept


@st.cache_data(show_spinner=False)
def air_passengers() -> Series:
    return datasets.load_air_passengers()


@st.cache_data(show_spinner=False)
def gallery_load(key: str, inputs: tuple[str, ...] = ()) -> CsvLoad:
    """A gallery series (with ``inputs``) as the CSV reader read it (the registry's few
    shipped files)."""
    return gallery.load_entry(key, tuple(inputs))


def gallery_series(key: str, inputs: tuple[str, ...] = ()) -> Series:
    return gallery_load(key, tuple(inputs)).series


@st.cache_data(show_spinner=False, max_entries=32, ttl=CACHE_SECONDS)
def damped_sine(length: int, period: float, decay: float, amplitude: float, phase: float,
                noise: float, seed: int) -> Series:
    return datasets.make_damped_sine(length, period, decay, amplitude, phase, noise, seed)


@st.cache_data(show_spinner="Reading CSV…", max_entries=8, ttl=CACHE_SECONDS)
def parse_upload(raw: bytes, name: str, column: str | None, date_column: str | None,
                 bad_values: str = "interpolate", duplicates: str = "error",
                 fill_gaps: bool = False, inputs: tuple[str, ...] = ()) -> CsvLoad:
    """Parsed upload (keyed on the file's bytes, the chosen columns and the cleaning options)."""
    return load_csv(raw, column=column, date_column=date_column, name=name, bad_values=bad_values,
                    duplicates=duplicates, fill_gaps=fill_gaps, inputs=tuple(inputs))


@st.cache_data(show_spinner=False, max_entries=8, ttl=CACHE_SECONDS)
def inspect_upload(raw: bytes, name: str) -> CsvColumns:
    """Column lists and the guessed date column of an upload, for the pickers."""
    return inspect_csv(raw, name=name)


_STARTED: list[JobRunner] = []   # the queue ``start_job_runner`` made before the server started


def start_job_runner() -> JobRunner:
    """Make the server's queue now (``make run`` calls it before the dashboard starts), so its
    worker processes warm up while the server comes up rather than on the first visit.

    Raises:
        LabError: the backend cannot start (a Ray cluster that does not answer, a bad
            ``LSTM_LAB_WORKERS``): the sentence says which variable to fix.
    """
    if not _STARTED:
        _STARTED.append(JobRunner(backend=make_backend()))
    return _STARTED[0]


@st.cache_resource(show_spinner=False)
def job_runner() -> JobRunner:
    """One training queue for the whole server: caps concurrent trainings at the core count,
    keeps one job per session owner, refuses jobs beyond ``LSTM_LAB_MAX_QUEUE`` and stops a job
    past ``LSTM_LAB_MAX_JOB_SECONDS`` (limits read on every submit, see ``jobs.JobRunner``).

    Jobs run where the environment says (``choice.make_backend``): by default in a pool of
    worker processes (``LSTM_LAB_WORKERS``, one per core) that start warming up now, so this
    process never imports TensorFlow; ``LSTM_LAB_IN_PROCESS=1``: threads of this process;
    ``LSTM_LAB_RAY_ADDRESS``: a Ray cluster."""
    return start_job_runner()
