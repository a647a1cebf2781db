"""emwheel's own wheel, as a notebook installs it into Pyodide (tests/support/project_wheel.py):
pure Python, with every file the loader reads at run time. The runtime tests install it;
this finds a packaging mistake in seconds instead."""

from __future__ import annotations

import zipfile
from pathlib import Path

from support.project_wheel import build_project_wheel

LOADER = Path(__file__).resolve().parents[1] / "loader" / "emwheel_loader"


def test_the_wheel_for_pyodide_is_pure_python_and_holds_the_loader_whole() -> None:
    wheel = build_project_wheel()
    assert wheel.name == "emwheel-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        tags = archive.read("emwheel-0.1.0.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: true" in tags
    assert not [name for name in names if name.endswith((".so", ".pyd", ".c"))]
    loader_files = {
        f"emwheel_loader/{file.name}"
        for file in LOADER.iterdir()
        if file.suffix in (".py", ".js") or file.name == "py.typed"
    }
    assert loader_files <= names, sorted(loader_files - names)
    assert {"emwheel_loader/dlopen_hook.js", "emwheel_loader/immutable_globals.js"} <= names
