"""Shared fixtures: test modules built from C, wheels packed from them, real PyPI wheels."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.build_modules import build_test_modules
from support.module_edit import with_runtime_path
from support.real_wheels import REAL_WHEELS, fetch_real_wheel
from support.wheel_builder import build_wheel


@pytest.fixture(scope="session")
def test_modules() -> dict[str, Path]:
    """libbase.so, libmid.so (NEEDs libbase), _testext.abi3.so (NEEDs libmid), ..."""
    return build_test_modules()


@pytest.fixture(scope="session")
def module_bytes(test_modules: dict[str, Path]) -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in test_modules.items()}


@pytest.fixture(scope="session")
def repaired_style_wheel(
    module_bytes: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A wheel laid out as a repair would: extension in the package, libraries in .libs/.

    The RUNTIME_PATH entries are written by emwheel's writer (this is what the runtime test
    checks end to end).
    """
    files = {
        "testpkg/__init__.py": b"from ._testext import compute\n",
        "testpkg/_testext.abi3.so": with_runtime_path(
            module_bytes["_testext.abi3.so"], "$ORIGIN/../testpkg.libs"
        ),
        "testpkg.libs/libmid.so": with_runtime_path(module_bytes["libmid.so"], "$ORIGIN"),
        "testpkg.libs/libbase.so": module_bytes["libbase.so"],
    }
    return build_wheel(tmp_path_factory.mktemp("wheels"), "testpkg", "1.0", files)


@pytest.fixture(scope="session")
def unrepaired_wheel(
    module_bytes: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The same wheel without any RUNTIME_PATH: its libraries are in the wheel, on no path."""
    files = {
        "testpkg/__init__.py": b"from ._testext import compute\n",
        "testpkg/_testext.abi3.so": module_bytes["_testext.abi3.so"],
        "testpkg.libs/libmid.so": module_bytes["libmid.so"],
        "testpkg.libs/libbase.so": module_bytes["libbase.so"],
    }
    return build_wheel(tmp_path_factory.mktemp("wheels"), "testpkg", "1.0", files)


@pytest.fixture(params=sorted(REAL_WHEELS), scope="session")
def real_wheel(request: pytest.FixtureRequest) -> Path:
    return fetch_real_wheel(request.param)


@pytest.fixture(scope="session")
def real_wheels() -> dict[str, Path]:
    return {key: fetch_real_wheel(key) for key in REAL_WHEELS}
