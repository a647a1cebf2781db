"""`emwheel show`: what each module of a wheel is and where its libraries come from."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .archive_limits import add_limit_arguments, limits_from_arguments, limits_in_force
from .terminal import add_verbosity_arguments

HELP = "show the WebAssembly modules of wheels, folders or module files and what they need"
DESCRIPTION = """\
Show every WebAssembly module of a wheel (found by content, not by name), whether it is an
extension module or a shared library, and where each library it NEEDs comes from once
installed in Pyodide: the wheel (through RUNTIME_PATH or site-packages), a Pyodide library
package, or nowhere. Reads only the first sections of each module, straight from the zip.
Output fields: docs/show.md; limits: docs/security.md. On a terminal the table is coloured
(NO_COLOR, FORCE_COLOR and TERM=dumb are respected); through a pipe it is plain text.

Exit codes: 0 every input read, 2 bad input (the others are still shown; with --json,
nothing is printed)."""


def configure_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "show",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="WHEEL|DIRECTORY|MODULE", help="what to inspect"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON (schema: docs/schemas/show.schema.json); nothing if any input fails",
    )
    add_verbosity_arguments(
        parser,
        quiet="print only what is wrong (missing libraries, findings, manifests that disagree); "
        "nothing when all is well",
        verbose="also show each module's RUNTIME_PATH and its numbers of imports and exports",
    )
    add_limit_arguments(parser)
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from .errors import EmwheelError
    from .show import SourceReport, show
    from .show_output import render_json, render_problems, render_text
    from .terminal import color_wanted

    reports: list[SourceReport] = []
    failed = False
    with limits_in_force(limits_from_arguments(args)):
        for path in args.paths:
            try:
                reports.append(show(path))
            except EmwheelError as e:
                print(f"emwheel: error: {e}", file=sys.stderr)
                failed = True
    if args.json:
        if failed:  # JSON is for programs: all of it or none of it
            return 2
        sys.stdout.write(json.dumps(render_json(reports), indent=2) + "\n")
    else:
        color = color_wanted(sys.stdout)
        if args.verbosity < 0:
            texts = [render_problems(report, color) for report in reports]
        else:
            texts = [render_text(report, color, args.verbosity > 0) for report in reports]
        texts = [text for text in texts if text]
        if texts:  # nothing at all, not an empty line, when no input gives any text
            print("\n\n".join(texts))
    return 2 if failed else 0
