"""Progress bars of the long phases (tqdm), quiet in logs."""

import sys

from tqdm.auto import tqdm

__all__ = ["progress"]

# Seconds between two updates of a bar written to a file or a pipe, where every update is a line.
LOG_INTERVAL = 30.0


def progress(iterable=None, *, verbose, desc, total=None, unit="it"):
    """A tqdm bar over ``iterable`` (or one updated by hand, of ``total`` units), shown when
    ``verbose``.

    In a terminal it is redrawn in place; when standard error is not a terminal (a log file,
    a CI job) each redraw is a new line, so it is redrawn at most every ``LOG_INTERVAL``
    seconds.
    """
    interactive = sys.stderr.isatty()
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        disable=not verbose,
        mininterval=0.1 if interactive else LOG_INTERVAL,
        maxinterval=10.0 if interactive else LOG_INTERVAL,
    )
