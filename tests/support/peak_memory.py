"""Peak memory of a command and of all its processes: `measure(argv)`.

The command runs under this file as a small runner (`python -S peak_memory.py OUT CMD...`),
for the reason benchmarks/peak_rss.py gives: the peak RSS that `wait4` reports for a child
includes the memory of the process it was started from, up to its `exec`, so a command
started straight from pytest or a benchmark script would look at least that large.

Two figures:
- ``max_rss``: the largest peak RSS of any one process (the command or a child it waited
  for), from the kernel (`wait4`), exact;
- ``tree_rss``: the largest sum of the resident sets of the command and all its descendants
  at one time (worker processes together), sampled from /proc every few milliseconds, so
  it may miss a peak shorter than that. Shared pages (a forked worker's copy of its
  parent) count once per process, as RSS does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.005


@dataclass(frozen=True)
class Measured:
    seconds: float
    cpu_seconds: float  # user and system time of the process and the children it waited for
    max_rss: int  # bytes, the largest single process
    tree_rss: int  # bytes, the largest sum over the process tree (sampled)
    returncode: int
    stdout: str
    stderr: str


def measure(argv: list[str], env: Mapping[str, str] | None = None) -> Measured:
    """Run ``argv`` under the runner; its output is captured."""
    with tempfile.TemporaryDirectory(prefix="peak-memory-") as tmp:
        result_file = Path(tmp) / "result.json"
        done = subprocess.run(
            [sys.executable, "-S", __file__, str(result_file), *argv],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if not result_file.exists():
            raise RuntimeError(f"peak_memory.py failed on {argv}:\n{done.stderr}")
        result = json.loads(result_file.read_text())
    return Measured(
        result["seconds"],
        result["cpu_seconds"],
        result["max_rss"],
        result["tree_rss"],
        result["returncode"],
        done.stdout,
        done.stderr,
    )


# -- the runner (no imports beyond the standard library's smallest) ---------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(child) for child in f.read().split()]
    except OSError:  # the process ended meanwhile
        pass
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def _tree_rss(root: int) -> int:
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss(pid)
        stack += _children(pid)
    return total


def _run(result_file: str, argv: list[str]) -> None:
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    peak = [0]
    finished = threading.Event()

    def sample() -> None:
        while not finished.is_set():
            peak[0] = max(peak[0], _tree_rss(pid))
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    finished.set()
    sampler.join()
    result = {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "max_rss": usage.ru_maxrss * 1024,  # Linux reports kilobytes
        "tree_rss": max(peak[0], usage.ru_maxrss * 1024),
        "returncode": os.waitstatus_to_exitcode(status),
    }
    with open(result_file, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    _run(sys.argv[1], sys.argv[2:])
