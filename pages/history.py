"""History: every saved run — filter, sort, compare, reopen, share, delete, export and import."""

import streamlit as st

from lstm_lab.ui import history, state
from lstm_lab.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title("History")
state.show_notices()
owner = history.session_owner()
store = history.run_store()

show_shared = st.toggle("Include runs shared with the class", True, key="history.shared")
everything = store.list_runs(owner, include_shared=show_shared)
summaries, picked = [], []
if everything:
    summaries = history.apply_filters(everything, history.history_filters(everything))
    st.caption(f"{len(summaries)} of {len(everything)} runs · click a column header to sort")
    history.runs_table(summaries, owner)
    picked = history.pick_runs(summaries)
else:
    st.info("No saved runs yet. Every run you finish in **Train & compare** or a **Sweep** is "
            "saved here, with its trained networks.", icon=":material/history:")

selected = store.list_runs(owner, ids=picked) if picked else []
if selected:
    st.subheader(f"Comparing {len(selected)} run{'s' * (len(selected) > 1)}")
    history.comparison(history.load_results(store, picked, owner))
    history.run_actions(store, selected, owner)

st.divider()
history.export_import(store, picked or [s.id for s in summaries], owner)
history.storage_caption(store, owner)
history.owner_key_box(store)
