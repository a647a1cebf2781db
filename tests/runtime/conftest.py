"""Runtime tests: real Pyodide through pytest-pyodide (``--dist-dir``, ``--rt node|chrome``)."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # pytest-pyodide's Node driver runs Pyodide's JavaScript in a vm context that holds few
    # of Node's globals; pass in the two the loader's dlopen hook uses, as any Node program
    # has them (WebCrypto for the hash check, the clock for install_timings).
    from pytest_pyodide import get_global_config

    get_global_config().add_node_extra_globals(["crypto", "performance"])


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


TEST_LIBRARY_PACKAGE = "libemwtest"
TEST_LIBRARY_FILE = "libemwtestbase.so"


@pytest.fixture(scope="session")
def pyodide_library_package(request: pytest.FixtureRequest, test_modules: dict[str, Path]) -> str:
    """A shared-library package of our own in the distribution's lock file, as Pyodide's
    libgeos or libopenblas are (their files are not reachable offline): a zip with
    libemwtestbase.so (libbase.so under another name), installed into /usr/lib.

    Added to the distribution folder in place, idempotently; request this fixture before
    the Pyodide fixture, which reads the lock file when it starts.
    """
    import hashlib
    import zipfile

    dist_dir = Path(request.config.getoption("--dist-dir")).resolve()
    archive = dist_dir / f"{TEST_LIBRARY_PACKAGE}-1.0.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo(TEST_LIBRARY_FILE, (2024, 1, 1, 0, 0, 0))
        zf.writestr(info, test_modules["libbase.so"].read_bytes())
    lock_file = dist_dir / "pyodide-lock.json"
    lock = json.loads(lock_file.read_text())
    lock["packages"][TEST_LIBRARY_PACKAGE] = {
        "name": TEST_LIBRARY_PACKAGE,
        "version": "1.0",
        "file_name": archive.name,
        "install_dir": "dynlib",
        "sha256": hashlib.sha256(archive.read_bytes()).hexdigest(),
        "package_type": "shared_library",
        "imports": [],
        "depends": [],
        "unvendored_tests": False,
    }
    lock_file.write_text(json.dumps(lock, indent=2))
    return TEST_LIBRARY_PACKAGE
