"""The loader's checks and load plan on the host (loader/emwheel_loader/load_plan.py), on a
wheel repaired from the C test modules and unpacked as Pyodide would unpack it."""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from emwheel.repair import repair_wheel
from emwheel.repair_plan import RepairOptions
from emwheel_loader.errors import LoadError
from emwheel_loader.load_plan import (
    check_crcs,
    check_files,
    check_hashes,
    plan_loads,
    plan_wheel_load,
)
from emwheel_loader.manifest import MANIFEST_FILENAME, Manifest
from emwheel_loader.sized_unpack import sized_unpacking
from emwheel_loader.timings import InstallTimings

from support.wheel_builder import build_wheel

TAG = "cp312-abi3-pyemscripten_2026_0_wasm32"
WHEEL = f"testpkg-1.0-{TAG}.whl"  # the name the installer passes, used in messages


@pytest.fixture
def installed(test_modules: dict[str, Path], tmp_path: Path) -> tuple[Manifest, Path]:
    return install_repaired(test_modules, tmp_path)


def install_repaired(
    test_modules: dict[str, Path], tmp_path: Path, **options: Any
) -> tuple[Manifest, Path]:
    """The repaired testpkg unpacked into a site-packages folder, and its manifest
    (``options``: more RepairOptions)."""
    libdir = tmp_path / "libdir"
    libdir.mkdir()
    for name in ("libmid.so", "libbase.so"):
        shutil.copy(test_modules[name], libdir / name)
    files = {
        "testpkg/__init__.py": b"from ._testext import compute\n",
        "testpkg/_testext.abi3.so": test_modules["_testext.abi3.so"].read_bytes(),
    }
    wheel = build_wheel(tmp_path / "dist", "testpkg", "1.0", files, tag=TAG)
    options = RepairOptions(libdirs=(libdir,), **options)
    repaired = repair_wheel(wheel, tmp_path / "out", options).output
    root = tmp_path / "site-packages"
    with zipfile.ZipFile(repaired) as zf:
        zf.extractall(root)
    text = (root / "testpkg.libs" / MANIFEST_FILENAME).read_bytes()
    return Manifest.from_json(text, MANIFEST_FILENAME), root.resolve()


def _path(manifest: Manifest, prefix: str) -> str:
    (path,) = [m.path for m in manifest.modules if m.path.startswith(prefix)]
    return path


def test_the_plan_loads_libraries_globally_before_the_extension(
    installed: tuple[Manifest, Path],
) -> None:
    manifest, root = installed
    plan = plan_wheel_load(WHEEL, manifest, root, pyodide_packages=())
    order = [(m.library.split("/")[-1].split("-")[0], m.global_) for m in plan.modules]
    assert order == [("libbase", True), ("libmid", True), ("_testext.abi3.so", False)]
    assert [m.size for m in plan.modules] == [
        (root / m.library).stat().st_size for m in plan.modules
    ]


def test_the_three_steps_give_the_same_plan(installed: tuple[Manifest, Path]) -> None:
    manifest, root = installed
    runtime_paths = check_files(WHEEL, manifest, root)
    assert check_hashes(WHEEL, manifest.modules, root) == sum(m.size for m in manifest.modules)
    steps = plan_loads(WHEEL, manifest, root, runtime_paths, pyodide_packages=())
    assert steps == plan_wheel_load(WHEEL, manifest, root, pyodide_packages=())


def test_a_changed_byte_fails_the_hash_check_only(installed: tuple[Manifest, Path]) -> None:
    manifest, root = installed
    library = _path(manifest, "testpkg.libs/libmid-")
    data = bytearray((root / library).read_bytes())
    data[-20] ^= 0xFF
    (root / library).write_bytes(bytes(data))
    check_files(WHEEL, manifest, root)  # same size, header and NEEDED list
    with pytest.raises(LoadError, match=f"{WHEEL}: {library}: sha256 mismatch"):
        check_hashes(WHEEL, manifest.modules, root)
    plan_wheel_load(WHEEL, manifest, root, pyodide_packages=(), verify_hashes=False)


