"""`emwheel show` on wheels and folders built from the C test modules."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from emwheel.wasm_module import WasmModule

from cli_runner import run_cli, run_cli_process, validate_show_json
from support.module_edit import with_runtime_path
from support.wheel_builder import build_wheel


def modules_by_path(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (report,) = document["reports"]
    return {m["path"]: m for m in report["modules"]}


def test_repaired_layout_resolves_through_runtime_path(
    capsys: pytest.CaptureFixture[str], repaired_style_wheel: Path
) -> None:
    result = run_cli(capsys, "show", "--json", repaired_style_wheel)
    assert result.code == 0, result.err
    document = result.json()
    validate_show_json(document)
    modules = modules_by_path(document)
    ext = modules["testpkg/_testext.abi3.so"]
    assert ext["kind"] == "extension"
    assert ext["needed"] == [
        {
            "name": "libmid.so",
            "resolution": "runtime_path",
            "path": "testpkg.libs/libmid.so",
            "provider": None,
            "candidates": [],
        }
    ]
    assert modules["testpkg.libs/libmid.so"]["kind"] == "shared"
    assert modules["testpkg.libs/libmid.so"]["needed"][0]["path"] == "testpkg.libs/libbase.so"
    (report,) = document["reports"]
    assert report["summary"] == {
        "wasm_modules": 3,
        "extensions": 1,
        "shared_libraries": 2,
        "errors": 0,
        "warnings": 0,
    }
    assert report["wheel"]["tags"] == ["cp314-abi3-pyemscripten_2026_0_wasm32"]
    assert report["targets"][0]["pyodide_versions"] == "314.x"


def test_libraries_on_no_path_are_errors(
    capsys: pytest.CaptureFixture[str], unrepaired_wheel: Path
) -> None:
    result = run_cli(capsys, "show", "--json", unrepaired_wheel)
    assert result.code == 0
    document = result.json()
    validate_show_json(document)
    needed = modules_by_path(document)["testpkg/_testext.abi3.so"]["needed"][0]
    assert needed["resolution"] == "name_only"
    assert needed["candidates"] == ["testpkg.libs/libmid.so"]
    codes = [f["code"] for f in document["reports"][0]["findings"]]
    assert codes == ["library-not-on-path", "library-not-on-path"]


def test_text_output_is_an_aligned_table_with_problems_marked(
    capsys: pytest.CaptureFixture[str], unrepaired_wheel: Path
) -> None:
    result = run_cli(capsys, "show", unrepaired_wheel)
    lines = result.out.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("PATH"))
    rows = lines[lines.index(header) + 1 : lines.index(header) + 4]
    size_column = header.index("SIZE")
    assert all(row[size_column - 2 : size_column] == "  " for row in rows)
    assert "libmid.so -> NOT ON PATH (in wheel: testpkg.libs/libmid.so)" in result.out
    assert "ERROR: testpkg/_testext.abi3.so: needs libmid.so" in result.out
    assert "\033[" not in result.out  # no colour when not writing to a terminal


def test_missing_and_pyodide_provided_libraries(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    module = WasmModule.parse(module_bytes["_testext.abi3.so"])
    assert module.dylink is not None
    needs_geos = module.encode(module.dylink.with_needed(["libgeos_c.so", "libnothere.so"]))
    wheel = build_wheel(tmp_path, "geosuser", "0.1", {"geosuser/_testext.abi3.so": needs_geos})
    result = run_cli(capsys, "show", "--json", wheel)
    document = result.json()
    validate_show_json(document)
    needed = modules_by_path(document)["geosuser/_testext.abi3.so"]["needed"]
    assert [(n["name"], n["resolution"], n["provider"]) for n in needed] == [
        ("libgeos_c.so", "pyodide", "libgeos"),
        ("libnothere.so", "missing", None),
    ]
    assert [f["code"] for f in document["reports"][0]["findings"]] == ["missing-library"]
    text = run_cli(capsys, "show", wheel).out
    assert "libgeos_c.so -> Pyodide package libgeos" in text
    assert "libnothere.so -> MISSING" in text


def test_modules_are_found_by_content_not_by_name(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    elf = Path(sys.executable).resolve().read_bytes()[:4096]
    files = {
        "pkg/oddly_named.bin": module_bytes["libbase.so"],
        "pkg/_native.so": elf,
        "pkg/notes.so": b"this is a text file, not a library\n",
        "pkg/data.txt": b"plain data",
    }
    wheel = build_wheel(tmp_path, "mixed", "1.0", files)
    document = run_cli(capsys, "show", "--json", wheel).json()
    validate_show_json(document)
    modules = modules_by_path(document)
    assert set(modules) == {"pkg/oddly_named.bin", "pkg/_native.so", "pkg/notes.so"}
    assert modules["pkg/oddly_named.bin"]["format"] == "wasm"
    assert modules["pkg/_native.so"]["format"] == "elf"
    assert modules["pkg/notes.so"]["format"] == "text"
    assert modules["pkg/_native.so"]["kind"] is None
    assert [f["code"] for f in document["reports"][0]["findings"]] == ["not-wasm", "not-wasm"]


def test_directory_and_single_module_inputs(
    capsys: pytest.CaptureFixture[str], test_modules: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "site-packages"
    (folder / "pkg").mkdir(parents=True)
    shutil.copy(test_modules["libmid.so"], folder / "libmid.so")
    shutil.copy(test_modules["libbase.so"], folder / "libbase.so")
    ext = with_runtime_path(test_modules["_testext.abi3.so"].read_bytes(), "/somewhere/else")
    (folder / "pkg" / "_testext.abi3.so").write_bytes(ext)
    document = run_cli(capsys, "show", "--json", folder, test_modules["libmid.so"]).json()
    validate_show_json(document)
    on_disk, single = document["reports"]
    assert on_disk["source_kind"] == "directory" and on_disk["wheel"] is None
    ext_report = next(m for m in on_disk["modules"] if m["path"] == "pkg/_testext.abi3.so")
    # At the top of site-packages, libmid.so is found through LD_LIBRARY_PATH.
    assert ext_report["needed"][0]["resolution"] == "library_path"
    assert ext_report["runtime_path"] == ["/somewhere/else"]
    assert single["source_kind"] == "module"
    assert single["modules"][0]["needed"][0]["resolution"] == "missing"


def test_extension_packages_and_init_names(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    files = {
        "a/_testext.abi3.so": module_bytes["_testext.abi3.so"],
        "b/_other.abi3.so": module_bytes["_testext.abi3.so"],  # PyInit__testext: wrong name
    }
    wheel = build_wheel(tmp_path, "names", "1.0", files)
    modules = modules_by_path(run_cli(capsys, "show", "--json", wheel).json())
    assert modules["a/_testext.abi3.so"]["kind"] == "extension"
    assert modules["b/_other.abi3.so"]["kind"] == "shared"


def test_unknown_platform_tag_is_flagged(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    wheel = build_wheel(
        tmp_path, "odd", "1.0", {"odd/libbase.so": module_bytes["libbase.so"]},
        tag="cp312-cp312-emscripten_3_1_45_wasm32",
    )  # fmt: skip
    document = run_cli(capsys, "show", "--json", wheel).json()
    assert document["reports"][0]["targets"] == []
    assert [f["code"] for f in document["reports"][0]["findings"]] == ["unknown-platform"]


def test_python_dash_m_and_console_script(repaired_style_wheel: Path) -> None:
    result = run_cli_process("show", repaired_style_wheel)
    assert result.code == 0, result.err
    assert "testpkg/_testext.abi3.so" in result.out
    # The console script of the environment running the tests, whatever PATH holds.
    scripts = sysconfig.get_path("scripts")
    script = shutil.which("emwheel", path=scripts)
    assert script is not None, f"the emwheel console script is not installed in {scripts}"
    run = subprocess.run([script, "show", repaired_style_wheel], capture_output=True, text=True)
    assert (run.returncode, run.stdout) == (0, result.out)
