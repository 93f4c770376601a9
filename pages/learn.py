"""Learn: the MLP's limits and the LSTM's memory, each with a small live example."""

import plotly.express as px
import streamlit as st

from lstm_lab import lessons
from lstm_lab.ui import cache
from lstm_lab.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title("Learn: why an LSTM?")
st.markdown("An **MLP on sliding windows** takes the last *window* values as one flat vector and "
            "maps it to the next value(s). It works — often well — but it has four built-in "
            "limits. An **LSTM** reads the window one step at a time and carries a memory "
            "(its cell state) from step to step.")

st.subheader("1 · Stateless and blind to order")
c1, c2 = st.columns([2, 3])
c1.markdown("The MLP sees the window all at once; nothing marks which value came first. Shuffle "
            "the points of every window the same way and it learns *exactly* the same forecast — "
            "it never used the order. The LSTM reads the window step by step, carrying its state "
            "forward, so for it the order *is* information: shuffled, it learns something else.")
c1.caption("Trains 4 small networks on the airline series (a few seconds).")
if c1.button("Run the shuffle experiment", icon=":material/shuffle:"):
    with st.spinner("Training MLP and LSTM, ordered and shuffled…"):
        st.session_state["learn.order"] = lessons.order_experiment(cache.air_passengers())
if "learn.order" in st.session_state:
    table = st.session_state["learn.order"]
    fig = px.bar(table, x="model", y="test RMSE", color="inputs", barmode="group",
                 title="Same data, inputs in time order vs shuffled", template="plotly_white",
                 height=320, text_auto=".1f")
    c2.plotly_chart(fig, key="order_chart")
else:
    c2.info("Press the button to run it live.")

st.subheader("2 · Messy scaling with parallel series")
c1, c2 = st.columns([2, 3])
window = c1.slider("Window", 3, 96, 12, help="How many past steps each network sees.")
units = c1.select_slider("Units", [8, 16, 32, 64, 128], 32, help="Hidden units of both networks.")
table = lessons.parameter_table(window, units)
c1.markdown("With several input series, the MLP's input is *window × series* wide; its weights "
            "grow with both. The LSTM takes one vector of *series* values per step: its size "
            "does not depend on the window at all.")
fig = px.line(table, x="parallel series", y=["MLP weights", "LSTM weights"], markers=True,
              title="Trainable weights vs number of parallel series", template="plotly_white",
              height=320, labels={"value": "trainable weights", "variable": ""})
c2.plotly_chart(fig, key="params_chart")
c2.dataframe(table, hide_index=True, width="stretch")

st.subheader("3 · Fixed-size inputs and outputs")
c1, c2 = st.columns([2, 3])
c1.markdown("An MLP's first layer has one weight per input: a window of 12 can never take 13 "
            "values, and a longer history means a new, bigger network. An LSTM applies the same "
            "cell at every step, so one trained network can read a sequence of any length.")
growth = lessons.window_growth(units=units)
fig = px.line(growth, x="window", y=["MLP weights", "LSTM weights"], markers=True,
              title="Weights vs window length (1 series)", template="plotly_white", height=300,
              labels={"value": "trainable weights", "variable": ""})
c2.plotly_chart(fig, key="window_growth_chart")

st.subheader("4 · State through time, and stacking for time scales")
st.markdown("At each step the LSTM's gates decide what to **forget**, what to **write** to the "
            "cell state and what to **output** — a memory that flows through the window. "
            "Stacking LSTM layers (*Train & compare → LSTM layers*) lets the lower layer track "
            "fast, step-to-step patterns while the upper layer, reading the lower layer's "
            "sequence, models slower ones such as the seasonal cycle.")
st.page_link("pages/train.py", label="Try 2 stacked layers on Train & compare",
             icon=":material/arrow_forward:")
