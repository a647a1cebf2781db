"""`emwheel repair` on wheels built from the C test modules."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from wheel.wheelfile import WheelFile

from emwheel.wasm_module import WasmModule
from emwheel_loader.manifest import MANIFEST_FILENAME, Manifest

from cli_runner import run_cli, run_cli_process, validate_show_json
from support.module_edit import with_needed, with_runtime_path
from support.wheel_builder import build_wheel

INIT = b"from ._testext import compute\n"


@pytest.fixture
def libdir(test_modules: dict[str, Path], tmp_path: Path) -> Path:
    """A toolchain-like folder: the libraries sit in lib/, as an Emscripten sysroot has them."""
    folder = tmp_path / "sysroot"
    (folder / "lib").mkdir(parents=True)
    for name in ("libmid.so", "libbase.so"):
        shutil.copy(test_modules[name], folder / "lib" / name)
    return folder


@pytest.fixture
def bare_wheel(module_bytes: dict[str, bytes], tmp_path: Path) -> Path:
    """Only the extension: libmid.so (and, through it, libbase.so) must come from a libdir."""
    files = {
        "testpkg/__init__.py": INIT,
        "testpkg/_testext.abi3.so": module_bytes["_testext.abi3.so"],
    }
    return build_wheel(tmp_path / "dist", "testpkg", "1.0", files)


def read_all(wheel: Path) -> dict[str, bytes]:
    with WheelFile(wheel) as wf:  # checks every RECORD hash and size while reading
        return {name: wf.read(name) for name in wf.namelist()}


def manifest_of(files: dict[str, bytes]) -> Manifest:
    (name,) = [n for n in files if n.endswith(MANIFEST_FILENAME)]
    return Manifest.from_json(files[name], name)


def dylink(data: bytes) -> Any:
    module = WasmModule.parse(data)
    assert module.dylink is not None
    return module.dylink


def repair(capsys: Any, *args: str | Path) -> Any:
    return run_cli(capsys, "repair", *args)


def test_repair_vendors_a_library_chain_from_a_libdir(
    capsys: pytest.CaptureFixture[str],
    bare_wheel: Path,
    libdir: Path,
    tmp_path: Path,
    test_modules: dict[str, Path],
) -> None:
    before = bare_wheel.read_bytes()
    result = repair(capsys, bare_wheel, "-L", libdir, "-w", tmp_path / "out")
    assert result.code == 0, result.err
    out = tmp_path / "out" / bare_wheel.name
    assert bare_wheel.read_bytes() == before  # the input is never changed
    files = read_all(out)

    base_hash = hashlib.sha256(test_modules["libbase.so"].read_bytes()).hexdigest()[:8]
    mid_hash = hashlib.sha256(test_modules["libmid.so"].read_bytes()).hexdigest()[:8]
    base, mid = f"libbase-{base_hash}.so", f"libmid-{mid_hash}.so"
    assert set(files) == {
        f"testpkg.libs/{MANIFEST_FILENAME}",
        f"testpkg.libs/{base}",
        f"testpkg.libs/{mid}",
        "testpkg/__init__.py",
        "testpkg/_testext.abi3.so",
        "testpkg-1.0.dist-info/METADATA",
        "testpkg-1.0.dist-info/RECORD",
        "testpkg-1.0.dist-info/WHEEL",
    }
    ext = dylink(files["testpkg/_testext.abi3.so"])
    assert ext.needed == (mid,)
    assert ext.runtime_path == ("$ORIGIN/../testpkg.libs",)
    lib_mid = dylink(files[f"testpkg.libs/{mid}"])
    assert lib_mid.needed == (base,)
    assert lib_mid.runtime_path == ("$ORIGIN",)
    assert files[f"testpkg.libs/{base}"] == test_modules["libbase.so"].read_bytes()

    manifest = manifest_of(files)
    assert manifest.load_order == (
        f"testpkg.libs/{base}",
        f"testpkg.libs/{mid}",
        "testpkg/_testext.abi3.so",
    )
    by_path = {m.path: m for m in manifest.modules}
    assert by_path["testpkg/_testext.abi3.so"].kind == "extension"
    assert by_path[f"testpkg.libs/{mid}"].vendored_from == "libmid.so"
    for path, entry in by_path.items():
        assert entry.sha256 == hashlib.sha256(files[path]).hexdigest()
        assert entry.size == len(files[path])
    # The archive order: sorted, dist-info last, RECORD last of all.
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
    assert names[-1] == "testpkg-1.0.dist-info/RECORD"
    assert names[:-1] == sorted(names[:-1], key=lambda n: (".dist-info/" in n, n))
    assert f"vendored testpkg.libs/{mid}" in result.out
    # show agrees: everything resolves through RUNTIME_PATH, and the manifest matches.
    document = run_cli(capsys, "show", "--json", out).json()
    validate_show_json(document)
    (report,) = document["reports"]
    assert report["findings"] == []
    assert report["manifests"][0]["agrees_with_wheel"] is True


def test_repair_is_reproducible_and_idempotent(
    capsys: pytest.CaptureFixture[str], bare_wheel: Path, libdir: Path, tmp_path: Path
) -> None:
    for folder in ("a", "b"):
        assert repair(capsys, bare_wheel, "-L", libdir, "-w", tmp_path / folder).code == 0
    first = (tmp_path / "a" / bare_wheel.name).read_bytes()
    assert (tmp_path / "b" / bare_wheel.name).read_bytes() == first
    # Repairing the repaired wheel, with no libdir at all, gives the same bytes.
    assert repair(capsys, tmp_path / "a" / bare_wheel.name, "-w", tmp_path / "c").code == 0
    assert (tmp_path / "c" / bare_wheel.name).read_bytes() == first


def test_source_date_epoch_sets_every_timestamp(
    capsys: pytest.CaptureFixture[str],
    bare_wheel: Path,
    libdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    assert repair(capsys, bare_wheel, "-L", libdir, "-w", tmp_path / "out").code == 0
    with zipfile.ZipFile(tmp_path / "out" / bare_wheel.name) as zf:
        assert {info.date_time for info in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert repair(capsys, bare_wheel, "-L", libdir, "-w", tmp_path / "out2").code == 0
    with zipfile.ZipFile(tmp_path / "out2" / bare_wheel.name) as zf:
        assert {info.date_time for info in zf.infolist()} == {(2024, 1, 1, 0, 0, 0)}


def test_unchanged_entries_are_copied_without_recompressing(
    capsys: pytest.CaptureFixture[str], bare_wheel: Path, libdir: Path, tmp_path: Path
) -> None:
    assert repair(capsys, bare_wheel, "-L", libdir, "-w", tmp_path / "out").code == 0

    def stored(wheel: Path, name: str) -> bytes:
        with zipfile.ZipFile(wheel) as zf, open(wheel, "rb") as raw:
            info = zf.getinfo(name)
            raw.seek(info.header_offset + 26)
            skip = int.from_bytes(raw.read(2), "little") + int.from_bytes(raw.read(2), "little")
            raw.seek(skip, 1)
            return raw.read(info.compress_size)

    for name in ("testpkg/__init__.py", "testpkg-1.0.dist-info/METADATA"):
        assert stored(tmp_path / "out" / bare_wheel.name, name) == stored(bare_wheel, name)


def test_libdir_from_the_environment(
    capsys: pytest.CaptureFixture[str],
    bare_wheel: Path,
    libdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EMWHEEL_LIBDIR", f"{tmp_path / 'nothing'}:{libdir}")
    assert repair(capsys, bare_wheel, "-w", tmp_path / "out").code == 0


def test_no_mangle_keeps_library_names(
    capsys: pytest.CaptureFixture[str], bare_wheel: Path, libdir: Path, tmp_path: Path
) -> None:
    assert repair(capsys, bare_wheel, "-L", libdir, "--no-mangle", "-w", tmp_path / "o").code == 0
    files = read_all(tmp_path / "o" / bare_wheel.name)
    assert "testpkg.libs/libmid.so" in files and "testpkg.libs/libbase.so" in files
    assert dylink(files["testpkg/_testext.abi3.so"]).needed == ("libmid.so",)


def test_lib_sdir_and_no_runtime_path(
    capsys: pytest.CaptureFixture[str], bare_wheel: Path, libdir: Path, tmp_path: Path
) -> None:
    result = repair(
        capsys, bare_wheel, "-L", libdir, "--lib-sdir", ".vendored", "--no-runtime-path",
        "-w", tmp_path / "o",
    )  # fmt: skip
    assert result.code == 0, result.err
    files = read_all(tmp_path / "o" / bare_wheel.name)
    ext = dylink(files["testpkg/_testext.abi3.so"])
    assert ext.runtime_path == ()
    assert ext.needed[0].startswith("libmid-")
    manifest = manifest_of(files)
    assert all(m.path.startswith(("testpkg.vendored/", "testpkg/")) for m in manifest.modules)
    assert f"testpkg.vendored/{MANIFEST_FILENAME}" in files


def test_excluded_and_pyodide_libraries_are_recorded_as_external(
    capsys: pytest.CaptureFixture[str],
    module_bytes: dict[str, bytes],
    libdir: Path,
    tmp_path: Path,
) -> None:
    ext = with_needed(module_bytes["_testext.abi3.so"], "libmid.so", "libgeos_c.so")
    wheel = build_wheel(tmp_path / "d", "testpkg", "1.0", {"testpkg/_testext.abi3.so": ext})
    result = repair(capsys, wheel, "-L", libdir, "--exclude", "libmid*", "-w", tmp_path / "o")
    assert result.code == 0, result.err
    files = read_all(tmp_path / "o" / wheel.name)
    assert not [n for n in files if n.endswith(".so") and "libs/" in n]  # nothing vendored
    (entry,) = manifest_of(files).modules
    assert [(n.name, n.path, n.external) for n in entry.needed] == [
        ("libmid.so", None, manifest_of(files).modules[0].needed[0].external),
        ("libgeos_c.so", None, entry.needed[1].external),
    ]
    assert entry.needed[0].external is not None and entry.needed[0].external.kind == "excluded"
    assert entry.needed[1].external is not None
    assert (entry.needed[1].external.kind, entry.needed[1].external.package) == (
        "pyodide",
        "libgeos",
    )
    # Repairing the result again keeps the exclusion, without --exclude.
    again = repair(capsys, tmp_path / "o" / wheel.name, "-w", tmp_path / "o2")
    assert again.code == 0, again.err
    assert (tmp_path / "o2" / wheel.name).read_bytes() == (tmp_path / "o" / wheel.name).read_bytes()


def test_a_wheel_that_needs_nothing_still_gets_its_manifest(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    wheel = build_wheel(
        tmp_path / "d", "plain", "2.0", {"plain/libbase.so": module_bytes["libbase.so"]}
    )
    assert repair(capsys, wheel, "-w", tmp_path / "o").code == 0
    files = read_all(tmp_path / "o" / wheel.name)
    manifest = manifest_of(files)
    assert f"plain.libs/{MANIFEST_FILENAME}" in files
    assert [(m.path, m.kind, m.needed) for m in manifest.modules] == [
        ("plain/libbase.so", "shared", ())
    ]


def test_libraries_in_the_wheel_but_on_no_path_get_a_runtime_path(
    capsys: pytest.CaptureFixture[str], unrepaired_wheel: Path, tmp_path: Path
) -> None:
    assert repair(capsys, unrepaired_wheel, "-w", tmp_path / "o").code == 0
    files = read_all(tmp_path / "o" / unrepaired_wheel.name)
    assert dylink(files["testpkg/_testext.abi3.so"]).runtime_path == ("$ORIGIN/../testpkg.libs",)
    assert dylink(files["testpkg.libs/libmid.so"]).runtime_path == ("$ORIGIN",)
    assert dylink(files["testpkg.libs/libmid.so"]).needed == ("libbase.so",)


def test_existing_runtime_path_entries_are_kept_and_not_duplicated(
    capsys: pytest.CaptureFixture[str],
    module_bytes: dict[str, bytes],
    libdir: Path,
    tmp_path: Path,
) -> None:
    ext = with_runtime_path(
        module_bytes["_testext.abi3.so"], "/opt/lib", "$ORIGIN/../testpkg.libs/"
    )
    wheel = build_wheel(tmp_path / "d", "testpkg", "1.0", {"testpkg/_testext.abi3.so": ext})
    assert repair(capsys, wheel, "-L", libdir, "-w", tmp_path / "o").code == 0
    files = read_all(tmp_path / "o" / wheel.name)
    assert dylink(files["testpkg/_testext.abi3.so"]).runtime_path == (
        "/opt/lib",
        "$ORIGIN/../testpkg.libs/",
    )


def test_missing_libraries_are_all_listed_and_nothing_is_written(
    capsys: pytest.CaptureFixture[str],
    module_bytes: dict[str, bytes],
    test_modules: dict[str, Path],
    tmp_path: Path,
) -> None:
    ext = with_needed(module_bytes["_testext.abi3.so"], "libmid.so", "libgone.so")
    other = with_needed(module_bytes["libbase.so"], "libgone.so")
    files = {"testpkg/_testext.abi3.so": ext, "testpkg/_helper.so": other}
    wheel = build_wheel(tmp_path / "d", "testpkg", "1.0", files)
    elf_dir = tmp_path / "hostlibs"
    elf_dir.mkdir()
    (elf_dir / "libmid.so").write_bytes(b"\x7fELF" + bytes(60))  # a host library: skipped
    result = run_cli_process("repair", wheel, "-L", elf_dir, "-w", tmp_path / "o")
    assert result.code == 1
    assert "Traceback" not in result.err
    assert f"{wheel}: 2 required libraries not found" in result.err
    assert "libgone.so, needed by testpkg/_helper.so, testpkg/_testext.abi3.so" in result.err
    assert "libmid.so, needed by testpkg/_testext.abi3.so" in result.err
    assert f"{elf_dir / 'libmid.so'}: not WebAssembly (elf)" in result.err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_several_wheels_are_repaired_independently(
    capsys: pytest.CaptureFixture[str],
    bare_wheel: Path,
    module_bytes: dict[str, bytes],
    libdir: Path,
    tmp_path: Path,
) -> None:
    broken = build_wheel(
        tmp_path / "d2", "other", "1.0",
        {"other/_x.so": with_needed(module_bytes["libbase.so"], "libnowhere.so")},
    )  # fmt: skip
    result = run_cli_process("repair", broken, bare_wheel, "-L", libdir, "-w", tmp_path / "o")
    assert result.code == 1
    assert (tmp_path / "o" / bare_wheel.name).is_file()
    assert not (tmp_path / "o" / broken.name).exists()
    assert "libnowhere.so" in result.err


def test_two_libraries_with_the_same_name_are_an_error(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    files = {
        "testpkg/_testext.abi3.so": module_bytes["_testext.abi3.so"],
        "testpkg/a/libmid.so": module_bytes["libmid.so"],
        "testpkg/b/libmid.so": with_needed(module_bytes["libmid.so"], "libother.so"),
    }
    wheel = build_wheel(tmp_path / "d", "testpkg", "1.0", files)
    result = run_cli_process("repair", wheel, "-w", tmp_path / "o")
    assert result.code == 1
    assert "several files of that name: testpkg/a/libmid.so, testpkg/b/libmid.so" in result.err
    assert not (tmp_path / "o").exists()


def test_dependency_cycles_are_reported(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    files = {
        "pkg/liba.so": with_runtime_path(
            with_needed(module_bytes["libbase.so"], "libb.so"), "$ORIGIN"
        ),
        "pkg/libb.so": with_runtime_path(
            with_needed(module_bytes["libbase.so"], "liba.so"), "$ORIGIN"
        ),
    }
    wheel = build_wheel(tmp_path / "d", "pkg", "1.0", files)
    result = run_cli_process("repair", wheel, "-w", tmp_path / "o")
    assert result.code == 1
    assert "dependency cycle: pkg/liba.so -> pkg/libb.so -> pkg/liba.so" in result.err


def test_output_over_the_input_is_refused(
    capsys: pytest.CaptureFixture[str], bare_wheel: Path
) -> None:
    before = bare_wheel.read_bytes()
    result = run_cli_process("repair", bare_wheel, "-w", bare_wheel.parent)
    assert result.code == 2
    assert "would overwrite the input" in result.err
    assert bare_wheel.read_bytes() == before


@pytest.mark.parametrize("content", [b"not a zip", b""], ids=["text", "empty"])
def test_bad_input_wheel(tmp_path: Path, content: bytes) -> None:
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    wheel.write_bytes(content)
    result = run_cli_process("repair", wheel, "-w", tmp_path / "o")
    assert result.code == 2
    assert result.err.startswith(f"emwheel: error: {wheel}: not a readable zip archive")
    assert len(result.err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_corrupt_manifest_in_the_input_is_bad_input(
    bare_wheel: Path, tmp_path: Path, module_bytes: dict[str, bytes]
) -> None:
    files = {
        "testpkg/_testext.abi3.so": module_bytes["_testext.abi3.so"],
        f"testpkg.libs/{MANIFEST_FILENAME}": json.dumps({"format": "something else"}).encode(),
    }
    wheel = build_wheel(tmp_path / "d", "testpkg", "1.0", files)
    result = run_cli_process("repair", wheel, "-w", tmp_path / "o")
    assert result.code == 2
    assert (
        f"{wheel}!testpkg.libs/{MANIFEST_FILENAME}: 'format' is not 'emwheel-manifest'"
        in result.err
    )


def test_help_documents_every_option_with_its_default() -> None:
    result = run_cli_process("repair", "--help")
    assert result.code == 0
    text = " ".join(result.out.split())
    for option in (
        "--wheel-dir",
        "--libdir",
        "--exclude",
        "--no-mangle",
        "--lib-sdir",
        "--no-runtime-path",
    ):
        assert option in text
    assert "(default: wheelhouse)" in text
    assert "(default: .libs)" in text
    assert text.count("default") >= 6


def test_show_reports_a_manifest_that_disagrees_with_the_wheel(
    capsys: pytest.CaptureFixture[str], bare_wheel: Path, libdir: Path, tmp_path: Path
) -> None:
    assert repair(capsys, bare_wheel, "-L", libdir, "-w", tmp_path / "o").code == 0
    files = read_all(tmp_path / "o" / bare_wheel.name)
    manifest_name = f"testpkg.libs/{MANIFEST_FILENAME}"
    data = json.loads(files[manifest_name])
    data["modules"][2]["kind"] = "shared"
    data["modules"][1]["size"] += 1
    data["modules"].pop(0)
    data["load_order"].pop(0)
    data["modules"][0]["needed"][0]["path"] = data["modules"][0]["path"]  # keep it consistent
    data["modules"][0]["needed"] = []
    files[manifest_name] = json.dumps(data).encode()
    tampered = build_wheel(tmp_path / "t", "testpkg", "1.0",
                           {k: v for k, v in files.items() if ".dist-info/" not in k})  # fmt: skip
    document = run_cli(capsys, "show", "--json", tampered).json()
    validate_show_json(document)
    (report,) = document["reports"]
    messages = [f["message"] for f in report["findings"] if f["code"] == "manifest-mismatch"]
    assert any("is in the wheel but not in the manifest" in m for m in messages)
    assert any("the manifest says shared, the module is extension" in m for m in messages)
    assert any("the manifest says" in m and "size" in m for m in messages)
    assert report["manifests"][0]["agrees_with_wheel"] is False
    files[manifest_name] = b"{broken"
    broken = build_wheel(tmp_path / "b", "testpkg", "1.0",
                         {k: v for k, v in files.items() if ".dist-info/" not in k})  # fmt: skip
    (report,) = run_cli(capsys, "show", "--json", broken).json()["reports"]
    assert [f["code"] for f in report["findings"]] == ["manifest-invalid"]


def test_manifests_validate_against_the_schema(
    capsys: pytest.CaptureFixture[str],
    module_bytes: dict[str, bytes],
    libdir: Path,
    tmp_path: Path,
) -> None:
    import jsonschema

    from cli_runner import SCHEMAS

    ext = with_needed(module_bytes["_testext.abi3.so"], "libmid.so", "libgeos_c.so", "libx.so")
    wheel = build_wheel(tmp_path / "d", "testpkg", "1.0", {"testpkg/_testext.abi3.so": ext})
    result = repair(capsys, wheel, "-L", libdir, "--exclude", "libx.so", "-w", tmp_path / "o")
    assert result.code == 0, result.err
    files = read_all(tmp_path / "o" / wheel.name)
    schema = json.loads((SCHEMAS / "manifest.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    document = json.loads(files[f"testpkg.libs/{MANIFEST_FILENAME}"])
    jsonschema.Draft202012Validator(schema).validate(document)
    kinds = [n.get("external", {}).get("kind") for m in document["modules"] for n in m["needed"]]
    assert kinds.count("pyodide") == 1 and kinds.count("excluded") == 1
    # Each crc32 is the one the module's zip entry records, which is what the loader compares.
    with zipfile.ZipFile(tmp_path / "o" / wheel.name) as archive:
        for module in document["modules"]:
            assert int(module["crc32"], 16) == archive.getinfo(module["path"]).CRC
            assert module["crc32"] == f"{zlib.crc32(files[module['path']]):08x}"


def test_a_result_that_will_not_load_is_not_written_unless_told(
    module_bytes: dict[str, bytes], test_modules: dict[str, Path], tmp_path: Path
) -> None:
    # The extension NEEDs libscale.so, which reads base_scale, which nothing provides.
    ext = with_needed(module_bytes["_testext.abi3.so"], "libscale.so")
    wheel = build_wheel(tmp_path / "d", "testpkg", "1.0", {"testpkg/_testext.abi3.so": ext})
    libdir = tmp_path / "libs"
    libdir.mkdir()
    shutil.copy(test_modules["libscale.so"], libdir / "libscale.so")
    result = run_cli_process("repair", wheel, "-L", libdir, "-w", tmp_path / "o")
    assert result.code == 1
    assert "would not load in Pyodide 314.0.7; not written" in result.err
    assert "base_scale" in result.err
    assert not (tmp_path / "o" / wheel.name).exists()
    assert list((tmp_path / "o").iterdir()) == []  # no temporary left behind either
    forced = run_cli_process("repair", wheel, "-L", libdir, "-w", tmp_path / "o", "--no-check")
    assert forced.code == 0, forced.err
    assert (tmp_path / "o" / wheel.name).is_file()


def test_pyodide_library_packages_from_a_local_distribution(
    capsys: pytest.CaptureFixture[str],
    module_bytes: dict[str, bytes],
    libdir: Path,
    tmp_path: Path,
) -> None:
    """--pyodide-dist: a shared-library package whose zip is in the folder provides the
    libraries in it; one whose zip is not falls back on emwheel's table."""
    import hashlib

    dist = tmp_path / "dist"
    dist.mkdir()
    with zipfile.ZipFile(dist / "libmine-1.0.zip", "w") as zf:
        zf.writestr("libmine.so", module_bytes["libbase.so"])
    packages = {
        "libmine": {"name": "libmine", "version": "1.0", "file_name": "libmine-1.0.zip",
                    "package_type": "shared_library", "install_dir": "dynlib",
                    "sha256": hashlib.sha256((dist / "libmine-1.0.zip").read_bytes()).hexdigest(),
                    "imports": [], "depends": []},
        "libgeos": {"name": "libgeos", "version": "3.12.1", "file_name": "libgeos-3.12.1.zip",
                    "package_type": "shared_library", "install_dir": "dynlib", "sha256": "0" * 64,
                    "imports": [], "depends": []},
    }  # fmt: skip
    info = {"abi_version": "2026_0", "python": "3.14.2", "platform": "emscripten_5_0_3"}
    (dist / "pyodide-lock.json").write_text(json.dumps({"info": info, "packages": packages}))
    ext = with_needed(module_bytes["_testext.abi3.so"], "libmine.so", "libgeos_c.so")
    wheel = build_wheel(tmp_path / "d", "testpkg", "1.0", {"testpkg/_testext.abi3.so": ext})
    result = repair(capsys, wheel, "--pyodide-dist", dist, "--no-check", "-w", tmp_path / "o")
    assert result.code == 0, result.err
    (entry,) = manifest_of(read_all(tmp_path / "o" / wheel.name)).modules
    providers = [(n.name, n.external.package if n.external else None) for n in entry.needed]
    assert providers == [("libmine.so", "libmine"), ("libgeos_c.so", "libgeos")]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pyodide-lock.json").write_text("{}")
    result = run_cli_process("repair", wheel, "--pyodide-dist", broken, "-w", tmp_path / "o2")
    assert result.code == 2
    assert "not a readable Pyodide lock file" in result.err
