"""tools/fuzz: run each fuzz target for a given time and report what it found.

    tools/fuzz [--seconds N] [--seed N] [--keep-new] [TARGET ...]   (default: every target)

Each target runs in its own atheris process (tests/fuzz/run_target.py) from its committed
corpus (tests/fuzz/corpus/<target>/) and crash files (tests/fuzz/crashes/<target>/), with
its dictionary (tests/fuzz/dicts/). New inputs go to a scratch folder, and into the corpus
with --keep-new. A crash is written to build/fuzz/<target>/ and fails the run (exit 1);
commit it under tests/fuzz/crashes/<target>/ with its fix (tests/test_fuzz_corpus.py runs
every committed file through its target). The summary gives, per target, the executions,
the seconds, new inputs and crashes: the figures of docs/fuzzing.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent.parent
TARGET_NAMES = ("wasm", "dylink", "manifest", "wheel")
DICTS = {"wasm": "wasm", "dylink": "wasm", "manifest": "manifest", "wheel": "wheel"}
# Inputs longer than this are not tried: the readers' cost per byte is measured by the
# linear-time budget, and short inputs give many more executions per second.
MAX_LEN = {"wasm": 32768, "dylink": 4096, "manifest": 8192, "wheel": 16384}


@dataclass
class Outcome:
    target: str
    seconds: float
    executions: int
    new_inputs: int
    crashes: list[Path]
    code: int


def _stat(output: str, name: str) -> int:
    match = re.search(rf"stat::{name}:\s*(\d+)", output)
    return int(match.group(1)) if match else 0


def run_target(target: str, seconds: int, seed: int, keep_new: bool) -> Outcome:
    crashes_dir = ROOT / "build" / "fuzz" / target
    crashes_dir.mkdir(parents=True, exist_ok=True)
    before = set(crashes_dir.iterdir())
    corpus = FUZZ / "corpus" / target
    committed_crashes = FUZZ / "crashes" / target
    with tempfile.TemporaryDirectory(prefix=f"emwheel-fuzz-{target}-") as scratch:
        command = [
            sys.executable,
            str(FUZZ / "run_target.py"),
            target,
            scratch,
            str(corpus),
            *([str(committed_crashes)] if committed_crashes.is_dir() else []),
            f"-max_total_time={seconds}",
            f"-seed={seed}",
            f"-max_len={MAX_LEN[target]}",
            f"-dict={FUZZ / 'dicts' / (DICTS[target] + '.dict')}",
            f"-artifact_prefix={crashes_dir}/",
            "-timeout=60",  # a hang: far over any input's linear budget
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
        ]
        start = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        elapsed = time.monotonic() - start
        output = result.stdout + result.stderr
        (crashes_dir / "last-run.log").write_text(output)
        new_inputs = list(Path(scratch).iterdir())
        if keep_new:
            known = {p.read_bytes() for p in corpus.iterdir()}
            for path in new_inputs:
                if path.read_bytes() not in known:
                    shutil.copy(path, corpus / f"found-{path.name}")
    crashes = sorted(p for p in set(crashes_dir.iterdir()) - before if p.name != "last-run.log")
    return Outcome(
        target,
        elapsed,
        _stat(output, "number_of_executed_units"),
        len(new_inputs),
        crashes,
        result.returncode,
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="tools/fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "targets", nargs="*", metavar="TARGET", help=f"{', '.join(TARGET_NAMES)} (default: all)"
    )
    parser.add_argument("--seconds", type=int, default=60, help="per target (default 60)")
    parser.add_argument("--seed", type=int, default=1, help="libFuzzer's random seed")
    parser.add_argument("--keep-new", action="store_true", help="add new inputs to the corpus")
    args = parser.parse_args()
    unknown = [t for t in args.targets if t not in TARGET_NAMES]
    if unknown:
        parser.error(f"unknown target {unknown[0]!r} (choose from {', '.join(TARGET_NAMES)})")
    if importlib.util.find_spec("atheris") is None:
        print(
            "tools/fuzz: atheris is not installed (the test extra installs it on Linux x86-64 "
            "with CPython 3.11 to 3.13: run tools/setup)",
            file=sys.stderr,
        )
        return 2
    failed = False
    print(f"{'target':<9} {'seconds':>7} {'executions':>10} {'exec/s':>7} {'new':>5}  crashes")
    for target in args.targets or TARGET_NAMES:
        outcome = run_target(target, args.seconds, args.seed, args.keep_new)
        rate = outcome.executions / outcome.seconds if outcome.seconds else 0
        crashes = ", ".join(str(p.relative_to(ROOT)) for p in outcome.crashes) or "none"
        print(
            f"{target:<9} {outcome.seconds:7.0f} {outcome.executions:10d} {rate:7.0f} "
            f"{outcome.new_inputs:5d}  {crashes}",
            flush=True,
        )
        if outcome.crashes or outcome.code != 0:
            failed = True
            if not outcome.crashes:
                print(f"  exit code {outcome.code}: see build/fuzz/{target}/last-run.log")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
