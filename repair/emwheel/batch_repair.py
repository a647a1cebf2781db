"""`emwheel repair` on many wheels: one worker process per core, results in input order.

Each wheel is repaired on its own (`repair.repair_wheel`: written to a temporary file and
renamed, so a failed wheel leaves no output), and what happened to it comes back as a
`RepairOutcome`, a plain picklable record. Outcomes are handed on in the order the wheels
were given, whatever order the workers finish in, so that the output and the exit code do
not depend on the number of workers. A wheel that fails is one outcome among the others:
it never stops the rest of the batch, and neither does a worker killed from outside (each
wheel it leaves unfinished is repaired again in a process of its own).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from .archive_limits import ArchiveLimits, limits_in_force
from .errors import EmwheelError, InvalidInput

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .pyodide_abi import PyodideAbi
    from .repair import RepairResult
    from .repair_plan import RepairOptions

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_REPAIR_FAILED",
    "RepairJob",
    "RepairOutcome",
    "repair_all",
    "repair_one",
    "usable_cores",
]

EXIT_REPAIR_FAILED = 1
EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class RepairJob:
    """Everything a worker process needs to repair one wheel."""

    wheel: Path
    wheel_dir: Path
    options: RepairOptions
    check: bool  # check the result against the target Pyodide (not --no-check)
    pyodide_dist: Path | None
    limits: ArchiveLimits


@dataclass(frozen=True)
class RepairOutcome:
    wheel: Path
    status: int  # 0 repaired, EXIT_REPAIR_FAILED, EXIT_BAD_INPUT
    output: Path | None = None
    vendored: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    # (module, its RUNTIME_PATH entries) for every module whose dylink section changed
    runtime_paths: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # "module: library (where it is expected from)" for every library not vendored
    externals: tuple[str, ...] = ()
    error: str | None = None  # one message, for status != 0


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def repair_one(
    job: RepairJob,
    check_jobs: int | None = None,
    on_stage: Callable[[str], None] = lambda stage: None,
) -> RepairOutcome:
    """Repair one wheel; every error emwheel raises on purpose becomes the outcome."""
    from .repair import repair_wheel

    try:
        with limits_in_force(job.limits):
            check = _check_target(job.wheel, job.pyodide_dist) if job.check else None
            result = repair_wheel(
                job.wheel, job.wheel_dir, job.options, check,
                check_jobs=check_jobs, on_stage=on_stage,
            )  # fmt: skip
    except InvalidInput as e:
        return RepairOutcome(job.wheel, EXIT_BAD_INPUT, error=str(e))
    except EmwheelError as e:
        return RepairOutcome(job.wheel, EXIT_REPAIR_FAILED, error=str(e))
    return _outcome(job.wheel, result)


def _outcome(wheel: Path, result: RepairResult) -> RepairOutcome:
    modules = sorted(result.plan.modules.values(), key=lambda m: m.path)
    runtime_paths = tuple(
        (m.path, m.runtime_path) for m in modules if m.file is None or m.new_dylink()
    )
    externals = []
    for module in modules:
        for needed in module.needed:
            if needed.external is None:
                continue
            where = needed.external.kind
            if needed.external.package:
                where = f"Pyodide package {needed.external.package}"
            externals.append(f"{module.path}: {needed.name} ({where})")
    return RepairOutcome(
        wheel,
        0,
        output=result.output,
        vendored=tuple(result.vendored),
        changed=tuple(result.changed),
        runtime_paths=runtime_paths,
        externals=tuple(externals),
    )


def repair_all(
    jobs: Sequence[RepairJob],
    workers: int,
    on_progress: Callable[[str], None] = lambda text: None,
) -> Iterator[RepairOutcome]:
    """Repair every wheel, ``workers`` at a time, and yield the outcomes in input order,
    each as soon as it and all before it are done. ``on_progress`` hears a one-line status
    (for a terminal) whenever something changes."""
    workers = min(workers, len(jobs))
    if workers <= 1 or not _can_fork():
        yield from _repair_here(jobs, on_progress)
    else:
        yield from _repair_in_workers(jobs, workers, on_progress)


def _repair_here(
    jobs: Sequence[RepairJob], on_progress: Callable[[str], None]
) -> Iterator[RepairOutcome]:
    for number, job in enumerate(jobs, 1):
        counter = f"[{number}/{len(jobs)}] " if len(jobs) > 1 else ""

        def stage(name: str, prefix: str = f"{counter}{job.wheel.name}") -> None:
            on_progress(f"{prefix}: {name}")

        yield repair_one(job, on_stage=stage)


def _repair_in_workers(
    jobs: Sequence[RepairJob], workers: int, on_progress: Callable[[str], None]
) -> Iterator[RepairOutcome]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # Forked workers start at once with emwheel imported (as check_modules' do). The check
    # of each result reads its modules in the same worker: the cores are already busy.
    pool = ProcessPoolExecutor(workers, multiprocessing.get_context("fork"))
    futures: list[Future[RepairOutcome]] = [pool.submit(repair_one, job, 1) for job in jobs]
    try:
        next_index = 0
        while next_index < len(futures):
            finished = sum(future.done() for future in futures)
            on_progress(f"repairing with {workers} processes: {finished} of {len(jobs)} done")
            if not futures[next_index].done():
                wait(futures[next_index:], return_when=FIRST_COMPLETED)
                continue
            outcome = _result(futures[next_index])
            if outcome is None:  # the pool broke: each wheel it had not finished goes alone
                pool.shutdown()
                on_progress(f"repairing {jobs[next_index].wheel.name} alone")
                _remove_unfinished_output(jobs[next_index])
                outcome = _repair_alone(jobs[next_index])
            yield outcome
            next_index += 1
    finally:
        for future in futures:
            future.cancel()
        pool.shutdown()


def _result(future: Future[RepairOutcome]) -> RepairOutcome | None:
    """The outcome, or None when a worker of the pool died (killed: out of memory?), which
    breaks the pool and every future it had not finished."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        return None


