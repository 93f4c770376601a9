"""``python -m lstm_lab``: the command line over the same core functions as the dashboard."""

import sys

from lstm_lab.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
