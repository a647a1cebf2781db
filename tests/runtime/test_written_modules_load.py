"""Truth check for the writer and for `show`: what `show` predicts is what Pyodide does.

The extension and its libraries are built from C; the RUNTIME_PATH entries are written by
emwheel's writer. Stock Pyodide (no emwheel loader) installs the wheel with micropip.
Each test gets a fresh Pyodide (``selenium_standalone``): pytest-pyodide's ``selenium``
fixture is shared by a whole test module, and loaded libraries would leak between tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_pyodide import run_in_pyodide

from emwheel.library_resolution import Resolution
from emwheel.show import show

from support.module_edit import with_runtime_path
from support.wheel_builder import build_wheel

pytestmark = pytest.mark.runtime


def make_wheel(out: Path, modules: dict[str, bytes], tag: str, runtime_paths: bool) -> Path:
    def rpath(data: bytes, entry: str) -> bytes:
        return with_runtime_path(data, entry) if runtime_paths else data

    files = {
        "testpkg/__init__.py": b"from ._testext import compute\n",
        "testpkg/_testext.abi3.so": rpath(modules["_testext.abi3.so"], "$ORIGIN/../testpkg.libs"),
        "testpkg.libs/libmid.so": rpath(modules["libmid.so"], "$ORIGIN"),
        "testpkg.libs/libbase.so": modules["libbase.so"],
    }
    return build_wheel(out, "testpkg", "1.0", files, tag=tag)


@run_in_pyodide(packages=["micropip"])
async def install_and_compute(selenium: Any, wheel_name: str, wheel: bytes, x: int) -> Any:
    from pathlib import Path

    import micropip

    path = Path("/tmp") / wheel_name
    path.write_bytes(wheel)
    try:
        await micropip.install(f"emfs:{path}")
        import testpkg
    except Exception as e:  # the error text is what the test checks
        return f"failed: {e}"
    return testpkg.compute(x)


def predicted_to_load(wheel: Path) -> bool:
    report = show(wheel)
    return all(
        lib.resolution.loads_on_stock_pyodide for m in report.wasm_modules for lib in m.needed
    )


def test_runtime_path_written_by_emwheel_loads(
    selenium_standalone: Any, module_bytes: dict[str, bytes], wheel_tag: str, tmp_path: Path
) -> None:
    wheel = make_wheel(tmp_path, module_bytes, wheel_tag, runtime_paths=True)
    assert predicted_to_load(wheel)
    assert (
        install_and_compute(selenium_standalone, wheel.name, wheel.read_bytes(), 5)
        == 3 * 5 + 1 + 100
    )


def test_libraries_on_no_path_fail_as_show_predicts(
    selenium_standalone: Any, module_bytes: dict[str, bytes], wheel_tag: str, tmp_path: Path
) -> None:
    wheel = make_wheel(tmp_path, module_bytes, wheel_tag, runtime_paths=False)
    assert not predicted_to_load(wheel)
    ext = next(m for m in show(wheel).wasm_modules if m.kind == "extension")
    assert ext.needed[0].resolution is Resolution.NAME_ONLY
    result = install_and_compute(selenium_standalone, wheel.name, wheel.read_bytes(), 5)
    assert isinstance(result, str) and result.startswith("failed:")
    assert 'Failed to find dynamic library "libmid.so"' in result
