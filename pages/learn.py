"""Learn: the MLP's five limits and the LSTM's memory, each with a small live example."""

import streamlit as st

from lstm_lab.ui import learn_page, state
from lstm_lab.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title("Learn: why an LSTM?")
st.markdown("An **MLP on sliding windows** takes the last *window* values as one flat vector and "
            "maps it to the next value(s). It works — often well — but it has five built-in "
            "limits: it is **stateless**, **blind to order**, **scales messily** with parallel "
            "series, and takes **fixed-size inputs** and gives **fixed-size outputs**. An "
            "**LSTM** reads a sequence one step at a time and carries a memory (its cell state) "
            "from step to step. Each section below runs a small live experiment (a few seconds).")

learn_page.stateless_section()
learn_page.order_section()
learn_page.scaling_and_input_sections()  # a fragment: its sliders rerun only sections 3 and 4
learn_page.output_size_section()
learn_page.inside_the_lstm_section()
learn_page.family_section(state.config())
