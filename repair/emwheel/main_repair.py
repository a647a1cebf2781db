"""`emwheel repair`: vendor the libraries a wheel's modules need and write its manifest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .archive_limits import add_limit_arguments, limits_from_arguments, limits_in_force

if TYPE_CHECKING:
    from .repair_plan import RepairOptions

HELP = "vendor missing shared libraries into <distribution>.libs/ and write a manifest"
DESCRIPTION = """\\
Repair Emscripten wheels, offline: resolve every NEEDED library of every module (and of the
libraries it brings in); copy those found in --libdir folders into <distribution>.libs/
under a content-hashed name; rewrite NEEDED and add RUNTIME_PATH entries so that stock
Pyodide >= 0.28 finds them; write a manifest of every WebAssembly file into that folder
(docs/manifest.md). Libraries that the target Pyodide ships as packages, and those matching
--exclude, are recorded as external instead of vendored. The input is never changed, and
is refused if its RECORD or manifest disagrees with its files (docs/security.md).

Exit codes: 0 every wheel repaired, 1 a wheel could not be repaired (missing libraries,
conflicts), 2 bad input."""

EXIT_REPAIR_FAILED = 1
EXIT_BAD_INPUT = 2


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
        type=Path,
        default=Path("wheelhouse"),
        metavar="DIR",
        help="where to write the repaired wheels (default: %(default)s)",
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
    parser.add_argument(
        "--no-mangle",
        dest="mangle",
        action="store_false",
        help="keep vendored libraries' file names instead of adding a hash of their content "
        "(default: libfoo.so becomes libfoo-<8 hex>.so)",
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
    add_limit_arguments(parser)
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from .errors import InvalidInput
    from .library_search import LibrarySearch
    from .pyodide_distribution import target_from_distribution
    from .repair_plan import RepairOptions

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
    status = 0
    with limits_in_force(limits_from_arguments(args)):
        for wheel in args.wheels:
            status = max(status, _repair_one(wheel, args, options))
    return status


def _repair_one(wheel: Path, args: argparse.Namespace, options: RepairOptions) -> int:
    from .errors import EmwheelError, InvalidInput
    from .repair import repair_wheel

    try:
        check = _check_target(wheel, args) if args.check else None
        result = repair_wheel(wheel, args.wheel_dir, options, check)
    except InvalidInput as e:
        print(f"emwheel: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except EmwheelError as e:
        print(f"emwheel: error: {e}", file=sys.stderr)
        return EXIT_REPAIR_FAILED
    print(f"repaired {wheel} -> {result.output}")
    for path in result.vendored:
        print(f"  vendored {path}")
    for path in result.changed:
        print(f"  rewrote  {path}")
    return 0


def _check_target(wheel: Path, args: argparse.Namespace) -> Any:
    """The Pyodide to check the repaired wheel against: --pyodide-dist, or the shipped
    release whose ABI the wheel's platform tag names (None: nothing to check against)."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    from .pyodide_abi import abi_from_distribution, available_versions, load_shipped_abi

    if args.pyodide_dist is not None:
        return abi_from_distribution(args.pyodide_dist)
    try:
        platforms = {tag.platform for tag in parse_wheel_filename(wheel.name)[3]}
    except InvalidWheelFilename:
        return None  # repair reports the bad name
    for version in reversed(available_versions()):
        abi = load_shipped_abi(version)
        if f"{abi.abi}_wasm32" in platforms:
            return abi
    return None
