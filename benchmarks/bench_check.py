"""`emwheel check` against just decompressing every module of the wheel, side by side.

    .venv/bin/python benchmarks/bench_check.py [--rounds N]

Target (issue: emwheel check): on grill-usd-core (30 modules, more than 100 MB of wasm),
`check` takes at most 2x the time of decompressing every module with zipfile, in the same
run. Both are timed in this process, interleaved round by round, after one untimed run;
the result goes between the bench_check markers of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_common import (  # noqa: E402
    fmt_ms,
    git_head,
    invocation,
    machine_line,
    spread_ms,
    write_section,
)

from emwheel import __version__, speedups  # noqa: E402
from emwheel.check import check_wheel  # noqa: E402
from emwheel.pyodide_abi import load_shipped_abi  # noqa: E402

from support.real_wheels import fetch_real_wheel  # noqa: E402

START, END = "<!-- bench_check:start -->", "<!-- bench_check:end -->"
WHEELS = ("grill-usd-core", "mypy")
TARGET = "314.0.7"


def decompress_modules(wheel: Path) -> int:
    total = 0
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            with archive.open(info) as stream:
                if stream.read(4) != b"\0asm":
                    continue
            total += len(archive.read(info))
    return total


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    compiled = speedups.built()
    abi = load_shipped_abi(TARGET)
    rows = []
    for key in WHEELS:
        wheel = fetch_real_wheel(key)
        wasm_bytes = decompress_modules(wheel)
        verdict = check_wheel(wheel, abi).loads  # untimed warm-up
        with speedups.turned_off():
            check_wheel(wheel, abi)
        unzip, check, python = [], [], []
        for _ in range(rounds):
            unzip.append(timed(lambda: decompress_modules(wheel)))  # noqa: B023
            check.append(timed(lambda: check_wheel(wheel, abi)))  # noqa: B023
            with speedups.turned_off():
                python.append(timed(lambda: check_wheel(wheel, abi)))  # noqa: B023
        ratio = statistics.median(check) / statistics.median(unzip)
        python_ratio = statistics.median(python) / statistics.median(unzip)
        rows.append((key, wasm_bytes, unzip, check, ratio, python, python_ratio, verdict))
        print(f"{key}: decompress {fmt_ms(statistics.median(unzip))}, "
              f"check {fmt_ms(statistics.median(check))} ({ratio:.1f}x), "
              f"pure Python {fmt_ms(statistics.median(python))} ({python_ratio:.1f}x)")  # fmt: skip
    lines = [
        START,
        "## `emwheel check` against decompressing every module",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `{invocation('benchmarks/bench_check.py')}` ({rounds} rounds, interleaved, "
        "after one untimed run of each; all in one process)",
        machine_line(),
        f"- emwheel {__version__} at {git_head()}, "
        + ("with its compiled loops" if compiled else "built without its compiled loops")
        + f"; target Pyodide {TARGET} (shipped ABI data)",
        "",
        "Decompress: `zipfile` reads every module of the wheel, in this process. Check:"
        " `check_wheel(wheel, abi)`, everything `emwheel check` does: every module"
        " decompressed once and hashed, its code scanned for features and its imports and"
        " exports read (by one worker per core when the wheel holds more than 16 MiB of wasm:"
        " threads with the compiled loops, processes without; what `show` reports of each"
        " module comes from the same reading), every other file hashed against RECORD and"
        " the manifest, every import resolved. Pure Python: the same with the compiled loops"
        ' turned off, as emwheel installed without a C compiler runs it (docs/check.md, "How'
        ' long it takes"). The machine has 2 cores; the other processes on it at the time'
        " are not controlled (load average at the end: "
        f"{os.getloadavg()[0]:.2f}).",
        "",
        "| wheel | wasm (uncompressed) | decompress median | spread | check median | spread "
        "| check / decompress | pure Python median | spread | pure Python / decompress "
        "| verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, size, unzip, check, ratio, python, python_ratio, verdict in rows:
        lines.append(
            f"| {key} | {size / 1e6:.1f} MB | {fmt_ms(statistics.median(unzip))} | "
            f"{spread_ms(unzip)} | {fmt_ms(statistics.median(check))} | {spread_ms(check)} | "
            f"{ratio:.1f}x | {fmt_ms(statistics.median(python))} | {spread_ms(python)} | "
            f"{python_ratio:.1f}x | {'loads' if verdict else 'will not load'} |"
        )
    grill_ratio = rows[0][4]
    lines += [
        "",
        "Target: at most 2x on grill-usd-core: "
        + ("met." if grill_ratio <= 2 else f"not met ({grill_ratio:.2f}x)."),
        END,
    ]
    write_section("\n".join(lines) + "\n", START, END)
    print("written: docs/benchmarks.md")


if __name__ == "__main__":
    main()
