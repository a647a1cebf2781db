"""The loader inside a Web Worker (real Chromium): install repaired wheels in the default
(lazy) mode, then import their extension modules, which load on that first import.

pytest-pyodide's ``selenium_webworker_standalone`` opens a page and ``run_webworker`` runs
Python code in a module worker that loads Pyodide from the distribution (its worker script
comes with pytest-pyodide's web server). Firefox and Chrome only; skipped in Node. The
main-thread counterpart is every other runtime test under ``--rt chrome``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emwheel.repair import repair_wheel
from emwheel.repair_plan import RepairOptions

from support.derive import derive_unrepaired
from support.real_wheels import fetch_real_wheel
from support.test_package import repaired_test_package

pytestmark = [pytest.mark.runtime, pytest.mark.driver_timeout(180)]

Serve = Callable[[Any, Path], str]

# Runs in the worker (runPythonAsync: top-level await; the last expression is the result).
# {loader}, {wheel} and {use} are filled in; {use} must leave its result in `value`.
WORKER_CODE = """
import json

import js
import micropip
from pyodide_js._module import LDSO

await micropip.install({loader!r})
import emwheel_loader

emwheel_loader.activate()
await micropip.install({wheel!r}, deps=False)
(timings,) = emwheel_loader.install_timings()
def loaded_extensions():
    return sorted(k for k in js.Object.keys(LDSO.loadedLibsByName) if {extension!r} in k)
before_import = loaded_extensions()
{use}
json.dumps({{
    "in_worker": hasattr(js, "WorkerGlobalScope") and not hasattr(js, "document"),
    "timings": timings.as_dict(),
    "before_import": before_import,
    "after_import": loaded_extensions(),
    "value": value,
}})
"""

C_TEST_USE = """
import testpkg
value = testpkg.compute(5)
"""

AWKWARD_USE = """
import importlib.util, os, site
# awkward_cpp/__init__.py imports numpy, which the offline distribution lacks.
folder = f"{site.getsitepackages()[0]}/awkward_cpp/lib"
(name,) = [n for n in os.listdir(folder) if n.startswith("_ext.")]
spec = importlib.util.spec_from_file_location("_ext", f"{folder}/{name}")
ext = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ext)
machine = ext.ForthMachine32("1 2 + 10 *")
machine.run()
value = list(machine.stack)
"""

GRILL_USE = """
from pxr import Usd, UsdGeom
stage = Usd.Stage.CreateInMemory()
UsdGeom.Sphere.Define(stage, "/World/Ball").GetRadiusAttr().Set(2.5)
value = "double radius = 2.5" in stage.GetRootLayer().ExportToString()
"""


def derived_and_repaired(out: Path, source: Path, library: str) -> Path:
    derived = derive_unrepaired(source, (library,))
    return repair_wheel(derived.wheel, out, RepairOptions(libdirs=(derived.libdir,))).output


def run_in_worker(selenium: Any, loader: str, wheel: str, use: str, extension: str) -> Any:
    code = WORKER_CODE.format(loader=loader, wheel=wheel, use=use, extension=extension)
    return json.loads(selenium.run_webworker(code))


def check_lazy_install(result: dict[str, Any]) -> None:
    assert result["in_worker"]
    timings = result["timings"]
    assert timings["loaded_at_install"] < timings["modules"]  # lazy: not everything at install
    assert timings["hash_method"] == "crc32"
    assert result["before_import"] == []
    assert result["after_import"] != []


def test_c_test_extension_in_a_worker(
    selenium_webworker_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    test_modules: dict[str, Path],
    wheel_tag: str,
    tmp_path: Path,
) -> None:
    selenium = selenium_webworker_standalone
    wheel = repaired_test_package(tmp_path, test_modules, wheel_tag)
    urls = serve(selenium, loader_wheel), serve(selenium, wheel)
    result = run_in_worker(selenium, *urls, C_TEST_USE, "_testext")
    check_lazy_install(result)
    assert result["value"] == 3 * 5 + 101


def test_awkward_cpp_in_a_worker(
    selenium_webworker_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    pyodide_lock_info: dict[str, str],
    tmp_path: Path,
) -> None:
    selenium = selenium_webworker_standalone
    source = fetch_real_wheel(
        {"2026_0": "awkward-cpp", "2025_0": "awkward-cpp-cp313"}[pyodide_lock_info["abi_version"]]
    )
    wheel = derived_and_repaired(tmp_path, source, "awkward_cpp/lib/libawkward.so")
    urls = serve(selenium, loader_wheel), serve(selenium, wheel)
    result = run_in_worker(selenium, *urls, AWKWARD_USE, "/_ext.")
    check_lazy_install(result)
    assert result["value"] == [30]


def test_grill_usd_core_in_a_worker(
    selenium_webworker_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    pyodide_lock_info: dict[str, str],
    tmp_path: Path,
) -> None:
    if pyodide_lock_info["abi_version"] != "2026_0":
        pytest.skip("grill-usd-core 26.8 is published for Pyodide 314 (cp314) only")
    selenium = selenium_webworker_standalone
    source = fetch_real_wheel("grill-usd-core")
    wheel = derived_and_repaired(tmp_path, source, "grill_usd_core.libs/libusd_ms.so")
    urls = serve(selenium, loader_wheel), serve(selenium, wheel)
    result = run_in_worker(selenium, *urls, GRILL_USE, "pxr/Usd/_usd")
    check_lazy_install(result)
    assert result["value"] is True
