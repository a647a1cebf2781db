"""The loader compiles ahead: the modules an install loads, from the moment the wheel is
planned, and in lazy mode, during the install, the extension modules Python imports later.

The C test extension is small, below the size the loader compiles ahead by default
(activation.PRECOMPILE_MIN); the tests lower that size inside Pyodide, or make the module
large with a custom section (which changes nothing of what it does). Above 8 MiB, a module
loads at install time in every runtime (Chromium's limit on synchronous compiles on a page's
main thread), compiled ahead.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_pyodide import run_in_pyodide

from support.test_package import repaired_test_package

pytestmark = pytest.mark.runtime

Serve = Callable[[Any, Path], str]


@run_in_pyodide(packages=["micropip"])
async def install_then_import(
    selenium: Any, loader: str, url: str, lazy: bool, precompile_min: int | None
) -> dict[str, Any]:
    """Install with the loader, import testpkg: install_timings() before and after."""
    import micropip

    await micropip.install(loader)
    import emwheel_loader
    from emwheel_loader import activation

    if precompile_min is not None:
        activation.PRECOMPILE_MIN = precompile_min
    emwheel_loader.activate(lazy=lazy)
    await micropip.install(url, deps=False)
    (before,) = emwheel_loader.install_timings()
    import testpkg

    value = testpkg.compute(2)
    (after,) = emwheel_loader.install_timings()
    return {"before": before.as_dict(), "after": after.as_dict(), "value": value}


def with_custom_section(module: bytes, name: bytes, size: int) -> bytes:
    """The module with a custom section of ``size`` bytes appended (valid anywhere). The
    bytes are random: zeros would compress like a zip bomb, which repair refuses."""

    def leb(n: int) -> bytes:
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    body = leb(len(name)) + name + random.Random(size).randbytes(size)
    return module + b"\x00" + leb(len(body)) + body


@pytest.mark.parametrize("lazy", [True, False], ids=["lazy", "eager"])
def test_the_extension_is_compiled_during_the_install_and_used_on_import(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    test_modules: dict[str, Path],
    wheel_tag: str,
    tmp_path: Path,
    lazy: bool,
) -> None:
    extension = test_modules["_testext.abi3.so"].read_bytes()
    wheel = repaired_test_package(tmp_path, test_modules, wheel_tag, extension)
    urls = serve(selenium_standalone, loader_wheel), serve(selenium_standalone, wheel)
    result = install_then_import(selenium_standalone, *urls, lazy, 0)
    assert result["value"] == 3 * 2 + 101
    before, after = result["before"], result["after"]
    # Every module the install loaded was instantiated from its compile ahead.
    assert before["compiled_for_install"] == before["loaded_at_install"]
    if lazy:
        assert before["loaded_at_install"] == 2  # the two libraries
        assert (before["compiled_ahead"], before["compiled_ahead_used"]) == (1, 0)
        assert (after["compiled_ahead"], after["compiled_ahead_used"]) == (1, 1)
    else:  # everything loaded at install: nothing to compile ahead
        assert before["loaded_at_install"] == 3
        assert (after["compiled_ahead"], after["compiled_ahead_used"]) == (0, 0)


def test_small_modules_are_left_to_the_import(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    test_modules: dict[str, Path],
    wheel_tag: str,
    tmp_path: Path,
) -> None:
    extension = test_modules["_testext.abi3.so"].read_bytes()
    wheel = repaired_test_package(tmp_path, test_modules, wheel_tag, extension)
    urls = serve(selenium_standalone, loader_wheel), serve(selenium_standalone, wheel)
    result = install_then_import(selenium_standalone, *urls, True, None)
    assert result["value"] == 3 * 2 + 101
    assert result["after"]["loaded_at_install"] == 2
    assert result["after"]["compiled_ahead"] == 0
    assert result["after"]["compiled_for_install"] == 0


def test_a_module_over_8_mib_loads_at_install(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    test_modules: dict[str, Path],
    wheel_tag: str,
    tmp_path: Path,
) -> None:
    plain = test_modules["_testext.abi3.so"].read_bytes()
    extension = with_custom_section(plain, b"emwheel.padding", 9 * 1024 * 1024)
    wheel = repaired_test_package(tmp_path, test_modules, wheel_tag, extension)
    urls = serve(selenium_standalone, loader_wheel), serve(selenium_standalone, wheel)
    result = install_then_import(selenium_standalone, *urls, True, None)
    assert result["value"] == 3 * 2 + 101
    after = result["after"]
    # In Node too, where a synchronous compile of it would work (activation.SYNC_LOAD_LIMIT).
    assert after["loaded_at_install"] == 3
    assert after["compiled_ahead"] == 0
    assert after["compiled_for_install"] == 1  # the extension; the libraries are small
