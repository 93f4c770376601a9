"""Widgets of the History and Sweep pages: stored runs in, core objects out.

Runs live in the run store (``lstm_lab.store``), shared by every session of the server. A session
sees its own runs (its owner id, kept in session state) and the runs pinned as shared with the
class. Its history key (the owner id signed by the server, see ``RunStore.owner_key``) can be
copied to find the runs again from another browser session; a typed key is accepted only if the
server issued it, so nobody can choose someone else's owner id.

Text that came from users or imported files (series names, notes, error messages quoting a
file) is shown as plain text: in table cells, option labels, or escaped with ``plain`` before
any call that renders markdown.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from lstm_lab.data.series import Series
from lstm_lab.errors import LabError
from lstm_lab.execution.tasks import TaskSpec
from lstm_lab.experiments import sweep
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.intervals import INTERVAL_HELP, interval_metric_name
from lstm_lab.experiments.metrics import METRIC_HELP, METRICS
from lstm_lab.experiments.training import MODEL_LABELS, ExperimentResult
from lstm_lab.limits import env_var, get_limits
from lstm_lab.models.registry import model_label
from lstm_lab.store import RunStore, RunSummary, get_store
from lstm_lab.store.tables import (
    INTERVAL_NAME,
    history_frame,
    interval_levels,
    interval_metrics,
    metric_title,
    round_significant,
)
from lstm_lab.ui import live, state
from lstm_lab.ui.owner import session_owner, set_session_owner
from lstm_lab.ui.text import plain

KEY_LAST_SWEEP = "lab.last_sweep"    # run key (state.run_key) of this session's latest sweep job
KEY_SELECTED = "history.selected"    # run ids picked for comparison (a widget key)
MAX_COMPARE = 8
MAX_GRID_CHARS = 200                 # one setting's values as typed (36 values fit with room)
# --- owner and store -----------------------------------------------------------------------------

def run_store() -> RunStore:
    """The server's run store (``LSTM_LAB_DB``); stops the page with a message if unusable."""
    store = get_store()
    try:
        store.schema_version()
    except LabError as err:  # the message never names the file (see lstm_lab.store.database)
        st.error(plain(err, None), icon=":material/database:")
        st.stop()
    return store


def owner_key_box(store: RunStore) -> None:
    """Show this session's signed key, and let a user switch to a key from an earlier session."""
    with st.expander("Your history key", icon=":material/key:"):
        st.caption("Your runs are private to this browser session. Keep this key to see them "
                   "again after closing the tab, or from another computer:")
        try:
            st.code(store.owner_key(session_owner()), language=None)
        except LabError as err:
            st.caption(plain(err, None))
        with st.form("history_key_form", border=False):
            st.text_input("Use another key", placeholder="the whole key, as shown above",
                          key="history.key_input", max_chars=200,
                          help="Paste a key shown here in an earlier session.")
            st.form_submit_button("Use this key", on_click=_switch_owner, args=(store,))


def _switch_owner(store: RunStore) -> None:
    """Callback (runs before the page, so it may reset the run picker). The key is accepted
    only if this server issued it (its signature checks)."""
    key = st.session_state.get("history.key_input", "").strip()
    if not key:
        return
    try:
        owner = store.owner_from_key(key)
    except LabError as err:
        state.add_notice(plain(err, None), "error")
        return
    set_session_owner(owner)
    st.session_state[KEY_SELECTED] = []


def storage_caption(store: RunStore, owner: str) -> None:
    """How much of the run store this session's key uses, and its cap."""
    try:
        used = store.used_bytes(owner)
    except LabError:
        return
    cap = get_limits().max_owner_storage_bytes
    st.caption(f"Your saved runs take {used / 2**20:,.1f} MiB of the {cap / 2**20:,.0f} MiB "
               f"each history key may use ({env_var('max_owner_storage_mb')}). Over it, new "
               "runs still show in Train & compare but are not saved here: delete old runs to "
               "make room.")


# --- the runs table ------------------------------------------------------------------------------

