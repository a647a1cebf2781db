"""emwheel inside other build tools: cibuildwheel's repair-wheel-command for the Pyodide
platform, and pyodide-cli's plugin entry point (`pyodide emwheel ...`)."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import distribution, entry_points
from pathlib import Path

import click
import pytest

from cli_runner import run_cli_process
from support.wheel_builder import build_wheel

# The line docs/integration.md gives for pyproject.toml, as a user would write it.
REPAIR_WHEEL_COMMAND = "emwheel repair -w {dest_dir} {wheel} -L {project}/wasm-libs"

# pyodide-cli 0.5.0's loading of plugins (pyodide_cli/app.py: `register_plugins` and
# `main`, minus its help formatting), for Pythons it does not install on (it needs 3.12).
PLUGIN_LOOP = """
import sys
from importlib.metadata import entry_points
import click

@click.group()
def cli():
    pass

for ep in entry_points(group="pyodide.cli"):
    module = ep.load()
    if not isinstance(module, click.Command):
        raise RuntimeError(f"Invalid plugin: {ep.name}")
    cli.add_command(module, name=ep.name)
cli(prog_name="pyodide")
"""


def pyodide_command() -> list[str]:
    """`pyodide`: the real pyodide-cli where it is installed, else its loop reproduced."""
    script = Path(sys.executable).parent / "pyodide"
    if importlib.util.find_spec("pyodide_cli") is not None and script.exists():
        return [str(script)]
    return [sys.executable, "-c", PLUGIN_LOOP]


@pytest.fixture
def project(test_modules: dict[str, Path], tmp_path: Path) -> Path:
    """A project folder as cibuildwheel sees it: pyproject.toml, and the libraries a
    before-all step built into wasm-libs/lib."""
    folder = tmp_path / "project"
    (folder / "wasm-libs" / "lib").mkdir(parents=True)
    for name in ("libmid.so", "libbase.so"):
        shutil.copy(test_modules[name], folder / "wasm-libs" / "lib" / name)
    (folder / "pyproject.toml").write_text(
        f'[tool.cibuildwheel.pyodide]\nrepair-wheel-command = "{REPAIR_WHEEL_COMMAND}"\n'
    )
    return folder


@pytest.fixture
def built_wheel(module_bytes: dict[str, bytes], tmp_path: Path) -> Path:
    files = {
        "testpkg/__init__.py": b"from ._testext import compute\n",
        "testpkg/_testext.abi3.so": module_bytes["_testext.abi3.so"],
    }
    return build_wheel(tmp_path / "built", "testpkg", "1.0", files)


def _environment() -> dict[str, str]:
    """The environment with this venv's `emwheel` first on PATH, as `pip install emwheel`
    in cibuildwheel's build venv (before-build) puts it."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}


