"""Faults at runtime, in real Pyodide (issue 7): a library that cannot be instantiated, an
install stopped by an exception in the middle of its loads, two concurrent installs that
share a provider, and hostile manifests. After each: the error names the wheel, the library
and the cause; the loader's state is clean (no load left pending, no library half
registered, its hooks in place, no import left under way); the next install of a good wheel
works and its module runs.

The faulty modules are built from C (tests/c/fault_*.c, tests/support/build_modules.py).
"""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path
from typing import Any

import pytest
from pytest_pyodide import run_in_pyodide

from emwheel.repair import repair_wheel
from emwheel.repair_plan import RepairOptions
from emwheel_loader.manifest import MANIFEST_FILENAME, Manifest, ModuleEntry, NeededEntry

from support.module_edit import with_needed
from support.wheel_builder import build_wheel

pytestmark = pytest.mark.runtime

MODES = pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])

# -- run inside Pyodide (pytest-pyodide needs them in the test module) ----------------------


@run_in_pyodide(packages=["micropip"])
async def fault_then_good(
    selenium: Any,
    loader: str,
    lazy: bool,
    batches: list[list[str]],
    import_bad: str | None,
    good: list[str],
    good_packages: list[str],
) -> dict[str, Any]:
    """Activate the loader, install ``batches`` (the installs of a batch at the same time,
    with asyncio.gather), import ``import_bad`` if given, then look at the loader's state,
    install ``good`` one after the other and call ``compute(3)`` of each of ``good_packages``."""
    import asyncio
    import importlib
    from importlib.machinery import ExtensionFileLoader

    import micropip
    import pyodide
    import pyodide_js
    from pyodide.code import run_js
    from pyodide_js._module import LDSO

    import js

    await micropip.install(loader)
    import emwheel_loader
    from emwheel_loader import activation

    if not lazy:  # every module the install loads is compiled ahead (see test_compile_ahead)
        activation.PRECOMPILE_MIN = 0
    emwheel_loader.activate(lazy=lazy)

    async def install(url: str) -> str | None:
        try:
            await micropip.install(url, deps=False)
        except Exception as e:
            return str(e)
        return None

    install_errors = []
    for batch in batches:
        install_errors += await asyncio.gather(*(install(url) for url in batch))
    import_error = None
    if import_bad is not None:
        try:
            importlib.import_module(import_bad)
        except ImportError as e:
            import_error = f"{type(e).__name__}: {e}"

    loader_state = activation._loader
    assert loader_state is not None
    hook = loader_state.hook
    pending = run_js(
        """(hook, LDSO, GOT) => ({
            loading: Object.entries(LDSO.loadedLibsByName)
                .filter(([, dso]) => dso.exports === "loading").map(([key]) => key),
            loads: [...hook.loads.keys()],
            providers: [...hook.providers.entries()].map(([name, p]) => `${name} ${p.path}`),
            waiters: [...hook.waiters.keys()],
            importDepth: hook.imports.length,
            hidden: hook.hidden.size,
            installCompiles: hook.installCompiles.size,
            // the faulty modules' symbols: the undefined one, and their exports
            got: ["fault_missing_data", "fault_value", "PyInit__faultdata", "PyInit__faultext"]
                .filter((name) => name in GOT),
        })"""
    )(hook, LDSO, pyodide_js._module.GOT).to_py()
    state = {
        **pending,
        "keys": sorted(js.Object.keys(LDSO.loadedLibsByName)),
        "dlopen_hooked": bool(
            run_js("(m, hook) => m._emscripten_dlopen_promise === hook.dlopen")(
                pyodide_js._module, hook
            )
        ),
        "unpack_hooked": pyodide._package_loader.unpack_buffer == loader_state.unpack_buffer,
        "import_hooked": ExtensionFileLoader.create_module.__qualname__
        == "ImportWatch.install.<locals>.create_module",
    }
    for batch in good:
        await micropip.install(batch, deps=False)
    values = [int(importlib.import_module(p).compute(3)) for p in good_packages]
    return {
        "install_errors": install_errors,
        "import_error": import_error,
        "state": state,
        "good_values": values,
        "keys_after": sorted(js.Object.keys(LDSO.loadedLibsByName)),
    }


# -- wheels ---------------------------------------------------------------------------------

GOOD_INIT = b"from ._testext import compute\n"
FAULT_INIT = b"from ._faultext import compute\n"


