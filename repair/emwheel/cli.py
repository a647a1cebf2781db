"""The `emwheel` command line: one module per command (``main_<command>.py``).

Every error emwheel raises on purpose becomes one line on stderr and an exit code;
tracebacks are for bugs only. Exit codes, for every command: 0 success, 1 the command's
own "no" (a wheel could not be repaired, a wheel will not load), 2 bad input or usage,
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__, main_check, main_repair, main_show
from .errors import EmwheelError

__all__ = ["EXIT_BAD_INPUT", "main"]

EXIT_BAD_INPUT = 2

_COMMANDS = (main_show, main_repair, main_check)


def build_parser(prog: str = "emwheel") -> argparse.ArgumentParser:
    """The whole command line; ``prog``: the name usage lines give (``pyodide emwheel`` when
    run as a pyodide-cli plugin)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Inspect, repair and check Emscripten (Pyodide) wheels.",
        epilog="Exit codes: 0 success; 1 the command's own no (a wheel could not be "
        "repaired, a wheel will not load); 2 bad input or usage; 130 interrupted. Each "
        "command's --help says more.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        command.configure_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "emwheel") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        result: int = args.execute(args)
    except EmwheelError as e:
        print(f"emwheel: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `emwheel show | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return result
