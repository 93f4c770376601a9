"""Starting a training job and watching it live: queue place, progress, loss chart, Stop."""

from __future__ import annotations

import time

import streamlit as st

from lstm_lab.data.series import Series
from lstm_lab.errors import LabError
from lstm_lab.execution.jobs import DONE, FAILED, QUEUED, REPLACED, TrainingJob
from lstm_lab.execution.tasks import TaskSpec
from lstm_lab.experiments import estimate, plots, training
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.estimate import JobCost
from lstm_lab.experiments.training import model_label
from lstm_lab.ui import cache, state
from lstm_lab.ui.owner import session_client, session_owner

POLL_SECONDS = 0.5          # a running job: progress bar and live loss chart
QUEUE_POLL_SECONDS = 1.0    # a waiting job: its place changes only when a job ends
LESSON_POLL_SECONDS = 0.2   # a Learn experiment the page waits for
STATUS_POLL_SECONDS = 1.0   # the status panel under the Train button
START_GRACE = 0.5           # a job waits this long to start, so its status reaches the page first
STATUS_KEY = "train-status"  # its container: CSS class st-key-train-status


def require_runner() -> bool:
    """Make sure the server's training queue exists (its workers warm up from now on); when its
    backend cannot start (a Ray cluster that does not answer, a bad ``LSTM_LAB_WORKERS``), say
    so in one sentence on the page and stop it there, rather than fail on every button."""
    try:
        cache.job_runner()
    except LabError as err:
        st.error(f"Training is unavailable on this server: {err} Whoever runs the server can "
                 "fix it and restart it.", icon=":material/error:")
        st.stop()
    return True


