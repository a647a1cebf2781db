"""`emwheel repair` on many wheels at once: -j/--jobs, order, exit codes, -q/-v, aliases."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cli_runner import CliResult, run_cli, run_cli_process
from support.module_edit import with_needed
from support.wheel_builder import build_wheel

INIT = b"from ._testext import compute\n"


@pytest.fixture
def libdir(test_modules: dict[str, Path], tmp_path: Path) -> Path:
    folder = tmp_path / "sysroot"
    (folder / "lib").mkdir(parents=True)
    for name in ("libmid.so", "libbase.so"):
        shutil.copy(test_modules[name], folder / "lib" / name)
    return folder


@pytest.fixture
def batch(module_bytes: dict[str, bytes], tmp_path: Path) -> list[Path]:
    """Six wheels: four that repair, one that cannot (a library nowhere), one that is not
    a zip at all, in an order that mixes them."""
    dist = tmp_path / "dist"
    ext = module_bytes["_testext.abi3.so"]
    good = [
        build_wheel(
            dist, name, "1.0", {f"{name}/__init__.py": INIT, f"{name}/_testext.abi3.so": ext}
        )
        for name in ("pkg0", "pkg1", "pkg2", "pkg3")
    ]
    unfound = build_wheel(
        dist,
        "unfound",
        "1.0",
        {"unfound/_testext.abi3.so": with_needed(ext, "libmid.so", "libnowhere.so")},
    )
    broken = dist / "broken-1.0-cp314-abi3-pyemscripten_2026_0_wasm32.whl"
    broken.write_bytes(b"this is not a zip archive")
    return [good[0], unfound, good[1], broken, good[2], good[3]]


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _repair(out: Path, wheels: list[Path], libdir: Path, *extra: str) -> CliResult:
    return run_cli_process("repair", "-w", out, "-L", libdir, *extra, *wheels)


def test_output_and_exit_code_do_not_depend_on_the_number_of_jobs(
    batch: list[Path], libdir: Path, tmp_path: Path
) -> None:
    one = _repair(tmp_path / "j1", batch, libdir, "-j", "1")
    two = _repair(tmp_path / "j2", batch, libdir, "--jobs", "2")
    assert one.code == two.code == 2  # a bad input is the worst that happened
    assert one.out.replace(f"{tmp_path}/j1/", f"{tmp_path}/j2/") == two.out
    assert one.err == two.err
    assert _digests(tmp_path / "j1") == _digests(tmp_path / "j2")
    # the four good wheels were written; the two others left nothing behind
    assert sorted(_digests(tmp_path / "j2")) == sorted(
        w.name for w in batch if w.name.startswith("pkg")
    )
    # results come in the order the wheels were given
    repaired = [line.split()[1] for line in two.out.splitlines() if line.startswith("repaired")]
    assert repaired == [str(w) for w in batch if w.name.startswith("pkg")]
    errors = [line for line in two.err.splitlines() if line.startswith("emwheel: error:")]
    assert "unfound-1.0" in errors[0]
    assert "broken-1.0" in errors[1]
    assert "libnowhere.so" in two.err
    assert two.err.splitlines()[-1] == (
        "emwheel: 4 of 6 wheels repaired; 1 could not be repaired, 1 bad input"
    )


def test_a_wheel_that_cannot_be_repaired_exits_1_and_the_others_are_written(
    batch: list[Path], libdir: Path, tmp_path: Path
) -> None:
    wheels = [w for w in batch if not w.name.startswith("broken")]
    result = _repair(tmp_path / "out", wheels, libdir, "-j", "2")
    assert result.code == 1, result.err
    assert len(list((tmp_path / "out").iterdir())) == 4
    assert "3 could not" not in result.err
    assert result.err.splitlines()[-1].startswith("emwheel: 4 of 5 wheels repaired; 1 could")


def test_jobs_must_be_a_positive_number(
    capsys: pytest.CaptureFixture[str], batch: list[Path]
) -> None:
    for bad in ("0", "-1", "two"):
        with pytest.raises(SystemExit) as exit_info:
            run_cli(capsys, "repair", "-j", bad, batch[0])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert f"argument -j/--jobs: must be a whole number of at least 1, not '{bad}'" in err


def test_quiet_prints_only_errors_and_verbose_prints_runtime_paths_and_externals(
    capsys: pytest.CaptureFixture[str], batch: list[Path], libdir: Path, tmp_path: Path
) -> None:
    wheels = batch[:2]
    quiet = run_cli(capsys, "repair", "-q", "-j", "1", "-w", tmp_path / "q", "-L", libdir, *wheels)
    assert quiet.code == 1
    assert quiet.out == ""
    assert "libnowhere.so" in quiet.err

    verbose = run_cli(capsys, "repair", "-v", "-w", tmp_path / "v", "-L", libdir, batch[0])
    assert verbose.code == 0, verbose.err
    assert "  runtime path of pkg0/_testext.abi3.so: $ORIGIN/../pkg0.libs" in verbose.out
    assert "  runtime path of pkg0.libs/libmid-" in verbose.out
    normal = run_cli(capsys, "repair", "-w", tmp_path / "n", "-L", libdir, batch[0])
    assert "runtime path" not in normal.out
    # auditwheel-emscripten's -r/--with-runtime-paths lists the same entries
    with_paths = run_cli(
        capsys, "repair", "--with-runtime-paths", "-w", tmp_path / "r", "-L", libdir, batch[0]
    )
    assert [line for line in with_paths.out.splitlines() if "runtime path" in line] == [
        line for line in verbose.out.splitlines() if "runtime path" in line
    ]


def test_auditwheel_emscripten_option_names_are_accepted(
    capsys: pytest.CaptureFixture[str], batch: list[Path], libdir: Path, tmp_path: Path
) -> None:
    """`pyodide auditwheel repair WHEEL --libdir X --output-dir Y [--mangle|--no-mangle]`
    (auditwheel-emscripten 0.3.0, auditwheel_emscripten/cli/main.py) works unchanged."""
    ours = run_cli(capsys, "repair", "-w", tmp_path / "ours", "-L", libdir, batch[0])
    theirs = run_cli(
        capsys, "repair", batch[0], "--libdir", libdir, "--output-dir", tmp_path / "theirs",
        "--mangle",
    )  # fmt: skip
    assert ours.code == theirs.code == 0, theirs.err
    assert _digests(tmp_path / "ours") == _digests(tmp_path / "theirs")
    plain = run_cli(
        capsys, "repair", batch[0], "--libdir", libdir, "--output-dir", tmp_path / "plain",
        "--no-mangle",
    )  # fmt: skip
    assert plain.code == 0, plain.err
    assert "  vendored pkg0.libs/libmid.so" in plain.out


@pytest.mark.parametrize("command", [[], ["show"], ["repair"], ["check"]], ids=str)
def test_help_starts_with_the_description_not_a_stray_backslash(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    with pytest.raises(SystemExit):
        run_cli(capsys, *command, "--help")
    text = capsys.readouterr().out
    description = text.split("\n\n")[1]
    assert description[0].isalpha(), description[:40]
    assert "\\" not in text
    assert "Exit codes" in text


def test_a_worker_killed_from_outside_loses_no_wheel(
    module_bytes: dict[str, bytes], libdir: Path, tmp_path: Path
) -> None:
    """A worker killed mid-batch (as the kernel's out-of-memory killer would) breaks the
    pool; every wheel it had not finished is repaired again in a process of its own."""
    ext = module_bytes["_testext.abi3.so"]
    wheels = [
        build_wheel(tmp_path / "dist", name, "1.0", {f"{name}/_testext.abi3.so": ext})
        for name in (f"pkg{i:02}" for i in range(24))
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "emwheel", "repair", "-j", "2", "-w", str(tmp_path / "out"),
         "-L", str(libdir), *map(str, wheels)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()  # the workers are running
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert children, "no worker processes"
        os.kill(int(children[0]), signal.SIGKILL)
        out = process.stdout.read()  # not communicate(): it would skip what readline buffered
        err = process.stderr.read()  # a few lines at most: stderr is not a terminal
        assert process.wait(timeout=120) == 0, err
    assert (first + out).count("repaired ") == len(wheels)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(w.name for w in wheels)
