"""The fuzz targets: what each reader must do with any input, checked on every input.

Each target takes bytes and calls the readers the way emwheel does. An input may be refused
only with the package's own error types (``EmwheelError``); any other exception is a crash.
Where a reader also writes (the ``dylink.0`` writer, the manifest), the target checks the
round trip: what was written reads back as what was meant, and unchanged parts keep their
bytes. Where two readers read the same bytes (the careful and the fast import/export
readers), the target checks that they agree.

Time: every input must be read in time linear in its size. `run_timed` measures each call
and raises `TooSlow` past ``BASE_SECONDS + SECONDS_PER_BYTE[target] * len(data)``; the
constants come from measured costs (docs/fuzzing.md) with a margin for a loaded machine,
and the fuzzer scales them for its coverage instrumentation.

These targets run under atheris (tests/fuzz/run_target.py, tools/fuzz) and, for every
committed corpus and crash file, in the host tests (tests/test_fuzz_corpus.py).
"""

from __future__ import annotations

import atexit
import contextlib
import io
import shutil
import tempfile
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from emwheel import speedups
from emwheel.check import check_wheel
from emwheel.check_output import render_check_json, render_check_text
from emwheel.errors import EmwheelError
from emwheel.pyodide_abi import PyodideAbi, load_shipped_abi
from emwheel.show import show
from emwheel.show_output import render_json, render_text
from emwheel.symbol_tables import export_names, read_imports
from emwheel.wasm_features import detect_features
from emwheel.wasm_imports_exports import (
    check_export_section,
    check_import_section,
    parse_export_section,
    parse_import_section,
)
from emwheel.wasm_module import SectionId, WasmModule, encode_dylink_section, scan_module_stream
from emwheel_loader.dylink import (
    DYLINK_SECTION_NAME,
    LEGACY_DYLINK_SECTION_NAME,
    DylinkSection,
    parse_dylink_body,
    read_dylink_prefix,
)
from emwheel_loader.manifest import Manifest

__all__ = ["BASE_SECONDS", "SECONDS_PER_BYTE", "TARGETS", "TooSlow", "run_timed"]

# The budget of an input: BASE_SECONDS plus SECONDS_PER_BYTE of its target per byte. The
# worst cost per byte measured (docs/fuzzing.md: seeds' headers followed by 256 KB runs of
# one byte, on a loaded machine) is 5 us (wasm), 77 us (dylink: ten parses per input of
# subsections one or two bytes long), under 0.1 us (manifest, wheel); the budget is about
# four times that. The wheel target's fixed cost is 45 ms a wheel.
BASE_SECONDS = 2.0
SECONDS_PER_BYTE = {"wasm": 20e-6, "dylink": 300e-6, "manifest": 20e-6, "wheel": 20e-6}

WHEEL_NAME = "fuzzpkg-1.0-cp314-abi3-pyemscripten_2026_0_wasm32.whl"
MODULE_HEADER = b"\0asm\x01\x00\x00\x00"


class TooSlow(AssertionError):
    """An input took longer than its size allows: the reader is not linear in it."""


def _refused(call: Callable[[], Any]) -> Any:
    """The call's result, or None when it refused the input with the package's own error."""
    try:
        return call()
    except EmwheelError:
        return None


# -- the WebAssembly readers ---------------------------------------------------------------------


def _section_payload(data: bytes, section_id: SectionId) -> bytes | None:
    module = _refused(lambda: WasmModule(data))
    if module is None:
        return None
    header = _refused(lambda: module.section(section_id))
    return None if header is None else data[header.payload_offset : header.end]


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except EmwheelError as e:
        return f"refused: {e}"


def _refused_alike(call: Callable[[], Any]) -> Any:
    """As _refused, and the call gives the same result, or refuses with the same message,
    with emwheel's compiled loops (where it was built with them) turned off."""
    outcome = _outcome(call)
    if speedups.built():
        with speedups.turned_off():
            assert _outcome(call) == outcome
    return None if isinstance(outcome, str) and outcome.startswith("refused: ") else outcome


def fuzz_wasm(data: bytes) -> None:
    """Every reader of module bytes: headers, dylink, imports and exports (careful and fast,
    which must agree), the stream scan `show` uses, the loader's prefix read, features; the
    fast readers and features also with the compiled loops turned off, which must agree."""
    module = _refused(lambda: WasmModule.parse(data))
    if module is not None:
        _refused(module.validate)
        _refused(lambda: module.dylink)
        _refused(lambda: module.imports)
        _refused(lambda: module.exports)
    summary = _refused(lambda: scan_module_stream(io.BytesIO(data), len(data)))
    if summary is not None:
        _refused(lambda: summary.imports)
        _refused(lambda: summary.exports)
        _refused(lambda: summary.import_count)
        _refused(lambda: summary.exports_function("PyInit_fuzz"))
    _refused(lambda: read_dylink_prefix(io.BytesIO(data)))
    imports = _section_payload(data, SectionId.IMPORT)
    if imports is not None:
        careful = _refused(lambda: parse_import_section(imports))
        fast = _refused(lambda: check_import_section(imports))
        table = _refused_alike(lambda: read_imports(imports))
        if careful is not None and fast is not None:
            assert fast == len(careful), (fast, len(careful))
        if careful is not None and table is not None:
            assert [(i.module.encode(), i.name.encode(), i.kind) for i in careful] == table.entries
    exports = _section_payload(data, SectionId.EXPORT)
    if exports is not None:
        careful_exports = _refused(lambda: parse_export_section(exports))
        fast_count = _refused(lambda: check_export_section(exports))
        names = _refused_alike(lambda: export_names(exports))
        if careful_exports is not None and fast_count is not None:
            assert fast_count == len(careful_exports), (fast_count, len(careful_exports))
        if careful_exports is not None and names is not None:
            assert names == {e.name.encode() for e in careful_exports}
    _refused_alike(lambda: detect_features(data))


