#!/usr/bin/env python3
"""Write the ABI data file of a Pyodide distribution: what its main module offers side modules.

    tools/pyodide_abi.py DIST_DIR [-o OUT]

DIST_DIR is a Pyodide npm package folder (for example the output of
``tools/pyodide_dist.py --version 314.0.7``). The output is deterministic JSON (sorted,
one name a line): the Pyodide, Python, ABI and Emscripten versions, the exports of
pyodide.asm.wasm by kind, the names of the glue's wasmImports (the JavaScript library
that Emscripten hands to side modules), the special names the dynamic linker answers
itself, and the shared-library packages of the lock file (with each library's exports when
the package file is in the folder). Without -o it goes to stdout; an OUT ending in .gz is
gzip-compressed with a fixed header (no name, mtime 0), so equal data gives equal bytes with
the same zlib. The shipped files are compressed: about 0.4-0.6 MB of JSON each (mostly the
main module's 8,500-9,700 exports, many of them mangled libc++ names), 60-70 kB gzipped.

The extraction, and the documented list of special names with its sources, live in
``emwheel.pyodide_abi`` (``abi_from_distribution``); the shipped files are
``repair/emwheel/data/pyodide-abi-<version>.json.gz``, regenerated with

    tools/pyodide_abi.py "$(tools/pyodide_dist.py --version V)" \\
        -o repair/emwheel/data/pyodide-abi-V.json.gz

from a distribution folder that holds no test additions (tests/runtime adds a
``libemwtest`` package to the shared one; tests/test_pyodide_abi.py leaves it out).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "repair"), str(ROOT / "loader")]

from emwheel.errors import EmwheelError  # noqa: E402
from emwheel.pyodide_abi import (  # noqa: E402
    abi_from_distribution,
    abi_to_json,
    write_abi_file,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dist", type=Path, metavar="DIST_DIR", help="Pyodide npm package folder")
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    try:
        abi = abi_from_distribution(args.dist)
        if args.output is None:
            sys.stdout.write(abi_to_json(abi))
        else:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            write_abi_file(abi, args.output)
    except (EmwheelError, OSError) as e:
        print(f"pyodide_abi: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
