"""The import and export sections of a WebAssembly module: names and kinds.

Spec: https://webassembly.github.io/spec/core/binary/modules.html#import-section
The readers accept the value and reference types of newer proposals (exception handling
with exnref, GC and typed function references, memory64, custom page sizes): a type this
reader does not know by name is skipped by its encoding, never refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from emwheel_loader.binary_reader import BinaryReader
from emwheel_loader.errors import WasmFormatError

__all__ = ["Export", "ExternalKind", "Import", "parse_export_section", "parse_import_section"]


class ExternalKind(IntEnum):
    FUNCTION = 0
    TABLE = 1
    MEMORY = 2
    GLOBAL = 3
    TAG = 4


@dataclass(frozen=True)
class Import:
    module: str
    name: str
    kind: int  # an ExternalKind

    @property
    def kind_name(self) -> str:
        return ExternalKind(self.kind).name.lower()


@dataclass(frozen=True)
class Export:
    name: str
    kind: int  # an ExternalKind
    index: int

    @property
    def kind_name(self) -> str:
        return ExternalKind(self.kind).name.lower()


# Reference types written as a prefix byte followed by a heap type (GC / function references).
_REF_NULL = 0x63
_REF = 0x64
_EXACT_HEAP_TYPE = 0x62  # custom-descriptors proposal: exact heap type, then a type index


def _skip_value_type(reader: BinaryReader) -> None:
    code = reader.u8()
    if code in (_REF, _REF_NULL):
        _skip_heap_type(reader)
    # Any other code is a one-byte type: numeric, vector, or an abstract reference type
    # (funcref, externref, exnref, anyref, ...).


def _skip_heap_type(reader: BinaryReader) -> None:
    if reader.data[reader.pos] == _EXACT_HEAP_TYPE:
        reader.u8()
        reader.uleb()
        return
    reader.sleb(33)  # abstract heap types are negative, concrete ones a type index


def _skip_limits(reader: BinaryReader) -> None:
    flags = reader.u8()
    bits = 64 if flags & 0x04 else 32  # memory64 / table64
    reader.uleb(bits)
    if flags & 0x01:
        reader.uleb(bits)
    if flags & 0x08:  # custom page sizes: log2 of the page size
        reader.uleb()


def _skip_import_description(reader: BinaryReader, kind: int) -> None:
    if kind == ExternalKind.FUNCTION:
        reader.uleb()
    elif kind == ExternalKind.TABLE:
        _skip_value_type(reader)
        _skip_limits(reader)
    elif kind == ExternalKind.MEMORY:
        _skip_limits(reader)
    elif kind == ExternalKind.GLOBAL:
        _skip_value_type(reader)
        reader.u8()  # mutability
    elif kind == ExternalKind.TAG:
        reader.u8()  # attribute
        reader.uleb()  # type index
    else:
        raise WasmFormatError(f"unknown import kind {kind} at offset {reader.pos - 1}")


def parse_import_section(payload: bytes | memoryview) -> tuple[Import, ...]:
    reader = BinaryReader(payload)
    try:
        count = reader.uleb()
        imports = []
        for _ in range(count):
            module = reader.name()
            name = reader.name()
            kind = reader.u8()
            _skip_import_description(reader, kind)
            imports.append(Import(module, name, kind))
    except WasmFormatError as e:
        raise WasmFormatError(f"import section: {e}") from e
    if not reader.at_end:
        raise WasmFormatError(f"import section: {reader.remaining} unexpected bytes at the end")
    return tuple(imports)


def parse_export_section(payload: bytes | memoryview) -> tuple[Export, ...]:
    reader = BinaryReader(payload)
    try:
        count = reader.uleb()
        exports = []
        for _ in range(count):
            name = reader.name()
            kind = reader.u8()
            if kind not in ExternalKind._value2member_map_:
                raise WasmFormatError(f"unknown export kind {kind} at offset {reader.pos - 1}")
            exports.append(Export(name, kind, reader.uleb()))
    except WasmFormatError as e:
        raise WasmFormatError(f"export section: {e}") from e
    if not reader.at_end:
        raise WasmFormatError(f"export section: {reader.remaining} unexpected bytes at the end")
    return tuple(exports)
