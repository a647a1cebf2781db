"""Large and many: `emwheel repair` and `emwheel check` of a wheel of 2,000 modules and of
cadquery-ocp's 152 MB module, and one `emwheel repair -j 2` of 50 wheels, run as processes,
in memory bounded by the sizes.

The bound on a command's peak RSS (largest single process, from wait4; see
support/peak_memory.py) is derived from the input:

    floor + PER_MODULE * modules + 1.25 * largest module + its compressed size + SLACK

``floor`` is the same command's peak on a wheel of one small module (interpreter, imports,
the Pyodide ABI data). PER_MODULE is the bookkeeping that must grow with the number of
modules (zip entries, the plan, manifest and RECORD rows, each module's symbol names);
about 9 KiB was measured. The module term is one whole copy of the largest module, which
`check` parses in memory, its compressed bytes, and a quarter for what parsing it keeps.
Every other byte must stream: each test also asserts that its bound is below what a
non-streaming repair or check would take (every module held at once; for the one large
module, two copies of it, as reading it with ZipExtFile.read() took), so that it fails.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

from emwheel_loader.manifest import MANIFEST_FILENAME

from support.large_wheels import LIBRARIES, GeneratedWheels, many_module_wheels
from support.peak_memory import Measured, measure
from support.real_wheels import fetch_real_wheel

MODULES = 2000
PER_MODULE = 16 * 1024
SLACK = 16 * 1024 * 1024
MB = 1e6


def emwheel(*args: str | Path) -> Measured:
    return measure([sys.executable, "-m", "emwheel", *map(str, args)])


def module_infos(wheel: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(wheel) as archive:
        return [info for info in archive.infolist() if info.filename.endswith(".so")]


def modules_size(wheel: Path) -> int:
    return sum(info.file_size for info in module_infos(wheel))


def bound(floor: int, wheel: Path) -> int:
    """The bound on a command's peak RSS for ``wheel`` (see the module's docstring)."""
    modules = module_infos(wheel)
    largest = max(modules, key=lambda info: info.file_size)
    allowed = PER_MODULE * len(modules) + largest.file_size * 5 // 4 + largest.compress_size
    return floor + allowed + SLACK


def manifest_of(wheel: Path) -> dict[str, dict[str, object]]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(f".libs/{MANIFEST_FILENAME}"))
        document = json.loads(archive.read(name))
    return {entry["path"]: entry for entry in document["modules"]}


def repair_and_check(wheel: Path, out: Path, *libdir: str | Path) -> tuple[Measured, Measured]:
    repaired = emwheel("repair", wheel, "-w", out, *libdir)
    assert repaired.returncode == 0, repaired.stderr
    checked = emwheel("check", out / wheel.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return repaired, checked


@pytest.fixture(scope="module")
def floors(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, int]:
    """Peak RSS of repair and of check on a wheel of one small module."""
    one = many_module_wheels(1, 1)
    out = tmp_path_factory.mktemp("floor")
    repaired, checked = repair_and_check(one.wheels[0], out, "-L", one.libdir)
    return repaired.max_rss, checked.max_rss


@pytest.fixture(scope="module")
def thousands() -> GeneratedWheels:
    return many_module_wheels(1, MODULES)


def assert_within(what: str, run: Measured, floor: int, limit: int, must_catch: int) -> None:
    """``run``'s peak is within ``limit``, which is below ``floor + must_catch``: the extra
    memory a non-streaming implementation would take (the test could fail)."""
    assert limit < floor + must_catch, f"{what}: the bound would not catch that"
    assert run.max_rss <= limit, (
        f"{what}: peak RSS {run.max_rss / MB:.0f} MB over the bound of {limit / MB:.0f} MB "
        f"(floor {floor / MB:.0f} MB)"
    )


def test_thousands_of_modules_repair_and_check_in_bounded_memory(
    thousands: GeneratedWheels, floors: tuple[int, int], tmp_path: Path
) -> None:
    (wheel,) = thousands.wheels
    repaired, checked = repair_and_check(wheel, tmp_path, "-L", thousands.libdir)

    output = tmp_path / wheel.name
    modules = manifest_of(output)
    assert len(modules) == MODULES + len(LIBRARIES)
    vendored = sorted(str(m["vendored_from"]) for m in modules.values() if "vendored_from" in m)
    assert vendored == sorted(LIBRARIES)
    assert "verdict: loads in Pyodide" in checked.stdout

    (repair_floor, check_floor), everything = floors, modules_size(output)
    assert_within("repair", repaired, repair_floor, bound(repair_floor, output), everything)
    assert_within("check", checked, check_floor, bound(check_floor, output), everything)


@pytest.mark.realwheels
def test_large_module_repair_and_check_in_bounded_memory(
    floors: tuple[int, int], tmp_path: Path
) -> None:
    wheel = fetch_real_wheel("cadquery-ocp")
    repaired, checked = repair_and_check(wheel, tmp_path)

    output = tmp_path / wheel.name
    (module,) = manifest_of(output).values()
    assert int(str(module["size"])) > 150 * MB

    # Holding the module twice, as reading it with ZipExtFile.read() did, must fail.
    (repair_floor, check_floor), twice = floors, 2 * modules_size(output)
    assert_within("repair", repaired, repair_floor, bound(repair_floor, output), twice)
    assert_within("check", checked, check_floor, bound(check_floor, output), twice)


def test_fifty_wheels_in_one_repair_on_both_cores_in_bounded_memory(
    floors: tuple[int, int], tmp_path: Path
) -> None:
    fifty = many_module_wheels(50, 8, padding=128 * 1024)
    out = tmp_path / "out"
    run = emwheel("repair", "-j", "2", "-w", out, "-L", fifty.libdir, *fifty.wheels)
    assert run.returncode == 0, run.stderr

    written = sorted(p.name for p in out.glob("*.whl"))
    assert written == sorted(w.name for w in fifty.wheels)
    for wheel in (out / name for name in written):
        vendored = [m for m in manifest_of(wheel).values() if "vendored_from" in m]
        assert sorted(str(m["vendored_from"]) for m in vendored) == sorted(LIBRARIES)
    # Worker processes did the work: more than one process alive at once.
    assert run.tree_rss > run.max_rss
    # Each process holds one wheel at a time: the largest is bounded by one wheel's
    # bound, whatever the number of wheels (all 50 held at once would fail).
    repair_floor, _ = floors
    one_wheel = bound(repair_floor, out / written[0])
    everything = sum(modules_size(out / name) for name in written)
    assert_within("repair -j 2", run, repair_floor, one_wheel, everything)
