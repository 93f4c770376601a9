"""Experiment configs, runs, evaluation, sweeps, the job queue, exports and charts."""
