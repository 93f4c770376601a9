"""The version of LSTM Lab, recorded with every saved run (a ground-floor module: anything may import it)."""

__version__ = "0.1.0"