def start_training(cfg: ExperimentConfig, series: Series, kind: str = "compare",
                   task=None, label: str = "Training", cost: JobCost | None = None) -> None:
    """Reuse a finished identical run, else queue a new job as this session's one job.

    ``kind`` tells apart what is run on the same config ("compare", a backtest, a forecast);
    ``task`` (a ``TaskSpec``) does it (default: the comparison). Settings that cannot work, a full server
    and a browser with ``LSTM_LAB_MAX_JOBS_PER_CLIENT`` jobs already (from any tab) are refused
    at once (the page shows why), not after a wait in the queue. The queue keeps one job per
    owner: this session's earlier job, from any tab or page, is stopped or leaves the queue, and
    the page says which; the new one starts once a stopped one has returned. ``cost``
    (``estimate.py``): what the job should take; default, a comparison of ``cfg``.
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
    owner = session_owner()
    try:  # a comparison (the default task) is saved to the run store when it finishes
        job = submit(cfg, series, task or TaskSpec(), label, cost or job_cost(kind, cfg, series))
    except LabError as err:  # the server is full, or this browser has its share of it
        state.set_failure(key, str(err))
        return
    old, _ = state.job()
    if old is not None and not old.finished and old.owner != owner:
        old.request_stop()  # queued under an earlier history key: the runner cannot know it
    state.set_job(job, key)


def submit(cfg: ExperimentConfig | None, series: Series | None, task, label: str,
           cost: JobCost | None = None) -> TrainingJob:
    """Queue ``task(job)`` as this session's one job, under this browser's address (see
    ``owner.session_client``: a classroom behind one NAT/proxy address shares its cap); a
    notice says what became of its earlier job. Raises QueueFullError or ClientBusyError (both
    LabErrors) when the server is full or this browser has its jobs already."""
    job = cache.job_runner().submit(cfg, series, task, label, owner=session_owner(),
                                    client=session_client(), cost=cost, grace=START_GRACE)
    if job.replaced:
        state.add_notice(REPLACED_NOTICES[job.replaced], "info")
    return job


REPLACED_NOTICES = {
    "stopped": "Your earlier training was stopped and replaced by this one (one training per "
               "person at a time; what it learned so far is kept where it was started).",
    "cancelled": "Your earlier training was still waiting in the queue: it left the queue and "
                 "this one took its place (one training per person at a time).",
}


def run_in_queue(key: str, label: str, spinner: str, experiment: TaskSpec,
                 series: Series | None = None, cost: JobCost | None = None) -> None:
    """Run ``experiment`` (a Learn page experiment, on ``series`` if it needs one) as this
    session's job in the server's queue and wait for it here; its result goes to
    ``st.session_state[key]``.

    The same rules as any training apply: one job per person, the queue's cap, the time limit.
    A LabError is shown as a message, never a traceback.
    """
    try:
        st.session_state[key + JOB_SUFFIX] = submit(None, series, experiment, label,
                                                    cost or estimate.lesson_cost(label))
    except LabError as err:
        st.error(str(err))
        return
    state.show_notices()
    wait_in_queue(key, spinner)


WAITING_FOR_OWNER = ("Waiting for your earlier training to stop: it ends after its current "
                     "chunk of work, then this one starts.")
JOB_SUFFIX = ".job"   # st.session_state[key + JOB_SUFFIX]: the queued job of a Learn experiment


def wait_in_queue(key: str, spinner: str) -> None:
    """Wait for the job ``run_in_queue`` queued under ``key`` (again after a rerun cut the wait
    short), then keep its result or show why there is none."""
    found = st.session_state.get(key + JOB_SUFFIX)
    if found is None:
        return
    runner = cache.job_runner()
    place = st.empty()
    with st.spinner(spinner):
        while not found.finished:
            ahead = runner.position(found)
            if runner.waiting_for_owner(found):
                place.caption(WAITING_FOR_OWNER)
            elif ahead:
                place.caption(f"Waiting in the training queue: place {ahead}, "
                              f"{estimate.about(runner.estimated_wait(found))}.")
            else:
                place.empty()
            time.sleep(LESSON_POLL_SECONDS)
    place.empty()
    del st.session_state[key + JOB_SUFFIX]
    if found.status == DONE:
        st.session_state[key] = found.result
        if found.notice:
            st.warning(found.notice)
    elif found.status == FAILED:
        st.error(found.error or "The experiment failed.")
    elif found.stop_reason == REPLACED:
        st.info(found.notice)
    else:
        st.info("The experiment was cancelled before it started.")


def active_job_panel() -> bool:
    """Draw the live panel while this session has an unfinished job; True while it does.

    Two fragments: a queued job is redrawn once a second (many may wait at once in a class, and
    each redraw costs the server and the browser), a running one twice a second.
    """
    job, _ = state.job()
    if job is None:
        return False
    state.show_notices()   # what became of the earlier job, beside the new one
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
        if runner.waiting_for_owner(job):
            head.markdown(f"**{WAITING_FOR_OWNER}**")
        elif starting(job):
            head.markdown(f"**{job.label}: starting…**")
        else:
            many = "trainings" if running != 1 else "training"
            head.markdown(f"**Waiting in the training queue: place {place:,} of {waiting:,}** — "
                          f"{estimate.about(wait)}. {running:,} {many} running on this server.")
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
        elif job.stop_reason != REPLACED:
            state.add_notice("Training was cancelled before it started.", "info")
        if job.notice and job.notice not in getattr(job.result, "notes", ()):
            state.add_notice(job.notice, "warning")   # replaced elsewhere, or timed out
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
            st.plotly_chart(plots.loss_figure(histories, "Live loss", job.config),
                            key=f"live_{job.id}")


def _stop_button(column, job, where: str = "") -> None:
    if column.button("Stop", icon=":material/stop_circle:", key=f"stop{where}_{job.id}",
                     help="End training now and keep what was learned so far "
                          "(a queued run leaves the queue)."):
        job.request_stop()
        st.toast("Stopping after the current batch of epochs…")


# --- before and right after pressing a button ---------------------------------------------------

def estimate_caption(where=None, cfg: ExperimentConfig | None = None,
                     series: Series | None = None, kind: str = "compare",
                     cells: list[ExperimentConfig] | None = None) -> str:
    """Write, beside a button (in ``where``, a column; default: the page), how long its job
    should take on this server and the queue ahead of it now; returns the sentence.

    ``kind`` is the job's as ``start_training`` gets it: "compare", "backtest:<folds>:<refit
    0/1>", "future:<steps>", "inputs_effect" (the run with its inputs and its networks again
    without them), "sweep:..." (with ``cells``, the configs that will train), or
    "lesson:<name>" for a Learn experiment (no config). A sweep with no cells to train, and
    settings the series cannot take (a test part longer than the series), write nothing."""
    if kind.startswith("sweep"):
        if not cells:
            return ""
        st.session_state[SWEEP_CELLS] = list(cells)   # for the job's own cost once pressed
    try:
        cost = job_cost(kind, cfg, series, cells)
    except LabError:   # settings this series cannot take: the press says why, in one sentence
        return ""
    return cost_caption(cost, where)


SWEEP_CELLS = "lab.estimate.sweep_cells"   # the cells the sweep's estimate counted


def job_cost(kind: str, cfg: ExperimentConfig | None = None, series: Series | None = None,
             cells: list[ExperimentConfig] | None = None) -> JobCost:
    """What a job of ``kind`` (see ``estimate_caption``) should cost."""
    head, _, rest = kind.partition(":")
    if head == "lesson" or cfg is None or series is None:
        return estimate.lesson_cost(rest or kind)
    if head == "backtest":
        folds, _, refit = rest.partition(":")
        return estimate.backtest_cost(cfg, series, int(folds or 3), refit != "0")
    if head == "future":
        return estimate.future_cost(cfg, series, int(rest or cfg.horizon))
    if head == "inputs_effect":   # the run with its inputs, then its networks without them
        return (JobCost("inputs_effect") + estimate.compare_cost(cfg, series)
                + estimate.compare_cost(cfg.replace(inputs=(), models=cfg.neural_models),
                                        series))
    if head == "sweep":
        return estimate.sweep_cost(list(cells or st.session_state.get(SWEEP_CELLS) or [cfg]),
                                   series)
    return estimate.compare_cost(cfg, series)


def cost_caption(cost: JobCost, where=None) -> str:
    """Write how long a job of ``cost`` should take, with the queue ahead of it now."""
    runner = cache.job_runner()
    wait, ahead = runner.wait_for_new()
    text = estimate.sentence(runner.seconds(cost), wait, ahead)
    (where or st).caption(text, help=ESTIMATE_HELP)
    return text


def default_run_words() -> str:
    """How long Home's default experiment takes on this server: "about 20 s"."""
    cost = estimate.compare_cost(ExperimentConfig(), cache.air_passengers())
    return estimate.about(cache.job_runner().seconds(cost))


