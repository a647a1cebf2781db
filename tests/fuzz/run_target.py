"""Run one fuzz target under atheris (coverage-guided, libFuzzer): tools/fuzz calls this.

    .venv/bin/python tests/fuzz/run_target.py TARGET [libFuzzer arguments: corpus folders,
        -max_total_time=N, -seed=N, ...]

emwheel and emwheel_loader are instrumented for coverage as they are imported. Every input
runs under its time budget (targets.run_timed, scaled for the instrumentation); an exception
other than the package's own errors, a failed round trip or an input over budget is a crash,
written by libFuzzer as an artifact (-artifact_prefix).
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["emwheel", "emwheel_loader"]):
    from targets import TARGETS, run_timed

# Coverage instrumentation slows the readers about 3 times (measured, docs/fuzzing.md).
INSTRUMENTED_SCALE = 5.0


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: run_target.py {{{','.join(TARGETS)}}} [libFuzzer arguments]")
    target = sys.argv[1]

    def one_input(data: bytes) -> None:
        run_timed(target, data, INSTRUMENTED_SCALE)

    atheris.Setup([sys.argv[0], *sys.argv[2:]], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
