"""Benchmark `emwheel repair` against auditwheel-emscripten 0.3.0's repair, on real wheels.

Run from the repository root, after `tools/setup --light`:

    .venv/bin/python benchmarks/bench_repair.py [--rounds N]

The inputs are "unrepaired" copies of two real wheels (tests/support/derive.py): one
library taken out into a libdir, every RUNTIME_PATH stripped; each tool must bring the
library back. The upstream tool runs in its own virtualenv (bench_common.py) through its
Python API, `auditwheel_emscripten.repair.repair(wheel, libdir, outdir)`, with that
virtualenv's bin first on PATH (it runs `wheel unpack` and `wheel pack`). Both tools are
run in the same run, interleaved round by round, each into a fresh output folder:

- as a process: wall clock including interpreter start, and peak memory: the maximum
  resident set size that `wait4` reports for the process, which is the largest of the
  process and the children it waited for (not their sum), taken by benchmarks/peak_rss.py
  so that this script's own memory does not leak into the figure;
- in-process: the call alone, after the imports (benchmarks/repair_driver.py, run in each
  tool's virtualenv).

Each tool's output is checked the same way (benchmarks/repair_checks.py): with
`emwheel show --json`, and by reading it back through `wheel.wheelfile.WheelFile`, which
verifies every RECORD hash. The results replace the
section between `<!-- bench_repair:start -->` and `<!-- bench_repair:end -->` in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench_common import (
    DOC,
    REPO,
    UPSTREAM,
    Check,
    derive_unrepaired,
    emwheel_executable,
    ensure_upstream_venv,
    fetch_real_wheel,
    fmt_ms,
    invocation,
    last_error_line,
    machine_line,
    run_or_exit,
    spread_ms,
    tool_env,
    unpacked_size,
    upstream_env,
    write_section,
)
from repair_checks import repaired_wheel_checks

START, END = "<!-- bench_repair:start -->", "<!-- bench_repair:end -->"
DRIVER = REPO / "benchmarks" / "repair_driver.py"
PEAK_RSS = REPO / "benchmarks" / "peak_rss.py"
CASES = {  # real wheel -> the archive paths taken out of it
    "grill-usd-core": ("grill_usd_core.libs/libusd_ms.so",),
    "awkward-cpp": ("awkward_cpp/lib/libawkward.so",),
}
SPEED_TARGET = 5.0  # emwheel at least this many times faster, as a process
TARGET = (
    f"emwheel at least {SPEED_TARGET:.0f}x faster than auditwheel-emscripten; peak memory of "
    "the repair process below the uncompressed size of the input wheel"
)
UPSTREAM_REPAIR = (
    "import sys; from auditwheel_emscripten.repair import repair; "
    "repair(sys.argv[1], sys.argv[2], sys.argv[3])"
)
MB = 1e6


@dataclass(frozen=True)
class Case:
    key: str
    wheel: Path  # the unrepaired copy
    libdir: Path
    removed: tuple[str, ...]


@dataclass(frozen=True)
class Tool:
    name: str  # distribution name, also repair_driver.py's tool argument
    python: Path
    argv: Callable[[Case, Path], list[str]]  # the repair command for a case and output folder
    floor_argv: list[str]  # start-up alone: interpreter and the imports a repair makes
    env: Mapping[str, str]


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    max_rss: int  # bytes
    returncode: int
    stderr: str


@dataclass
class Measurement:
    """One tool on one wheel."""

    process_seconds: list[float] = field(default_factory=list)
    inprocess_seconds: list[float] = field(default_factory=list)
    max_rss: list[int] = field(default_factory=list)
    error: str | None = None  # the tool failed: the last line of its error
    output_hashes: list[str] = field(default_factory=list)  # sha256 of each round's output
    output_size: tuple[int, int] | None = None  # (compressed, unpacked) bytes
    checks: list[Check] = field(default_factory=list)  # on the first round's output
    warnings: list[str] = field(default_factory=list)  # what `emwheel show` warned about


# --- the tools --------------------------------------------------------------------------


def emwheel_tool() -> Tool:
    emwheel = str(emwheel_executable())
    return Tool(
        "emwheel",
        Path(sys.executable),
        lambda case, out: (
            [emwheel, "repair", str(case.wheel), "-L", str(case.libdir), "-w", str(out)]
        ),
        [sys.executable, "-c", "import emwheel.cli, emwheel.main_repair, emwheel.repair"],
        tool_env(),
    )


def upstream_tool() -> Tool:
    venv = ensure_upstream_venv()
    python = str(venv / "bin" / "python")
    return Tool(
        UPSTREAM,
        Path(python),
        lambda case, out: (
            [python, "-c", UPSTREAM_REPAIR, str(case.wheel), str(case.libdir), str(out)]
        ),
        [python, "-c", "import auditwheel_emscripten.repair"],
        upstream_env(venv),
    )


# --- measuring --------------------------------------------------------------------------


def run_child(argv: list[str], env: Mapping[str, str]) -> ChildRun:
    """Run a process through peak_rss.py: its wall time, and its peak RSS from wait4."""
    with tempfile.TemporaryDirectory(prefix="bench-repair-") as tmp:
        result_file = Path(tmp) / "result.json"
        stderr_file = Path(tmp) / "stderr"
        with open(stderr_file, "wb") as stderr:
            subprocess.run(
                [sys.executable, "-S", str(PEAK_RSS), str(result_file), *argv],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=env,
                check=False,
            )
        if not result_file.exists():
            sys.exit(f"peak_rss.py failed on {argv}:\n{stderr_file.read_text()}")
        result = json.loads(result_file.read_text())
        message = stderr_file.read_bytes().decode(errors="replace")
    return ChildRun(result["seconds"], result["max_rss"], result["returncode"], message)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def run_once(tool: Tool, case: Case, m: Measurement, emwheel: Tool) -> None:
    """One round of one tool on one case: as a process, then in-process."""
    with tempfile.TemporaryDirectory(prefix="bench-repair-") as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        run = run_child(tool.argv(case, out), tool.env)
        m.process_seconds.append(run.seconds)
        m.max_rss.append(run.max_rss)
        output = out / case.wheel.name
        if run.returncode != 0:
            m.error = last_error_line(run.stderr)
        elif not output.is_file():
            m.error = f"exit 0, but no {output.name} in the output folder"
        else:
            m.output_hashes.append(sha256_of(output))
            if m.output_size is None:
                m.output_size = (output.stat().st_size, unpacked_size(output))
                m.checks, m.warnings = repaired_wheel_checks(
                    output, case.removed, emwheel.env, manifest=tool.name == "emwheel"
                )
    with tempfile.TemporaryDirectory(prefix="bench-repair-") as tmp:
        argv = [str(tool.python), str(DRIVER), tool.name, str(case.wheel), str(case.libdir), tmp]
        timing = json.loads(run_or_exit(argv, tool.env))
        m.inprocess_seconds.append(timing["seconds"])
        m.error = m.error or timing["error"]


def measure(
    tools: list[Tool], cases: list[Case], rounds: int
) -> dict[tuple[str, str], Measurement]:
    """Both tools, both ways, interleaved round by round (the machine may be shared)."""
    results = {(case.key, tool.name): Measurement() for case in cases for tool in tools}
    for case in cases:  # warm-up, untimed: bytecode and file caches
        for tool in tools:
            with tempfile.TemporaryDirectory(prefix="bench-repair-") as tmp:
                run_child(tool.argv(case, Path(tmp)), tool.env)
    for round_number in range(rounds):
        print(f"round {round_number + 1}/{rounds}", flush=True)
        order = tools if round_number % 2 == 0 else tools[::-1]
        for case in cases:
            for tool in order:
                run_once(tool, case, results[case.key, tool.name], tools[0])
    return results


def start_up(tool: Tool) -> ChildRun:
    """The tool's start-up alone (interpreter and imports): median time and peak RSS of 5."""
    runs = [run_child(tool.floor_argv, tool.env) for _ in range(5)]
    seconds = statistics.median(r.seconds for r in runs)
    max_rss = int(statistics.median(r.max_rss for r in runs))
    return ChildRun(seconds, max_rss, max(r.returncode for r in runs), "")