def history_filters(summaries: Sequence[RunSummary]) -> dict:
    """Filter widgets over the values present; returns ``list_runs`` keyword arguments."""
    c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 2])
    filters: dict = {}
    datasets = sorted({s.config.dataset for s in summaries})
    chosen = c1.multiselect("Data", datasets, key="history.f.dataset", placeholder="all",
                            format_func=lambda d: sweep.DATA_NAMES.get(d, d))
    if chosen:
        filters["dataset"] = chosen
    for col, name in ((c2, "window"), (c3, "layers"), (c4, "units")):
        values = sorted({getattr(s.config, name) for s in summaries})
        picked = col.multiselect(sweep.setting_name(name), values, key=f"history.f.{name}",
                                 placeholder="all", format_func=lambda v: f"{v:,}")
        if picked:
            filters[name] = picked
    sweeps = sorted({s.sweep for s in summaries if s.sweep})
    if sweeps:
        choice = c5.selectbox("Sweep", ["(all runs)", *sweeps], key="history.f.sweep",
                              format_func=lambda v: v if v == "(all runs)" else
                              f"sweep {v} ({sum(s.sweep == v for s in summaries)} runs)")
        if choice != "(all runs)":
            filters["sweep"] = choice
    return filters


def apply_filters(summaries: Sequence[RunSummary], filters: dict) -> list[RunSummary]:
    out = []
    for s in summaries:
        if "dataset" in filters and s.config.dataset not in filters["dataset"]:
            continue
        if "sweep" in filters and s.sweep != filters["sweep"]:
            continue
        if all(getattr(s.config, k) in v for k, v in filters.items()
               if k not in ("dataset", "sweep")):
            out.append(s)
    return out


def runs_table(summaries: Sequence[RunSummary], owner: str) -> None:
    """The sortable table (click a column header to sort), as wide as the page: it scrolls
    sideways inside itself, the run number pinned at the left."""
    frame = history_frame(summaries, owner)
    number = st.column_config.NumberColumn
    config = {"id": number("run", format="#%d", width="small", pinned=True),
              "when": st.column_config.TextColumn("when"),
              "dataset": st.column_config.TextColumn("data"),
              "shared": st.column_config.CheckboxColumn("shared", width="small"),
              "mine": st.column_config.CheckboxColumn("mine", width="small"),
              "time s": number("time (s)", format="%.1f")}
    for column in frame.columns:
        if column.startswith("RMSE "):
            config[column] = number(column, format="localized")
    st.dataframe(frame, hide_index=True, column_config=config, key="history.table",
                 width="stretch")


def pick_runs(summaries: Sequence[RunSummary]) -> list[int]:
    """Runs to compare; picks survive a change of filters."""
    by_id = {s.id: s for s in summaries}
    kept = [i for i in st.session_state.get(KEY_SELECTED, []) if i not in by_id]
    options = [s.id for s in summaries] + kept
    labels = {**{i: f"#{i}" for i in kept}, **{s.id: s.label() for s in summaries}}
    return st.multiselect("Runs to compare", options, key=KEY_SELECTED,
                          format_func=lambda i: labels.get(i, f"#{i}"),
                          max_selections=MAX_COMPARE,
                          placeholder="Pick runs from the table (up to 8)")


def load_results(store: RunStore, ids: Sequence[int], owner: str) -> dict[str, ExperimentResult]:
    """``{"#12": result, ...}`` for the picked runs that still exist."""
    results = {}
    for run_id in ids:
        try:
            results[f"#{run_id}"] = store.load_run(run_id, owner)
        except LabError as err:
            st.warning(plain(err, None))
    return results


# --- comparing runs ------------------------------------------------------------------------------

