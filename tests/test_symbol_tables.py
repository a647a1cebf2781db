"""The import and export readers of `check` (emwheel.symbol_tables): their compiled loops
(repair/emwheel/_wasm_names.c) read every entry as the Python loops do, and stop where
those must say what is wrong."""

from __future__ import annotations

import os
import zipfile

import pytest

from emwheel import symbol_tables
from emwheel.errors import WasmFormatError
from emwheel.symbol_tables import ImportTable, read_export_names, read_imports
from emwheel.wasm_module import SectionId, WasmModule
from emwheel_loader.binary_reader import encode_name, encode_uleb128

from support.real_wheels import fetch_real_wheel

compiled = symbol_tables.compiled_loops


def test_the_compiled_loops_are_built_unless_asked_not_to() -> None:
    assert (compiled is None) == (os.environ.get("EMWHEEL_PURE_PYTHON") == "1")


def both_ways(
    monkeypatch: pytest.MonkeyPatch, read: object, *args: object
) -> tuple[object, object]:
    """What ``read(*args)`` gives (a result or an error's message) with the compiled loops
    and with the Python loops alone."""

    def outcome() -> object:
        try:
            return read(*args)  # type: ignore[operator]
        except WasmFormatError as e:
            return str(e)

    with_compiled = outcome()
    with monkeypatch.context() as patch:
        patch.setattr(symbol_tables, "compiled_loops", None)
        return with_compiled, outcome()


def import_entry(module: bytes, name: bytes, kind: int, description: bytes) -> bytes:
    return module + name + bytes([kind]) + description


def name_bytes(name: str, long_form: bool = False) -> bytes:
    """A name with its length, in the shortest LEB128 or one byte longer than needed."""
    if not long_form:
        return encode_name(name)
    return bytes([len(name) | 0x80, 0x80, 0x00]) + name.encode()


LONG_NAME = "n" * 200  # a length of two bytes
IMPORTS = [
    import_entry(name_bytes("env"), name_bytes("f"), 0, b"\x00"),
    import_entry(name_bytes("GOT.mem"), name_bytes("data"), 3, b"\x7f\x01"),
    import_entry(name_bytes("GOT.func"), name_bytes(LONG_NAME), 3, b"\x7f\x01"),
    import_entry(name_bytes("env"), name_bytes("memory"), 2, b"\x00\x01"),  # typed
    import_entry(name_bytes("env"), name_bytes("g", long_form=True), 0, b"\x85\x00"),
    import_entry(name_bytes("env", long_form=True), name_bytes("h"), 0, b"\x01"),
    import_entry(name_bytes("wasi"), name_bytes("fd_write"), 0, b"\x02"),
    import_entry(name_bytes("env"), name_bytes("__stack_pointer"), 3, b"\x7f\x01"),
    import_entry(name_bytes("env"), name_bytes("v"), 3, b"\x7b\x00"),  # a v128 global: typed
    import_entry(name_bytes("env"), name_bytes("t"), 4, b"\x00\x00"),  # a tag
    import_entry(name_bytes("GOT.mem"), name_bytes("odd"), 3, b"\x7f\x02"),  # mutability 2
]
EXPORTS = [
    name_bytes("PyInit_m") + b"\x00\x05",
    name_bytes(LONG_NAME) + b"\x03\x80\x01",
    name_bytes("x", long_form=True) + b"\x02\x00",
    name_bytes("kind5") + b"\x05\x00",
]


def payload(entries: list[bytes]) -> bytes:
    return encode_uleb128(len(entries)) + b"".join(entries)


@pytest.mark.skipif(compiled is None, reason="emwheel built as pure Python")
@pytest.mark.parametrize("cut", [False, True], ids=["whole", "cut at every byte"])
def test_hand_made_imports_read_the_same_both_ways(
    monkeypatch: pytest.MonkeyPatch, cut: bool
) -> None:
    data = payload(IMPORTS)
    for end in range(1, len(data)) if cut else [len(data)]:
        mine, python = both_ways(monkeypatch, read_imports, data, 0, end)
        assert mine == python, end
    if not cut:
        assert isinstance(mine, ImportTable) and len(mine.names) == len(IMPORTS)


@pytest.mark.skipif(compiled is None, reason="emwheel built as pure Python")
@pytest.mark.parametrize("cut", [False, True], ids=["whole", "cut at every byte"])
def test_hand_made_exports_read_the_same_both_ways(
    monkeypatch: pytest.MonkeyPatch, cut: bool
) -> None:
    data = payload(EXPORTS)
    for end in range(1, len(data)) if cut else [len(data)]:
        mine, python = both_ways(monkeypatch, read_export_names, data[:end])
        assert mine == python, end
    if not cut:
        assert mine == "export section: unknown export kind 5"
        names = both_ways(monkeypatch, read_export_names, payload(EXPORTS[:3]))
        assert names == 2 * ([b"PyInit_m", LONG_NAME.encode(), b"x"],)


@pytest.mark.realwheels
@pytest.mark.skipif(compiled is None, reason="emwheel built as pure Python")
@pytest.mark.parametrize("key", ["grill-usd-core", "mypy", "awkward-cpp", "pyoqs-wasm"])
def test_every_real_module_reads_the_same_both_ways(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    with zipfile.ZipFile(fetch_real_wheel(key)) as archive:
        for info in archive.infolist():
            data = archive.read(info)
            if not data.startswith(b"\0asm"):
                continue
            module = WasmModule.parse(data)
            imports = module.section(SectionId.IMPORT)
            exports = module.section(SectionId.EXPORT)
            if imports is not None:
                args = (data, imports.payload_offset, imports.end)
                mine, python = both_ways(monkeypatch, read_imports, *args)
                assert mine == python, info.filename
            if exports is not None:
                section = data[exports.payload_offset : exports.end]
                mine, python = both_ways(monkeypatch, read_export_names, section)
                assert mine == python, info.filename