def test_the_crc_check_compares_what_zipfile_checked_while_unpacking(
    test_modules: dict[str, Path], tmp_path: Path
) -> None:
    manifest, root = install_repaired(test_modules, tmp_path)
    repaired = next((tmp_path / "out").glob("*.whl"))
    unpacked = tmp_path / "unpacked"
    with sized_unpacking() as checked_crcs:
        shutil.unpack_archive(repaired, unpacked, "zip")
    assert check_crcs(WHEEL, manifest, unpacked.resolve(), checked_crcs) == []
    # Files it did not see unpacked, or a manifest without crc32s: left to the sha256 check.
    assert check_crcs(WHEEL, manifest, root, {}) == list(manifest.modules)
    version_1 = replace(manifest, modules=tuple(replace(m, crc32=None) for m in manifest.modules))
    assert check_crcs(WHEEL, version_1, unpacked.resolve(), checked_crcs) == list(version_1.modules)


def test_a_library_swapped_after_repair_fails_the_crc_check(
    test_modules: dict[str, Path], tmp_path: Path
) -> None:
    """The wheel's zip entry is consistent (its CRC matches), the manifest's crc32 is not."""
    manifest, _ = install_repaired(test_modules, tmp_path)
    repaired = next((tmp_path / "out").glob("*.whl"))
    library = _path(manifest, "testpkg.libs/libmid-")
    swapped = tmp_path / "swapped.whl"
    with zipfile.ZipFile(repaired) as source, zipfile.ZipFile(swapped, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == library:
                data = data[:-20] + bytes(b ^ 0xFF for b in data[-20:])
            target.writestr(info, data)
    unpacked = tmp_path / "unpacked"
    with sized_unpacking() as checked_crcs:
        shutil.unpack_archive(swapped, unpacked, "zip")
    with pytest.raises(LoadError, match=f"{WHEEL}: {library}: crc32 mismatch: the file has "):
        check_crcs(WHEEL, manifest, unpacked.resolve(), checked_crcs)


def test_a_truncated_file_fails_the_file_check(installed: tuple[Manifest, Path]) -> None:
    manifest, root = installed
    library = _path(manifest, "testpkg.libs/libbase-")
    (root / library).write_bytes((root / library).read_bytes()[:-1])
    with pytest.raises(LoadError, match=f"{library}: corrupt: .* bytes, the manifest says"):
        check_files(WHEEL, manifest, root)


def test_own_seconds_is_the_sum_of_the_loaders_steps() -> None:
    timings = InstallTimings(
        "w.whl",
        manifest_seconds=1,
        checks_seconds=2,
        hashing_seconds=4,
        planning_seconds=8,
        hook_seconds=16,
        loading_seconds=32,
    )
    assert timings.own_seconds == 31  # Emscripten's loads are not the loader's work
    assert timings.as_dict()["own_seconds"] == 31


@pytest.mark.parametrize("provider_known", [False, True], ids=["unknown", "known"])
def test_a_library_left_to_another_wheel_is_loaded_first_even_when_known(
    test_modules: dict[str, Path], tmp_path: Path, provider_known: bool
) -> None:
    """libbase.so excluded at repair: libmid needs it from another wheel. Known (a wheel
    planned already provides it) or not, the hook must load it before libmid, since that
    wheel's load may not have finished or may fail; only an unknown one is waited for."""
    manifest, root = install_repaired(test_modules, tmp_path, exclude=("libbase.so",))
    known = (lambda name: name) if provider_known else (lambda name: None)
    plan = plan_wheel_load(WHEEL, manifest, root, pyodide_packages=(), known_libraries=known)
    (mid,) = [m for m in plan.modules if m.library.startswith("testpkg.libs/libmid-")]
    assert mid.from_other_wheels == ("libbase.so",)
    assert mid.wait_for == (() if provider_known else ("libbase.so",))
