"""`emwheel repair`: vendor the libraries a wheel's modules need and write its manifest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .archive_limits import add_limit_arguments, limits_from_arguments
from .batch_repair import EXIT_BAD_INPUT, EXIT_REPAIR_FAILED
from .terminal import add_verbosity_arguments

if TYPE_CHECKING:
    from .batch_repair import RepairOutcome

__all__ = ["EXIT_BAD_INPUT", "EXIT_REPAIR_FAILED", "configure_parser", "execute"]

HELP = "vendor missing shared libraries into <distribution>.libs/ and write a manifest"
DESCRIPTION = """\
Repair Emscripten wheels, offline: resolve every NEEDED library of every module (and of the
libraries it brings in); copy those found in --libdir folders into <distribution>.libs/
under a content-hashed name; rewrite NEEDED and add RUNTIME_PATH entries so that stock
Pyodide >= 0.28 finds them; write a manifest of every WebAssembly file into that folder
(docs/manifest.md). Libraries that the target Pyodide ships as packages, and those matching
--exclude, are recorded as external instead of vendored. The input is never changed, and
is refused if its RECORD or manifest disagrees with its files (docs/security.md).

Wheels are repaired in parallel (--jobs); the output lists them in the order given, and
one failing wheel does not stop the others. Progress shows on stderr when it is a terminal.
For drop-in use in place of `pyodide auditwheel repair`, --output-dir and --mangle are
accepted too (docs/integration.md).

Exit codes (the worst over all wheels): 0 every wheel repaired; 1 a wheel could not be
repaired (missing libraries, conflicts, or the result would not load) and none was bad
input; 2 bad input (unreadable or inconsistent wheel, bad option)."""


def configure_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "repair",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("wheels", nargs="+", type=Path, metavar="WHEEL", help="wheels to repair")
    parser.add_argument(
        "-w",
        "--wheel-dir",
        "--output-dir",
        type=Path,
        default=Path("wheelhouse"),
        metavar="DIR",
        help="where to write the repaired wheels, never the input's own folder; --output-dir "
        "is auditwheel-emscripten's name for it (default: %(default)s)",
    )
    parser.add_argument(
        "-L",
        "--libdir",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder to search for libraries, also in its lib/, lib/wasm32-emscripten/pic/ "
        "and lib/wasm32-emscripten/ sub-folders (repeatable; then the ':'-separated folders "
        "of $EMWHEEL_LIBDIR; default: none)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="do not vendor libraries whose name matches (fnmatch, repeatable); they are "
        "recorded as external, expected from another wheel (default: none)",
    )
    mangling = parser.add_mutually_exclusive_group()
    mangling.add_argument(
        "--no-mangle",
        dest="mangle",
        action="store_false",
        help="keep vendored libraries' file names instead of adding a hash of their content "
        "(default: libfoo.so becomes libfoo-<8 hex>.so)",
    )
    mangling.add_argument(
        "--mangle",
        dest="mangle",
        action="store_true",
        help="add that hash (the default; accepted as auditwheel-emscripten's repair does)",
    )
    parser.add_argument(
        "--lib-sdir",
        default=".libs",
        metavar="SUFFIX",
        help="suffix of the folder for vendored libraries (default: %(default)s)",
    )
    parser.add_argument(
        "--no-runtime-path",
        dest="runtime_path",
        action="store_false",
        help="do not add RUNTIME_PATH entries; the result then loads only with emwheel's "
        "loader, which follows the manifest (default: add them)",
    )
    parser.add_argument(
        "--pyodide-dist",
        type=Path,
        metavar="DIR",
        help="take the Pyodide shared-library packages (not vendored, recorded as external) "
        "from this distribution's pyodide-lock.json and package files (default: emwheel's "
        "table for the Pyodide the wheel's platform tag names)",
    )
    parser.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="write the result even if `emwheel check` says it will not load in the target "
        "Pyodide (default: check, against the shipped release whose ABI the wheel's platform "
        "tag names, or --pyodide-dist; a wheel no shipped release matches is not checked)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        metavar="N",
        help="repair up to N wheels at once, each in a worker process (default: one per "
        "core; 1 repairs them one after another in this process)",
    )
    parser.add_argument(
        "-r",
        "--with-runtime-paths",
        action="store_true",
        help="also list the RUNTIME_PATH of every module whose dylink section was written "
        "(as -v does; the option of auditwheel-emscripten's repair)",
    )
    add_verbosity_arguments(
        parser,
        quiet="print nothing but errors",
        verbose="also list the RUNTIME_PATH of every written module and every library "
        "left to Pyodide or another wheel",
    )
    add_limit_arguments(parser)
    parser.set_defaults(execute=execute, mangle=True)


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def execute(args: argparse.Namespace) -> int:
    from .batch_repair import RepairJob, repair_all, usable_cores
    from .errors import InvalidInput
    from .library_search import LibrarySearch
    from .pyodide_distribution import target_from_distribution
    from .repair_plan import RepairOptions
    from .terminal import Progress

    search = LibrarySearch.from_options(args.libdir)
    if "/" in args.lib_sdir or not args.lib_sdir:
        print(
            f"emwheel: error: --lib-sdir {args.lib_sdir!r} must be a plain suffix", file=sys.stderr
        )
        return EXIT_BAD_INPUT
    try:
        target = target_from_distribution(args.pyodide_dist) if args.pyodide_dist else None
    except InvalidInput as e:
        print(f"emwheel: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    options = RepairOptions(
        target=target,
        libdirs=search.libdirs,
        exclude=tuple(args.exclude),
        mangle=args.mangle,
        lib_sdir=args.lib_sdir,
        runtime_path=args.runtime_path,
    )
    limits = limits_from_arguments(args)
    jobs = [
        RepairJob(wheel, args.wheel_dir, options, args.check, args.pyodide_dist, limits)
        for wheel in args.wheels
    ]
    progress = Progress(enabled=args.verbosity >= 0)
    statuses = []
    try:
        for outcome in repair_all(jobs, args.jobs or usable_cores(), progress.show):
            progress.clear()
            _report(outcome, args)
            statuses.append(outcome.status)
    finally:
        progress.clear()
    if len(statuses) > 1 and any(statuses):
        repaired = statuses.count(0)
        failed = statuses.count(EXIT_REPAIR_FAILED)
        bad = statuses.count(EXIT_BAD_INPUT)
        print(
            f"emwheel: {repaired} of {len(statuses)} wheels repaired; {failed} could not be "
            f"repaired, {bad} bad input",
            file=sys.stderr,
        )
    return max(statuses, default=0)


def _report(outcome: RepairOutcome, args: argparse.Namespace) -> None:
    if outcome.error is not None:
        print(f"emwheel: error: {outcome.error}", file=sys.stderr)
        return
    if args.verbosity < 0:
        return
    lines = [f"repaired {outcome.wheel} -> {outcome.output}"]
    lines += [f"  vendored {path}" for path in outcome.vendored]
    lines += [f"  rewrote  {path}" for path in outcome.changed]
    if args.verbosity > 0 or args.with_runtime_paths:
        for module, entries in outcome.runtime_paths:
            lines.append(f"  runtime path of {module}: {':'.join(entries) or '(none)'}")
    if args.verbosity > 0:
        lines += [f"  external {text}" for text in outcome.externals]
    print("\n".join(lines), flush=True)