def comparison(results: dict[str, ExperimentResult]) -> None:
    """Settings that differ, overlaid forecasts and loss curves, a metrics bar chart (point
    metrics, and the coverage, width and Winkler score of the runs' prediction intervals), and
    the prediction intervals' scores side by side."""
    different_data_warning(results)
    st.markdown("**Settings that differ** (highlighted where a run differs from the first; "
                "only settings that act on these runs are listed)")
    configs = {label: r.config for label, r in results.items()}
    diff = sweep.config_differences(configs)
    fingerprints = [r.data_fingerprint for r in results.values()]
    if len(set(fingerprints)) > 1:
        diff.loc["Series"] = [f"{r.series_name} ({r.data_fingerprint[:8]})"
                              for r in results.values()]
    if diff.empty:
        st.caption("None: every setting and the data are the same"
                   + (" — only the training (seed, library versions) can differ."
                      if len(results) > 1 else "."))
    else:
        first = diff.columns[0]
        st.dataframe(diff.style.apply(
            lambda row: ["" if col == first or row[col] == row[first]
                         else "background-color: #fde68a" for col in row.index], axis=1),
            width="stretch", key="history.diff")
    models = [m for m in MODEL_LABELS if any(m in r.metrics for r in results.values())]
    networks = [m for m in ("lstm", "mlp") if m in models]
    configs = [r.config for r in results.values()]
    names = {m: sweep.models_label(m, configs) for m in models}
    c1, c2 = st.columns(2)
    model = c1.selectbox("Model to overlay", models, index=models.index(networks[0]) if networks
                         else 0, format_func=names.get, key="history.model")
    scores = [s for r in results.values() for s in r.metrics.values()]
    metric = c2.selectbox("Metric", [*METRICS, *interval_metrics(scores)], format_func=metric_title,
                          key="history.metric",
                          help=" · ".join([f"{k.upper()}: {v}" for k, v in METRIC_HELP.items()]
                                          + [f"{k} (per level): {v}"
                                             for k, v in INTERVAL_HELP.items()]))
    st.plotly_chart(sweep.overlay_forecast_figure(results, model), key="history.forecasts")
    left, right = st.columns(2)
    with left:
        if any(r.histories.get(model) for r in results.values()):
            st.plotly_chart(sweep.overlay_loss_figure(results, model), key="history.losses")
        else:
            st.info(f"{names[model]} is not trained, so it has no loss curve: pick a network "
                    "to compare training.", icon=":material/info:")
    with right:
        st.plotly_chart(metrics_figure(results, metric), key="history.metrics")
    interval_comparison(results)


def different_data_warning(results: dict[str, ExperimentResult]) -> None:
    """When the picked runs forecast different series, say which, and how the page shows them."""
    groups: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for label, result in results.items():
        groups.setdefault(result.data_fingerprint, []).append(label)
        names.setdefault(result.data_fingerprint, result.series_name)
    if len(groups) < 2:
        return
    named = "; ".join(f"{plain(names[f], 60)} ({', '.join(labels)})"
                      for f, labels in groups.items())
    same_name = len(set(names.values())) < len(names)
    st.warning(f"These runs use different data: {named}"
               + (" (same name, different values)" if same_name else "")
               + ". Each series gets its own panel with its own axis below, and their errors "
               "are in each series' own units: compare runs of the same series, not across.",
               icon=":material/warning:")


def metrics_figure(results: dict[str, ExperimentResult], metric: str):
    """The metrics bar chart; for an interval score, titled by what is better (coverage: near
    its level, drawn as a dashed line)."""
    fig = sweep.metrics_bar_figure(results, metric)
    match = INTERVAL_NAME.match(metric)
    if match is None:
        return fig
    kind, key = match[1], match[2]
    better = {"coverage": f"nearest {key}% is best", "width": "narrower is better at equal "
              "coverage", "winkler": "lower is better"}[kind]
    fig.update_layout(title_text=f"Test {metric_title(metric)} per model, run by run ({better})",
                      yaxis_title=metric_title(metric) + (" (%)" if kind == "coverage" else ""))
    if kind == "coverage":
        fig.add_hline(y=float(key), line_dash="dash", line_color="#6b7280",
                      annotation_text=f"{key}% (the level)", annotation_position="top left")
    return fig


