"""Time one tool's `show` in-process: imports first, then the call alone, N times.

Run by bench_show.py with the Python of each tool's own virtualenv (auditwheel-emscripten
is not installed next to emwheel), so it imports nothing from either tool at module level:

    python benchmarks/show_driver.py {emwheel|auditwheel-emscripten} WHEEL --rounds N

It prints one JSON object: the tool's version, the Python version, the seconds of each
call, the number of wasm modules found, and the error if a call failed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import platform
import time
import traceback
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

ShowCall = Callable[[Path], int]  # inspects a wheel, returns its number of wasm modules


def emwheel_show() -> ShowCall:
    """What `emwheel show --json` does, minus interpreter start, imports and writing."""
    show: Any = importlib.import_module("emwheel.show").show
    render_json: Any = importlib.import_module("emwheel.show_output").render_json

    def call(wheel: Path) -> int:
        report = show(wheel)
        json.dumps(render_json([report]), indent=2)
        wasm_modules: int = len(report.wasm_modules)
        return wasm_modules

    return call


def upstream_show() -> ShowCall:
    """What auditwheel-emscripten's `show` command does, its printed lines kept in memory."""
    show: Any = importlib.import_module("auditwheel_emscripten.show").show
    print_dylib: Any = importlib.import_module("auditwheel_emscripten.cli.main").print_dylib

    def call(wheel: Path) -> int:
        libraries = show(wheel)
        with contextlib.redirect_stdout(io.StringIO()):
            for lib, (deps, runtime_paths) in libraries.items():
                print_dylib(lib, deps, runtime_paths, list(libraries), False)
        listed: int = len(libraries)
        return listed

    return call


TOOLS: dict[str, Callable[[], ShowCall]] = {  # keyed by distribution name
    "emwheel": emwheel_show,
    "auditwheel-emscripten": upstream_show,
}


def describe_error(error: BaseException) -> str:
    """`AssertionError (at webassembly.py:378 in parse_dylink_section)`: one line."""
    message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return message
    last = frames[-1]
    return f"{message} (at {Path(last.filename).name}:{last.lineno} in {last.name})"


def time_calls(call: ShowCall, wheel: Path, rounds: int) -> dict[str, Any]:
    seconds: list[float] = []
    modules: int | None = None
    error: str | None = None
    for _ in range(rounds):
        start = time.perf_counter()
        try:
            modules = call(wheel)
        except Exception as e:  # the tool's own failure is a result, not a crash
            error = describe_error(e)
        seconds.append(time.perf_counter() - start)
    return {"seconds": seconds, "modules": modules, "error": error}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=sorted(TOOLS))
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    call = TOOLS[args.tool]()  # imports happen here, before any timing
    result = {
        "tool_version": version(args.tool),
        "python": platform.python_version(),
        **time_calls(call, args.wheel, args.rounds),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
