"""The command line. User mistakes exit with status 2 and one ``error: ...`` line on stderr.

    python -m lstm_lab run [options]      one experiment (``lstm_lab.cli.run``)
    python -m lstm_lab runs ACTION ...    the saved runs (``lstm_lab.cli.runs``)
    python -m lstm_lab sweep [options]    a grid of experiments (``lstm_lab.cli.runs``)

The grammar (``lstm_lab.cli.args``) imports only the config. The commands are imported after
parsing, on purpose and only here: they bring NumPy, pandas and scikit-learn (about two seconds),
which ``--help`` and a mistyped option must not wait for.
"""

from __future__ import annotations

from collections.abc import Sequence

from lstm_lab.cli.args import build_parser, fail
from lstm_lab.errors import LabError


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            from lstm_lab.cli.run import run  # deferred: see the module's docstring

            return run(args)
        from lstm_lab.cli.runs import handle  # deferred: see the module's docstring

        return handle(args)
    except LabError as err:
        fail(str(err))
    except OSError as err:  # e.g. --out into a read-only folder
        fail(f"{err.strerror or err}: {err.filename or ''}. Check the path and permissions.")
    return 2
