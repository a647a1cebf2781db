"""WebAssembly modules as a wheel tool needs them: section headers, dylink metadata, rewriting.

Spec: https://webassembly.github.io/spec/core/binary/modules.html

A module is never decoded as a whole. Section headers are read lazily (the ``dylink.0``
section is always first, so reading it costs nothing beyond it), the import and export
sections are decoded on request, and writing a module replaces the dylink section's bytes
and copies every other byte unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import IO

from emwheel_loader.binary_reader import (
    BinaryReader,
    encode_name,
    encode_uleb128,
    read_uleb128_from,
)
from emwheel_loader.dylink import (
    DYLINK_SECTION_NAME,
    LEGACY_DYLINK_SECTION_NAME,
    WASM_MAGIC,
    DylinkSection,
    parse_dylink_body,
)
from emwheel_loader.errors import WasmFormatError

from .wasm_imports_exports import (
    Export,
    Import,
    check_export_section,
    check_import_section,
    exports_contain,
    parse_export_section,
    parse_import_section,
    vector_count,
)

__all__ = [
    "ModuleSummary",
    "SectionHeader",
    "SectionId",
    "WasmModule",
    "encode_dylink_section",
    "is_wasm",
    "iter_section_headers",
    "read_dylink",
    "scan_module_stream",
]

WASM_VERSION = b"\x01\x00\x00\x00"
HEADER_SIZE = 8


class SectionId(IntEnum):
    CUSTOM = 0
    TYPE = 1
    IMPORT = 2
    FUNCTION = 3
    TABLE = 4
    MEMORY = 5
    GLOBAL = 6
    EXPORT = 7
    START = 8
    ELEMENT = 9
    CODE = 10
    DATA = 11
    DATA_COUNT = 12
    TAG = 13


# Sections after the export section in the required order: once one of these is seen, no
# import or export section can follow (the tag section sits between memory and global).
_AFTER_EXPORT = frozenset(
    {SectionId.START, SectionId.ELEMENT, SectionId.DATA_COUNT, SectionId.CODE, SectionId.DATA}
)


@dataclass(frozen=True)
class SectionHeader:
    id: int
    offset: int  # of the section id byte
    payload_offset: int  # of the first byte after the size (for custom sections: the name)
    payload_size: int
    name: str | None = None  # custom sections only

    @property
    def end(self) -> int:
        return self.payload_offset + self.payload_size

    @property
    def id_name(self) -> str:
        try:
            return SectionId(self.id).name.lower()
        except ValueError:
            return f"unknown ({self.id})"


def is_wasm(prefix: bytes) -> bool:
    return prefix[:4] == WASM_MAGIC


def _check_header(data: bytes | bytearray | memoryview) -> None:
    if len(data) < HEADER_SIZE or bytes(data[:4]) != WASM_MAGIC:
        raise WasmFormatError("not a WebAssembly module (bad magic number)")
    if bytes(data[4:8]) != WASM_VERSION:
        raise WasmFormatError(f"unsupported WebAssembly version {bytes(data[4:8]).hex()}")


def iter_section_headers(data: bytes | bytearray | memoryview) -> Iterator[SectionHeader]:
    """Yield the header of every section of a module in memory, lazily, checking bounds."""
    _check_header(data)
    data = memoryview(data) if isinstance(data, bytearray) else data
    reader = BinaryReader(data, HEADER_SIZE)
    while not reader.at_end:
        offset = reader.pos
        section_id = reader.u8()
        try:
            size = reader.uleb()
        except WasmFormatError as e:
            raise WasmFormatError(f"section header at offset {offset}: {e}") from None
        payload_offset = reader.pos
        if size > reader.remaining:
            raise WasmFormatError(
                f"section {_describe_id(section_id)} at offset {offset} (size {size}) "
                f"runs past the end of the module ({len(data)} bytes)"
            )
        name = None
        if section_id == SectionId.CUSTOM:
            name = BinaryReader(data, payload_offset, payload_offset + size).name()
        reader.pos = payload_offset + size
        yield SectionHeader(section_id, offset, payload_offset, size, name)


def _describe_id(section_id: int) -> str:
    try:
        return SectionId(section_id).name.lower()
    except ValueError:
        return f"with unknown id {section_id}"


def _custom_body(data: bytes | memoryview, header: SectionHeader) -> memoryview:
    reader = BinaryReader(data, header.payload_offset, header.end)
    reader.name()
    return reader.take(reader.remaining)


def read_dylink(data: bytes | memoryview, first: SectionHeader | None) -> DylinkSection | None:
    """The dylink section of a module whose first section is ``first``, if it is one."""
    if first is None or first.name not in (DYLINK_SECTION_NAME, LEGACY_DYLINK_SECTION_NAME):
        return None
    return parse_dylink_body(first.name, _custom_body(data, first))


@dataclass(frozen=True)
class ModuleSummary:
    """What a wheel tool reads from a module stream: dylink metadata, imports, exports.

    The import and export sections are kept as bytes and decoded only when asked.
    """

    dylink: DylinkSection | None
    import_payload: bytes = b""
    export_payload: bytes = b""
    dylink_end: int = 0  # offset just past the dylink section (0 without one)

    @cached_property
    def imports(self) -> tuple[Import, ...]:
        return parse_import_section(self.import_payload) if self.import_payload else ()

    @cached_property
    def exports(self) -> tuple[Export, ...]:
        return parse_export_section(self.export_payload) if self.export_payload else ()

    @property
    def import_count(self) -> int:
        return vector_count(self.import_payload)

    @property
    def export_count(self) -> int:
        return vector_count(self.export_payload)

    def exports_function(self, name: str) -> bool:
        return bool(self.export_payload) and exports_contain(self.export_payload, name)


def scan_module_stream(stream: IO[bytes], module_size: int | None = None) -> ModuleSummary:
    """Read the dylink, import and export sections from a stream, stopping after exports.

    The code and data sections, which hold nearly all of a module's bytes, come after the
    export section and are never read. ``module_size``, when known, lets truncation be
    reported against the real size.
    """
    header = stream.read(HEADER_SIZE)
    _check_header(header)
    position = HEADER_SIZE
    dylink: DylinkSection | None = None
    dylink_end = 0
    import_payload = b""
    export_payload = b""
    first = True
    while True:
        offset = position
        id_byte = stream.read(1)
        if not id_byte:
            break
        section_id = id_byte[0]
        try:
            size, width = read_uleb128_from(stream)
        except EOFError:
            raise WasmFormatError(
                f"module ends inside the section header at offset {offset}"
            ) from None
        except WasmFormatError as e:
            raise WasmFormatError(f"section header at offset {offset}: {e}") from None
        position += 1 + width
        if section_id in _AFTER_EXPORT:
            break
        wanted = first or section_id in (SectionId.IMPORT, SectionId.EXPORT)
        if wanted:
            payload = stream.read(size)
            if len(payload) < size:
                raise _past_end(section_id, offset, size, module_size or position + len(payload))
            if first and section_id == SectionId.CUSTOM:
                reader = BinaryReader(payload)
                name = reader.name()
                if name in (DYLINK_SECTION_NAME, LEGACY_DYLINK_SECTION_NAME):
                    dylink = parse_dylink_body(name, reader.take(reader.remaining))
                    dylink_end = position + size
            elif section_id == SectionId.IMPORT:
                check_import_section(payload)
                import_payload = payload
            elif section_id == SectionId.EXPORT:
                check_export_section(payload)
                export_payload = payload
                break
        else:
            skipped = _skip(stream, size)
            if skipped < size:
                raise _past_end(section_id, offset, size, module_size or position + skipped)
        position += size
        first = False
    return ModuleSummary(dylink, import_payload, export_payload, dylink_end)


def _skip(stream: IO[bytes], size: int) -> int:
    remaining = size
    while remaining:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            break
        remaining -= len(chunk)
    return size - remaining


def _past_end(section_id: int, offset: int, size: int, module_size: int) -> WasmFormatError:
    return WasmFormatError(
        f"section {_describe_id(section_id)} at offset {offset} (size {size}) "
        f"runs past the end of the module ({module_size} bytes)"
    )


class WasmModule:
    """A module held in memory, whose dylink metadata can be read and replaced."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._headers = iter_section_headers(data)
        self._seen: list[SectionHeader] = []

    @classmethod
    def parse(cls, data: bytes) -> WasmModule:
        module = cls(data)
        _ = module.first_section  # validates the header and the first section's bounds
        return module

    def section_headers(self) -> Iterator[SectionHeader]:
        """All section headers, read lazily and remembered."""
        yield from self._seen
        for header in self._headers:
            self._seen.append(header)
            yield header

    @property
    def first_section(self) -> SectionHeader | None:
        return next(iter(self.section_headers()), None)

    def validate(self) -> None:
        """Read every section header, checking that each lies inside the module."""
        for _ in self.section_headers():
            pass

    @cached_property
    def dylink(self) -> DylinkSection | None:
        return read_dylink(self.data, self.first_section)

    def section(self, section_id: SectionId) -> SectionHeader | None:
        for header in self.section_headers():
            if header.id == section_id:
                return header
        return None

    @cached_property
    def imports(self) -> tuple[Import, ...]:
        header = self.section(SectionId.IMPORT)
        if header is None:
            return ()
        return parse_import_section(self.data[header.payload_offset : header.end])

    @cached_property
    def exports(self) -> tuple[Export, ...]:
        header = self.section(SectionId.EXPORT)
        if header is None:
            return ()
        return parse_export_section(self.data[header.payload_offset : header.end])

    def encode(self, dylink: DylinkSection | None = None) -> bytes:
        """The module's bytes, with ``dylink`` in place of its dylink section if given.

        Only the dylink section is re-encoded; every other byte is copied unchanged, and
        with no new section (or an unchanged one) the original bytes are returned as is.
        """
        if dylink is None or dylink == self.dylink:
            return self.data
        first = self.first_section
        if self.dylink is None or first is None:
            raise WasmFormatError("module has no dylink section to replace")
        return self.data[: first.offset] + encode_dylink_section(dylink) + self.data[first.end :]


def encode_dylink_section(dylink: DylinkSection) -> bytes:
    """The whole custom section (id, size, name, body) for a dylink section."""
    body = encode_name(dylink.name) + dylink.encode_body()
    return bytes([SectionId.CUSTOM]) + encode_uleb128(len(body)) + body