def versions(tools: list[Tool]) -> dict[str, str]:
    probe = "import sys; from importlib.metadata import version; print(version(sys.argv[1]))"
    return {t.name: run_or_exit([str(t.python), "-c", probe, t.name]).strip() for t in tools}


# --- the report -------------------------------------------------------------------------


def fmt_mb(size: float) -> str:
    return f"{size / MB:.1f} MB"


def ratio(theirs: list[float], ours: list[float]) -> float:
    return statistics.median(theirs) / statistics.median(ours)


def outcome(m: Measurement) -> str:
    if m.error is not None:
        return f"fails: {m.error}"
    checks = "" if not m.checks else ", checks pass" if all_pass(m) else ", CHECKS FAIL"
    same = len(set(m.output_hashes)) == 1
    return f"ok{checks}, output {'identical' if same else 'differs'} across rounds"


def all_pass(m: Measurement) -> bool:
    return all(c.passed for c in m.checks)


def speed_line(results: dict[tuple[str, str], Measurement], key: str) -> tuple[str, bool | None]:
    """The speed-up on one wheel, and whether it meets the target (None: not comparable)."""
    ours, theirs = results[key, "emwheel"], results[key, UPSTREAM]
    if ours.error is not None:
        return f"n/a: emwheel fails: {ours.error}", False
    if theirs.error is not None:
        failed_after = fmt_ms(statistics.median(theirs.process_seconds))
        return f"n/a: {UPSTREAM} fails (after {failed_after}): {theirs.error}", None
    process = ratio(theirs.process_seconds, ours.process_seconds)
    inprocess = ratio(theirs.inprocess_seconds, ours.inprocess_seconds)
    return f"{process:.1f}x as a process, {inprocess:.1f}x in-process", process >= SPEED_TARGET


