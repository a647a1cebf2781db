"""The Pyodide ABI data: shipped files equal a fresh extraction from the real npm packages."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from emwheel.errors import InvalidInput
from emwheel.pyodide_abi import (
    PyodideAbi,
    abi_from_distribution,
    abi_from_json,
    abi_to_json,
    available_versions,
    data_file_name,
    load_shipped_abi,
    newest_shipped,
    read_abi_file,
)
from emwheel.wasm_module import WasmModule

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "repair" / "emwheel" / "data"
VERSIONS = ("314.0.7", "0.29.3")
# Packages the runtime tests add to the shared distribution folder (tests/runtime/conftest.py,
# TEST_LIBRARY_PACKAGE): not Pyodide's, so left out of the view the data is compared against.
TEST_ADDITIONS = ("libemwtest",)
# NOTES.md section 4: the shared-library packages of Pyodide 314.0.7's lock file.
SHARED_LIBRARY_PACKAGES_314 = {
    "libblis", "libcrc32c", "libgdal", "libgeos", "libhdf5", "libheif", "libngspice",
    "libopenblas", "libproj", "libsuitesparse", "libtaglib",
}  # fmt: skip
# emwheel/pyodide_targets.py: 0.29.3 has no libblis, and libmagic and libopenssl.
SHARED_LIBRARY_PACKAGES_0293 = SHARED_LIBRARY_PACKAGES_314 - {"libblis"} | {
    "libmagic",
    "libopenssl",
}


def _distribution(version: str) -> Path:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "pyodide_dist.py"), "--version", version],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"tools/pyodide_dist.py --version {version} failed:\n{result.stderr}")
    return Path(result.stdout.strip())


def _pristine_view(dist: Path, dest: Path, extra: dict[str, object] | None = None) -> Path:
    """``dist`` as Pyodide ships it: symlinks to its files, a lock without test additions."""
    dest.mkdir()
    lock = json.loads((dist / "pyodide-lock.json").read_text())
    packages = lock["packages"]
    added = {packages.pop(name)["file_name"] for name in TEST_ADDITIONS if name in packages}
    packages.update(extra or {})
    (dest / "pyodide-lock.json").write_text(json.dumps(lock))
    for path in dist.iterdir():
        if path.name not in added and path.name != "pyodide-lock.json" and path.is_file():
            os.symlink(path, dest / path.name)
    return dest


@pytest.fixture(scope="session")
def pristine_dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pyodide-abi")
    return {v: _pristine_view(_distribution(v), root / v) for v in VERSIONS}


@pytest.fixture(scope="session")
def shipped() -> dict[str, PyodideAbi]:
    return {v: load_shipped_abi(v) for v in VERSIONS}


@pytest.mark.parametrize("version", VERSIONS)
def test_shipped_file_equals_a_fresh_extraction_by_the_script(
    version: str, pristine_dists: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / data_file_name(version)
    script = ROOT / "tools" / "pyodide_abi.py"
    subprocess.run(
        [sys.executable, str(script), str(pristine_dists[version]), "-o", str(out)], check=True
    )
    shipped_bytes = (DATA / data_file_name(version)).read_bytes()
    # The JSON text must be identical; the gzip bytes are too with the same zlib.
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(shipped_bytes)
    assert read_abi_file(out) == load_shipped_abi(version)


@pytest.mark.parametrize("version", VERSIONS)
def test_in_process_extraction_equals_shipped(
    version: str, pristine_dists: dict[str, Path], shipped: dict[str, PyodideAbi]
) -> None:
    assert abi_from_distribution(pristine_dists[version]) == shipped[version]


@pytest.mark.parametrize("version", VERSIONS)
def test_json_round_trip(version: str, shipped: dict[str, PyodideAbi]) -> None:
    assert abi_from_json(abi_to_json(shipped[version])) == shipped[version]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", ["PyLong_FromLong", "PyModuleDef_Init", "malloc"])
def test_core_functions_are_main_exports(
    version: str, name: str, shipped: dict[str, PyodideAbi]
) -> None:
    abi = shipped[version]
    assert name in abi.main_exports["function"]
    assert name in abi.main_symbols
    assert abi.provides(name)


@pytest.mark.parametrize(
    ("version", "python", "abi_tag", "emscripten"),
    [
        ("314.0.7", "3.14", "pyemscripten_2026_0", "5.0.3"),
        ("0.29.3", "3.13", "pyemscripten_2025_0", "4.0.9"),
    ],
)
def test_versions(
    version: str, python: str, abi_tag: str, emscripten: str, shipped: dict[str, PyodideAbi]
) -> None:
    abi = shipped[version]
    assert (abi.pyodide_version, abi.python_minor, abi.abi, abi.emscripten) == (
        version,
        python,
        abi_tag,
        emscripten,
    )


@pytest.mark.parametrize(
    ("version", "expected"),
    [("314.0.7", SHARED_LIBRARY_PACKAGES_314), ("0.29.3", SHARED_LIBRARY_PACKAGES_0293)],
)
def test_shared_library_packages(
    version: str, expected: set[str], shipped: dict[str, PyodideAbi]
) -> None:
    packages = shipped[version].library_packages
    assert set(packages) == expected
    # their files are on Pyodide's CDN, not in the npm package
    assert all(p.libraries is None and p.file_name.endswith(".zip") for p in packages.values())


@pytest.mark.parametrize("version", VERSIONS)
def test_js_library_is_larger_than_what_the_main_module_imports(
    version: str, pristine_dists: dict[str, Path], shipped: dict[str, PyodideAbi]
) -> None:
    main = WasmModule.parse((pristine_dists[version] / "pyodide.asm.wasm").read_bytes())
    imported = {i.name for i in main.imports if i.module in ("env", "wasi_snapshot_preview1")}
    abi = shipped[version]
    assert imported <= abi.js_symbols
    # MAIN_MODULE=1 links the whole JS library: side modules get functions the main
    # module never imports
    for name in ("glClear", "SDL_Init", "emscripten_async_wget"):
        assert name in abi.js_symbols - imported


def test_memory_table_and_tags_come_from_the_main_module_in_314(
    shipped: dict[str, PyodideAbi],
) -> None:
    exports = shipped["314.0.7"].main_exports
    assert exports["memory"] == {"memory"}
    assert exports["table"] == {"__indirect_function_table"}
    assert exports["tag"] == {"__cpp_exception", "__c_longjmp"}
    assert "__stack_pointer" in exports["global"]


def test_memory_table_and_tags_come_from_javascript_in_0293(
    shipped: dict[str, PyodideAbi],
) -> None:
    abi = shipped["0.29.3"]
    assert set(abi.main_exports) == {"function", "global"}
    names = {"memory", "__indirect_function_table", "__stack_pointer", "__cpp_exception"}
    assert names <= abi.js_symbols


@pytest.mark.parametrize("version", VERSIONS)
def test_linker_specials_and_runtime_aliases(version: str, shipped: dict[str, PyodideAbi]) -> None:
    abi = shipped[version]
    assert abi.special_symbols == {"__memory_base", "__table_base"}
    assert abi.runtime_aliases == {"open64": "open"}
    assert {"__memory_base", "__table_base", "open64"} <= abi.main_symbols
    assert abi.symbol_prefixes == ()  # wasm exceptions: no invoke_* made on demand
    assert not abi.provides("invoke_vii")


def test_stubs_are_not_provided(shipped: dict[str, PyodideAbi]) -> None:
    abi = shipped["0.29.3"]
    assert abi.js_stubs == {"create_sentinel", "is_sentinel"}
    assert not abi.js_stubs & abi.main_symbols
    assert shipped["314.0.7"].js_stubs == frozenset()


def test_library_exports_read_from_a_local_package_file(
    pristine_dists: dict[str, Path], test_modules: dict[str, Path], tmp_path: Path
) -> None:
    entry = {
        "name": "libdemo",
        "version": "1.0",
        "file_name": "libdemo-1.0.zip",
        "package_type": "shared_library",
    }
    dist = _pristine_view(pristine_dists["0.29.3"], tmp_path / "dist", {"libdemo": entry})
    with zipfile.ZipFile(dist / "libdemo-1.0.zip", "w") as zf:
        zf.writestr("libdemo.so", test_modules["libbase.so"].read_bytes())
        zf.writestr("notes/README.so.txt", b"not a module")
    abi = abi_from_distribution(dist)
    package = abi.library_packages["libdemo"]
    assert package.libraries == {
        "libdemo.so": {
            "function": frozenset({"__wasm_call_ctors", "__wasm_apply_data_relocs", "base_value"}),
            "global": frozenset({"base_scale"}),
        }
    }
    assert package.exported_symbols("libdemo.so") >= {"base_value", "base_scale"}
    assert abi_from_json(abi_to_json(abi)) == abi


def test_shipped_versions() -> None:
    assert set(VERSIONS) <= set(available_versions())
    assert available_versions().index("0.29.3") < available_versions().index("314.0.7")
    assert newest_shipped().pyodide_version == available_versions()[-1]


def test_unknown_version_names_the_shipped_ones() -> None:
    with pytest.raises(InvalidInput, match=r"no ABI data for Pyodide 0\.1 \(shipped: .*314\.0\.7"):
        load_shipped_abi("0.1")


def test_folder_without_lock_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"pyodide-lock\.json"):
        abi_from_distribution(tmp_path)


def test_glue_without_wasm_imports(pristine_dists: dict[str, Path], tmp_path: Path) -> None:
    dist = _pristine_view(pristine_dists["0.29.3"], tmp_path / "dist")
    (dist / "pyodide.asm.js").unlink()
    (dist / "pyodide.asm.js").write_text("var Module = {};\n")
    with pytest.raises(InvalidInput, match="no `var wasmImports"):
        abi_from_distribution(dist)


def test_script_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "pyodide_abi.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("pyodide_abi: error: ")
    assert result.stderr.count("\n") == 1