def interval_comparison(results: dict[str, ExperimentResult]) -> None:
    """Each run's prediction intervals per model and level: coverage, mean width, Winkler."""
    rows, without = [], []
    for label, result in results.items():
        levels = interval_levels(result.metrics.values())
        if not levels:
            without.append(label)
        for model, scores in result.metrics.items():
            for key in levels:
                names = [interval_metric_name(m, float(key) / 100)
                         for m in ("coverage", "width", "winkler")]
                rows.append({"run": label, "model": result.label(model), "level": f"{key}%",
                             **dict(zip(("coverage %", "width", "Winkler"),
                                        (scores.get(n, float("nan")) for n in names),
                                        strict=True))})
    if not rows:
        st.caption("None of these runs has prediction intervals (saved before runs had them, "
                   "or run with intervals set to none).")
        return
    st.markdown("**Prediction intervals**")
    st.caption("coverage: the share of test points inside the band; an honest 80% band holds "
               "about 80% of them. Width: the band's mean width. Winkler: width plus "
               "2 / (1 - level) times each miss; lower is better."
               + (f" No intervals in {', '.join(without)}." if without else ""))
    number = st.column_config.NumberColumn
    frame = pd.DataFrame(rows)
    for column in ("width", "Winkler"):
        frame[column] = [round_significant(v) for v in frame[column]]
    st.dataframe(frame, hide_index=True, key="history.intervals", width="stretch",
                 column_config={"coverage %": number("coverage %", format="%.1f"),
                                "width": number("width", format="localized"),
                                "Winkler": number("Winkler", format="localized")})


def run_actions(store: RunStore, selected: Sequence[RunSummary], owner: str) -> None:
    """Reopen, share or unshare, delete (own runs only)."""
    mine = [s for s in selected if s.owner == owner]
    c1, c2, c3 = st.columns([3, 2, 2], vertical_alignment="bottom")
    target = c1.selectbox("Run to reopen", [s.id for s in selected], key="history.reopen_id",
                          format_func=lambda i: f"#{i}")
    if c1.button("Reopen in Train & compare", icon=":material/open_in_new:",
                 key="history.reopen"):
        reopen(store, target, owner)
    if mine:
        share = not all(s.shared for s in mine)
        label = "Share with the class" if share else "Stop sharing"
        if c2.button(label, icon=":material/group:", key="history.share",
                     help="Shared runs appear in every session's history (read-only there)."):
            for s in mine:
                store.set_shared(s.id, share, owner)
            st.toast(f"{runs_word(len(mine))} {'shared with the class' if share else 'private again'}.")
            st.rerun()
        with c3.popover("Delete", icon=":material/delete:"):
            st.markdown(f"Delete {runs_word(len(mine))} of yours and their trained networks "
                        "for good?" + (f" ({len(selected) - len(mine)} shared by others stay.)"
                                       if len(mine) < len(selected) else ""))
            st.button("Delete for good", type="primary", key="history.delete",
                      on_click=_delete, args=(store, [s.id for s in mine], owner))
    else:
        c2.caption("Shared by others: only their owner can share, unshare or delete them.")


def _delete(store: RunStore, ids: list[int], owner: str) -> None:
    """Callback: delete, then drop the runs from the picker (before it is drawn again)."""
    try:
        count = store.delete_runs(ids, owner)
    except LabError as err:
        state.add_notice(plain(err, None), "error")
        return
    st.session_state[KEY_SELECTED] = [i for i in st.session_state.get(KEY_SELECTED, [])
                                      if i not in ids]
    state.add_notice(f"Deleted {runs_word(count)}.", "info")


def reopen(store: RunStore, run_id: int, owner: str) -> None:
    """Put a stored run's config (and its results) back into Train & compare."""
    try:
        result = store.load_run(run_id, owner)
    except LabError as err:
        st.error(plain(err, None))
        return
    state.set_config(result.config)
    state.save_run(state.run_key(result.config, result.data_fingerprint), result)
    try:
        st.switch_page("pages/train.py")
    except StreamlitAPIException:  # the page is run on its own, outside app.py's navigation
        st.success(f"Run #{run_id}'s settings are restored: open **Train & compare**.")