def _remove_unfinished_output(job: RepairJob) -> None:
    """What a killed worker left of its wheel: repair_writer.write_repaired_wheel writes
    into a temporary folder ``.<wheel name>.<random>`` next to the output, holding only a
    file of the wheel's name, and would have removed it had the process lived."""
    name = job.wheel.name
    for folder in job.wheel_dir.glob(f".{name}.*"):
        try:
            entries = list(folder.iterdir())
            if all(entry.name == name and entry.is_file() for entry in entries):
                for entry in entries:
                    entry.unlink()
                folder.rmdir()
        except OSError:  # not ours after all, or gone already: leave it
            continue


def _repair_alone(job: RepairJob) -> RepairOutcome:
    """Repair one wheel in a process of its own, so that a wheel that kills its worker
    fails alone and the others are repaired."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if not _can_fork():
        return repair_one(job)
    with ProcessPoolExecutor(1, multiprocessing.get_context("fork")) as pool:
        try:
            return pool.submit(repair_one, job).result()
        except BrokenProcessPool:
            return RepairOutcome(
                job.wheel,
                EXIT_REPAIR_FAILED,
                error=f"{job.wheel}: the process repairing it was killed (out of memory?)",
            )


def _can_fork() -> bool:
    """Forking a process that runs other threads can deadlock: such a process repairs alone."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _check_target(wheel: Path, pyodide_dist: Path | None) -> PyodideAbi | None:
    """The Pyodide to check the repaired wheel against: --pyodide-dist, or the shipped
    release whose ABI the wheel's platform tag names (None: nothing to check against)."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    if pyodide_dist is not None:
        return _distribution_abi(pyodide_dist)
    try:
        platforms = frozenset(tag.platform for tag in parse_wheel_filename(wheel.name)[3])
    except InvalidWheelFilename:
        return None  # repair reports the bad name
    return _shipped_abi_for(platforms)


@cache
def _distribution_abi(dist: Path) -> PyodideAbi:
    from .pyodide_abi import abi_from_distribution

    return abi_from_distribution(dist)


@cache
def _shipped_abi_for(platforms: frozenset[str]) -> PyodideAbi | None:
    """Read once per process: a batch of wheels mostly names the same release."""
    from .pyodide_abi import available_versions, load_shipped_abi

    for version in reversed(available_versions()):
        abi = load_shipped_abi(version)
        if f"{abi.abi}_wasm32" in platforms:
            return abi
    return None