def test_cibuildwheel_repair_wheel_command_repairs_the_built_wheel(
    project: Path, built_wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cibuildwheel 4.3's own code, as platforms/pyodide.py `build` runs the repair step:
    the option read from pyproject.toml (options.py), the placeholders filled by
    util/helpers.py `prepare_command`, the line run by util/cmd.py `shell` (a shell, the
    paths unquoted), then the one wheel in the repaired_wheel folder taken."""
    from cibuildwheel.options import CommandLineArguments, compute_options
    from cibuildwheel.platforms.pyodide import all_python_configurations
    from cibuildwheel.util.cmd import shell
    from cibuildwheel.util.helpers import prepare_command

    monkeypatch.chdir(project)  # cibuildwheel runs from the project folder
    arguments = dataclasses.replace(
        CommandLineArguments.defaults(), platform="pyodide", package_dir=Path(".")
    )
    options = compute_options("pyodide", arguments, env={})
    (config,) = [c for c in all_python_configurations() if c.identifier.startswith("cp314-")]
    build_options = options.build_options(config.identifier)
    assert build_options.repair_command == REPAIR_WHEEL_COMMAND

    repaired_wheel_dir = tmp_path / "cp314-pyodide_wasm32" / "repaired_wheel"
    repaired_wheel_dir.mkdir(parents=True)
    before = built_wheel.read_bytes()
    command = prepare_command(
        build_options.repair_command,
        wheel=built_wheel,
        dest_dir=repaired_wheel_dir,
        package=build_options.package_dir,
        project=".",
    )
    assert command == (f"emwheel repair -w {repaired_wheel_dir} {built_wheel} -L ./wasm-libs")
    shell(command, env=_environment())

    (repaired,) = repaired_wheel_dir.glob("*.whl")
    assert repaired.name == built_wheel.name
    assert built_wheel.read_bytes() == before
    with zipfile.ZipFile(repaired) as archive:
        vendored = sorted(n for n in archive.namelist() if n.startswith("testpkg.libs/lib"))
    assert [name.split("-")[0] for name in vendored] == [
        "testpkg.libs/libbase",
        "testpkg.libs/libmid",
    ]


def test_cibuildwheel_repair_step_fails_the_build_when_emwheel_fails(
    project: Path, built_wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the libraries, emwheel exits 1, and cibuildwheel's `shell` (check=True)
    stops the build with that exit code, leaving no wheel in the folder."""
    from cibuildwheel.util.cmd import shell
    from cibuildwheel.util.helpers import prepare_command

    shutil.rmtree(project / "wasm-libs")
    monkeypatch.chdir(project)
    dest = tmp_path / "repaired_wheel"
    dest.mkdir()
    command = prepare_command(REPAIR_WHEEL_COMMAND, wheel=built_wheel, dest_dir=dest, project=".")
    with pytest.raises(subprocess.CalledProcessError) as failure:
        shell(command, env=_environment())
    assert failure.value.returncode == 1
    assert list(dest.iterdir()) == []


def test_the_pyodide_cli_entry_point_is_registered() -> None:
    """What pyodide-cli 0.5.0 reads: the `pyodide.cli` group, the object it names (a click
    command), and the distribution it names the plugin after (the entry point value's top
    package, `_entrypoint_to_distribution`)."""
    (ep,) = [ep for ep in entry_points(group="pyodide.cli") if ep.name == "emwheel"]
    assert ep.value == "emwheel.pyodide_cli_plugin:command"
    command = ep.load()
    assert isinstance(command, click.Command)
    assert distribution(ep.value.split(".")[0]).metadata["name"] == "emwheel"
    assert ep.dist is not None and ep.dist.metadata["name"] == "emwheel"


def test_pyodide_emwheel_repair_matches_emwheel_repair(
    project: Path, built_wheel: Path, tmp_path: Path
) -> None:
    libdir = project / "wasm-libs"
    plugin = subprocess.run(
        [*pyodide_command(), "emwheel", "repair", "-w", str(tmp_path / "plugin"),
         "-L", str(libdir), str(built_wheel)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert plugin.returncode == 0, plugin.stderr
    direct = run_cli_process("repair", "-w", tmp_path / "direct", "-L", libdir, built_wheel)
    assert direct.code == 0
    assert plugin.stdout == direct.out.replace(f"{tmp_path}/direct/", f"{tmp_path}/plugin/")
    written = {
        name: hashlib.sha256((tmp_path / name / built_wheel.name).read_bytes()).hexdigest()
        for name in ("plugin", "direct")
    }
    assert written["plugin"] == written["direct"]


def test_pyodide_emwheel_passes_help_and_exit_codes_through(built_wheel: Path) -> None:
    help_text = subprocess.run(
        [*pyodide_command(), "emwheel", "repair", "--help"], capture_output=True, text=True
    )
    assert help_text.returncode == 0
    assert help_text.stdout.startswith("usage: pyodide emwheel repair ")
    assert "--libdir" in help_text.stdout and "Exit codes" in help_text.stdout

    bad = subprocess.run(
        [*pyodide_command(), "emwheel", "check", str(built_wheel) + ".missing"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.startswith("emwheel: error: ")
    assert "Traceback" not in bad.stderr

    will_not_load = subprocess.run(
        [*pyodide_command(), "emwheel", "check", "-q", str(built_wheel)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert (will_not_load.returncode, will_not_load.stdout) == (1, "")
