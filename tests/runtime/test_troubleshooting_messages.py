"""docs/troubleshooting.md quotes the errors users see: each quote must be what Pyodide (or
emwheel's loader) really says, in the runtime under test, and must be on the page.

Each case installs a small wheel with micropip in a fresh Pyodide and compares the error
with the text the page quotes for this Pyodide version. tools/troubleshooting_errors.py
reproduces more cases by hand (it also prints `emwheel check`'s view).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_pyodide import run_in_pyodide

from emwheel.repair import repair_wheel
from emwheel.repair_plan import RepairOptions

from support.manifest_edit import as_version_1
from support.wheel_builder import build_wheel

pytestmark = pytest.mark.runtime

PAGE = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
INIT = b"from ._testext import compute\n"

Serve = Callable[[Any, Path], str]


@run_in_pyodide(packages=["micropip"])
async def install_error(selenium: Any, url: str, dlopen: str = "", loader: str = "") -> str | None:
    """Install (after activating emwheel's loader when its wheel's URL is given), then
    dlopen ``dlopen`` (a path in site-packages) with ctypes; the error text, or None."""
    import ctypes
    import site

    import micropip

    if loader:
        await micropip.install(loader)
        import emwheel_loader

        emwheel_loader.activate()
    try:
        await micropip.install(url, deps=False)
        if dlopen:
            ctypes.CDLL(f"{site.getsitepackages()[0]}/{dlopen}")
    except Exception as e:
        return str(e)
    return None


def page_text() -> str:
    return PAGE.read_text(encoding="utf-8")


def python_dir(lock_info: dict[str, str]) -> str:
    major, minor, *_ = lock_info["python"].split(".")
    return f"/lib/python{major}.{minor}/site-packages"


def test_missing_library(
    selenium_standalone: Any,
    serve: Serve,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    pyodide_lock_info: dict[str, str],
    tmp_path: Path,
) -> None:
    files = {
        "testpkg/__init__.py": INIT,
        "testpkg/_testext.abi3.so": module_bytes["_testext.abi3.so"],
    }
    wheel = build_wheel(tmp_path, "testpkg", "1.0", files, tag=wheel_tag)
    error = install_error(selenium_standalone, serve(selenium_standalone, wheel))
    module = f"{python_dir(pyodide_lock_info)}/testpkg/_testext.abi3.so"
    expected = (
        f"Failed to load dynamic library {module}: 'Could not load dynamic lib: {module}\n"
        'Error: Failed to find dynamic library "libmid.so"'
    )
    assert error is not None and expected in error, error
    assert expected.replace("python3.13", "python3.14") in page_text()


def test_undefined_data_symbol(
    selenium_standalone: Any,
    serve: Serve,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    pyodide_lock_info: dict[str, str],
    tmp_path: Path,
) -> None:
    wheel = build_wheel(
        tmp_path, "pkg", "1.0", {"pkg/libscale.so": module_bytes["libscale.so"]}, tag=wheel_tag
    )
    error = install_error(selenium_standalone, serve(selenium_standalone, wheel), "pkg/libscale.so")
    if pyodide_lock_info["abi_version"] == "2026_0":
        expected = "Error: Dynamic linking error: undefined symbol 'base_scale'"
    else:
        expected = "Error: bad export type for 'base_scale': undefined"
    assert error is not None and expected in error, error
    assert expected.removeprefix("Error: ") in page_text()


def test_platform_tag_of_another_pyodide(
    selenium_standalone: Any,
    serve: Serve,
    module_bytes: dict[str, bytes],
    pyodide_lock_info: dict[str, str],
    tmp_path: Path,
) -> None:
    other = "2025_0" if pyodide_lock_info["abi_version"] == "2026_0" else "2026_0"
    files = {
        "testpkg/__init__.py": INIT,
        "testpkg/_testext.abi3.so": module_bytes["_testext.abi3.so"],
    }
    tag = f"cp312-abi3-pyemscripten_{other}_wasm32"
    wheel = build_wheel(tmp_path, "testpkg", "1.0", files, tag=tag)
    error = install_error(selenium_standalone, serve(selenium_standalone, wheel))
    emscripten = pyodide_lock_info["platform"].removeprefix("emscripten_").replace("_", ".")
    expected = (
        f"Wheel was built with Emscripten vpyemscripten.{other.replace('_', '.')} "
        f"but Pyodide was built with Emscripten v{emscripten}"
    )
    assert error == expected
    assert f"`{expected}`" in page_text()


@pytest.mark.parametrize(
    ("manifest_version", "check", "digits"),
    [(2, "crc32", 8), (1, "sha256", 64)],
    ids=["crc32", "sha256"],
)
def test_loader_content_mismatch(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    tmp_path: Path,
    manifest_version: int,
    check: str,
    digits: int,
) -> None:
    """A version-2 manifest's files are checked by CRC-32, a version-1 manifest's by sha256."""
    libdir = tmp_path / "libdir"
    libdir.mkdir()
    for name in ("libmid.so", "libbase.so"):
        (libdir / name).write_bytes(module_bytes[name])
    files = {
        "testpkg/__init__.py": INIT,
        "testpkg/_testext.abi3.so": module_bytes["_testext.abi3.so"],
    }
    bare = build_wheel(tmp_path / "bare", "testpkg", "1.0", files, tag=wheel_tag)
    options = RepairOptions(libdirs=(libdir,), runtime_path=False)
    repaired = repair_wheel(bare, tmp_path / "repaired", options).output
    # One byte of a library changed after the repair, RECORD rewritten to match.
    with zipfile.ZipFile(repaired) as zf:
        entries = {n: zf.read(n) for n in zf.namelist() if ".dist-info/" not in n}
    (library,) = [n for n in entries if n.startswith("testpkg.libs/libbase-")]
    entries[library] = entries[library][:-1] + bytes([entries[library][-1] ^ 0xFF])
    if manifest_version == 1:
        as_version_1(entries)
    changed = build_wheel(tmp_path / "changed", "testpkg", "1.0", entries, tag=wheel_tag)

    error = install_error(
        selenium_standalone,
        serve(selenium_standalone, changed),
        loader=serve(selenium_standalone, loader_wheel),
    )
    assert error is not None
    expected = re.compile(
        re.escape(f"{changed.name}: {library}: {check} mismatch: the file has ")
        + f"[0-9a-f]{{{digits}}}, the manifest says [0-9a-f]{{{digits}}}"
    )
    assert expected.search(error), error
    assert f"{check} mismatch: the file has " in page_text()
