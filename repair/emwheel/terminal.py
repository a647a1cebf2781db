"""How emwheel writes for a person at a terminal, and for a program reading a pipe.

Colour only where it shows: the conventions of no-color.org and of CPython 3.13's own
colouring (Lib/_colorize.py) in that order: a non-empty ``NO_COLOR`` turns it off, else a
non-empty ``FORCE_COLOR`` turns it on, else ``TERM=dumb`` turns it off, else the stream
decides by being a terminal or not. Progress goes to stderr, and only when stderr is a
terminal: a log file or a CI pipe gets the results and nothing else.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from typing import TextIO

__all__ = [
    "BOLD",
    "GREEN",
    "RED",
    "RESET",
    "YELLOW",
    "Progress",
    "add_verbosity_arguments",
    "color_wanted",
    "paint",
]

RED = "\033[1;31m"
GREEN = "\033[32m"
YELLOW = "\033[33m"
BOLD = "\033[1m"
RESET = "\033[0m"
_CLEAR_LINE = "\r\033[K"


def color_wanted(stream: TextIO) -> bool:
    """Whether text written to ``stream`` should carry ANSI colours."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return os.environ.get("TERM") != "dumb" and _is_terminal(stream)


def paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{RESET}" if color else text


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


class Progress:
    """One status line on stderr, rewritten in place, for a person watching a long run.

    Silent unless stderr is a terminal (and TERM is not dumb) and ``enabled``. Anything
    printed to the same terminal must go through `clear` first, so that results never share
    a line with the status.
    """

    def __init__(self, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and os.environ.get("TERM") != "dumb" and _is_terminal(self.stream)
        self._shown = False

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        width = shutil.get_terminal_size().columns - 1  # the last column would wrap
        if len(text) > width:
            text = text[: max(width - 3, 0)] + "..."
        self.stream.write(_CLEAR_LINE + text)
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.stream.write(_CLEAR_LINE)
            self.stream.flush()
            self._shown = False


def add_verbosity_arguments(parser: argparse.ArgumentParser, quiet: str, verbose: str) -> None:
    """-q/--quiet and -v/--verbose, as ``args.verbosity``: -1 quiet, 0 normal, 1 verbose."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q", "--quiet", dest="verbosity", action="store_const", const=-1, help=quiet
    )
    group.add_argument("-v", "--verbose", dest="verbosity", action="count", help=verbose)
    parser.set_defaults(verbosity=0)
