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

__all__ = [
    "Export",
    "ExternalKind",
    "Import",
    "check_export_section",
    "check_import_section",
    "exports_contain",
    "parse_export_section",
    "parse_import_section",
    "vector_count",
]


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
    if reader.at_end:  # the peek below reads no further than the reader's end
        raise WasmFormatError(f"unexpected end of data at offset {reader.pos}")
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


# -- fast paths ---------------------------------------------------------------------------------
# `show` needs only counts and whether one export exists. Decoding every name of a module
# with 75,000 imports and exports costs far more than the rest of the tool, so these walk
# the bytes with plain indexing and decode nothing.


def _uleb_at(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise WasmFormatError(f"unexpected end of data at offset {pos}")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 35:
            raise WasmFormatError(f"LEB128 integer too long at offset {pos}")


def vector_count(payload: bytes) -> int:
    """The leading count of a section that is a vector (imports, exports)."""
    return _uleb_at(payload, 0)[0] if payload else 0


def check_import_section(payload: bytes) -> int:
    """Walk the import section checking its structure; returns the number of imports.

    Written for speed (inlined one- and two-byte LEB128s, no decoding): C++ libraries have
    tens of thousands of imports, most of them functions and GOT globals.
    """
    count, pos = _uleb_at(payload, 0)
    end = len(payload)
    try:
        for _ in range(count):
            for _name in (0, 1):  # module name, then field name
                b0 = payload[pos]
                if b0 < 0x80:
                    pos += 1 + b0
                elif payload[pos + 1] < 0x80:
                    pos += 2 + ((b0 & 0x7F) | (payload[pos + 1] << 7))
                else:
                    length, pos = _uleb_at(payload, pos)
                    pos += length
            kind = payload[pos]
            pos += 1
            if kind == 0:  # function: a type index
                while payload[pos] & 0x80:
                    pos += 1
                pos += 1
            elif kind == 3 and payload[pos] not in (_REF, _REF_NULL):  # global: type, mutability
                pos += 2
            else:  # the rarer kinds, with the types of every proposal: the careful reader
                reader = BinaryReader(payload, pos)
                _skip_import_description(reader, kind)
                pos = reader.pos
    except IndexError:
        pos = end + 1
    except WasmFormatError as e:
        raise WasmFormatError(f"import section: {e}") from None
    if pos != end:
        problem = "an entry runs past the end" if pos > end else f"{end - pos} unexpected bytes"
        raise WasmFormatError(f"import section: {problem}")
    return count


def _walk_exports(payload: bytes, target: bytes | None, kind: int) -> bool:
    count, pos = _uleb_at(payload, 0)
    end = len(payload)
    size = -1 if target is None else len(target)
    try:
        for _ in range(count):
            length = payload[pos]
            if length < 0x80:
                pos += 1
            elif payload[pos + 1] < 0x80:
                length = (length & 0x7F) | (payload[pos + 1] << 7)
                pos += 2
            else:
                length, pos = _uleb_at(payload, pos)
            name_end = pos + length
            if length == size and payload[name_end] == kind and payload[pos:name_end] == target:
                return True
            if payload[name_end] > 4:
                raise WasmFormatError(f"export section: unknown export kind {payload[name_end]}")
            pos = name_end + 1
            while payload[pos] & 0x80:
                pos += 1
            pos += 1
    except IndexError:
        pos = end + 1
    if pos != end:
        problem = "an entry runs past the end" if pos > end else f"{end - pos} unexpected bytes"
        raise WasmFormatError(f"export section: {problem}")
    return False


def check_export_section(payload: bytes) -> int:
    """Walk the export section checking its structure; returns the number of exports."""
    _walk_exports(payload, None, 0)
    return vector_count(payload)


def exports_contain(payload: bytes, name: str, kind: int = ExternalKind.FUNCTION) -> bool:
    """Whether the export section lists ``name`` with ``kind``, without decoding names."""
    return _walk_exports(payload, name.encode("utf-8"), kind)
