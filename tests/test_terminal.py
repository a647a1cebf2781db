"""Terminal manners, through a real pseudo-terminal: colour and progress where a person
watches, plain text in a pipe; NO_COLOR, FORCE_COLOR and TERM=dumb respected."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.wheel_builder import build_wheel

ESC = "\033["
PROGRESS = "\r\033[K"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run_emwheel(*args: str | Path, tty_out: bool = False, tty_err: bool = False, **env: str) -> Run:
    """Run `python -m emwheel` with stdout and/or stderr on a pseudo-terminal, the other on
    a pipe. The environment has no colour variables unless given."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update({"TERM": "xterm-256color", "COLUMNS": "200"}, **env)
    streams: list[int] = []
    masters: list[int | None] = []
    for on_tty in (tty_out, tty_err):
        if on_tty:
            master, slave = pty.openpty()
            streams.append(slave)
            masters.append(master)
        else:
            streams.append(subprocess.PIPE)
            masters.append(None)
    process = subprocess.Popen(
        [sys.executable, "-m", "emwheel", *map(str, args)],
        stdout=streams[0],
        stderr=streams[1],
        env=environment,
    )
    for fd in streams:
        if fd != subprocess.PIPE:
            os.close(fd)  # the child holds its own copy; EOF comes when it exits
    texts = ["", ""]

    def drain(index: int) -> None:
        chunks = []
        master = masters[index]
        if master is None:
            pipe = process.stdout if index == 0 else process.stderr
            assert pipe is not None
            with pipe:
                chunks.append(pipe.read())
        else:
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the terminal's other side is closed
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            os.close(master)
        # a terminal turns "\n" into "\r\n"
        texts[index] = b"".join(chunks).decode().replace("\r\n", "\n")

    readers = [threading.Thread(target=drain, args=(i,)) for i in (0, 1)]
    for reader in readers:
        reader.start()
    code = process.wait(timeout=120)
    for reader in readers:
        reader.join(timeout=30)
    return Run(code, texts[0], texts[1])


@pytest.fixture
def libdir(test_modules: dict[str, Path], tmp_path: Path) -> Path:
    folder = tmp_path / "sysroot"
    folder.mkdir()
    for name in ("libmid.so", "libbase.so"):
        shutil.copy(test_modules[name], folder / name)
    return folder


@pytest.fixture
def wheels(module_bytes: dict[str, bytes], tmp_path: Path) -> list[Path]:
    ext = module_bytes["_testext.abi3.so"]
    return [
        build_wheel(tmp_path / "dist", name, "1.0", {f"{name}/_testext.abi3.so": ext})
        for name in ("alpha", "beta")
    ]


def test_show_is_coloured_on_a_terminal_and_plain_in_a_pipe(wheels: list[Path]) -> None:
    terminal = run_emwheel("show", wheels[0], tty_out=True)
    pipe = run_emwheel("show", wheels[0])
    assert terminal.code == pipe.code == 0
    assert ESC not in pipe.out
    assert f"{ESC}1m  PATH" in terminal.out  # the table's header in bold
    assert f"{ESC}1;31mlibmid.so -> MISSING{ESC}0m" in terminal.out
    # the same text and alignment once the colours are taken out
    plain = terminal.out
    for code in ("\033[1m", "\033[1;31m", "\033[33m", "\033[0m"):
        plain = plain.replace(code, "")
    assert plain == pipe.out


@pytest.mark.parametrize(
    ("env", "tty", "coloured"),
    [
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),  # no-color.org: only a non-empty value counts
        ({"FORCE_COLOR": "1"}, False, True),
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, False, False),
        ({"TERM": "dumb"}, True, False),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, False, True),
    ],
    ids=["NO_COLOR", "empty-NO_COLOR", "FORCE_COLOR-pipe", "NO_COLOR-wins", "TERM=dumb",
         "FORCE_COLOR-beats-dumb"],
)  # fmt: skip
def test_colour_follows_the_environment(
    wheels: list[Path], env: dict[str, str], tty: bool, coloured: bool
) -> None:
    result = run_emwheel("show", wheels[0], tty_out=tty, **env)
    assert result.code == 0, result.err
    assert (ESC in result.out) is coloured


