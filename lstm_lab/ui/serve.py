"""``make run``: start the training queue and its worker processes, then the dashboard, in one
process.

With plain ``streamlit run app.py`` the queue is made when the first page asks for it, so the
first student to press Train waits while the workers import TensorFlow and warm up. Started
here, they warm up while the server comes up; a backend that cannot start (a Ray cluster that
does not answer, a bad ``LSTM_LAB_WORKERS``) stops the launch with one sentence instead of an
error on every page.

    python -m lstm_lab.ui.serve [streamlit options, e.g. --server.port 8501]
"""

from __future__ import annotations

import sys
from pathlib import Path

from lstm_lab.errors import LabError

APP = Path(__file__).resolve().parents[2] / "app.py"


def main(argv: list[str] | None = None) -> int:
    from lstm_lab.ui import cache

    try:
        cache.start_job_runner()
    except LabError as err:
        print(f"LSTM Lab cannot start its training workers: {err}", file=sys.stderr)
        return 2
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
