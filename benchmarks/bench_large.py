"""Large and many: peak memory and wall time of `emwheel show`, `repair` and `check` on a
wheel of thousands of modules, on one 152 MB module, and of one `repair` of 50 wheels.

Run from the repository root, after `tools/setup --light`:

    .venv/bin/python benchmarks/bench_large.py [--rounds N] [--rev REV] [--baseline-rev REV]
        [--no-write]

Target (issue 7, "Large and many"): bounded memory, streaming. Peak RSS must not grow with
the number of modules beyond a little bookkeeping per module, and must stay a small
multiple of the largest single module, whatever the wheel's size.

The wheels: generated ones (tests/support/large_wheels.py: the test extension renamed, a
32 KiB custom section of its own each, NEEDing two libraries kept in a libdir) of 1, 200
and 2,000 modules; cadquery-ocp (tests/support/real_wheels.py), one 152 MB module; and 50
generated wheels of 40 modules each, repaired in one call with -j1 and -j2. Each command
runs as a process (emwheel from the working tree, or from a git revision with --rev) under
tests/support/peak_memory.py, which reports the largest peak RSS of any one process (wait4,
exact) and the largest sum over the process and its workers at one time (sampled every
5 ms). `check` runs on repair's output. With --baseline-rev, the
single-wheel commands also run with emwheel from that git revision (its `repair/` and
`loader/` put first on PYTHONPATH), for a before-and-after. Rounds are interleaved; times
are medians, peaks the largest of the rounds. The section between the bench_large markers
of docs/benchmarks.md is rewritten (not with --no-write).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench_common import (
    REPO,
    fetch_real_wheel,
    git_head,
    invocation,
    machine_line,
    run_or_exit,
    tool_env,
    write_section,
)

from support.large_wheels import GeneratedWheels, many_module_wheels
from support.peak_memory import Measured, measure

START, END = "<!-- bench_large:start -->", "<!-- bench_large:end -->"
GENERATED_SIZES = (1, 200, 2000)
FLEET = (50, 40)  # wheels, modules per wheel
MB = 1e6


@dataclass(frozen=True)
class Subject:
    """A wheel (or several) and the facts the bound is made of."""

    key: str
    wheels: tuple[Path, ...]
    libdir: Path | None
    modules: int
    wasm_bytes: int  # uncompressed, all modules
    largest: int  # uncompressed, the largest module
    wheel_bytes: int  # on disk, all wheels


Step = tuple[str, str, str, Callable[[dict[str, str]], Measured]]  # key, command, variant


@dataclass
class Runs:
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    max_rss: int = 0
    tree_rss: int = 0
    error: str | None = None

    def add(self, run: Measured) -> None:
        self.seconds.append(run.seconds)
        self.cpu_seconds.append(run.cpu_seconds)
        self.max_rss = max(self.max_rss, run.max_rss)
        self.tree_rss = max(self.tree_rss, run.tree_rss)
        if run.returncode != 0:
            lines = (run.stderr or run.stdout).strip().splitlines() or ["no output"]
            self.error = f"exit {run.returncode}: {lines[-1]}"


def subject(key: str, wheels: tuple[Path, ...], libdir: Path | None) -> Subject:
    sizes = []
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                with archive.open(info) as stream:
                    if stream.read(4) == b"\0asm":
                        sizes.append(info.file_size)
    total = sum(w.stat().st_size for w in wheels)
    return Subject(key, wheels, libdir, len(sizes), sum(sizes), max(sizes), total)


def generated(key: str, made: GeneratedWheels) -> Subject:
    return subject(key, made.wheels, made.libdir)


# -- running ----------------------------------------------------------------------------------


def baseline_tree(rev: str, into: Path) -> str:
    """emwheel's sources at ``rev``, unpacked into ``into`` (compiled loops built where
    setup.py has them); returns the short commit.
    Run with ``into/repair`` and ``into/loader`` first on PYTHONPATH (emwheel_env)."""
    commit = run_or_exit(["git", "-C", str(REPO), "rev-parse", "--short", rev]).strip()
    archive = into / "source.tar"
    with open(archive, "wb") as f:
        subprocess.run(["git", "-C", str(REPO), "archive", commit], stdout=f, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    if (into / "setup.py").exists():  # the compiled loops, as `pip install` builds them
        build = [sys.executable, "setup.py", "-q", "build_ext", "--inplace"]
        subprocess.run(build, cwd=into, check=True, capture_output=True)
    return commit


def emwheel_env(tree: Path | None) -> dict[str, str]:
    env = tool_env()
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree / "repair"), str(tree / "loader")])
    return env


def emwheel(args: list[str], env: dict[str, str]) -> Measured:
    return measure([sys.executable, "-m", "emwheel", *args], env)


def libdir_args(s: Subject) -> list[str]:
    return ["-L", str(s.libdir)] if s.libdir is not None else []


def single_commands(s: Subject, out: Path) -> dict[str, Callable[[dict[str, str]], Measured]]:
    (wheel,) = s.wheels
    repaired = out / wheel.name

    def repair(env: dict[str, str]) -> Measured:
        repaired.unlink(missing_ok=True)
        return emwheel(["repair", str(wheel), "-w", str(out), *libdir_args(s)], env)

    return {
        "show": lambda env: emwheel(["show", str(wheel)], env),
        "repair": repair,
        "check": lambda env: emwheel(["check", str(repaired)], env),  # after repair
    }


def fleet_command(s: Subject, out: Path, jobs: int) -> Callable[[dict[str, str]], Measured]:
    def run(env: dict[str, str]) -> Measured:
        shutil.rmtree(out, ignore_errors=True)
        wheels = [str(w) for w in s.wheels]
        return emwheel(["repair", "-j", str(jobs), *wheels, "-w", str(out), *libdir_args(s)], env)

    return run


# -- the report -------------------------------------------------------------------------------


def fmt_mb(size: float) -> str:
    if size < MB:
        return f"{size / 1e3:.0f} kB"
    return f"{size / MB:.1f} MB" if size < 10 * MB else f"{size / MB:.0f} MB"


def fmt_s(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):.2f} s"


def fmt_spread(seconds: list[float]) -> str:
    return f"{min(seconds):.2f}-{max(seconds):.2f} s"


def row(s: Subject, command: str, runs: Runs, floor: int | None, before: Runs | None) -> str:
    if runs.error is not None:
        return f"| {s.key} | {command} | fails: {runs.error} |" + " |" * 11
    over = runs.max_rss - floor if floor is not None and s.modules > 1 else None
    per_module = f"{over / (s.modules - 1) / 1024:.1f} KiB" if over is not None else "-"
    return (
        f"| {s.key} | {command} | {s.modules:,} | {fmt_mb(s.wheel_bytes)} | {fmt_mb(s.wasm_bytes)} "
        f"| {fmt_mb(s.largest)} | {fmt_s(runs.seconds)} | {fmt_spread(runs.seconds)} "
        f"| {fmt_s(runs.cpu_seconds)} "
        f"| {fmt_mb(runs.max_rss)} | {fmt_mb(runs.tree_rss)} "
        f"| {f'{runs.max_rss / s.largest:.2f}x' if s.largest >= 10 * MB else '-'} | {per_module} "
        f"| {fmt_mb(before.max_rss) if before and before.error is None else '-'} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rev", help="emwheel from this git revision (default: working tree)")
    parser.add_argument("--baseline-rev", help="also run the single-wheel commands at this rev")
    parser.add_argument("--no-write", action="store_true", help="print, leave the doc alone")
    args = parser.parse_args()

    singles = [
        generated(f"{n:,} module{'s' if n > 1 else ''}", many_module_wheels(1, n))
        for n in GENERATED_SIZES
    ]
    singles.append(subject("cadquery-ocp", (fetch_real_wheel("cadquery-ocp"),), None))
    fleet = generated(f"{FLEET[0]} wheels of {FLEET[1]} modules", many_module_wheels(*FLEET))

    with tempfile.TemporaryDirectory(prefix="bench-large-") as tmp:
        work = Path(tmp)
        baseline = current = None
        if args.rev:
            (work / "current").mkdir()
            current = baseline_tree(args.rev, work / "current")
        if args.baseline_rev:
            (work / "baseline").mkdir()
            baseline = baseline_tree(args.baseline_rev, work / "baseline")
        variants = {"now": emwheel_env(work / "current" if current else None)}
        if baseline is not None:
            variants["before"] = emwheel_env(work / "baseline")
        # Groups of steps that must run in order (check reads repair's output); the
        # groups are interleaved, in reverse order every other round.
        groups: list[list[Step]] = []
        for index, s in enumerate(singles):
            for variant in variants:
                out = work / f"out-{index}-{variant}"
                out.mkdir()
                commands = single_commands(s, out).items()
                groups.append([(s.key, command, variant, run) for command, run in commands])
        for jobs in (1, 2):
            run = fleet_command(fleet, work / "fleet", jobs)
            groups.append([(fleet.key, f"repair -j{jobs}", "now", run)])
        results: dict[tuple[str, str, str], Runs] = {}
        for number in range(args.rounds + 1):  # round 0: warm-up (bytecode, file caches)
            print(f"round {number}/{args.rounds}", flush=True)
            for group in groups if number % 2 else groups[::-1]:
                for key, command, variant, run in group:
                    measured = run(variants[variant])
                    if number > 0:
                        results.setdefault((key, command, variant), Runs()).add(measured)

    section = report(singles, fleet, results, current, baseline, args.rounds)
    print(section)
    if not args.no_write:
        write_section(section, START, END)
        print("written: docs/benchmarks.md")


def report(
    singles: list[Subject],
    fleet: Subject,
    results: dict[tuple[str, str, str], Runs],
    current: str | None,
    baseline: str | None,
    rounds: int,
) -> str:
    floors = {c: results[singles[0].key, c, "now"].max_rss for c in ("show", "repair", "check")}
    lines = [
        START,
        "## Large and many: peak memory of show, repair and check",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `{invocation('benchmarks/bench_large.py')}` ({rounds} rounds, "
        "interleaved, after one untimed run)",
        machine_line() + f"; load average at the end: {os.getloadavg()[0]:.2f}",
        f"- emwheel at {current}"
        if current
        else f"- emwheel from the working tree at {git_head()}"
        + (f"; before: emwheel at {baseline}" if baseline else ""),
        "",
        "Each command runs as its own process (`python -m emwheel ...`, bytecode cached),"
        " measured by tests/support/peak_memory.py: *peak RSS* is the largest peak of any"
        " one process (wait4), *all processes* the largest sum over the process and its"
        " workers at one time (sampled every 5 ms; a forked worker's pages shared with its"
        " parent count in both). `check` runs on repair's output, with its default workers"
        " (one per core above 16 MiB of wasm: threads, with the compiled loops). The"
        " generated wheels hold the test"
        " extension renamed, each with a 32 KiB custom section of its own, NEEDing two"
        " libraries that repair vendors from a libdir (tests/support/large_wheels.py)."
        " *Above 1 module, per module*: the peak less the same command's on the 1-module"
        " wheel, over the other modules: what grows with their number (zip entries, the"
        " plan, manifest and RECORD rows, symbol names), whatever their size. *Peak /"
        " largest module* only where that module is large enough for the ratio to mean"
        " something (10 MB and more). *Time*: wall clock, median and spread; *CPU time*:"
        " user and system time of the process and its workers (median), the work done"
        " whatever the other jobs on the machine leave of its cores."
        + (f" *Before*: the same command with emwheel at {baseline}." if baseline else ""),
        "",
        "| wheel | command | modules | wheel size | wasm (uncompressed) | largest module "
        "| time | spread | CPU time | peak RSS | all processes | peak / largest module "
        "| above 1 module, per module | peak RSS before |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in singles:
        for command in ("show", "repair", "check"):
            runs = results[s.key, command, "now"]
            floor = floors[command] if s is not singles[0] else None
            before = results.get((s.key, command, "before"))
            lines.append(row(s, command, runs, floor, before))
    for jobs in (1, 2):
        runs = results[fleet.key, f"repair -j{jobs}", "now"]
        lines.append(row(fleet, f"repair -j{jobs}", runs, None, None))
    lines += ["", *verdict(singles, fleet, results, floors), END]
    return "\n".join(lines) + "\n"


def verdict(
    singles: list[Subject],
    fleet: Subject,
    results: dict[tuple[str, str, str], Runs],
    floors: dict[str, int],
) -> list[str]:
    many, large = singles[-2], singles[-1]
    lines = []
    for command in ("repair", "check"):
        grown = results[many.key, command, "now"].max_rss - floors[command]
        peak = results[large.key, command, "now"].max_rss
        lines.append(
            f"- {command}: {many.key} ({fmt_mb(many.wasm_bytes)} of wasm) take"
            f" {fmt_mb(grown)} more than 1 module ({grown / (many.modules - 1) / 1024:.1f} KiB"
            f" per module, {grown / many.wasm_bytes:.0%} of their size); cadquery-ocp peaks at"
            f" {peak / large.largest:.2f}x its {fmt_mb(large.largest)} module"
            f" ({fmt_mb(peak - floors[command])} above the 1-module floor)."
        )
    one, two = (results[fleet.key, f"repair -j{j}", "now"] for j in (1, 2))
    speedup = statistics.median(one.seconds) / statistics.median(two.seconds)
    lines.append(
        "- tests/test_large_wheels.py (CI) holds repair and check of the 2,000-module wheel"
        " and of cadquery-ocp under the 1-module peak + 16 KiB per module + 1.25x the"
        " largest module + its compressed size + 16 MiB."
    )
    lines.append(
        f"- {fleet.key} in one `emwheel repair`: -j2 takes {fmt_s(two.seconds)}"
        f" against {fmt_s(one.seconds)} with -j1 ({speedup:.2f}x; CPU time"
        f" {fmt_s(two.cpu_seconds)} and {fmt_s(one.cpu_seconds)}), at a peak of"
        f" {fmt_mb(two.max_rss)} per process and {fmt_mb(two.tree_rss)} for all of them"
        f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end)."
    )
    return lines


if __name__ == "__main__":
    main()