def test_check_verdict_is_coloured_on_a_terminal(
    wheels: list[Path], libdir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    repaired = run_emwheel("repair", "-q", "-w", out, "-L", libdir, wheels[0])
    assert repaired.code == 0, repaired.err
    wheel = out / wheels[0].name
    terminal = run_emwheel("check", wheel, tty_out=True)
    pipe = run_emwheel("check", wheel)
    assert terminal.code == pipe.code == 0
    assert f"verdict: {ESC}32mloads{ESC}0m" in terminal.out
    assert "verdict: loads" in pipe.out and ESC not in pipe.out
    quiet = run_emwheel("check", "-q", wheel, tty_out=True)
    assert (quiet.code, quiet.out) == (0, "")
    verbose = run_emwheel("check", "-v", wheel)
    assert "resolved by: " in verbose.out and "resolved by" not in pipe.out


def test_check_quiet_still_says_why_through_the_exit_code(wheels: list[Path]) -> None:
    result = run_emwheel("check", "-q", wheels[0])  # libmid.so is missing: will not load
    assert (result.code, result.out, result.err) == (1, "", "")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_repair_shows_progress_on_a_terminal_only(
    wheels: list[Path], libdir: Path, tmp_path: Path, jobs: str
) -> None:
    terminal = run_emwheel(
        "repair", "-j", jobs, "-w", tmp_path / "t", "-L", libdir, *wheels, tty_err=True
    )
    assert terminal.code == 0, terminal.err
    assert PROGRESS in terminal.err
    if jobs == "1":
        assert f"[1/2] {wheels[0].name}: writing" in terminal.err
        assert f"[2/2] {wheels[1].name}: checking" in terminal.err
    else:
        assert "repairing with 2 processes: 0 of 2 done" in terminal.err
    assert terminal.err.endswith(PROGRESS)  # the status line is cleared at the end
    assert ESC not in terminal.out  # results go to stdout, plain when it is a pipe
    assert terminal.out.count("repaired ") == 2

    pipe = run_emwheel("repair", "-j", jobs, "-w", tmp_path / "p", "-L", libdir, *wheels)
    assert pipe.code == 0
    assert pipe.err == ""
    assert pipe.out == terminal.out.replace(f"{tmp_path}/t/", f"{tmp_path}/p/")

    for quiet_env in ({"TERM": "dumb"}, {}):
        flags = () if quiet_env else ("-q",)
        silent = run_emwheel(
            "repair", *flags, "-w", tmp_path / "s", "-L", libdir, *wheels, tty_err=True,
            **quiet_env,
        )  # fmt: skip
        assert (silent.code, silent.err) == (0, "")


def test_results_and_progress_never_share_a_line(
    wheels: list[Path], libdir: Path, tmp_path: Path
) -> None:
    """Both streams on one terminal, as a person sees them: each result line is whole."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    process = subprocess.Popen(
        [sys.executable, "-m", "emwheel", "repair", "-j", "1", "-w", str(tmp_path / "o"),
         "-L", str(libdir), *map(str, wheels)],
        stdout=slave, stderr=slave, env={**env, "TERM": "xterm", "COLUMNS": "200"},
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert process.wait(timeout=120) == 0
    screen = b"".join(chunks).decode()
    # what stays on screen: each line after the last carriage return's clearing
    lines = [line.rsplit(PROGRESS, 1)[-1] for line in screen.split("\r\n")]
    repaired = [line for line in lines if "repaired" in line]
    assert [line.split()[0] for line in repaired] == ["repaired", "repaired"]
    assert all(line.startswith(("repaired ", "  ")) or not line for line in lines), lines


def test_show_quiet_prints_only_what_is_wrong_and_verbose_adds_details(
    wheels: list[Path], libdir: Path, tmp_path: Path
) -> None:
    broken = run_emwheel("show", "-q", wheels[0])  # libmid.so is missing
    assert broken.code == 0, broken.err
    assert broken.out.splitlines()[0] == str(wheels[0])
    assert "NEEDED libmid.so -> MISSING" in broken.out
    assert "PATH" not in broken.out  # no table
    out = tmp_path / "out"
    assert run_emwheel("repair", "-q", "-w", out, "-L", libdir, wheels[0]).code == 0
    repaired = out / wheels[0].name
    assert (run_emwheel("show", "-q", repaired).out, run_emwheel("show", "-q", repaired).code) == (
        "",
        0,
    )
    normal = run_emwheel("show", repaired).out
    verbose = run_emwheel("show", "-v", repaired).out
    assert "RUNTIME_PATH $ORIGIN" in verbose and "RUNTIME_PATH $ORIGIN" not in normal
    assert " imports, " in verbose and " exports" in verbose


def test_show_prints_no_empty_line_when_its_only_input_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    result = run_emwheel("show", bad)
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("emwheel: error: ")
