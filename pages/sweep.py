"""Sweep: train a grid of configs (e.g. window x layers x units) and find the best one."""

import streamlit as st

from lstm_lab.errors import LabError
from lstm_lab.experiments import sweep
from lstm_lab.models.registry import model_label
from lstm_lab.ui import history, live, state, widgets
from lstm_lab.ui.entry import ensure_entrypoint
from lstm_lab.ui.text import plain

ensure_entrypoint()

st.title("Sweep")
state.show_notices()
series = widgets.require_series()
cfg = state.config()
owner = history.session_owner()
store = history.run_store()

st.caption(f"Data: **{plain(series.name, None)}** — {len(series):,} points. Every setting not "
           f"varied here is the current one from Train & compare ({cfg.epochs} epochs, models "
           f"{', '.join(model_label(m, cfg) for m in cfg.models)}); tuning is off, so each run "
           "trains exactly its settings.")
spec = history.grid_inputs(cfg)
seeds = history.seeds_input(spec)
plan = None
try:
    plan = sweep.plan_sweep(cfg, series, sweep.parse_grid(spec), seeds=seeds)
except LabError as err:   # may quote a series name: shown as typed
    st.error(plain(err, None))
if plan is not None:
    history.sweep_preview(plan)

running = live.active_job_panel()
if st.button("Run sweep", type="primary", icon=":material/grid_view:", key="sweep.run",
             disabled=running or plan is None or not plan.runnable):
    history.start_sweep(cfg, series, plan, owner)
    st.rerun()
live.estimate_caption(cfg=cfg, series=series, kind="sweep",
                      cells=[r.config for r in plan.runnable] if plan is not None else [])

result = history.pick_sweep(store, owner, history.latest_sweep())
if result is not None:
    st.divider()
    for note in result.notes:   # e.g. the job's time limit ended the sweep
        st.warning(note, icon=":material/timer:")
    history.sweep_results(store, result, owner)