def export_import(store: RunStore, ids: Sequence[int], owner: str) -> None:
    """Download runs as JSON (re-importable) or CSV; upload a JSON export to import it."""
    count = len(ids)
    c1, c2 = st.columns(2)
    stem = f"lstm_lab_runs_{'_'.join(str(i) for i in ids[:4])}" + ("_etc" if count > 4 else "")
    c1.download_button(f"Export {runs_word(count)} as JSON", lambda: store.export_runs(ids, owner),
                       f"{stem}.json", "application/json", icon=":material/download:",
                       disabled=not count, key="history.export_json",
                       help="Everything, trained networks included; import it back below.")
    c2.download_button(f"Export {runs_word(count)} as CSV", lambda: store.runs_csv(ids, owner),
                       f"{stem}.csv", "text/csv", icon=":material/download:",
                       disabled=not count, key="history.export_csv",
                       help="One row per run: settings and every metric, for a spreadsheet.")
    with st.expander("Import runs", icon=":material/upload:"):
        upload = st.file_uploader("A runs JSON file (from Export)", type=["json"],
                                  key="history.import_file")
        if upload is not None and st.button("Import", key="history.import"):
            try:
                report = store.import_runs(upload.getvalue(), owner)
            except LabError as err:  # quotes a few characters of the file: shown as plain text
                st.error(plain(err, None), icon=":material/error:")
            else:
                st.success(f"Imported {runs_word(len(report.ids))}"
                           + (f"; {report.skipped} were already here." if report.skipped
                              else "."))


# --- sweeps --------------------------------------------------------------------------------------

DEFAULT_AXES = {"window": "6, 12, 24", "layers": "1, 2"}
DEFAULT_SEEDS = 2     # 3 x 2 settings x 2 seeds = 12 runs: well inside a sweep's 36


def grid_inputs(cfg: ExperimentConfig) -> dict[str, str]:
    """Which settings to vary and their values, as ``{field: "v1, v2, ..."}``."""
    axes = st.multiselect("Settings to vary", sweep.SWEEP_FIELDS, default=list(DEFAULT_AXES),
                          key="sweep.axes", max_selections=4, format_func=sweep.setting_name,
                          help="Every combination of the values is one setting; every other "
                               "setting is the current one from Train & compare.")
    spec = {}
    cols = st.columns(max(1, len(axes)))
    for col, name in zip(cols, axes):
        default = DEFAULT_AXES.get(name, _fmt(getattr(cfg, name)))
        spec[name] = col.text_input(sweep.setting_name(name), default,
                                    key=f"sweep.values.{name}", max_chars=MAX_GRID_CHARS,
                                    help="Comma-separated values, e.g. " + default)
    return spec


def seeds_input(spec: dict[str, str]) -> int:
    """How many times each setting trains (seeds base, base + 1, ...), to show the seed noise."""
    if "seed" in spec:
        st.caption("The seed is one of the settings you vary, so its values are the repeats: "
                   "each other setting trains once per seed.")
        return 1
    return int(st.number_input(
        "Seeds per setting", 1, sweep.MAX_SEEDS, DEFAULT_SEEDS, key="sweep.seeds",
        help="Each setting trains this many times from different seeds. Networks differ from "
             "seed to seed: the spread between seeds shows which differences between settings "
             "are real and which are noise (1: no way to tell)."))


def sweep_preview(plan: sweep.SweepPlan) -> None:
    c1, c2, c3 = st.columns(3)
    c1.metric("Runs in the grid", f"{plan.size:,}")
    c2.metric("Will train", f"{len(plan.runnable):,}")
    c3.metric("Skipped (budget or data)", f"{len(plan.refused):,}")
    st.caption(f"Grid: {plan.summary()}. Budget per network: "
               f"{sweep.fmt_value(plan.max_work)} weight updates.")
    if plan.refused:
        with st.expander(f"{len(plan.refused)} configuration(s) will be skipped",
                         icon=":material/block:"):
            frame = plan.frame()
            frame = frame[frame["status"] != sweep.OK]
            shown = frame.rename(columns={**{a: sweep.setting_name(a) for a in plan.grid},
                                          "seed": "Seed", "status": "why skipped",
                                          "work": "weight updates", "reason": "details"})
            st.dataframe(shown, hide_index=True, width="stretch", column_config={
                "weight updates": st.column_config.NumberColumn(format="localized")})