def memory_line(m: Measurement, case: Case, floor: int) -> tuple[str, bool]:
    peak, size = max(m.max_rss), unpacked_size(case.wheel)
    text = (
        f"peak {fmt_mb(peak)} against {fmt_mb(size)} unpacked ({peak / size:.2f}x); "
        f"{fmt_mb(peak - floor)} above start-up"
    )
    if size < floor:
        text += " (the input is smaller than the start-up alone: out of reach for Python)"
    return text, m.error is None and peak < size


def met(flag: bool | None) -> str:
    return "not applicable" if flag is None else "met" if flag else "not met"


def wheel_line(case: Case, results: dict[tuple[str, str], Measurement]) -> str:
    libs = ", ".join(
        f"`{Path(p).name}` {fmt_mb((case.libdir / Path(p).name).stat().st_size)}"
        for p in case.removed
    )
    line = (
        f"- {case.key}: `{case.wheel.name}` without {libs} (into the libdir): "
        f"{fmt_mb(case.wheel.stat().st_size)}, {fmt_mb(unpacked_size(case.wheel))} unpacked"
    )
    size = results[case.key, "emwheel"].output_size
    if size is not None:
        line += f"; emwheel's output {fmt_mb(size[0])}, {fmt_mb(size[1])} unpacked"
    return line


