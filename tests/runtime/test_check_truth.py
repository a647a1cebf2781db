"""Truth check: what `emwheel check` predicts is what real Pyodide does.

Each wheel is checked against the distribution under test (its pyodide-lock.json and
main module, read by `abi_from_distribution`), then installed with micropip on stock
Pyodide: "loads" must install and import; "will not load" must fail, naming the symbol
check named.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_pyodide import run_in_pyodide

from emwheel.check import check_wheel
from emwheel.pyodide_abi import PyodideAbi, abi_from_distribution
from emwheel.repair import repair_wheel
from emwheel.repair_plan import RepairOptions

from support.derive import derive_unrepaired
from support.real_wheels import fetch_real_wheel
from support.wheel_builder import build_wheel

pytestmark = pytest.mark.runtime

Serve = Callable[[Any, Path], str]


@pytest.fixture(scope="module")
def target(request: pytest.FixtureRequest) -> PyodideAbi:
    return abi_from_distribution(Path(request.config.getoption("--dist-dir")).resolve())


@run_in_pyodide(packages=["micropip"])
async def install_and_load(selenium: Any, url: str, library: str) -> str | None:
    """Install, then dlopen ``library`` (a path in site-packages) with ctypes."""
    import ctypes
    import site

    import micropip

    try:
        await micropip.install(url, deps=False)
        ctypes.CDLL(f"{site.getsitepackages()[0]}/{library}")
    except Exception as e:
        return str(e)
    return None


@pytest.mark.parametrize(
    ("modules", "library"),
    [
        pytest.param(("libbase.so",), "libbase.so", id="self-contained"),
        pytest.param(
            ("libscale.so", "libbase.so"), "libscale.so", id="symbol-from-another-library"
        ),
        pytest.param(("libscale.so",), "libscale.so", id="undefined-data"),
        pytest.param(
            ("libundefinedptr.so",), "libundefinedptr.so", id="undefined-function-address"
        ),
        pytest.param(("libundefined.so",), "libundefined.so", id="undefined-function-call"),
    ],
)
def test_check_predicts_what_pyodide_does_with_c_modules(
    selenium_standalone: Any,
    serve: Serve,
    target: PyodideAbi,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    tmp_path: Path,
    modules: tuple[str, ...],
    library: str,
) -> None:
    files = {f"pkg/{name}": module_bytes[name] for name in modules}
    wheel = build_wheel(tmp_path, "pkg", "1.0", files, tag=wheel_tag)
    report = check_wheel(wheel, target)
    error = install_and_load(
        selenium_standalone, serve(selenium_standalone, wheel), f"pkg/{library}"
    )
    assert report.loads == (error is None), (report.findings, error)
    for module in report.modules:
        for symbol in module.unresolved:
            if symbol.effect == "load fails":
                assert error is not None and symbol.name in error


@pytest.mark.parametrize(
    ("key", "removed", "probe"),
    [
        (
            "awkward-cpp",
            "awkward_cpp/lib/libawkward.so",
            "awkward_cpp/lib/_ext.cpython-314-wasm32-emscripten.so",
        ),
        ("grill-usd-core", "grill_usd_core.libs/libusd_ms.so", "pxr/Tf/_tf.so"),
    ],
)
def test_check_predicts_what_pyodide_does_with_real_wheels(
    selenium_standalone: Any,
    serve: Serve,
    target: PyodideAbi,
    pyodide_lock_info: dict[str, str],
    tmp_path: Path,
    key: str,
    removed: str,
    probe: str,
) -> None:
    if pyodide_lock_info["abi_version"] != "2026_0":
        pytest.skip("these real wheels are cp314 (Pyodide 314)")
    derived = derive_unrepaired(fetch_real_wheel(key), (removed,))
    repaired = repair_wheel(
        derived.wheel, tmp_path, RepairOptions(libdirs=(derived.libdir,))
    ).output
    for wheel in (derived.wheel, repaired):
        report = check_wheel(wheel, target)
        error = install_and_load(selenium_standalone, serve(selenium_standalone, wheel), probe)
        assert report.loads == (error is None), (wheel, report.findings[:3], error)
