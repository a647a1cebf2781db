"""Import and export names of a module, read fast, for `emwheel check`.

The careful readers in wasm_imports_exports decode every entry into objects; resolving the
imports of a wheel with 175,000 of them needs only names, so these walk the section bytes
once, inline, and return plain tuples of bytes. The same walk gives the feature scan
(wasm_features) what it needs from the import section: how many functions are imported,
and where the few imports whose types can need a feature are (tables, memories, tags,
globals of a non-numeric type), so the section is read once per module, not twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from emwheel_loader.binary_reader import BinaryReader
from emwheel_loader.errors import WasmFormatError

from .wasm_imports_exports import ExternalKind, _skip_import_description, _uleb_at

__all__ = ["ImportTable", "export_names", "read_imports"]

# i32, i64, f32, f64: a global import of one of these types needs no feature (nor does
# mutability, 0 or 1): the GOT entries of a side module, nearly all of its global imports.
_NUMERIC_TYPES = frozenset((0x7F, 0x7E, 0x7D, 0x7C))


@dataclass(frozen=True)
class ImportTable:
    entries: list[tuple[bytes, bytes, int]]  # (module, name, kind) in section order
    functions: int  # imported functions: the module's own functions are numbered after them
    # (offset of the entry's names, kind, offset of its type) for each import whose type
    # the feature scan must read: tables, memories, tags, non-numeric or odd globals
    typed: list[tuple[int, int, int]]
    end: int  # offset just after the last entry


def _name(data: bytes, pos: int) -> tuple[bytes, int]:
    length = data[pos]
    if length < 0x80:
        start = pos + 1
    elif data[pos + 1] < 0x80:
        length = (length & 0x7F) | (data[pos + 1] << 7)
        start = pos + 2
    else:
        length, start = _uleb_at(data, pos)
    end = start + length
    if end > len(data):
        raise IndexError
    return data[start:end], end


def read_imports(data: bytes, start: int = 0, end: int | None = None) -> ImportTable:
    """The import section whose payload is ``data[start:end]`` (offsets stay the module's)."""
    end = len(data) if end is None else end
    if start >= end:
        return ImportTable([], 0, [], start)
    count, pos = _uleb_at(data, start)
    entries = []
    typed = []
    functions = 0
    try:
        for _ in range(count):
            names_at = pos
            # Names are inlined for the common one-byte length: this loop runs 175,000
            # times for grill-usd-core. A name running past the end is caught at the end.
            length = data[pos]
            if length < 0x80:
                module = data[pos + 1 : pos + 1 + length]
                pos += 1 + length
            elif data[pos + 1] < 0x80:  # two-byte length: long C++ names
                length = (length & 0x7F) | (data[pos + 1] << 7)
                module = data[pos + 2 : pos + 2 + length]
                pos += 2 + length
            else:
                module, pos = _name(data, pos)
            length = data[pos]
            if length < 0x80:
                name = data[pos + 1 : pos + 1 + length]
                pos += 1 + length
            elif data[pos + 1] < 0x80:  # two-byte length: long C++ names
                length = (length & 0x7F) | (data[pos + 1] << 7)
                name = data[pos + 2 : pos + 2 + length]
                pos += 2 + length
            else:
                name, pos = _name(data, pos)
            kind = data[pos]
            pos += 1
            if kind == ExternalKind.FUNCTION:
                functions += 1
                while data[pos] & 0x80:
                    pos += 1
                pos += 1
            elif kind == ExternalKind.GLOBAL and data[pos] in _NUMERIC_TYPES and data[pos + 1] < 2:
                pos += 2
            else:
                typed.append((names_at, kind, pos))
                reader = BinaryReader(data, pos)
                _skip_import_description(reader, kind)
                pos = reader.pos
            entries.append((module, name, kind))
    except IndexError:
        raise WasmFormatError("import section: an entry runs past the end") from None
    if pos > end:
        raise WasmFormatError("import section: the last entry runs past the end")
    return ImportTable(entries, functions, typed, pos)


def export_names(payload: bytes) -> set[bytes]:
    if not payload:
        return set()
    count, pos = _uleb_at(payload, 0)
    names = set()
    try:
        for _ in range(count):
            length = payload[pos]
            if length < 0x80:  # inlined, as in read_imports
                names.add(payload[pos + 1 : pos + 1 + length])
                pos += 1 + length
            elif payload[pos + 1] < 0x80:
                length = (length & 0x7F) | (payload[pos + 1] << 7)
                names.add(payload[pos + 2 : pos + 2 + length])
                pos += 2 + length
            else:
                name, pos = _name(payload, pos)
                names.add(name)
            pos += 1  # kind
            while payload[pos] & 0x80:
                pos += 1
            pos += 1
    except IndexError:
        raise WasmFormatError("export section: an entry runs past the end") from None
    if pos > len(payload):
        raise WasmFormatError("export section: the last entry runs past the end")
    return names
