"""The runtime loader in real Pyodide: wheels installed with micropip, loaded by manifest."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_pyodide import run_in_pyodide

from emwheel.repair import repair_wheel
from emwheel.repair_plan import RepairOptions

from support.manifest_edit import as_version_1
from support.module_edit import with_needed
from support.wheel_builder import build_wheel

pytestmark = pytest.mark.runtime

INIT = b"from ._testext import compute\n"
Serve = Callable[[Any, Path], str]

# -- run inside Pyodide (pytest-pyodide needs them in the test module) ----------------------


@run_in_pyodide(packages=["micropip"])
async def install_urls(
    selenium: Any,
    urls: list[str],
    loader: str | None = None,
    index: str | None = None,
    lazy: bool | None = None,
) -> str | None:
    """micropip.install the wheels in one call. With ``loader`` (the loader wheel's URL),
    install emwheel_loader first and activate it (``lazy`` None: the default mode). With
    ``index`` (a simple index URL), dependencies are resolved from it. Returns the error
    text, or None."""
    import micropip

    if loader:
        await micropip.install(loader)
        import emwheel_loader

        if lazy is None:
            emwheel_loader.activate()
        else:
            emwheel_loader.activate(lazy=lazy)
    try:
        if index:
            await micropip.install(urls, index_urls=[index])
        else:
            await micropip.install(urls, deps=False)
    except Exception as e:
        return str(e)
    return None


@run_in_pyodide
def call_compute(selenium: Any, package: str, x: int) -> int:
    import importlib

    return int(importlib.import_module(package).compute(x))


@run_in_pyodide
def loaded_copies(selenium: Any, name_part: str) -> tuple[int, list[str]]:
    """How many distinct libraries Emscripten's cache holds under keys containing
    ``name_part``, and those keys."""
    from pyodide_js._module import LDSO

    import js

    keys = [k for k in js.Object.keys(LDSO.loadedLibsByName) if name_part in k]
    copies = js.Set.new()
    for key in keys:
        copies.add(getattr(LDSO.loadedLibsByName, key))
    return copies.size, keys


@pytest.fixture
def libdir(test_modules: dict[str, Path], tmp_path: Path) -> Path:
    folder = tmp_path / "libdir"
    folder.mkdir()
    for name in ("libmid.so", "libbase.so"):
        shutil.copy(test_modules[name], folder / name)
    return folder


def make_repaired(
    tmp: Path,
    modules: dict[str, bytes],
    tag: str,
    libdir: Path,
    name: str = "testpkg",
    **options: Any,
) -> Path:
    files = {f"{name}/__init__.py": INIT, f"{name}/_testext.abi3.so": modules["_testext.abi3.so"]}
    wheel = build_wheel(tmp / f"dist-{name}", name, "1.0", files, tag=tag)
    return repair_wheel(
        wheel, tmp / f"out-{name}", RepairOptions(libdirs=(libdir,), **options)
    ).output


def rebuild(wheel: Path, out: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """A copy of a repaired wheel with some files changed, RECORD made consistent again."""
    with zipfile.ZipFile(wheel) as zf:
        files = {n: zf.read(n) for n in zf.namelist() if ".dist-info/" not in n}
    change(files)
    name, version, *_ = wheel.name.split("-")
    tag = wheel.name[len(f"{name}-{version}-") : -len(".whl")]
    return build_wheel(out, name, version, files, tag=tag)


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_repaired_wheel_loads_through_the_loader(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    libdir: Path,
    tmp_path: Path,
    lazy: bool,
) -> None:
    wheel = make_repaired(tmp_path, module_bytes, wheel_tag, libdir)
    loader = serve(selenium_standalone, loader_wheel)
    url = serve(selenium_standalone, wheel)
    assert install_urls(selenium_standalone, [url], loader, lazy=lazy) is None
    assert call_compute(selenium_standalone, "testpkg", 4) == 3 * 4 + 101
    # One copy of each library, registered under every name it is looked up by, its file
    # name included (what other wheels NEED).
    for library in ("libmid-", "libbase-"):
        copies, keys = loaded_copies(selenium_standalone, library)
        assert copies == 1, keys
        assert any(k.startswith(library) for k in keys)


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_without_runtime_path_only_the_loader_loads_it(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    libdir: Path,
    tmp_path: Path,
    lazy: bool,
) -> None:
    wheel = make_repaired(tmp_path, module_bytes, wheel_tag, libdir, runtime_path=False)
    loader = serve(selenium_standalone, loader_wheel)
    url = serve(selenium_standalone, wheel)
    assert install_urls(selenium_standalone, [url], loader, lazy=lazy) is None
    assert call_compute(selenium_standalone, "testpkg", 1) == 104


@run_in_pyodide(packages=["micropip"])
async def install_and_time(
    selenium: Any, loader: str, url: str, lazy: bool | None, hide_webcrypto: bool
) -> dict[str, Any]:
    """Install with the loader (``lazy`` None: its default mode), then import: what was
    loaded before the import, and what install_timings() reports."""
    import micropip
    from pyodide.code import run_js
    from pyodide_js._module import LDSO

    import js

    await micropip.install(loader)
    import emwheel_loader

    if hide_webcrypto:
        run_js("Object.defineProperty(crypto, 'subtle', {value: undefined, configurable: true})")
    try:
        emwheel_loader.activate(**({} if lazy is None else {"lazy": lazy}))
    finally:
        run_js("delete crypto.subtle")
    await micropip.install(url, deps=False)
    extension_loaded = any("_testext" in k for k in js.Object.keys(LDSO.loadedLibsByName))
    import testpkg

    (timings,) = emwheel_loader.install_timings()
    return {
        "extension_loaded_at_install": extension_loaded,
        "value": testpkg.compute(1),
        "timings": timings.as_dict(),
    }


@pytest.mark.parametrize(
    ("lazy", "hide_webcrypto", "version_1", "method"),
    [
        pytest.param(None, False, False, "crc32", id="default-crc32"),
        pytest.param(None, False, True, "webcrypto", id="version-1-webcrypto"),
        pytest.param(False, True, True, "hashlib", id="eager-version-1-hashlib"),
    ],
)
def test_lazy_by_default_and_install_timings(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    libdir: Path,
    tmp_path: Path,
    lazy: bool | None,
    hide_webcrypto: bool,
    version_1: bool,
    method: str,
) -> None:
    wheel = make_repaired(tmp_path, module_bytes, wheel_tag, libdir)
    if version_1:
        wheel = rebuild(wheel, tmp_path / "version-1", as_version_1)
    with zipfile.ZipFile(wheel) as zf:
        sizes = [i.file_size for i in zf.infolist() if i.filename.endswith(".so")]
    urls = serve(selenium_standalone, loader_wheel), serve(selenium_standalone, wheel)
    result = install_and_time(selenium_standalone, *urls, lazy, hide_webcrypto)
    assert result["value"] == 104
    assert result["extension_loaded_at_install"] is (lazy is False)
    timings = result["timings"]
    assert timings["wheel"] == wheel.name
    assert timings["modules"] == 3
    assert timings["loaded_at_install"] == (3 if lazy is False else 2)  # the libraries
    assert timings["hash_method"] == method
    assert timings["crc_checked"] == (0 if version_1 else 3)
    assert timings["hashed_bytes"] == (sum(sizes) if version_1 else 0)
    steps = ("manifest", "checks", "hashing", "planning", "hook")
    assert all(timings[f"{step}_seconds"] >= 0 for step in (*steps, "loading"))
    assert timings["own_seconds"] == pytest.approx(sum(timings[f"{s}_seconds"] for s in steps))
    # Emscripten's listing of the GOT in its walks is part of its loads, not own work.
    assert 0 <= timings["got_listing_seconds"] <= timings["loading_seconds"]


@run_in_pyodide
def ctypes_call(selenium: Any, folder: str, prefix: str) -> tuple[int, list[str]]:
    import ctypes
    import os
    import site

    from pyodide_js._module import LDSO

    import js

    libs = f"{site.getsitepackages()[0]}/{folder}"
    (name,) = [n for n in os.listdir(libs) if n.startswith(prefix)]
    before = set(js.Object.keys(LDSO.loadedLibsByName))
    value = ctypes.CDLL(name).base_value(2)
    return value, sorted(set(js.Object.keys(LDSO.loadedLibsByName)) - before)


def test_ctypes_finds_the_loaded_library_by_its_vendored_name(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    libdir: Path,
    tmp_path: Path,
) -> None:
    wheel = make_repaired(tmp_path, module_bytes, wheel_tag, libdir, runtime_path=False)
    loader = serve(selenium_standalone, loader_wheel)
    assert install_urls(selenium_standalone, [serve(selenium_standalone, wheel)], loader) is None
    value, new_keys = ctypes_call(selenium_standalone, "testpkg.libs", "libbase-")
    assert value == 7
    assert new_keys == []  # no second copy was loaded


@run_in_pyodide(packages=["micropip"])
async def install_concurrently(selenium: Any, loader: str, first: str, second: str) -> list[int]:
    import asyncio

    import micropip

    await micropip.install(loader)
    import emwheel_loader

    emwheel_loader.activate()
    await asyncio.gather(micropip.install(first, deps=False), micropip.install(second, deps=False))
    import pkg_one
    import pkg_two

    return [pkg_one.compute(1), pkg_two.compute(2)]


def test_two_concurrent_micropip_installs(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    libdir: Path,
    tmp_path: Path,
) -> None:
    one = make_repaired(tmp_path, module_bytes, wheel_tag, libdir, name="pkg_one")
    two = make_repaired(
        tmp_path, module_bytes, wheel_tag, libdir, name="pkg_two", runtime_path=False
    )
    urls = [serve(selenium_standalone, w) for w in (loader_wheel, one, two)]
    assert install_concurrently(selenium_standalone, *urls) == [104, 107]


@run_in_pyodide(packages=["micropip"])
async def install_bad_then_good(
    selenium: Any, loader: str, bad: str, good: str, hide_webcrypto: bool = False
) -> tuple[str, int]:
    import micropip
    from pyodide.code import run_js

    await micropip.install(loader)
    import emwheel_loader

    # Without crypto.subtle (as on a page served over plain http) the loader hashes with
    # hashlib: shadow it while the loader starts, as such a page would have it.
    if hide_webcrypto:
        run_js("Object.defineProperty(crypto, 'subtle', {value: undefined, configurable: true})")
    try:
        emwheel_loader.activate()
    finally:
        run_js("delete crypto.subtle")
    try:
        await micropip.install(bad, deps=False)
    except Exception as e:
        error = str(e)
    else:
        error = ""
    await micropip.install(good, deps=False)
    import good_pkg

    return error, good_pkg.compute(3)


def _flip_code_byte(files: dict[str, bytes], prefix: str) -> None:
    (name,) = [n for n in files if n.startswith(prefix)]
    data = bytearray(files[name])
    data[-20] ^= 0xFF  # inside the last section, after dylink.0: still a valid header
    files[name] = bytes(data)


def _garbage(files: dict[str, bytes], prefix: str) -> None:
    (name,) = [n for n in files if n.startswith(prefix)]
    files[name] = b"\x7fELF" + bytes(len(files[name]) - 4)


def _remove(files: dict[str, bytes], prefix: str) -> None:
    (name,) = [n for n in files if n.startswith(prefix)]
    del files[name]


LIBMID, EXTENSION = "testpkg.libs/libmid-", "testpkg/_testext"


def _flip_code_byte_version_1(files: dict[str, bytes], prefix: str) -> None:
    _flip_code_byte(files, prefix)
    as_version_1(files)


@pytest.mark.parametrize(
    ("change", "target", "message", "hide_webcrypto"),
    [
        # The zip entry is consistent (rebuilt), the manifest's crc32 is not.
        pytest.param(_flip_code_byte, LIBMID, "crc32 mismatch", False, id="crc-mismatch"),
        # Loaded on import (lazy): the install fails before any load all the same.
        pytest.param(
            _flip_code_byte, EXTENSION, "crc32 mismatch", False, id="crc-mismatch-extension"
        ),
        pytest.param(
            _flip_code_byte_version_1, LIBMID, "sha256 mismatch", False, id="hash-mismatch"
        ),
        # Loaded on import (lazy): the install still fails, at its last (check) step.
        pytest.param(
            _flip_code_byte_version_1, EXTENSION, "sha256 mismatch", False,
            id="hash-mismatch-extension",
        ),
        pytest.param(
            _flip_code_byte_version_1, LIBMID, "sha256 mismatch", True,
            id="hash-mismatch-hashlib",
        ),
        pytest.param(_garbage, LIBMID, "corrupt: not a WebAssembly module", False, id="corrupt"),
        pytest.param(_remove, LIBMID, "missing (the manifest lists it)", False, id="missing"),
    ],
)  # fmt: skip
def test_bad_libraries_give_a_clear_error_and_pyodide_stays_usable(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    libdir: Path,
    tmp_path: Path,
    change: Callable[[dict[str, bytes], str], None],
    target: str,
    message: str,
    hide_webcrypto: bool,
) -> None:
    repaired = make_repaired(tmp_path, module_bytes, wheel_tag, libdir)
    bad = rebuild(repaired, tmp_path / "bad", lambda files: change(files, target))
    good = make_repaired(tmp_path, module_bytes, wheel_tag, libdir, name="good_pkg")
    urls = [serve(selenium_standalone, w) for w in (loader_wheel, bad, good)]
    error, value = install_bad_then_good(selenium_standalone, *urls, hide_webcrypto)
    assert "testpkg-1.0-" in error  # the wheel
    assert target in error  # the file
    assert message in error
    assert value == 3 * 3 + 101


@run_in_pyodide
def call_scaled(selenium: Any, x: int) -> int:
    import ctypes
    import site

    return int(ctypes.CDLL(f"{site.getsitepackages()[0]}/scalepkg/libscale.so").scaled(x))


def scale_wheel(tmp_path: Path, modules: dict[str, bytes], tag: str) -> Path:
    # libscale.so reads libbase.so's base_scale but does not NEED it. In the archive it comes
    # first, as it would in a wheel whose files are not sorted.
    files = {
        "scalepkg/libscale.so": modules["libscale.so"],
        "scalepkg/libbase.so": modules["libbase.so"],
    }
    wheel = build_wheel(tmp_path / "d", "scalepkg", "1.0", files, tag=tag)
    return repair_wheel(wheel, tmp_path / "o", RepairOptions()).output


def unsorted_scale_wheel(tmp_path: Path, modules: dict[str, bytes], tag: str) -> Path:
    """The repaired scale wheel (manifest included) with libscale.so before libbase.so in
    the archive, as a wheel built by another tool may have them."""
    repaired = scale_wheel(tmp_path / "sorted", modules, tag)

    def libscale_first(files: dict[str, bytes]) -> None:
        ordered = sorted(files.items(), key=lambda item: "libscale" not in item[0])
        files.clear()
        files.update(ordered)

    return rebuild(repaired, tmp_path / "unsorted", libscale_first)


def test_a_library_using_another_without_needing_it_fails_on_stock_when_it_comes_first(
    selenium_standalone: Any,
    serve: Serve,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    tmp_path: Path,
) -> None:
    wheel = unsorted_scale_wheel(tmp_path, module_bytes, wheel_tag)
    error = install_urls(selenium_standalone, [serve(selenium_standalone, wheel)])
    assert error is not None and "base_scale" in error


def test_the_loader_loads_the_provider_globally_first_whatever_the_archive_order(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    tmp_path: Path,
) -> None:
    wheel = unsorted_scale_wheel(tmp_path, module_bytes, wheel_tag)
    url = serve(selenium_standalone, wheel)
    assert (
        install_urls(selenium_standalone, [url], serve(selenium_standalone, loader_wheel)) is None
    )
    assert call_scaled(selenium_standalone, 4) == 12


# A repaired wheel's archive is sorted, so libbase.so comes before libscale.so and stock
# Pyodide, which loads in archive order, loads it too: Emscripten binds data imports through
# one GOT for all modules, filled as libraries load, local ones included. The two tests
# above show the case the loader is for: the provider later in the archive.
def test_a_library_that_uses_another_without_needing_it(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    tmp_path: Path,
) -> None:
    wheel = scale_wheel(tmp_path, module_bytes, wheel_tag)
    url = serve(selenium_standalone, wheel)
    assert (
        install_urls(selenium_standalone, [url], serve(selenium_standalone, loader_wheel)) is None
    )
    assert call_scaled(selenium_standalone, 5) == 15


def provider_package_wheel(
    tmp_path: Path, modules: dict[str, bytes], tag: str, dist_dir: Path
) -> Path:
    """testpkg whose libmid NEEDs libemwtestbase.so, which a Pyodide package provides."""
    from emwheel.pyodide_distribution import target_from_distribution

    libdir = tmp_path / "libdir"
    libdir.mkdir()
    (libdir / "libmid.so").write_bytes(with_needed(modules["libmid.so"], "libemwtestbase.so"))
    files = {"testpkg/__init__.py": INIT, "testpkg/_testext.abi3.so": modules["_testext.abi3.so"]}
    wheel = build_wheel(tmp_path / "d", "testpkg", "1.0", files, tag=tag)
    options = RepairOptions(libdirs=(libdir,), target=target_from_distribution(dist_dir))
    return repair_wheel(wheel, tmp_path / "o", options).output


def test_a_pyodide_library_package_named_as_provider_is_loaded_first(
    pyodide_library_package: str,
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    dist_dir = Path(request.config.getoption("--dist-dir"))
    wheel = provider_package_wheel(tmp_path, module_bytes, wheel_tag, dist_dir)
    with zipfile.ZipFile(wheel) as zf:
        manifest = zf.read("testpkg.libs/emwheel-manifest.json").decode()
    assert '"package": "libemwtest"' in manifest
    loader = serve(selenium_standalone, loader_wheel)
    assert install_urls(selenium_standalone, [serve(selenium_standalone, wheel)], loader) is None
    assert call_compute(selenium_standalone, "testpkg", 2) == 107


def test_without_the_loader_the_pyodide_library_package_is_not_loaded(
    pyodide_library_package: str,
    selenium_standalone: Any,
    serve: Serve,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    dist_dir = Path(request.config.getoption("--dist-dir"))
    wheel = provider_package_wheel(tmp_path, module_bytes, wheel_tag, dist_dir)
    error = install_urls(selenium_standalone, [serve(selenium_standalone, wheel)])
    assert error is not None and 'Failed to find dynamic library "libemwtestbase.so"' in error


# -- two wheels: one ships a library, the other's extension needs it ----------------------


def two_wheels(
    tmp_path: Path, modules: dict[str, bytes], tag: str, libdir: Path
) -> tuple[Path, Path]:
    """provpkg ships libbase.so under its own name; conspkg's libmid NEEDs libbase.so,
    left out at repair time with --exclude, and conspkg declares provpkg in Requires-Dist."""
    provider_files = {"provpkg/__init__.py": b"", "provpkg/libbase.so": modules["libbase.so"]}
    provider = build_wheel(tmp_path / "dp", "provpkg", "1.0", provider_files, tag=tag)
    provider = repair_wheel(provider, tmp_path / "op", RepairOptions()).output
    (libdir / "libbase.so").unlink()
    files = {"conspkg/__init__.py": INIT, "conspkg/_testext.abi3.so": modules["_testext.abi3.so"]}
    consumer = build_wheel(tmp_path / "dc", "conspkg", "1.0", files, tag=tag, requires=("provpkg",))
    options = RepairOptions(libdirs=(libdir,), exclude=("libbase.so",))
    consumer = repair_wheel(consumer, tmp_path / "oc", options).output
    return provider, consumer


@run_in_pyodide(packages=["micropip"])
async def install_in_turn(selenium: Any, loader: str, *batches: list[str]) -> str | None:
    import micropip

    await micropip.install(loader)
    import emwheel_loader

    emwheel_loader.activate()
    try:
        for batch in batches:
            await micropip.install(batch, deps=False)
    except Exception as e:
        return str(e)
    return None


@pytest.mark.parametrize("order", ["together", "consumer-first-in-call", "provider-then-consumer"])
def test_a_library_from_another_wheel(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    libdir: Path,
    tmp_path: Path,
    order: str,
) -> None:
    provider, consumer = two_wheels(tmp_path, module_bytes, wheel_tag, libdir)
    p, c = serve(selenium_standalone, provider), serve(selenium_standalone, consumer)
    batches = {
        "together": [[p, c]],
        "consumer-first-in-call": [[c, p]],
        "provider-then-consumer": [[p], [c]],
    }[order]
    loader = serve(selenium_standalone, loader_wheel)
    assert install_in_turn(selenium_standalone, loader, *batches) is None
    assert call_compute(selenium_standalone, "conspkg", 2) == 107
    copies, keys = loaded_copies(selenium_standalone, "libbase")
    assert copies == 1, keys


def test_a_library_from_a_wheel_named_in_requires_dist(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    libdir: Path,
    tmp_path: Path,
) -> None:
    provider, consumer = two_wheels(tmp_path, module_bytes, wheel_tag, libdir)
    provider_url = serve(selenium_standalone, provider)
    page = tmp_path / "provpkg.html"
    page.write_text(f'<html><body><a href="{provider_url}">{provider.name}</a></body></html>\n')
    index = serve(selenium_standalone, page).replace("provpkg.html", "{package_name}.html")
    loader = serve(selenium_standalone, loader_wheel)
    consumer_url = serve(selenium_standalone, consumer)
    assert install_urls(selenium_standalone, [consumer_url], loader, index) is None
    assert call_compute(selenium_standalone, "conspkg", 3) == 110


def test_the_consumer_alone_gives_a_clear_error(
    selenium_standalone: Any,
    serve: Serve,
    loader_wheel: Path,
    module_bytes: dict[str, bytes],
    wheel_tag: str,
    libdir: Path,
    tmp_path: Path,
) -> None:
    _, consumer = two_wheels(tmp_path, module_bytes, wheel_tag, libdir)
    loader = serve(selenium_standalone, loader_wheel)
    error = install_urls(selenium_standalone, [serve(selenium_standalone, consumer)], loader)
    assert error is not None
    assert "conspkg-1.0-" in error and "conspkg.libs/libmid-" in error
    assert "needs libbase.so, which the wheel leaves to another wheel" in error
