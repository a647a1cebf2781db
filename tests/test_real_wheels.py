"""The reader, the writer and `emwheel show` on real wheels from PyPI (NOTES.md section 4)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from emwheel.wasm_module import WasmModule

from cli_runner import run_cli, validate_show_json

pytestmark = pytest.mark.realwheels


def wasm_entries(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        names = []
        for info in zf.infolist():
            with zf.open(info) as f:
                if f.read(4) == b"\0asm":
                    names.append(info.filename)
        return names


def test_every_module_round_trips_byte_for_byte(real_wheel: Path) -> None:
    names = wasm_entries(real_wheel)
    assert names
    with zipfile.ZipFile(real_wheel) as zf:
        for name in names:
            data = zf.read(name)
            module = WasmModule.parse(data)
            module.validate()
            dylink = module.dylink
            assert dylink is not None, name
            # Decode-encode of the section and of the whole module gives the same bytes,
            # also after "editing" NEEDED and RUNTIME_PATH to their current values.
            rebuilt = dylink.with_needed(dylink.needed).with_runtime_path(dylink.runtime_path)
            assert module.encode(rebuilt) == data, name
            assert b"".join(s.raw for s in dylink.subsections) == dylink.encode_body()
            module.imports  # noqa: B018 - must decode (newer value types included)
            module.exports  # noqa: B018


def test_rewriting_a_real_module_changes_only_its_dylink_section(
    real_wheels: dict[str, Path],
) -> None:
    with zipfile.ZipFile(real_wheels["grill-usd-core"]) as zf:
        data = zf.read("pxr/Tf/_tf.so")
    module = WasmModule.parse(data)
    assert module.dylink is not None and module.first_section is not None
    edited = module.dylink.with_needed(["libusd_ms-0123abcd.so"]).with_runtime_path(
        ["$ORIGIN/../../grill_usd_core.libs", "$ORIGIN"]
    )
    new = WasmModule.parse(module.encode(edited))
    assert new.dylink is not None and new.first_section is not None
    assert new.dylink.needed == ("libusd_ms-0123abcd.so",)
    assert new.dylink.runtime_path == ("$ORIGIN/../../grill_usd_core.libs", "$ORIGIN")
    assert new.data[new.first_section.end :] == data[module.first_section.end :]
    assert new.imports == module.imports and new.exports == module.exports


def test_malformed_import_info_of_libusd_ms_is_read_and_reported(
    real_wheels: dict[str, Path],
) -> None:
    with zipfile.ZipFile(real_wheels["grill-usd-core"]) as zf:
        data = zf.read("grill_usd_core.libs/libusd_ms.so")
    module = WasmModule.parse(data)
    dylink = module.dylink
    assert dylink is not None
    assert dylink.problems == ("IMPORT_INFO subsection: declares 1 entry but holds 7",)
    assert len(dylink.import_info) == 7
    assert module.encode(dylink.with_runtime_path(dylink.runtime_path)) == data


def test_show_json_validates_for_every_real_wheel(
    capsys: pytest.CaptureFixture[str], real_wheel: Path
) -> None:
    result = run_cli(capsys, "show", "--json", real_wheel)
    assert result.code == 0, result.err
    validate_show_json(result.json())


def test_show_grill_usd_core(
    capsys: pytest.CaptureFixture[str], real_wheels: dict[str, Path]
) -> None:
    document = run_cli(capsys, "show", "--json", real_wheels["grill-usd-core"]).json()
    (report,) = document["reports"]
    modules = report["modules"]
    assert len(modules) == 30
    extensions = [m for m in modules if m["kind"] == "extension"]
    assert len(extensions) == 29
    for ext in extensions:
        assert [(n["name"], n["resolution"], n["path"]) for n in ext["needed"]] == [
            ("libusd_ms.so", "runtime_path", "grill_usd_core.libs/libusd_ms.so")
        ]
    (library,) = [m for m in modules if m["kind"] == "shared"]
    assert library["path"] == "grill_usd_core.libs/libusd_ms.so"
    assert library["dylink_problems"] == ["IMPORT_INFO subsection: declares 1 entry but holds 7"]
    assert [f["code"] for f in report["findings"]] == ["malformed-dylink"]
    assert report["summary"]["errors"] == 0


def test_show_mypy(capsys: pytest.CaptureFixture[str], real_wheels: dict[str, Path]) -> None:
    (report,) = run_cli(capsys, "show", "--json", real_wheels["mypy"]).json()["reports"]
    assert report["summary"]["wasm_modules"] == 233
    assert report["summary"]["extensions"] == 233
    init = next(
        m
        for m in report["modules"]
        if m["path"] == "mypy/__init__.cpython-314-wasm32-emscripten.so"
    )
    assert init["kind"] == "extension"


def test_show_awkward_cpp(capsys: pytest.CaptureFixture[str], real_wheels: dict[str, Path]) -> None:
    (report,) = run_cli(capsys, "show", "--json", real_wheels["awkward-cpp"]).json()["reports"]
    ext = next(m for m in report["modules"] if m["kind"] == "extension")
    assert ext["path"] == "awkward_cpp/lib/_ext.cpython-314-wasm32-emscripten.so"
    assert ext["runtime_path"] == ["$ORIGIN"]
    assert ext["needed"][0]["path"] == "awkward_cpp/lib/libawkward.so"
    assert report["findings"] == []


def test_show_xtbloom_hash_renamed_library(
    capsys: pytest.CaptureFixture[str], real_wheels: dict[str, Path]
) -> None:
    (report,) = run_cli(capsys, "show", "--json", real_wheels["xtbloom"]).json()["reports"]
    lapacke = next(m for m in report["modules"] if m["path"].endswith("lapacke.so"))
    assert lapacke["needed"][0]["resolution"] == "runtime_path"
    assert lapacke["needed"][0]["path"] == "xtbloom.libs/libxtbloom_openblas-6a78812c.so"
    assert report["wheel"]["tags"] == ["py3-none-pyemscripten_2026_0_wasm32"]


def test_show_flags_wasm_in_a_pure_python_wheel(
    capsys: pytest.CaptureFixture[str], real_wheels: dict[str, Path]
) -> None:
    (report,) = run_cli(capsys, "show", "--json", real_wheels["pyoqs-wasm"]).json()["reports"]
    assert [f["code"] for f in report["findings"]] == ["wasm-in-pure-wheel"]
    assert report["targets"] == []
    assert report["modules"][0]["path"] == "oqs/liboqs.so"


def test_fast_section_walkers_agree_with_the_careful_parsers(real_wheel: Path) -> None:
    from emwheel.wasm_imports_exports import check_export_section, check_import_section
    from emwheel.wasm_module import SectionId

    with zipfile.ZipFile(real_wheel) as zf:
        for name in wasm_entries(real_wheel):
            module = WasmModule.parse(zf.read(name))
            for section_id, check, parsed in (
                (SectionId.IMPORT, check_import_section, module.imports),
                (SectionId.EXPORT, check_export_section, module.exports),
            ):
                header = module.section(section_id)
                if header is None:
                    continue
                payload = module.data[header.payload_offset : header.end]
                assert check(payload) == len(parsed), name
