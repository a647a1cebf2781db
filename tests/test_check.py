"""`emwheel check` on real wheels and on wheels built from the C test modules."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from emwheel.check import check_wheel
from emwheel.errors import WasmFormatError
from emwheel.pyodide_abi import load_shipped_abi
from emwheel.symbol_tables import export_names
from emwheel.wasm_module import SectionId, WasmModule

from cli_runner import SCHEMAS, run_cli, run_cli_process
from support.derive import derive_unrepaired
from support.real_wheels import REAL_WHEELS, fetch_real_wheel
from support.wheel_builder import build_wheel

TAG = "cp312-abi3-pyemscripten_2026_0_wasm32"


def validate_check_json(document: object) -> None:
    import json

    schema = json.loads((SCHEMAS / "check.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)


def one_module_wheel(tmp_path: Path, module_bytes: dict[str, bytes], name: str) -> Path:
    return build_wheel(tmp_path, "pkg", "1.0", {f"pkg/{name}": module_bytes[name]}, tag=TAG)


@pytest.mark.realwheels
@pytest.mark.parametrize("key", [k for k in sorted(REAL_WHEELS) if k != "awkward-cpp-cp313"])
def test_real_wheels_pass_against_314(capsys: pytest.CaptureFixture[str], key: str) -> None:
    result = run_cli(capsys, "check", "--json", "--pyodide", "314.0.7", fetch_real_wheel(key))
    assert result.code == 0, result.out
    document = result.json()
    validate_check_json(document)
    (report,) = document["reports"]
    assert report["verdict"] == "loads"
    assert report["target"]["abi"] == "pyemscripten_2026_0"


@pytest.mark.realwheels
def test_a_cp314_wheel_fails_against_0_29_3_with_the_abi_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run_cli(capsys, "check", "--pyodide", "0.29.3", fetch_real_wheel("awkward-cpp"))
    assert result.code == 1
    assert "WILL NOT LOAD in Pyodide 0.29.3" in result.out
    assert "platform pyemscripten_2026_0_wasm32 is not pyemscripten_2025_0_wasm32" in result.out
    assert "interpreter cp314 is not cp313" in result.out


@pytest.mark.realwheels
def test_grill_usd_core_needs_the_runtimes_it_was_seen_to_need(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Node 20 cannot compile it, Node 24 and Chromium 156 can (NOTES.md, tests/runtime).
    document = run_cli(capsys, "check", "--json", fetch_real_wheel("grill-usd-core")).json()
    (report,) = document["reports"]
    library = next(m for m in report["modules"] if m["path"].endswith("libusd_ms.so"))
    assert "function-references" in library["features"]
    assert report["runtimes"]["node"] == "22.0.0"
    assert report["runtimes"]["chrome"] == 119
    assert "function-references" in [r["feature"] for r in report["runtimes"]["set_by"]]


def test_a_function_nobody_provides_is_named(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    wheel = one_module_wheel(tmp_path, module_bytes, "libundefined.so")
    result = run_cli(capsys, "check", "--json", wheel)
    assert result.code == 0  # it loads: only a call to the function stops Pyodide
    (report,) = result.json()["reports"]
    (finding,) = report["findings"]
    assert (finding["severity"], finding["code"]) == ("warning", "undefined-function")
    assert "nobody_defines_this" in finding["message"]
    strict = run_cli(capsys, "check", "--strict", wheel)
    assert strict.code == 1
    assert "nobody_defines_this" in strict.out


@pytest.mark.parametrize(
    ("name", "symbol"),
    [("libundefinedptr.so", "nobody_has_this"), ("libscale.so", "base_scale")],
    ids=["function-address", "data"],
)
def test_symbols_bound_at_load_time_make_it_fail(
    capsys: pytest.CaptureFixture[str],
    module_bytes: dict[str, bytes],
    tmp_path: Path,
    name: str,
    symbol: str,
) -> None:
    wheel = one_module_wheel(tmp_path, module_bytes, name)
    result = run_cli(capsys, "check", "--json", wheel)
    assert result.code == 1
    document = result.json()
    validate_check_json(document)
    (report,) = document["reports"]
    assert report["verdict"] == "will not load"
    (module,) = report["modules"]
    assert [u["name"] for u in module["unresolved"]] == [symbol]
    assert module["unresolved"][0]["effect"] == "load fails"
    assert [f["code"] for f in report["findings"]] == ["undefined-symbol"]


def test_data_of_a_library_loaded_earlier_in_the_wheel_counts(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    # Pyodide dlopens a wheel's libraries in archive order, and data symbols are bound at
    # load: libbase.so first works, libscale.so first does not (tests/runtime saw both).
    in_order = {
        "pkg/libbase.so": module_bytes["libbase.so"],
        "pkg/libscale.so": module_bytes["libscale.so"],
    }
    wheel = build_wheel(tmp_path / "a", "pkg", "1.0", in_order, tag=TAG)
    result = run_cli(capsys, "check", "--json", wheel)
    assert result.code == 0, result.out
    modules = {m["path"]: m for m in result.json()["reports"][0]["modules"]}
    assert modules["pkg/libscale.so"]["resolved_by"]["wheel"] >= 1
    reversed_order = dict(reversed(list(in_order.items())))
    wheel = build_wheel(tmp_path / "b", "pkg", "1.0", reversed_order, tag=TAG)
    result = run_cli(capsys, "check", "--json", wheel)
    assert result.code == 1
    codes = [f["code"] for f in result.json()["reports"][0]["findings"]]
    assert codes == ["defined-too-late", "undefined-symbol"]


@pytest.mark.realwheels
def test_a_derived_wheel_without_its_library_lists_that_librarys_symbols(
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = fetch_real_wheel("grill-usd-core")
    derived = derive_unrepaired(source, ("grill_usd_core.libs/libusd_ms.so",))
    report = check_wheel(derived.wheel, load_shipped_abi("314.0.7"))
    assert not report.loads
    codes = {f.code for f in report.findings}
    assert {"missing-library", "undefined-symbol"} <= codes
    library = WasmModule.parse((derived.libdir / "libusd_ms.so").read_bytes())
    header = library.section(SectionId.EXPORT)
    assert header is not None
    exported = {n.decode() for n in export_names(library.data[header.payload_offset : header.end])}
    unresolved = {u.name for m in report.modules for u in m.unresolved}
    assert unresolved and unresolved <= exported
    tf = next(m for m in report.modules if m.path == "pxr/Tf/_tf.so")
    assert len(tf.unresolved) > 100


def test_check_of_a_pyodide_distribution_folder(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    import subprocess
    import sys

    dist = subprocess.run(
        [sys.executable, "tools/pyodide_dist.py", "--version", "314.0.7"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    wheel = one_module_wheel(tmp_path, module_bytes, "libbase.so")
    result = run_cli(capsys, "check", "--pyodide-dist", dist, wheel)
    assert result.code == 0, result.out + result.err
    assert "loads in Pyodide 314.0.7" in result.out


def test_bad_input_exit_code_2(tmp_path: Path, module_bytes: dict[str, bytes]) -> None:
    bad = tmp_path / "pkg-1.0-py3-none-any.whl"
    bad.write_text("not a zip")
    result = run_cli_process("check", bad)
    assert result.code == 2
    assert (
        result.err
        == f"emwheel: error: {bad}: not a readable zip archive (File is not a zip file)\n"
    )
    cut = build_wheel(
        tmp_path / "c", "pkg", "1.0", {"pkg/x.so": module_bytes["libbase.so"][:60]}, tag=TAG
    )
    result = run_cli_process("check", "--json", cut)
    assert result.code == 2 and result.out == ""
    assert "runs past the end" in result.err and "Traceback" not in result.err


def test_unknown_pyodide_version_is_bad_input(
    tmp_path: Path, module_bytes: dict[str, bytes]
) -> None:
    wheel = one_module_wheel(tmp_path, module_bytes, "libbase.so")
    result = run_cli_process("check", "--pyodide", "0.1.0", wheel)
    assert result.code == 2
    assert "0.1.0" in result.err and "Traceback" not in result.err
    assert len(result.err.splitlines()) == 1


@pytest.mark.realwheels
def test_worker_processes_give_the_same_report_as_one_process() -> None:
    """grill-usd-core (108 MB of wasm) is read by one process per core by default."""
    wheel = fetch_real_wheel("grill-usd-core")
    abi = load_shipped_abi("314.0.7")
    assert check_wheel(wheel, abi, jobs=2) == check_wheel(wheel, abi, jobs=1)


def test_worker_processes_report_the_first_bad_module_in_archive_order(
    tmp_path: Path, module_bytes: dict[str, bytes]
) -> None:
    good = module_bytes["libbase.so"]
    files = {"pkg/a_good.so": good, "pkg/b_cut.so": good[:60], "pkg/c_cut.so": good[:50]}
    wheel = build_wheel(tmp_path, "pkg", "1.0", files, tag=TAG)
    with pytest.raises(WasmFormatError, match=r"!pkg/b_cut\.so: .*runs past the end"):
        check_wheel(wheel, load_shipped_abi("314.0.7"), jobs=2)
