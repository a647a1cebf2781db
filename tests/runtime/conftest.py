"""Runtime tests: real Pyodide through pytest-pyodide (``--dist-dir``, ``--rt node|chrome``)."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


SERVED_FOLDER = ".emwheel-test-files"


@pytest.fixture
def serve(request: pytest.FixtureRequest) -> Iterator[Callable[[Any, Path], str]]:
    """Make a host file reachable from Pyodide by URL, through pytest-pyodide's web server.

    That server serves the distribution folder (in Node too: the test driver's fetch goes to
    it), so the file is copied into a folder there, removed after the test. Much faster than
    passing large wheels as arguments of a ``run_in_pyodide`` function.
    """
    dist_dir = Path(request.config.getoption("--dist-dir")).resolve()
    folder = dist_dir / SERVED_FOLDER / uuid.uuid4().hex
    folder.mkdir(parents=True)

    def serve_file(selenium: Any, path: Path) -> str:
        shutil.copy(path, folder / path.name)
        return f"{selenium.base_url}/{SERVED_FOLDER}/{folder.name}/{path.name}"

    yield serve_file
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def loader_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """emwheel_loader as a pure-Python wheel, to install into Pyodide with micropip."""
    import emwheel_loader

    from support.wheel_builder import build_wheel

    package = Path(emwheel_loader.__file__).parent
    files = {
        f"emwheel_loader/{f.name}": f.read_bytes()
        for f in sorted(package.iterdir())
        if f.suffix in (".py", ".js", ".typed")
    }
    return build_wheel(
        tmp_path_factory.mktemp("loader"), "emwheel_loader", "0.1.0", files, tag="py3-none-any"
    )