def repaired(
    tmp: Path, name: str, files: dict[str, bytes], tag: str, libs: dict[str, bytes], **options: Any
) -> Path:
    """``files`` packed as wheel ``name`` 1.0, repaired with ``libs`` (file name -> bytes)
    in its library folder."""
    libdir = tmp / f"libs-{name}"
    libdir.mkdir(parents=True)
    for lib, data in libs.items():
        (libdir / lib).write_bytes(data)
    wheel = build_wheel(tmp / f"in-{name}", name, "1.0", files, tag=tag)
    return repair_wheel(
        wheel, tmp / f"out-{name}", RepairOptions(libdirs=(libdir,), **options)
    ).output


def good_wheel(tmp: Path, modules: dict[str, bytes], tag: str, name: str = "good_pkg") -> Path:
    files = {
        f"{name}/__init__.py": GOOD_INIT,
        f"{name}/_testext.abi3.so": modules["_testext.abi3.so"],
    }
    libs = {lib: modules[lib] for lib in ("libmid.so", "libbase.so")}
    return repaired(tmp, name, files, tag, libs)


def nodata_wheel(tmp: Path, modules: dict[str, bytes], tag: str) -> Path:
    """faultpkg: its extension NEEDs libnodata.so, which uses data nobody defines."""
    files = {
        "faultpkg/__init__.py": FAULT_INIT,
        "faultpkg/_faultext.abi3.so": modules["_faultext_nodata.abi3.so"],
    }
    return repaired(tmp, "faultpkg", files, tag, {"libnodata.so": modules["libnodata.so"]})


def trap_wheel(tmp: Path, modules: dict[str, bytes], tag: str) -> Path:
    """faultpkg: its extension NEEDs libtrap.so, which NEEDs libbase.so and traps in its
    constructor: the install stops after libbase is loaded."""
    files = {
        "faultpkg/__init__.py": FAULT_INIT,
        "faultpkg/_faultext.abi3.so": modules["_faultext_trap.abi3.so"],
    }
    libs = {lib: modules[lib] for lib in ("libtrap.so", "libbase.so")}
    return repaired(tmp, "faultpkg", files, tag, libs)


def data_extension_wheel(tmp: Path, modules: dict[str, bytes], tag: str) -> Path:
    """faultpkg: an extension module (no library) that uses data nobody defines."""
    files = {
        "faultpkg/__init__.py": b"from ._faultdata import compute\n",
        "faultpkg/_faultdata.abi3.so": modules["_faultdata.abi3.so"],
    }
    return repaired(tmp, "faultpkg", files, tag, {})


def urls(selenium: Any, serve: Any, *wheels: Path) -> list[str]:
    return [serve(selenium, wheel) for wheel in wheels]


def assert_clean(state: dict[str, Any], *gone: str) -> None:
    """The loader's state after a fault: nothing half loaded, hooks in place."""
    assert state["loading"] == []  # no entry Emscripten would take as loaded
    assert state["got"] == []  # nothing of the failed modules in the GOT
    assert state["waiters"] == []
    assert state["importDepth"] == 0 and state["hidden"] == 0
    assert state["installCompiles"] == 0  # none kept for loads that will not come
    assert state["dlopen_hooked"] and state["unpack_hooked"] and state["import_hooked"]
    for part in gone:
        assert not [k for k in state["keys"] if part in k], (part, state["keys"])
        assert not [p for p in state["providers"] if part in p], (part, state["providers"])
        assert not [p for p in state["loads"] if part in p], (part, state["loads"])


# -- a library that cannot be instantiated --------------------------------------------------


@MODES
def test_a_library_with_undefined_data(
    selenium_standalone: Any,
    serve: Any,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    tmp_path: Path,
    lazy: bool,
) -> None:
    bad = nodata_wheel(tmp_path, module_bytes, wheel_tag)
    good = good_wheel(tmp_path, module_bytes, wheel_tag)
    loader, bad_url, good_url = urls(selenium_standalone, serve, loader_wheel, bad, good)
    result = fault_then_good(
        selenium_standalone, loader, lazy, [[bad_url]], None, [good_url], ["good_pkg"]
    )
    (error,) = result["install_errors"]
    # Libraries load at install in both modes: the install fails.
    assert error is not None
    assert f"{bad.name}: faultpkg.libs/libnodata-" in error
    assert "fault_missing_data" in error
    assert_clean(result["state"], "libnodata", "faultpkg/_faultext")
    assert result["good_values"] == [3 * 3 + 101]


