"""Runtime tests: real Pyodide through pytest-pyodide (``--dist-dir``, ``--rt node|chrome``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def pyodide_lock_info(request: pytest.FixtureRequest) -> dict[str, str]:
    """The ``info`` block of the distribution's pyodide-lock.json (ABI, Python version)."""
    dist_dir = Path(request.config.getoption("--dist-dir")).resolve()
    lock = dist_dir / "pyodide-lock.json"
    if not lock.is_file():
        pytest.fail(f"no Pyodide distribution at {dist_dir}: run the test command in README.md")
    info: dict[str, str] = json.loads(lock.read_text())["info"]
    return info


@pytest.fixture(scope="session")
def wheel_tag(pyodide_lock_info: dict[str, str]) -> str:
    """An abi3 tag that the Pyodide under test installs."""
    return f"cp312-abi3-pyemscripten_{pyodide_lock_info['abi_version']}_wasm32"
