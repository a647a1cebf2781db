"""The loader marks the immutable globals of the modules it loads and Python imports
(loader/emwheel_loader/immutable_globals.js), which spares Emscripten 5 a TypeError per
exported datum; the data those globals locate must be where it was.

datapkg: the extension _dataext (tests/c/data_ext.c) exports two data symbols and reads
them through the GOT, next to testpkg's libbase.so (one exported datum), which the
extension does not need: a library, loaded at install in every mode.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_pyodide import run_in_pyodide

from emwheel.repair import repair_wheel
from emwheel.repair_plan import RepairOptions
from emwheel.wasm_imports_exports import ExternalKind, parse_export_section
from emwheel.wasm_module import SectionId, iter_section_headers

from support.wheel_builder import build_wheel

pytestmark = pytest.mark.runtime

Serve = Callable[[Any, Path], str]


def exported_globals(module: bytes) -> list[str]:
    """The globals a module exports: clang's side modules export each data symbol as an
    immutable global (its address), and no mutable one."""
    (export,) = [h for h in iter_section_headers(module) if h.id == SectionId.EXPORT]
    payload = module[export.payload_offset : export.end]
    return [e.name for e in parse_export_section(payload) if e.kind == ExternalKind.GLOBAL]


def data_package(tmp: Path, modules: dict[str, Path], tag: str) -> Path:
    files = {
        "datapkg/__init__.py": b"from ._dataext import compute\n",
        "datapkg/_dataext.abi3.so": modules["_dataext.abi3.so"].read_bytes(),
        "datapkg/libbase.so": modules["libbase.so"].read_bytes(),
    }
    wheel = build_wheel(tmp / "dist", "datapkg", "1.0", files, tag=tag)
    return repair_wheel(wheel, tmp / "repaired", RepairOptions()).output


@run_in_pyodide(packages=["micropip"])
async def install_import_and_read(
    selenium: Any, loader: str, url: str, lazy: bool, precompile_min: int | None
) -> Any:
    import ctypes

    import micropip

    await micropip.install(loader)
    import emwheel_loader
    from emwheel_loader import activation

    if precompile_min is not None:
        activation.PRECOMPILE_MIN = precompile_min
    emwheel_loader.activate(lazy=lazy)
    await micropip.install(url, deps=False)
    hook = activation._loader.hook  # type: ignore[union-attr]
    at_install = hook.markedGlobals
    import datapkg

    extension = ctypes.CDLL(datapkg._dataext.__file__)
    (timings,) = emwheel_loader.install_timings()
    return {
        "values": [datapkg.compute(i) for i in range(4)],
        "at_install": at_install,
        "after_import": hook.markedGlobals,
        # the data, through dlsym: where Emscripten's relocation put it
        "offset": ctypes.c_int.in_dll(extension, "dataext_offset").value,
        "table": list((ctypes.c_int * 4).in_dll(extension, "dataext_table")),
        "compiled_ahead_used": timings.compiled_ahead_used,
    }


@pytest.mark.parametrize(
    ("lazy", "precompile_min"),
    [(False, None), (True, None), (True, 0)],
    ids=["eager", "lazy", "lazy-compiled-ahead"],
)
def test_the_globals_of_every_loaded_module_are_marked_and_locate_the_same_data(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    test_modules: dict[str, Path],
    wheel_tag: str,
    tmp_path: Path,
    lazy: bool,
    precompile_min: int | None,
) -> None:
    wheel = data_package(tmp_path, test_modules, wheel_tag)
    urls = serve(selenium_standalone, loader_wheel), serve(selenium_standalone, wheel)
    result = install_import_and_read(selenium_standalone, *urls, lazy, precompile_min)
    assert result["values"] == [1012, 1019, 1026, 1033]
    assert (result["offset"], result["table"]) == (1000, [12, 19, 26, 33])
    library = exported_globals(test_modules["libbase.so"].read_bytes())
    extension = exported_globals(test_modules["_dataext.abi3.so"].read_bytes())
    assert library == ["base_scale"]
    assert {"dataext_table", "dataext_offset"} <= set(extension)
    # The library loads at install in every mode; the extension on import when lazy (the
    # synchronous path, with a module compiled ahead or not), at install when eager.
    assert result["at_install"] == len(library) + (0 if lazy else len(extension))
    assert result["after_import"] == len(library) + len(extension)
    assert result["compiled_ahead_used"] == (1 if precompile_min == 0 else 0)