@MODES
def test_an_extension_module_with_undefined_data(
    selenium_standalone: Any,
    serve: Any,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    tmp_path: Path,
    lazy: bool,
) -> None:
    bad = data_extension_wheel(tmp_path, module_bytes, wheel_tag)
    good = good_wheel(tmp_path, module_bytes, wheel_tag)
    loader, bad_url, good_url = urls(selenium_standalone, serve, loader_wheel, bad, good)
    result = fault_then_good(
        selenium_standalone, loader, lazy, [[bad_url]], "faultpkg", [good_url], ["good_pkg"]
    )
    (install_error,) = result["install_errors"]
    import_error = result["import_error"]
    if lazy:
        # Loaded on first import: the install works, the import fails.
        assert install_error is None
        assert import_error is not None and import_error.startswith("ImportError: ")
        error = import_error
    else:
        assert install_error is not None
        error = install_error
    assert f"{bad.name}: faultpkg/_faultdata.abi3.so: " in error
    assert "fault_missing_data" in error
    assert_clean(result["state"], "_faultdata")
    assert result["good_values"] == [3 * 3 + 101]


# -- an install stopped by an exception in the middle of its loads -------------------------


@MODES
def test_a_constructor_that_traps_in_the_middle_of_an_install(
    selenium_standalone: Any,
    serve: Any,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    tmp_path: Path,
    lazy: bool,
) -> None:
    bad = trap_wheel(tmp_path, module_bytes, wheel_tag)
    good = good_wheel(tmp_path, module_bytes, wheel_tag)
    loader, bad_url, good_url = urls(selenium_standalone, serve, loader_wheel, bad, good)
    result = fault_then_good(
        selenium_standalone, loader, lazy, [[bad_url]], "faultpkg", [good_url], ["good_pkg"]
    )
    (error,) = result["install_errors"]
    assert error is not None
    assert f"{bad.name}: faultpkg.libs/libtrap-" in error
    assert "unreachable" in error  # the trap
    state = result["state"]
    # Stopped in the middle: libbase (loaded before) stays loaded, libtrap is not there.
    assert any(k.startswith("libbase-") for k in state["keys"])
    assert_clean(state, "libtrap", "faultpkg/_faultext")
    # Importing what was left on disk loads libtrap again (as the extension's NEEDED), which
    # traps again; the import's error names the wheel and the module imported.
    import_error = result["import_error"]
    assert import_error is not None
    assert import_error.startswith(f"ImportError: {bad.name}: faultpkg/_faultext.abi3.so: ")
    assert "unreachable" in import_error
    assert result["good_values"] == [3 * 3 + 101]


# -- two concurrent installs that share a provider ------------------------------------------


def provider_wheel(tmp: Path, name: str, library: bytes, tag: str) -> Path:
    """``name`` ships ``library`` as libbase.so, for other wheels."""
    files = {f"{name}/__init__.py": b"", f"{name}/libbase.so": library}
    return repaired(tmp, name, files, tag, {})


def consumer_wheel(tmp: Path, name: str, modules: dict[str, bytes], tag: str) -> Path:
    """``name``'s extension NEEDs libmid, which NEEDs libbase.so, left to another wheel."""
    files = {
        f"{name}/__init__.py": GOOD_INIT,
        f"{name}/_testext.abi3.so": modules["_testext.abi3.so"],
    }
    libs = {"libmid.so": modules["libmid.so"]}
    return repaired(tmp, name, files, tag, libs, exclude=("libbase.so",))


@MODES
def test_two_concurrent_installs_share_a_provider(
    selenium_standalone: Any,
    serve: Any,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    tmp_path: Path,
    lazy: bool,
) -> None:
    provider = provider_wheel(tmp_path, "provpkg", module_bytes["libbase.so"], wheel_tag)
    one, two = (consumer_wheel(tmp_path, n, module_bytes, wheel_tag) for n in ("cons_a", "cons_b"))
    loader, *wheels = urls(selenium_standalone, serve, loader_wheel, one, two, provider)
    result = fault_then_good(
        selenium_standalone, loader, lazy, [wheels], None, [], ["cons_a", "cons_b"]
    )
    assert result["install_errors"] == [None, None, None]
    assert_clean(result["state"])
    (provided,) = [p for p in result["state"]["providers"] if p.startswith("libbase.so ")]
    assert provided.endswith("/provpkg/libbase.so")
    assert result["good_values"] == [3 * 3 + 101] * 2


