"""The Streamlit layer: the only part of lstm_lab that imports streamlit. Pages compose these."""