ESTIMATE_HELP = ("From the work this job counts (weights × steps × windows × epochs, early "
                 "stopping included), at the speed this server's latest jobs ran, plus model "
                 "building and the classical fits, and the jobs waiting ahead of it.")


def status_panel() -> None:
    """Right under the Train button, where the eye is after pressing it: this session's job,
    its place in the queue or its progress, elapsed and expected time, and Stop. Drawn on the
    rerun the press starts, before the results column (which may be off screen)."""
    job, _ = state.job()
    if job is None or job.finished:
        return
    _status_fragment()


@st.fragment(run_every=STATUS_POLL_SECONDS)
def _status_fragment() -> None:
    job, _ = state.job()
    if job is None or job.finished:
        return      # the results column's fragment saves the result and reruns the page
    with st.container(border=True, key=STATUS_KEY):
        head, stop = st.columns([2.4, 1.5], vertical_alignment="center")  # "Stop" whole
        head.markdown(status_line(job))
        head.progress(0.0 if job.status == QUEUED else job.progress())
        _stop_button(stop, job, "_status")
        if st.session_state.get(SCROLLED) != job.id:   # once per job: bring it into view
            st.session_state[SCROLLED] = job.id
            st.html(SCROLL_INTO_VIEW, unsafe_allow_javascript=True)


SCROLLED = "lab.status_scrolled"   # the job whose status panel was scrolled into view
# The Train button sits at the bottom of a long form, often at the bottom edge of the screen:
# the panel under it would be just out of sight.
# the panel's height settles as its parts arrive: scroll again a few times in its first second
SCROLL_INTO_VIEW = ("<script>for (const ms of [0, 150, 400, 900]) setTimeout(() => "
                    f"document.querySelector('.st-key-{STATUS_KEY}')"
                    "?.scrollIntoView({block: 'nearest'}), ms);</script>")


def status_line(job: TrainingJob) -> str:
    """One line on a job: its queue place and wait, or its stage, elapsed and expected time."""
    runner = cache.job_runner()
    if job.status == QUEUED:
        if runner.waiting_for_owner(job):
            return f"**Starting soon** — {WAITING_FOR_OWNER}"
        if starting(job):
            return (f"**{job.label}: starting** — takes "
                    f"{estimate.about(runner.time_left(job), 'roughly')}.")
        place = runner.position(job)
        wait = runner.estimated_wait(job)
        return (f"**Queued: place {place:,}** — starts in {estimate.about(wait)}, then takes "
                f"{estimate.about(runner.time_left(job), 'roughly')}.")
    elapsed = job.elapsed()
    left = runner.time_left(job)
    stage = f" · {job.stage}" if job.stage else ""
    if job.expected_seconds and elapsed > job.expected_seconds * 1.2:
        return (f"**{job.label}{stage}** — {_clock(elapsed)} so far, longer than the "
                f"{estimate.about(job.expected_seconds, 'roughly')} expected.")
    return (f"**{job.label}{stage}** — {_clock(elapsed)} so far, "
            f"{estimate.about(left)} left.")


def starting(job: TrainingJob) -> bool:
    """A queued job in its grace period (``START_GRACE``) with nothing ahead: about to start,
    not waiting in a queue."""
    return (job.status == QUEUED and job.not_before > time.monotonic()
            and cache.job_runner().estimated_wait(job) < 1.0)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"
