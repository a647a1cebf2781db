"""Time one tool's repair in-process: imports first, then one call alone.

Run by bench_repair.py with the Python of each tool's own virtualenv (auditwheel-emscripten
is not installed next to emwheel), so it imports nothing from either tool at module level:

    python benchmarks/repair_driver.py {emwheel|auditwheel-emscripten} WHEEL LIBDIR OUTDIR

It prints one JSON object: the tool's version, the seconds of the call, the repaired wheel
and the error if the call failed. auditwheel-emscripten's call includes the `wheel unpack`
and `wheel pack` processes it starts (its virtualenv's bin must come first on PATH).
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
import traceback
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

RepairCall = Callable[[Path, Path, Path], Path]  # (wheel, libdir, outdir) -> repaired wheel


def emwheel_repair() -> RepairCall:
    """What `emwheel repair WHEEL -L LIBDIR -w OUTDIR` does, minus start, imports, printing."""
    repair_wheel: Any = importlib.import_module("emwheel.repair").repair_wheel
    options_class: Any = importlib.import_module("emwheel.repair_plan").RepairOptions
    search_class: Any = importlib.import_module("emwheel.library_search").LibrarySearch

    def call(wheel: Path, libdir: Path, outdir: Path) -> Path:
        options = options_class(libdirs=search_class.from_options([libdir]).libdirs)
        output: Path = repair_wheel(wheel, outdir, options).output
        return output

    return call


def upstream_repair() -> RepairCall:
    """auditwheel-emscripten 0.3.0's `repair(wheel_file, libdir, outdir)`, defaults kept
    (lib_sdir ".libs", modify_rpath and mangle on)."""
    repair: Any = importlib.import_module("auditwheel_emscripten.repair").repair

    def call(wheel: Path, libdir: Path, outdir: Path) -> Path:
        return Path(repair(wheel, libdir, outdir))

    return call


TOOLS: dict[str, Callable[[], RepairCall]] = {  # keyed by distribution name
    "emwheel": emwheel_repair,
    "auditwheel-emscripten": upstream_repair,
}


def describe_error(error: BaseException) -> str:
    """`AssertionError (at webassembly.py:378 in parse_dylink_section)`: one line."""
    message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return message
    last = frames[-1]
    return f"{message} (at {Path(last.filename).name}:{last.lineno} in {last.name})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=sorted(TOOLS))
    parser.add_argument("wheel", type=Path)
    parser.add_argument("libdir", type=Path)
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args()
    call = TOOLS[args.tool]()  # imports happen here, before the timing
    output: Path | None = None
    error: str | None = None
    start = time.perf_counter()
    try:
        output = call(args.wheel, args.libdir, args.outdir)
    except Exception as e:  # the tool's own failure is a result, not a crash
        error = describe_error(e)
    seconds = time.perf_counter() - start
    result = {
        "tool_version": version(args.tool),
        "seconds": seconds,
        "output": None if output is None else str(output),
        "error": error,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
