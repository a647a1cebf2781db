"""Repaired wheels, installed with micropip in stock Pyodide (no emwheel loader), and used.

The wheels: the C test extension whose library chain comes from a libdir, and "unrepaired"
copies of real PyPI wheels (their libraries taken out, every RUNTIME_PATH stripped) that
`emwheel repair` puts back together from a libdir.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pytest_pyodide import run_in_pyodide

from emwheel.repair import repair_wheel
from emwheel.repair_plan import RepairOptions

from support.derive import derive_unrepaired
from support.real_wheels import fetch_real_wheel
from support.wheel_builder import build_wheel

pytestmark = pytest.mark.runtime


@run_in_pyodide(packages=["micropip"])
async def install_url(
    selenium: Any, url: str, loader: str | None = None, lazy: bool = False
) -> str | None:
    """Install with micropip (after activating emwheel's loader, given its wheel's URL);
    the error text if it fails."""
    import micropip

    if loader:
        await micropip.install(loader)
        import emwheel_loader

        emwheel_loader.activate(lazy=lazy)
    try:
        await micropip.install(url, deps=False)
    except Exception as e:
        return str(e)
    return None


@run_in_pyodide
def compute(selenium: Any, x: int) -> int:
    import testpkg

    return int(testpkg.compute(x))


def repaired(wheel: Path, out: Path, *libdirs: Path, **options: Any) -> Path:
    return repair_wheel(wheel, out, RepairOptions(libdirs=libdirs, **options)).output


def test_repaired_test_extension_loads_on_stock_pyodide(
    selenium_standalone: Any,
    serve: Any,
    module_bytes: dict[str, bytes],
    test_modules: dict[str, Path],
    wheel_tag: str,
    tmp_path: Path,
) -> None:
    libdir = tmp_path / "libdir"
    (libdir / "lib").mkdir(parents=True)
    for name in ("libmid.so", "libbase.so"):
        shutil.copy(test_modules[name], libdir / "lib" / name)
    files = {
        "testpkg/__init__.py": b"from ._testext import compute\n",
        "testpkg/_testext.abi3.so": module_bytes["_testext.abi3.so"],
    }
    wheel = build_wheel(tmp_path / "dist", "testpkg", "1.0", files, tag=wheel_tag)
    out = repaired(wheel, tmp_path / "out", libdir)
    assert install_url(selenium_standalone, serve(selenium_standalone, out)) is None
    assert compute(selenium_standalone, 7) == 3 * 7 + 1 + 100


def test_without_runtime_path_the_repaired_wheel_needs_the_loader(
    selenium_standalone: Any,
    serve: Any,
    module_bytes: dict[str, bytes],
    test_modules: dict[str, Path],
    wheel_tag: str,
    tmp_path: Path,
) -> None:
    files = {
        "testpkg/__init__.py": b"from ._testext import compute\n",
        "testpkg/_testext.abi3.so": module_bytes["_testext.abi3.so"],
    }
    wheel = build_wheel(tmp_path / "dist", "testpkg", "1.0", files, tag=wheel_tag)
    libdir = test_modules["libmid.so"].parent
    out = repaired(wheel, tmp_path / "out", libdir, runtime_path=False)
    error = install_url(selenium_standalone, serve(selenium_standalone, out))
    assert error is not None and "Failed to find dynamic library" in error


def _awkward_key(pyodide_lock_info: dict[str, str]) -> str:
    return {"2026_0": "awkward-cpp", "2025_0": "awkward-cpp-cp313"}[
        pyodide_lock_info["abi_version"]
    ]


@run_in_pyodide
def run_awkward_forth(selenium: Any, program: str) -> list[int]:
    # awkward_cpp/__init__.py imports numpy, which is not in the offline distribution: load
    # the extension module by itself. It runs AwkwardForth, implemented in libawkward.
    import importlib.util
    import site

    path = f"{site.getsitepackages()[0]}/awkward_cpp/lib"
    (name,) = [n for n in __import__("os").listdir(path) if n.startswith("_ext.")]
    spec = importlib.util.spec_from_file_location("_ext", f"{path}/{name}")
    assert spec is not None and spec.loader is not None
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    machine = ext.ForthMachine32(program)
    machine.run()
    return list(machine.stack)


def test_derived_awkward_cpp_fails_before_repair(
    selenium_standalone: Any, serve: Any, pyodide_lock_info: dict[str, str]
) -> None:
    source = fetch_real_wheel(_awkward_key(pyodide_lock_info))
    derived = derive_unrepaired(source, ("awkward_cpp/lib/libawkward.so",))
    # Unrepaired, the extension cannot find libawkward.so.
    error = install_url(selenium_standalone, serve(selenium_standalone, derived.wheel))
    assert error is not None and 'Failed to find dynamic library "libawkward.so"' in error


@pytest.mark.parametrize(
    "loader", ["", "eager", "lazy"], ids=["stock", "loader-eager", "loader-lazy"]
)
def test_derived_awkward_cpp_repaired_loads_and_runs(
    selenium_standalone: Any,
    serve: Any,
    pyodide_lock_info: dict[str, str],
    tmp_path: Path,
    loader: str,
    loader_wheel: Path,
) -> None:
    derived = derive_unrepaired(
        fetch_real_wheel(_awkward_key(pyodide_lock_info)), ("awkward_cpp/lib/libawkward.so",)
    )
    out = repaired(derived.wheel, tmp_path, derived.libdir)
    loader_url = serve(selenium_standalone, loader_wheel) if loader else None
    url = serve(selenium_standalone, out)
    assert install_url(selenium_standalone, url, loader_url, loader == "lazy") is None
    assert run_awkward_forth(selenium_standalone, "1 2 + 10 *") == [30]


@run_in_pyodide
def make_usd_stage(selenium: Any) -> str:
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.CreateInMemory()
    sphere = UsdGeom.Sphere.Define(stage, "/World/Ball")
    sphere.GetRadiusAttr().Set(2.5)
    return str(stage.GetRootLayer().ExportToString())


@pytest.mark.parametrize(
    "loader", ["", "eager", "lazy"], ids=["stock", "loader-eager", "loader-lazy"]
)
def test_derived_grill_usd_core_repaired_creates_a_usd_stage(
    selenium_standalone: Any,
    serve: Any,
    pyodide_lock_info: dict[str, str],
    tmp_path: Path,
    loader: str,
    loader_wheel: Path,
) -> None:
    if pyodide_lock_info["abi_version"] != "2026_0":
        pytest.skip("grill-usd-core 26.8 is published for Pyodide 314 (cp314) only")
    derived = derive_unrepaired(
        fetch_real_wheel("grill-usd-core"), ("grill_usd_core.libs/libusd_ms.so",)
    )
    out = repaired(derived.wheel, tmp_path, derived.libdir)
    loader_url = serve(selenium_standalone, loader_wheel) if loader else None
    url = serve(selenium_standalone, out)
    assert install_url(selenium_standalone, url, loader_url, loader == "lazy") is None
    exported = make_usd_stage(selenium_standalone)
    assert 'def Sphere "Ball"' in exported
    assert "double radius = 2.5" in exported
