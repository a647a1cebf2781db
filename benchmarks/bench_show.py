"""Benchmark `emwheel show` against auditwheel-emscripten 0.3.0's `show`, on real wheels.

Run from the repository root, after `tools/setup --light`:

    .venv/bin/python benchmarks/bench_show.py [--rounds N]

The upstream tool gets its own virtualenv, made once under
`<cache>/bench/auditwheel-emscripten-0.3.0/` (pip, by package name). Its CLI is a
pyodide-cli plugin that needs Python 3.12, so its `show` command is run through the
command's own click app. Both tools are timed in the same run, round by round:

- as a process, wall clock including interpreter start (output to /dev/null), and
- in-process: the call alone, after the imports (benchmarks/show_driver.py, run in each
  tool's virtualenv, one call per round so that this too is interleaved).

Each tool's answer is checked too. The results replace the section between
`<!-- bench_show:start -->` and `<!-- bench_show:end -->` in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_common import (
    DOC,
    REPO,
    UPSTREAM,
    Check,
    emwheel_executable,
    ensure_upstream_venv,
    fetch_real_wheel,
    fmt_ms,
    invocation,
    last_error_line,
    machine_line,
    run_or_exit,
    tool_env,
    unpacked_size,
    upstream_env,
    write_section,
)
from bench_common import spread_ms as spread

WHEELS = ("mypy", "grill-usd-core")
DRIVER = REPO / "benchmarks" / "show_driver.py"
START, END = "<!-- bench_show:start -->", "<!-- bench_show:end -->"
TARGET = (
    "at least 10x faster than auditwheel-emscripten on mypy; "
    "correct answer on grill-usd-core, where auditwheel-emscripten fails"
)
# auditwheel-emscripten's `show` command without pyodide-cli (which needs Python 3.12).
UPSTREAM_SHOW = (
    "import sys; from auditwheel_emscripten.cli.main import app; app(['show', sys.argv[1]])"
)


@dataclass(frozen=True)
class Tool:
    name: str  # distribution name, also show_driver.py's tool argument
    python: Path
    show_command: tuple[str, ...]  # the `show` command, without the wheel
    env: Mapping[str, str]


@dataclass
class Measurement:
    """One tool on one wheel."""

    process_seconds: list[float] = field(default_factory=list)
    inprocess_seconds: list[float] = field(default_factory=list)
    error: str | None = None  # the tool failed: the last line of its error
    modules: int | None = None  # wasm modules the tool listed (in-process run)


# --- the tools --------------------------------------------------------------------------


def emwheel_tool() -> Tool:
    emwheel = emwheel_executable()
    return Tool("emwheel", Path(sys.executable), (str(emwheel), "show", "--json"), tool_env())


def upstream_tool() -> Tool:
    venv = ensure_upstream_venv()
    python = venv / "bin" / "python"
    return Tool(UPSTREAM, python, (str(python), "-c", UPSTREAM_SHOW), upstream_env(venv))


# --- measuring --------------------------------------------------------------------------


def time_process(tool: Tool, wheel: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    command = [*tool.show_command, str(wheel)]
    start = time.perf_counter()
    result = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=tool.env
    )
    return time.perf_counter() - start, result


def time_inprocess(tool: Tool, wheel: Path) -> dict[str, Any]:
    """One call in a fresh driver process, timed after the imports."""
    command = [str(tool.python), str(DRIVER), tool.name, str(wheel), "--rounds=1"]
    timings: dict[str, Any] = json.loads(run_or_exit(command, tool.env))
    return timings


def measure(
    tools: list[Tool], wheels: dict[str, Path], rounds: int
) -> tuple[dict[tuple[str, str], Measurement], dict[str, str]]:
    """Both tools, both ways, interleaved round by round; and the tools' versions.

    The machine may be shared: interleaving makes a slow spell hit both tools alike.
    """
    results = {(key, tool.name): Measurement() for key in wheels for tool in tools}
    versions: dict[str, str] = {}
    for wheel in wheels.values():  # warm-up, untimed: bytecode and file caches
        for tool in tools:
            time_process(tool, wheel)
    for round_number in range(rounds):
        print(f"round {round_number + 1}/{rounds}", flush=True)
        order = tools if round_number % 2 == 0 else tools[::-1]
        for key, wheel in wheels.items():
            for tool in order:
                measurement = results[key, tool.name]
                seconds, result = time_process(tool, wheel)
                measurement.process_seconds.append(seconds)
                if result.returncode != 0:
                    measurement.error = last_error_line(result.stderr)
                timings = time_inprocess(tool, wheel)
                measurement.inprocess_seconds += timings["seconds"]
                measurement.modules = timings["modules"]
                measurement.error = measurement.error or timings["error"]
                versions[tool.name] = timings["tool_version"]
    return results, versions


# --- checking the answers ---------------------------------------------------------------


def emwheel_checks(emwheel: Tool, key: str, wheel: Path) -> list[Check]:
    """What `emwheel show --json` must say about each wheel."""
    result = subprocess.run([*emwheel.show_command, str(wheel)], capture_output=True, text=True)
    if result.returncode != 0:
        return [Check(f"`emwheel show --json` exits 0 (got {result.returncode})", False)]
    report = json.loads(result.stdout)["reports"][0]
    if key == "mypy":
        count = report["summary"]["wasm_modules"]
        return [Check(f"233 wasm modules (found {count})", count == 233)]
    modules = report["modules"]
    resolved = [
        m
        for m in modules
        if m["kind"] == "extension"
        and any(
            n["name"] == "libusd_ms.so" and n["resolution"] == "runtime_path" for n in m["needed"]
        )
    ]
    return [
        Check(f"30 modules (found {len(modules)})", len(modules) == 30),
        Check(
            f"29 extensions whose NEEDED libusd_ms.so resolves through runtime_path "
            f"(found {len(resolved)})",
            len(resolved) == 29,
        ),
    ]


# --- the report -------------------------------------------------------------------------


def outcome(m: Measurement, checks: list[Check]) -> str:
    if m.error is not None:
        return f"fails: {m.error}"
    if not all(c.passed for c in checks):
        return "wrong answer (see checks)"
    return f"ok, {m.modules} wasm modules" + (", checks pass" if checks else "")


def speedup(results: dict[tuple[str, str], Measurement], key: str) -> str:
    ours, theirs = results[key, "emwheel"], results[key, UPSTREAM]
    if theirs.error is not None:
        return f"n/a: {UPSTREAM} fails: {theirs.error}"
    if ours.error is not None:
        return f"n/a: emwheel fails: {ours.error}"
    process = ratio(theirs.process_seconds, ours.process_seconds)
    inprocess = ratio(theirs.inprocess_seconds, ours.inprocess_seconds)
    return f"{process:.1f}x as a process, {inprocess:.1f}x in-process"


def ratio(theirs: list[float], ours: list[float]) -> float:
    return statistics.median(theirs) / statistics.median(ours)


def target_met(
    results: dict[tuple[str, str], Measurement], checks: dict[str, list[Check]]
) -> tuple[bool, bool]:
    """(mypy: 10x as a process, grill-usd-core: emwheel right and upstream failing)."""
    mypy_ours, mypy_theirs = results["mypy", "emwheel"], results["mypy", UPSTREAM]
    fast = (
        mypy_ours.error is None
        and mypy_theirs.error is None
        and ratio(mypy_theirs.process_seconds, mypy_ours.process_seconds) >= 10
    )
    usd_ours, usd_theirs = results["grill-usd-core", "emwheel"], results["grill-usd-core", UPSTREAM]
    correct = (
        usd_ours.error is None
        and all(c.passed for c in checks["grill-usd-core"])
        and usd_theirs.error is not None
    )
    return fast, correct


def wheel_line(key: str, wheel: Path) -> str:
    unpacked = unpacked_size(wheel)
    return (
        f"- {key}: `{wheel.name}`, {wheel.stat().st_size / 1e6:.1f} MB "
        f"({unpacked / 1e6:.1f} MB unpacked)"
    )


def render_section(
    results: dict[tuple[str, str], Measurement],
    wheels: dict[str, Path],
    versions: dict[str, str],
    checks: dict[str, list[Check]],
    rounds: int,
    command: str,
) -> str:
    fast, correct = target_met(results, checks)
    rows = [
        f"| {key} | {tool} | {fmt_ms(statistics.median(m.process_seconds))} "
        f"| {spread(m.process_seconds)} | {fmt_ms(statistics.median(m.inprocess_seconds))} "
        f"| {spread(m.inprocess_seconds)} "
        f"| {outcome(m, checks[key] if tool == 'emwheel' else [])} |"
        for (key, tool), m in results.items()
    ]
    check_lines = [
        f"- {key}: {check.description}: {'yes' if check.passed else 'NO'}"
        for key, key_checks in checks.items()
        for check in key_checks
    ]
    lines = [
        START,
        "## `emwheel show` against auditwheel-emscripten `show`",
        "",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- command: `{command}` ({rounds} rounds per tool and wheel)",
        machine_line(),
        f"- emwheel {versions['emwheel']}, {UPSTREAM} {versions[UPSTREAM]} "
        "(own virtualenv, same Python)",
        *(wheel_line(key, wheel) for key, wheel in wheels.items()),
        "",
        "Process: `emwheel show --json WHEEL` against auditwheel-emscripten's `show WHEEL`"
        " command (its click app, run with `python -c`, as pyodide-cli needs Python 3.12);"
        " wall clock including interpreter start, output to /dev/null, the two tools"
        " interleaved round by round. In-process: the call alone after the imports"
        " (`benchmarks/show_driver.py`, a fresh driver process per round, interleaved"
        " too), including rendering the output in memory. Medians and spreads are over"
        " the rounds; the machine may be shared, so compare the tools within one run."
        " Both tools run with bytecode caching on (`PYTHONPYCACHEPREFIX` in the cache folder,"
        " written in the warm-up; `PYTHONDONTWRITEBYTECODE` removed).",
        "",
        "What each tool does: auditwheel-emscripten unpacks the whole wheel into a"
        " temporary folder by running `wheel unpack` (a second Python process, which also"
        " checks every RECORD hash), then reads each module's dylink section from disk."
        " emwheel reads the zip in-process and decompresses only the first sections of"
        " each module (dylink, imports, exports).",
        "",
        "| wheel | tool | process median | process min-max | in-process median "
        "| in-process min-max | result |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "Speed-up (auditwheel-emscripten median / emwheel median):",
        "",
        *(f"- {key}: {speedup(results, key)}" for key in wheels),
        "",
        "Checks on the JSON of `emwheel show --json`:",
        "",
        *check_lines,
        "",
        f"Target: {TARGET}.",
        "",
        f"- mypy, 10x as a process: {'met' if fast else 'not met'}",
        f"- grill-usd-core, correct where auditwheel-emscripten fails: "
        f"{'met' if correct else 'not met'}",
        END,
    ]
    return "\n".join(lines) + "\n"


# --- main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs per tool and wheel")
    args = parser.parse_args()
    wheels = {key: fetch_real_wheel(key) for key in WHEELS}
    tools = [emwheel_tool(), upstream_tool()]
    checks = {key: emwheel_checks(tools[0], key, wheel) for key, wheel in wheels.items()}
    results, versions = measure(tools, wheels, args.rounds)
    section = render_section(
        results, wheels, versions, checks, args.rounds, invocation("benchmarks/bench_show.py")
    )
    print(section)
    write_section(section, START, END)
    print(f"written: {DOC.relative_to(REPO)}")


if __name__ == "__main__":
    main()
