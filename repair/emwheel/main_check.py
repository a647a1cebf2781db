"""`emwheel check`: will these wheels load in that Pyodide? Answered offline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .archive_limits import add_limit_arguments, limits_from_arguments, limits_in_force
from .terminal import add_verbosity_arguments

HELP = "check offline whether wheels will load in a given Pyodide release"
DESCRIPTION = """\
Check wheels against the ABI of a Pyodide release, offline: the wheel's tags against the
release's ABI and Python; every NEEDED library; every import of every module against what
Pyodide's main module, the wheel's other modules and the Pyodide library packages it needs
provide (weak imports excepted); and the WebAssembly features each module uses, with the
oldest Chrome and Node that run them. Also every file's hash against RECORD and the emwheel
manifest. Findings and fixes: docs/check.md; limits and what is trusted: docs/security.md.
On a terminal the report is coloured (NO_COLOR, FORCE_COLOR and TERM=dumb are respected);
through a pipe it is plain text.

Exit codes: 0 every wheel loads, 1 a wheel will not load, 2 bad input (unreadable wheel,
unknown --pyodide version)."""


def configure_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check", help=HELP, description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("paths", nargs="+", type=Path, metavar="WHEEL", help="wheels to check")
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--pyodide",
        metavar="VERSION",
        help="a Pyodide release emwheel ships ABI data for (default: the newest shipped)",
    )
    target.add_argument(
        "--pyodide-dist",
        type=Path,
        metavar="DIR",
        help="read the target from a Pyodide distribution folder (npm package) instead",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="an undefined function is an error, not a warning (default: a warning, since "
        "the module loads and only a call to it stops Pyodide)",
    )
    parser.add_argument(
        "--loader",
        action="store_true",
        help="assume emwheel's runtime loader is active (libraries a manifest lists are found "
        "without RUNTIME_PATH; default: stock Pyodide)",
    )
    parser.add_argument(
        "--json", action="store_true",
        help="print JSON (schema: docs/schemas/check.schema.json); nothing if an input fails",
    )  # fmt: skip
    add_verbosity_arguments(
        parser,
        quiet="print nothing but errors: the exit code gives the verdict",
        verbose="also show, for each module, what resolves its imports (Pyodide, the wheel, "
        "a Pyodide package)",
    )
    add_limit_arguments(parser)
    parser.set_defaults(execute=execute)


def load_target(version: str | None, dist: Path | None) -> Any:
    from .pyodide_abi import abi_from_distribution, load_shipped_abi, newest_shipped

    if dist is not None:
        return abi_from_distribution(dist)
    if version is not None:
        return load_shipped_abi(version)
    return newest_shipped()


def execute(args: argparse.Namespace) -> int:
    from .check import CheckReport, check_wheel
    from .check_output import render_check_json, render_check_text
    from .errors import EmwheelError
    from .terminal import color_wanted

    target = load_target(args.pyodide, args.pyodide_dist)
    reports: list[CheckReport] = []
    failed = False
    with limits_in_force(limits_from_arguments(args)):
        for path in args.paths:
            try:
                reports.append(check_wheel(path, target, strict=args.strict, loader=args.loader))
            except EmwheelError as e:
                print(f"emwheel: error: {e}", file=sys.stderr)
                failed = True
    if args.json:
        if not failed:  # JSON is for programs: all of it or none of it
            sys.stdout.write(json.dumps(render_check_json(reports), indent=2) + "\n")
    elif args.verbosity >= 0 and reports:
        color = color_wanted(sys.stdout)
        verbose = args.verbosity > 0
        print("\n\n".join(render_check_text(r, color, verbose) for r in reports))
    if failed:
        return 2
    return 0 if all(r.loads for r in reports) else 1
