"""The loader from a notebook kernel (docs/notebooks.md): the cells of that page, run as a
Pyodide kernel runs them.

A JupyterLite (Pyodide kernel) or PyScript cell is top-level-await Python handed to Pyodide
as one string; here each cell goes through ``pyodide.runPythonAsync``, one after the other
in one Pyodide, after the kernel's start-up has loaded micropip. The loader comes from
emwheel's own wheel, built from the working tree (what a site serves), installed with
``micropip.install(url, deps=False)``. The wheel under test is the small C test package,
repaired without RUNTIME_PATH entries, so that only the loader can load it: the same cells
with the install before ``activate()`` must fail.

In Chromium the cells also run in a Web Worker, where JupyterLite's kernel runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support.project_wheel import build_project_wheel
from support.test_package import repaired_test_package

pytestmark = pytest.mark.runtime

Serve = Callable[[Any, Path], str]

# The cells of docs/notebooks.md, with the URLs a site would serve filled in.
INSTALL_LOADER = """\
import micropip
await micropip.install({emwheel!r}, deps=False)
"""
ACTIVATE = """\
import emwheel_loader
emwheel_loader.activate()
"""
INSTALL_WHEEL = """\
await micropip.install({wheel!r})
"""
USE_VALUE = "testpkg.compute(5)"
USE = f"import testpkg\n{USE_VALUE}\n"
TIMINGS_VALUE = "[(t.wheel, t.modules, t.hash_method) for t in emwheel_loader.install_timings()]"
TIMINGS = f"{TIMINGS_VALUE}\n"

# What a kernel does: micropip at start-up, then each cell through runPythonAsync; a cell's
# last expression is its output (shown here as the repr a notebook would display). A cell
# that raises ends the run with the text of its error, as the notebook would show it.
KERNEL = """
const cells = %s;
await pyodide.loadPackage("micropip");
const outputs = [];
for (const cell of cells) {
    try {
        const value = await pyodide.runPythonAsync(cell);
        const isProxy = pyodide.ffi && value instanceof pyodide.ffi.PyProxy;
        outputs.push(isProxy ? value.toString() : value === undefined ? null : value);
    } catch (error) {
        outputs.push({ error: String(error.message) });
        break;
    }
}
return outputs;
"""


@pytest.fixture(scope="session")
def emwheel_wheel() -> Path:
    return build_project_wheel()


@pytest.fixture
def loader_only_wheel(test_modules: dict[str, Path], wheel_tag: str, tmp_path: Path) -> Path:
    """testpkg (an extension NEEDing libmid, which NEEDs libbase) repaired with
    --no-runtime-path: stock Pyodide cannot find its libraries, the loader can."""
    return repaired_test_package(tmp_path, test_modules, wheel_tag, runtime_path=False)


def cells(selenium: Any, serve: Serve, emwheel: Path, wheel: Path) -> list[str]:
    urls = {"emwheel": serve(selenium, emwheel), "wheel": serve(selenium, wheel)}
    return [
        INSTALL_LOADER.format(**urls),
        ACTIVATE,
        INSTALL_WHEEL.format(**urls),
        USE,
        TIMINGS,
    ]


def run_cells(selenium: Any, code: list[str]) -> list[Any]:
    return list(selenium.run_js(KERNEL % json.dumps(code)))


def test_notebook_cells_install_and_use_a_repaired_wheel(
    selenium_standalone: Any, serve: Serve, emwheel_wheel: Path, loader_only_wheel: Path
) -> None:
    outputs = run_cells(
        selenium_standalone, cells(selenium_standalone, serve, emwheel_wheel, loader_only_wheel)
    )
    assert outputs == [
        None,
        None,
        None,
        3 * 5 + 101,
        f"[({loader_only_wheel.name!r}, 3, 'crc32')]",
    ]


def test_wheel_installed_before_activate_is_not_loaded_by_the_loader(
    selenium_standalone: Any, serve: Serve, emwheel_wheel: Path, loader_only_wheel: Path
) -> None:
    install_loader, activate, install_wheel, *_ = cells(
        selenium_standalone, serve, emwheel_wheel, loader_only_wheel
    )
    outputs = run_cells(selenium_standalone, [install_loader, install_wheel, activate])
    assert outputs[0] is None
    (error,) = outputs[1].values()
    assert "libmid" in error, error
    assert len(outputs) == 2


def test_notebook_cells_in_a_web_worker(
    selenium_webworker_standalone: Any,
    serve: Serve,
    emwheel_wheel: Path,
    loader_only_wheel: Path,
) -> None:
    """JupyterLite's kernel runs Pyodide in a Web Worker: the same cells there (Chromium)."""
    selenium = selenium_webworker_standalone
    install_loader, activate, install_wheel, *_ = cells(
        selenium, serve, emwheel_wheel, loader_only_wheel
    )
    # run_webworker takes one string and returns its last expression: the cells in a row,
    # the outputs of the last two together as JSON.
    report = f"import json, testpkg\njson.dumps([{USE_VALUE}, {TIMINGS_VALUE}])\n"
    value, loaded = json.loads(
        selenium.run_webworker(install_loader + activate + install_wheel + report)
    )
    assert value == 3 * 5 + 101
    assert loaded == [[loader_only_wheel.name, 3, "crc32"]]
