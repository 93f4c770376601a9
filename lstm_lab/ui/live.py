"""Starting a training job and watching it live: queue place, progress, loss chart, Stop."""

from __future__ import annotations

import streamlit as st

from lstm_lab import plots, training
from lstm_lab.config import ExperimentConfig
from lstm_lab.errors import LabError
from lstm_lab.jobs import CANCELLED, DONE, FAILED, QUEUED
from lstm_lab.series import Series
from lstm_lab.training import model_label
from lstm_lab.ui import cache, state

POLL_SECONDS = 0.5          # a running job: progress bar and live loss chart
QUEUE_POLL_SECONDS = 1.0    # a waiting job: its place changes only when a job ends


def start_training(cfg: ExperimentConfig, series: Series, kind: str = "compare",
                   task=None, label: str = "Training") -> None:
    """Reuse a finished identical run, else queue a new job (stopping this session's old one).

    ``kind`` tells apart what is run on the same config ("compare", a backtest, a forecast);
    ``task(job)`` does it (default: the comparison). Settings that cannot work are refused at
    once, not after a wait in the queue.
    """
    key = state.run_key(cfg, series.fingerprint(), kind)
    if state.get_run(key) is not None:
        return
    try:
        training.preflight(cfg, series)
    except LabError as err:
        state.set_failure(key, str(err))
        return
    state.set_failure(key, None)
    old, _ = state.job()
    if old is not None and not old.finished:
        old.request_stop()
    if task is None:  # a comparison: saved to the run store by the worker when it finishes
        from lstm_lab import store
        from lstm_lab.ui.history import session_owner

        owner = session_owner()
        task = lambda job: store.run_and_save(  # noqa: E731
            job.config, job.series, owner, job.on_epoch, job.stop_event.is_set)
    state.set_job(cache.job_runner().submit(cfg, series, task, label), key)


def active_job_panel() -> bool:
    """Draw the live panel while this session has an unfinished job; True while it does.

    Two fragments: a queued job is redrawn once a second (many may wait at once in a class, and
    each redraw costs the server and the browser), a running one twice a second.
    """
    job, _ = state.job()
    if job is None:
        return False
    if job.status == QUEUED:
        _queued_panel()
    else:
        _live_panel()
    return True


@st.fragment(run_every=QUEUE_POLL_SECONDS)
def _queued_panel() -> None:
    job, _ = state.job()
    if job is None or job.status != QUEUED:
        st.rerun()  # started (or finished): the page switches to the running panel
    runner = cache.job_runner()
    with st.container(border=True):
        head, stop = st.columns([5, 1])
        place = runner.position(job)
        wait = runner.estimated_wait(job)
        running, waiting = runner.busy()
        head.markdown(f"**Waiting in the training queue: place {place} of {waiting}** — "
                      f"about {wait:.0f} s. {running} training(s) running on this server.")
        head.progress(0.0, text="Queued")
        _stop_button(stop, job)


@st.fragment(run_every=POLL_SECONDS)
def _live_panel() -> None:
    job, key = state.job()
    if job is None:
        return
    if job.finished:
        state.set_job(None)
        if job.status == DONE and job.result is not None:
            state.save_run(key, job.result)
        elif job.status == FAILED:
            state.set_failure(key, job.error or "Training failed.")
        elif job.status == CANCELLED:
            state.add_notice("Training was cancelled before it started.", "info")
        st.rerun()
    with st.container(border=True):
        head, stop = st.columns([5, 1])
        model = model_label(job.current_model, job.config) if job.current_model else "…"
        histories = job.live_histories()
        epoch = len(histories.get(job.current_model or "", {}).get("loss", []))
        stage = f" · {job.stage}" if job.stage else ""
        if job.current_variant and job.variants > 1:
            model += (f" · tuning, variant {job.variant_index + 1} of {job.variants} "
                      f"({job.current_variant})")
        head.markdown(f"**{job.label}{stage}: {model}** — epoch {epoch} of at most "
                      f"{job.config.epochs}")
        head.progress(job.progress(), text=f"{job.progress():.0%}")
        _stop_button(stop, job)
        if any(h["loss"] for h in histories.values()):
            st.plotly_chart(plots.loss_figure(histories, "Live loss"), key=f"live_{job.id}")


def _stop_button(column, job) -> None:
    if column.button("Stop", icon=":material/stop_circle:", key=f"stop_{job.id}",
                     help="End training now and keep what was learned so far "
                          "(a queued run leaves the queue)."):
        job.request_stop()
        st.toast("Stopping after the current batch of epochs…")
