"""Import and export names of a module, read fast, for symbol resolution in `emwheel check`.

The careful readers in wasm_imports_exports decode every entry into objects; resolving the
imports of a wheel with 100,000 of them needs only names, so these walk the section bytes
and return them as bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from emwheel_loader.binary_reader import BinaryReader
from emwheel_loader.errors import WasmFormatError

from .wasm_imports_exports import ExternalKind, _skip_import_description, _uleb_at

__all__ = ["ImportName", "export_names", "import_names"]


@dataclass(frozen=True)
class ImportName:
    module: bytes
    name: bytes
    kind: int  # an ExternalKind


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


def import_names(payload: bytes) -> list[ImportName]:
    if not payload:
        return []
    count, pos = _uleb_at(payload, 0)
    result = []
    try:
        for _ in range(count):
            module, pos = _name(payload, pos)
            name, pos = _name(payload, pos)
            kind = payload[pos]
            pos += 1
            if kind == ExternalKind.FUNCTION:
                while payload[pos] & 0x80:
                    pos += 1
                pos += 1
            elif kind == ExternalKind.GLOBAL and payload[pos] not in (0x63, 0x64):
                pos += 2  # a one-byte value type, then mutability (GOT entries, mostly)
            else:
                reader = BinaryReader(payload, pos)
                _skip_import_description(reader, kind)
                pos = reader.pos
            result.append(ImportName(module, name, kind))
    except IndexError:
        raise WasmFormatError("import section: an entry runs past the end") from None
    return result


def export_names(payload: bytes) -> set[bytes]:
    if not payload:
        return set()
    count, pos = _uleb_at(payload, 0)
    names = set()
    try:
        for _ in range(count):
            name, pos = _name(payload, pos)
            names.add(name)
            pos += 1  # kind
            while payload[pos] & 0x80:
                pos += 1
            pos += 1
    except IndexError:
        raise WasmFormatError("export section: an entry runs past the end") from None
    return names