def start_sweep(base: ExperimentConfig, series: Series, plan: sweep.SweepPlan,
                owner: str) -> None:
    """Queue the sweep as one training job; each finished run is saved to the store."""
    grid, seeds = plan.grid, plan.seeds
    first = plan.runnable[0].config   # what the live panel and the queue's checks look at
    kind = "sweep:" + json.dumps({**{k: [_fmt(v) for v in vals] for k, vals in grid.items()},
                                  "(seeds)": seeds}, sort_keys=True)

    task = TaskSpec("sweep", {"base": base.to_dict(), "seeds": seeds,
                              "grid": {k: list(v) for k, v in grid.items()}})
    live.start_training(first, series, kind, task=task, label="Sweep")
    st.session_state[KEY_LAST_SWEEP] = state.run_key(first, series.fingerprint(), kind)


def latest_sweep() -> sweep.SweepResult | None:
    """This session's latest finished sweep, if any."""
    key = st.session_state.get(KEY_LAST_SWEEP)
    result = state.get_run(key) if key else None
    if key and result is None and state.failure(key):
        st.error(plain(state.failure(key), None), icon=":material/error:")
    return result if isinstance(result, sweep.SweepResult) else None


def pick_sweep(store: RunStore, owner: str,
               latest: sweep.SweepResult | None) -> sweep.SweepResult | None:
    """The sweep to show: this session's latest, or one saved earlier."""
    stored = store.list_sweeps(owner)
    if not stored:
        return latest
    ids = [s["sweep"] for s in stored]
    if latest is not None and latest.sweep_id not in ids:
        ids.insert(0, latest.sweep_id)
    info = {s["sweep"]: s for s in stored}
    chosen = st.selectbox("Sweep", ids, key="sweep.pick", format_func=lambda i: (
        f"sweep {i} · {info[i]['runs']} runs · run #{info[i]['first_id']} onwards"
        if i in info else f"sweep {i}"))
    if latest is not None and chosen == latest.sweep_id:
        return latest
    return sweep.SweepResult.from_summaries(store.list_runs(owner, sweep=chosen), chosen)