@MODES
def test_a_shared_provider_that_fails_in_two_concurrent_installs(
    selenium_standalone: Any,
    serve: Any,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    tmp_path: Path,
    lazy: bool,
) -> None:
    # badprov's libbase.so uses data nobody defines; then goodprov provides the real one.
    bad = provider_wheel(tmp_path, "badprov", module_bytes["libnodata.so"], wheel_tag)
    good = provider_wheel(tmp_path, "goodprov", module_bytes["libbase.so"], wheel_tag)
    one, two, three = (
        consumer_wheel(tmp_path, n, module_bytes, wheel_tag) for n in ("cons_a", "cons_b", "cons_c")
    )
    loader, *wheels = urls(selenium_standalone, serve, loader_wheel, one, two, bad, good, three)
    result = fault_then_good(
        selenium_standalone, loader, lazy, [wheels[:3]], None, wheels[3:], ["cons_c"]
    )
    errors = result["install_errors"]
    assert None not in errors, errors
    for wheel, error in zip((one, two), errors[:2], strict=True):
        name = wheel.name.split("-")[0]
        # Each names its wheel, its library and what it needs; and why that is not there:
        # it failed to load (or, when this wheel came after the failure, nothing provides it).
        assert f"{wheel.name}: {name}.libs/libmid-" in error, error
        assert "needs libbase.so" in error
        assert "fault_missing_data" in error or "no installed wheel provides it" in error
    assert f"{bad.name}: badprov/libbase.so: " in errors[2]
    assert "fault_missing_data" in errors[2]
    assert_clean(result["state"], "badprov")
    # The library goodprov provides under the same name is the one loaded now.
    assert result["good_values"] == [3 * 3 + 101]
    assert not [k for k in result["keys_after"] if "badprov" in k]


# -- hostile manifests: refused by the loader in Pyodide ------------------------------------


def manifest_wheel(tmp: Path, files: dict[str, bytes], entries: list[ModuleEntry]) -> Path:
    """Wheel pkg 1.0 holding ``files`` and a manifest listing ``entries`` in that order."""
    manifest = Manifest("pkg", "1.0", "test", tuple(entries), tuple(e.path for e in entries))
    files = {**files, f"pkg.libs/{MANIFEST_FILENAME}": manifest.to_json().encode()}
    return build_wheel(tmp / "hostile", "pkg", "1.0", files, tag=TAG)


TAG = "cp312-abi3-pyemscripten_2026_0_wasm32"


def entry(path: str, data: bytes, *needed: NeededEntry, crc32: int | None = None) -> ModuleEntry:
    digest = hashlib.sha256(data).hexdigest()
    crc = zlib.crc32(data) if crc32 is None else crc32
    return ModuleEntry(path, "shared", digest, len(data), needed, crc32=crc)


def outside(tmp: Path, base: bytes) -> tuple[Path, str]:
    wheel = manifest_wheel(tmp, {"pkg/libbase.so": base}, [entry("../evil.so", base)])
    return wheel, "emwheel-manifest.json: module path '../evil.so' points outside the install root"


def crc_mismatch(tmp: Path, base: bytes) -> tuple[Path, str]:
    files = {"pkg/libbase.so": base}
    wrong = zlib.crc32(base) ^ 1
    wheel = manifest_wheel(tmp, files, [entry("pkg/libbase.so", base, crc32=wrong)])
    return wheel, "pkg/libbase.so: crc32 mismatch: the file has "


def needed_cycle(tmp: Path, base: bytes) -> tuple[Path, str]:
    a, b = with_needed(base, "libb.so"), with_needed(base, "liba.so")
    files = {"pkg/liba.so": a, "pkg/libb.so": b}
    entries = [
        entry("pkg/liba.so", a, NeededEntry("libb.so", "pkg/libb.so")),
        entry("pkg/libb.so", b, NeededEntry("liba.so", "pkg/liba.so")),
    ]
    return manifest_wheel(tmp, files, entries), (
        "emwheel-manifest.json: load_order puts pkg/liba.so before pkg/libb.so"
    )


def system_library(tmp: Path, base: bytes) -> tuple[Path, str]:
    wheel = manifest_wheel(tmp, {"pkg.libs/libc.so": base}, [entry("pkg.libs/libc.so", base)])
    return wheel, "pkg.libs/libc.so: named like libc, which Pyodide's main module already holds"


@pytest.mark.parametrize("make", [outside, crc_mismatch, needed_cycle, system_library])
def test_a_hostile_manifest_is_refused(
    selenium_standalone: Any,
    serve: Any,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    tmp_path: Path,
    make: Any,
) -> None:
    bad, problem = make(tmp_path, module_bytes["libbase.so"])
    bad = bad.rename(bad.with_name(bad.name.replace(TAG, wheel_tag)))
    good = good_wheel(tmp_path, module_bytes, wheel_tag)
    loader, bad_url, good_url = urls(selenium_standalone, serve, loader_wheel, bad, good)
    result = fault_then_good(
        selenium_standalone, loader, True, [[bad_url]], None, [good_url], ["good_pkg"]
    )
    (error,) = result["install_errors"]
    assert error is not None and f"{bad.name}: {problem}" in error
    assert_clean(result["state"], "pkg/lib", "pkg.libs/lib", "evil")
    assert result["good_values"] == [3 * 3 + 101]