def render_section(
    results: dict[tuple[str, str], Measurement],
    cases: list[Case],
    floors: dict[str, ChildRun],
    tool_versions: dict[str, str],
    rounds: int,
    command: str,
) -> str:
    by_key = {case.key: case for case in cases}
    rows = [
        f"| {key} | {tool} | {fmt_ms(statistics.median(m.process_seconds))} "
        f"| {spread_ms(m.process_seconds)} | {fmt_ms(statistics.median(m.inprocess_seconds))} "
        f"| {spread_ms(m.inprocess_seconds)} | {fmt_mb(max(m.max_rss))} | {outcome(m)} |"
        for (key, tool), m in results.items()
    ]
    check_lines = [
        f"- {key}, {tool} output: {c.description}: {'yes' if c.passed else 'NO'}"
        for (key, tool), m in results.items()
        for c in m.checks
    ]
    warning_lines = [
        f"- {key}, {tool} output: warnings: {', '.join(m.warnings)}"
        for (key, tool), m in results.items()
        if m.warnings
    ]
    speed = {case.key: speed_line(results, case.key) for case in cases}
    memory = {
        key: memory_line(results[key, "emwheel"], by_key[key], floors["emwheel"].max_rss)
        for key in by_key
    }
    lines = [
        START,
        "## `emwheel repair` against auditwheel-emscripten `repair`",
        "",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- command: `{command}` ({rounds} rounds per tool and wheel, after one untimed run)",
        machine_line(),
        f"- emwheel {tool_versions['emwheel']}, {UPSTREAM} {tool_versions[UPSTREAM]} "
        "(own virtualenv, same Python)",
        *(wheel_line(case, results) for case in cases),
        "",
        "Inputs: `tests/support/derive.py` takes the library out of the real wheel into a"
        " libdir and strips every RUNTIME_PATH. Process: `emwheel repair WHEEL -L LIBDIR -w"
        " OUT` against `python -c` calling auditwheel-emscripten's"
        " `repair(wheel, libdir, outdir)` (its CLI needs Python 3.12), with its virtualenv's"
        " bin first on PATH; a fresh output folder each round, removed after; wall clock"
        " including interpreter start. In-process: the call alone after the imports"
        " (`benchmarks/repair_driver.py`, a fresh process per round). The two tools are"
        " interleaved round by round; compare them within one run. Both run with bytecode"
        " caching on (`PYTHONPYCACHEPREFIX` in the cache folder, written in the warm-up;"
        " `PYTHONDONTWRITEBYTECODE` and `EMWHEEL_LIBDIR` removed).",
        "",
        "What each tool does: auditwheel-emscripten reads every module's dylink section"
        " (`show`, which unpacks the wheel with `wheel unpack`, a second Python process),"
        " unpacks the wheel again, copies the library in, rewrites every module's dylink"
        " section and packs the folder with `wheel pack`. emwheel reads the zip in-process,"
        " copies unchanged entries still compressed, and streams each changed module (new"
        " dylink section, then its untouched rest) and the vendored library through deflate.",
        "",
        "Peak RSS: the largest `ru_maxrss` that `wait4` reported for the process over the"
        " rounds, taken by `benchmarks/peak_rss.py`, a small process that forks the command"
        " (started straight from the benchmark script, a child would count the script's"
        " memory too). It covers the process and the children it waited for, as the largest"
        " single one, not their sum (auditwheel-emscripten's `wheel unpack` and `wheel pack`"
        " run while its own process is alive). MB are 10^6 bytes.",
        "",
        "Start-up alone (the interpreter and the imports a repair makes, no work; median of"
        " 5): "
        + "; ".join(
            f"{name} {fmt_ms(run.seconds)}, {fmt_mb(run.max_rss)}" for name, run in floors.items()
        )
        + ".",
        "",
        "| wheel | tool | process median | process min-max | in-process median "
        "| in-process min-max | peak RSS | result |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "Speed-up (auditwheel-emscripten median / emwheel median):",
        "",
        *(f"- {key}: {text}" for key, (text, _) in speed.items()),
        "",
        "emwheel's peak memory against the input wheel's uncompressed size:",
        "",
        *(f"- {key}: {text}" for key, (text, _) in memory.items()),
        "",
        "Checks on each tool's first output (`emwheel show --json`, RECORD read back):",
        "",
        *check_lines,
        *warning_lines,
        "",
        f"Target: {TARGET}.",
        "",
        *(f"- {key}, {SPEED_TARGET:.0f}x faster: {met(ok)}" for key, (_, ok) in speed.items()),
        *(f"- {key}, memory below unpacked size: {met(ok)}" for key, (_, ok) in memory.items()),
        END,
    ]
    return "\n".join(lines) + "\n"


# --- main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs per tool and wheel")
    args = parser.parse_args()
    cases = []
    for key, removed in CASES.items():
        derived = derive_unrepaired(fetch_real_wheel(key), removed)
        cases.append(Case(key, derived.wheel, derived.libdir, removed))
    tools = [emwheel_tool(), upstream_tool()]
    tool_versions = versions(tools)
    floors = {tool.name: start_up(tool) for tool in tools}
    results = measure(tools, cases, args.rounds)
    command = invocation("benchmarks/bench_repair.py")
    section = render_section(results, cases, floors, tool_versions, args.rounds, command)
    print(section)
    write_section(section, START, END)
    print(f"written: {DOC.relative_to(REPO)}")


if __name__ == "__main__":
    main()
