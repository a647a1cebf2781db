"""testpkg: the C test extension (NEEDs libmid, which NEEDs libbase) in a wheel, repaired
from a libdir holding the two libraries; what most runtime tests install."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from emwheel.repair import repair_wheel
from emwheel.repair_plan import RepairOptions

from support.wheel_builder import build_wheel

LIBRARIES = ("libmid.so", "libbase.so")
INIT = b"from ._testext import compute\n"


def repaired_test_package(
    out: Path,
    modules: dict[str, Path],
    tag: str,
    extension: bytes | None = None,
    **options: Any,
) -> Path:
    """testpkg repaired into ``out``/repaired (``extension``: other bytes for the extension
    module; ``options``: more RepairOptions, e.g. runtime_path=False)."""
    libdir = out / "libdir"
    libdir.mkdir(parents=True)
    for name in LIBRARIES:
        shutil.copy(modules[name], libdir / name)
    if extension is None:
        extension = modules["_testext.abi3.so"].read_bytes()
    files = {"testpkg/__init__.py": INIT, "testpkg/_testext.abi3.so": extension}
    wheel = build_wheel(out / "dist", "testpkg", "1.0", files, tag=tag)
    repair_options = RepairOptions(libdirs=(libdir,), **options)
    return repair_wheel(wheel, out / "repaired", repair_options).output
