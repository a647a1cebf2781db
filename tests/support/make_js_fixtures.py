"""Wheels for the JavaScript package's tests (js/test): built from the C test modules and
repaired by emwheel. Prints a JSON object of absolute paths.

    python tests/support/make_js_fixtures.py OUTDIR ABI_VERSION   # ABI_VERSION e.g. 2026_0
"""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emwheel.repair import repair_wheel
from emwheel.repair_plan import RepairOptions

from support.build_modules import build_test_modules
from support.wheel_builder import build_wheel


def main(out: Path, abi: str) -> dict[str, str]:
    modules = build_test_modules()
    tag = f"cp312-abi3-pyemscripten_{abi}_wasm32"
    libdir = out / "libdir"
    libdir.mkdir(parents=True, exist_ok=True)
    for name in ("libmid.so", "libbase.so"):
        shutil.copy(modules[name], libdir / name)
    files = {
        "testpkg/__init__.py": b"from ._testext import compute\n",
        "testpkg/_testext.abi3.so": modules["_testext.abi3.so"].read_bytes(),
    }
    bare = build_wheel(out / "dist", "testpkg", "1.0", files, tag=tag)
    with_path = repair_wheel(bare, out / "repaired", RepairOptions(libdirs=(libdir,))).output
    no_path = repair_wheel(
        bare, out / "no-runtime-path", RepairOptions(libdirs=(libdir,), runtime_path=False)
    ).output
    # The same wheel with its libmid replaced by bytes that are not WebAssembly.
    with zipfile.ZipFile(no_path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist() if ".dist-info/" not in n}
    (mid,) = [n for n in entries if n.startswith("testpkg.libs/libmid-")]
    entries[mid] = b"\x7fELF" + bytes(len(entries[mid]) - 4)
    corrupt = build_wheel(out / "corrupt", "testpkg", "1.0", entries, tag=tag)
    return {
        "repaired": str(with_path),
        "noRuntimePath": str(no_path),
        "corrupt": str(corrupt),
        "corruptLibrary": mid,
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]).resolve(), sys.argv[2])))