def sweep_results(store: RunStore, result: sweep.SweepResult, owner: str) -> None:
    """Best setting (mean ± seed spread, and which others are within the noise), heatmap,
    parallel coordinates, the table of settings and the table of runs."""
    if result.stopped_by_user:
        st.warning(f"The sweep was stopped: {len(result.done)} of {len(result.runs)} runs "
                   "finished (and are saved).")
    models = result.models
    if not models or not result.done:
        st.info("No run of this sweep finished.")
        return
    networks = [m for m in ("lstm", "mlp") if m in models]
    c1, c2, c3, c4 = st.columns(4)
    model = c1.selectbox("Model", models, index=models.index(networks[0]) if networks else 0,
                         format_func=result.label, key="sweep.model")
    metric = c2.selectbox("Metric", METRICS, format_func=sweep.metric_name, key="sweep.metric")
    axes = result.settings
    x = c3.selectbox("Across", axes, index=0, key="sweep.x",
                     format_func=sweep.setting_name) if axes else None
    rest = [a for a in axes if a != x]
    y = c4.selectbox("Down", rest, index=0, key="sweep.y",
                     format_func=sweep.setting_name) if rest else None
    name = sweep.metric_name(metric)
    cells = result.cells(model, metric)
    best = result.best_setting(model, metric)
    if best is not None:
        values = {a: best[a] for a in axes}
        config = next(r.config for r in result.done
                      if all(r.values.get(a) == v for a, v in values.items()))
        seeds = (f" (mean of {int(best['n'])} seeds)" if best["n"] > 1 else "")
        near = int(cells["near_best"].iloc[1:].sum())
        best_run = None if pd.isna(best["best_run"]) else int(best["best_run"])
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.success(f"**Best {model_label(model, config)} {name}: "
                     f"{sweep.spread_text(best['mean'], best['sd'])}**{seeds} with "
                     f"{plain(describe_setting(values), None)}"
                     + (f"; its best seed is run #{best_run}." if best_run is not None
                        else "."),
                     icon=":material/trophy:")
        if best_run is not None and right.button(
                "Open the best in Train & compare", icon=":material/open_in_new:",
                key="sweep.open_best"):
            reopen(store, best_run, owner)
        st.caption(noise_caption(result, model, metric, near))
    if x is not None and y is not None:
        st.plotly_chart(sweep.heatmap_figure(result, x, y, model, metric), key="sweep.heatmap")
    if result.axes:
        st.plotly_chart(sweep.parallel_figure(result, model, metric), key="sweep.parallel")
    if not cells.empty:
        st.markdown("**Settings, best first**")
        table = cells.rename(columns={a: sweep.setting_name(a) for a in axes})
        table[f"{name} {result.label(model)}"] = [sweep.spread_text(m, sd) for m, sd
                                                  in zip(cells["mean"], cells["sd"])]
        table["≈ best"] = ["★ best" if i == 0 else "≈ best" if near else ""
                           for i, near in enumerate(cells["near_best"])]
        shown = [sweep.setting_name(a) for a in axes] + [f"{name} {result.label(model)}",
                                                          "≈ best", "n"]
        for a in axes:
            table[sweep.setting_name(a)] = [sweep.fmt_value(v, a) for v in cells[a]]
        st.dataframe(table[shown], hide_index=True, key="sweep.cells", width="stretch",
                     column_config={"n": st.column_config.NumberColumn(
                         "runs", help="Finished runs (seeds) of this setting")})
    st.markdown("**Every run**")
    frame = result.frame()
    columns = [c for c in dict.fromkeys([*result.axes, "seed", "status", "run_id"])
               if c in frame]
    shown = [*columns, *[f"{m}.{metric}" for m in models], "note"]
    table = frame[shown].rename(columns={
        **{f"{m}.{metric}": f"{name} {result.label(m)}" for m in models},
        **{a: sweep.setting_name(a) for a in columns if a not in ("status", "run_id")}})
    for a in result.axes:
        if a != "seed":
            table[sweep.setting_name(a)] = [sweep.fmt_value(v, a) for v in frame[a]]
    for m in models:
        table[f"{name} {result.label(m)}"] = [round_significant(v) for v in frame[f"{m}.{metric}"]]
    number = st.column_config.NumberColumn
    st.dataframe(table, hide_index=True, key="sweep.table", width="stretch", column_config={
        "run_id": number("run", format="#%d", pinned=True),
        **{f"{name} {result.label(m)}": number(format="localized") for m in models}})


def describe_setting(values: dict) -> str:
    """``window 12, recurrent layers 2``: a setting in words."""
    return ", ".join(f"{sweep.setting_name(k).lower()} {sweep.fmt_value(v, k)}"
                     for k, v in values.items())


def noise_caption(result: sweep.SweepResult, model: str, metric: str, near: int) -> str:
    """What the seed noise is and what it means for the ranking, in one or two sentences."""
    name = sweep.metric_name(metric)
    noise = result.noise(model, metric)
    if result.repeats < 2 or not math.isfinite(noise):
        return (f"Each setting trained once: the seed noise is unknown, so differences of a "
                f"few percent in {name} may be chance. Train 2 or more seeds per setting to "
                "see it.")
    text = (f"Seed noise: {name} varies by about {sweep.people_number(noise)} (standard "
            f"deviation) between seeds of the same setting. ")
    if near > 0:
        return text + (f"{near} other setting{'s are' if near > 1 else ' is'} within that "
                       "noise of the best (≈ best): the sweep cannot tell "
                       f"{'them' if near > 1 else 'it'} apart from the best.")
    return text + "Every other setting is worse by more than the noise."


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def runs_word(count: int) -> str:
    """"1 run", "3 runs", "1,024 runs"."""
    return f"{count:,} run{'' if count == 1 else 's'}"
