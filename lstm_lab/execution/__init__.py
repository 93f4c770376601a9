"""Where jobs run: the named tasks a job may ask for (``tasks``), and the backends that run them
(``backends``: a thread of the web process, a pool of worker processes, or a Ray cluster).

A job crosses a process boundary as plain data only: a ``TaskSpec`` (a task's name and JSON
parameters), the experiment config and the series go out; progress events and the result (plain
data and saved network weights) come back. Nothing is ever unpickled.
"""
