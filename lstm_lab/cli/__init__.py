"""python -m lstm_lab: run, sweep and runs commands."""
