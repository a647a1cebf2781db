"""What a repaired wheel must look like: read back with `emwheel show --json` and `wheel`.

Used by bench_repair.py on each tool's output (the same checks, so that the two tools'
outputs can be compared; only emwheel writes a manifest).
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench_common import Check, emwheel_executable

__all__ = ["record_verifies", "repaired_wheel_checks"]


def repaired_wheel_checks(
    wheel: Path, removed: tuple[str, ...], env: Mapping[str, str], *, manifest: bool
) -> tuple[list[Check], list[str]]:
    """The checks on a repaired wheel, and the warnings `emwheel show` gives (code on path).

    ``removed``: the archive paths of the libraries the repair had to bring back;
    ``manifest``: whether the wheel must hold emwheel's manifest.
    """
    checks = [Check("RECORD hashes verify (wheel.wheelfile.WheelFile)", record_verifies(wheel))]
    show = [str(emwheel_executable()), "show", "--json", str(wheel)]
    result = subprocess.run(show, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        return [*checks, Check(f"`emwheel show --json` exits 0 ({result.returncode})", False)], []
    report = json.loads(result.stdout)["reports"][0]
    errors = [f["code"] for f in report["findings"] if f["severity"] == "error"]
    warnings = [
        f"{f['code']} on {f['path']}" for f in report["findings"] if f["severity"] == "warning"
    ]
    needed = [n for m in report["modules"] for n in m["needed"]]
    on_path = [n for n in needed if n["resolution"] == "runtime_path"]
    checks += [
        Check(f"no finding with severity error (found: {', '.join(errors) or 'none'})", not errors),
        Check(
            f"every NEEDED resolves through runtime_path ({len(on_path)} of {len(needed)})",
            bool(needed) and len(on_path) == len(needed),
        ),
    ]
    for path in removed:
        name = Path(path).name
        vendored = [m["path"] for m in report["modules"] if is_vendored_copy(m["path"], name)]
        checks.append(Check(f"{name} vendored ({', '.join(vendored)})", bool(vendored)))
    if manifest:
        agrees = [m for m in report["manifests"] if m["readable"] and m["agrees_with_wheel"]]
        checks.append(Check("manifest readable and agrees with the wheel", len(agrees) == 1))
    return checks, warnings


def is_vendored_copy(install_path: str, library: str) -> bool:
    """``pkg.libs/libfoo-0123abcd.so`` (or ``pkg.libs/libfoo.so``) for ``libfoo.so``."""
    folder, _, name = install_path.rpartition("/")
    if not folder.endswith(".libs") or "/" in folder:
        return False
    base, dot, extension = library.partition(".")
    hashed = rf"{re.escape(base)}-[0-9a-f]{{8}}{re.escape(dot + extension)}"
    return name == library or re.fullmatch(hashed, name) is not None


def record_verifies(wheel: Path) -> bool:
    """Whether every entry reads back with the hash and size its RECORD row gives."""
    # the .venv's `wheel` (a test extra; untyped)
    wheel_file: Any = importlib.import_module("wheel.wheelfile").WheelFile
    try:
        with wheel_file(wheel) as archive:
            for name in archive.namelist():
                with archive.open(name) as entry:
                    while entry.read(1 << 20):
                        pass
    except Exception:  # any failure to read back is a failed check
        return False
    return True