# -- the dylink.0 writer ---------------------------------------------------------------------------


def _module_with(section: bytes) -> bytes:
    """A module whose first section is ``section``, followed by a type section to keep."""
    return MODULE_HEADER + section + b"\x01\x04\x01\x60\x00\x00"


def _check_round_trip(original: DylinkSection, edited: DylinkSection) -> None:
    """``edited`` written into a module reads back as itself; the module's other bytes and
    the subsections not edited are kept."""
    module = WasmModule.parse(_module_with(encode_dylink_section(original)))
    written = module.encode(edited)
    reread = WasmModule.parse(written).dylink
    assert reread is not None
    for attribute in ("name", "needed", "runtime_path", "mem_info", "export_info", "import_info"):
        assert getattr(reread, attribute) == getattr(edited, attribute), attribute
    assert written.endswith(module.data[module.first_section.end :])  # type: ignore[union-attr]
    kept = [s.raw for s in original.subsections if s.type not in (2, 5)]
    assert [s.raw for s in reread.subsections if s.type not in (2, 5)] == kept


def fuzz_dylink(data: bytes) -> None:
    """parse(body) writes back ``body`` byte for byte; edits of NEEDED and RUNTIME_PATH
    read back as written, leaving every other subsection's bytes as they were."""
    for name in (DYLINK_SECTION_NAME, LEGACY_DYLINK_SECTION_NAME):
        section = _refused(lambda name=name: parse_dylink_body(name, data))
        if section is None:
            continue
        assert section.encode_body() == data
        assert parse_dylink_body(name, section.encode_body()) == section
        assert section.with_needed(section.needed) is section or section.problems
        _check_round_trip(section, section.with_needed((*section.needed, "libfuzz.so")))
        _check_round_trip(section, section.with_needed(()))
        if not section.is_legacy:
            _check_round_trip(section, section.with_runtime_path(("$ORIGIN/../fuzz.libs",)))
            _check_round_trip(section, section.with_runtime_path(()))


# -- the manifest reader ---------------------------------------------------------------------------


def fuzz_manifest(data: bytes) -> None:
    """Any bytes: a manifest or a ManifestError; a manifest read writes back as itself."""
    manifest = _refused(lambda: Manifest.from_json(data, "fuzz.json"))
    if manifest is not None:
        assert Manifest.from_json(manifest.to_json(), "fuzz.json") == manifest


# -- the wheel reader: show and check end to end ------------------------------------------------


@cache
def _abi() -> PyodideAbi:
    return load_shipped_abi("314.0.7")


@cache
def _wheel_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="emwheel-fuzz-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def fuzz_wheel(data: bytes) -> None:
    """The bytes as a wheel file: `show` and `check` read it and render their reports (text
    and JSON) as the command line does, or refuse it with the package's own error."""
    path = _wheel_dir() / WHEEL_NAME
    path.write_bytes(data)
    with contextlib.redirect_stderr(io.StringIO()):
        report = _refused(lambda: show(path))
        if report is not None:
            render_json([report])
            render_text(report)
        checked = _refused(lambda: check_wheel(path, _abi(), jobs=1))
        if checked is not None:
            render_check_json([checked])
            render_check_text(checked)
    assert path.read_bytes() == data  # the input is never changed


TARGETS: dict[str, Callable[[bytes], None]] = {
    "wasm": fuzz_wasm,
    "dylink": fuzz_dylink,
    "manifest": fuzz_manifest,
    "wheel": fuzz_wheel,
}


def run_timed(target: str, data: bytes, scale: float = 1.0) -> float:
    """Run the target named ``target`` on ``data``; raise TooSlow past the input's budget
    (times ``scale``: the instrumented fuzzer runs slower). Returns the seconds taken: CPU
    time of this process, so that other processes on a shared machine do not count."""
    start = time.process_time()
    TARGETS[target](data)
    elapsed = time.process_time() - start
    budget = (BASE_SECONDS + SECONDS_PER_BYTE[target] * len(data)) * scale
    if elapsed > budget:
        raise TooSlow(f"{len(data)} bytes took {elapsed:.2f} s (budget {budget:.2f} s)")
    return elapsed
