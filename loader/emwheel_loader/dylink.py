"""The dynamic-linking metadata of a WebAssembly side module: the ``dylink.0`` section.

Layout (https://github.com/WebAssembly/tool-conventions/blob/main/DynamicLinking.md):
the module's first section is a custom section named ``dylink.0`` whose body is a list of
subsections, each ``type:u8 size:varuint32 payload``. The legacy ``dylink`` section (before
Emscripten 2.0.x) has no subsections: mem info followed by the NEEDED list.

Everything is kept byte-exact: a subsection that is unknown, malformed, or simply not
changed is written back from the bytes it was read from. Only an edited subsection
(NEEDED or RUNTIME_PATH) is re-encoded.

This module is pure Python with no dependencies: the runtime loader uses it inside Pyodide.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any

from .binary_reader import BinaryReader, ByteStream, encode_name, encode_uleb128, read_uleb128_from
from .errors import WasmFormatError

__all__ = [
    "DYLINK_SECTION_NAME",
    "LEGACY_DYLINK_SECTION_NAME",
    "WASM_MAGIC",
    "DylinkSection",
    "DylinkSubsection",
    "DylinkSubsectionType",
    "ExportInfo",
    "ImportInfo",
    "MemInfo",
    "parse_dylink_body",
    "read_dylink_prefix",
]

WASM_MAGIC = b"\0asm"
DYLINK_SECTION_NAME = "dylink.0"
LEGACY_DYLINK_SECTION_NAME = "dylink"

# Symbol flags used in EXPORT_INFO / IMPORT_INFO (llvm/BinaryFormat/Wasm.h).
WASM_SYMBOL_BINDING_WEAK = 0x1
WASM_SYMBOL_TLS = 0x100


class DylinkSubsectionType(IntEnum):
    MEM_INFO = 1
    NEEDED = 2
    EXPORT_INFO = 3
    IMPORT_INFO = 4
    RUNTIME_PATH = 5


@dataclass(frozen=True)
class MemInfo:
    memory_size: int
    memory_alignment: int  # log2
    table_size: int
    table_alignment: int  # log2


@dataclass(frozen=True)
class ExportInfo:
    name: str
    flags: int

    @property
    def is_tls(self) -> bool:
        return bool(self.flags & WASM_SYMBOL_TLS)


@dataclass(frozen=True)
class ImportInfo:
    module: str
    field: str
    flags: int

    @property
    def is_weak(self) -> bool:
        return bool(self.flags & WASM_SYMBOL_BINDING_WEAK)


@dataclass(frozen=True)
class DylinkSubsection:
    """One subsection, as read: ``raw`` holds its type byte, size and payload exactly."""

    type: int
    raw: bytes
    payload_offset: int
    problem: str | None = None  # why it could not be decoded; None when well-formed
    # Its size runs past the section's end: ``raw`` is the rest of the section, so anything
    # written after it would be read as part of it.
    truncated: bool = False

    @property
    def payload(self) -> bytes:
        return self.raw[self.payload_offset :]

    @property
    def type_name(self) -> str:
        try:
            return DylinkSubsectionType(self.type).name
        except ValueError:
            return f"unknown ({self.type})"


@dataclass(frozen=True)
class DylinkSection:
    """The decoded dylink metadata of a module, plus the raw pieces needed to rewrite it."""

    name: str  # DYLINK_SECTION_NAME or LEGACY_DYLINK_SECTION_NAME
    mem_info: MemInfo | None
    needed: tuple[str, ...]
    runtime_path: tuple[str, ...]
    export_info: tuple[ExportInfo, ...]
    import_info: tuple[ImportInfo, ...]
    subsections: tuple[DylinkSubsection, ...] = ()  # empty for the legacy section
    legacy_body: bytes = field(default=b"", repr=False)

    @property
    def is_legacy(self) -> bool:
        return self.name == LEGACY_DYLINK_SECTION_NAME

    @property
    def problems(self) -> tuple[str, ...]:
        """One message per subsection that could not be decoded exactly."""
        return tuple(
            f"{sub.type_name} subsection: {sub.problem}" for sub in self.subsections if sub.problem
        )

    def with_needed(self, names: Sequence[str]) -> DylinkSection:
        if self._unchanged(DylinkSubsectionType.NEEDED, self.needed, names):
            return self
        if self.is_legacy:
            return replace(self, needed=tuple(names), legacy_body=b"")
        new = _replace_string_list(self.subsections, DylinkSubsectionType.NEEDED, names)
        return replace(self, needed=tuple(names), subsections=new)

    def with_runtime_path(self, paths: Sequence[str]) -> DylinkSection:
        if self._unchanged(DylinkSubsectionType.RUNTIME_PATH, self.runtime_path, paths):
            return self
        if self.is_legacy:
            raise WasmFormatError("the legacy 'dylink' section has no RUNTIME_PATH")
        new = _replace_string_list(self.subsections, DylinkSubsectionType.RUNTIME_PATH, paths)
        return replace(self, runtime_path=tuple(paths), subsections=new)

    def _unchanged(
        self, sub_type: DylinkSubsectionType, current: tuple[str, ...], new: Sequence[str]
    ) -> bool:
        """True when ``new`` is what the section already says, exactly (nothing to encode)."""
        return tuple(new) == current and not any(
            sub.problem for sub in self.subsections if sub.type == sub_type
        )

    def encode_body(self) -> bytes:
        """The section body (after its name), byte-identical where nothing was changed."""
        if not self.is_legacy:
            return b"".join(sub.raw for sub in self.subsections)
        if self.legacy_body:
            return self.legacy_body
        assert self.mem_info is not None  # a legacy section always starts with mem info
        return _encode_mem_info(self.mem_info) + _encode_string_list(self.needed)


def parse_dylink_body(name: str, body: bytes | memoryview) -> DylinkSection:
    """Decode the body of a ``dylink.0`` or legacy ``dylink`` custom section."""
    if name == LEGACY_DYLINK_SECTION_NAME:
        return _parse_legacy(bytes(body))
    if name != DYLINK_SECTION_NAME:
        raise ValueError(f"not a dylink section name: {name!r}")
    # Like Emscripten, take the values of repeated subsections one after the other.
    values: dict[int, list[Any]] = {t: [] for t in DylinkSubsectionType}
    decoded: list[DylinkSubsection] = []
    for sub in _split_subsections(bytes(body)):
        decoder = _DECODERS.get(sub.type)
        if sub.problem is None and decoder is not None:
            try:
                items, problem = decoder(sub.payload)
            except WasmFormatError as e:
                items, problem = [], str(e)
            if problem:
                sub = replace(sub, problem=problem)
            values[sub.type].extend(items)
        decoded.append(sub)
    mem_info = values[DylinkSubsectionType.MEM_INFO]
    return DylinkSection(
        name=name,
        mem_info=mem_info[0] if mem_info else None,
        needed=tuple(values[DylinkSubsectionType.NEEDED]),
        runtime_path=tuple(values[DylinkSubsectionType.RUNTIME_PATH]),
        export_info=tuple(values[DylinkSubsectionType.EXPORT_INFO]),
        import_info=tuple(values[DylinkSubsectionType.IMPORT_INFO]),
        subsections=tuple(decoded),
    )


def read_dylink_prefix(stream: ByteStream) -> DylinkSection | None:
    """Read the dylink section from the start of a module stream, reading nothing beyond it.

    Returns None for a wasm module whose first section is not a dylink section (not a side
    module). Raises WasmFormatError when the stream is not a WebAssembly module.
    """
    header = stream.read(8)
    if len(header) < 8 or header[:4] != WASM_MAGIC:
        raise WasmFormatError("not a WebAssembly module (bad magic number)")
    if header[4:8] != b"\x01\x00\x00\x00":
        raise WasmFormatError(f"unsupported WebAssembly version {header[4:8].hex()}")
    section_id = stream.read(1)
    if not section_id or section_id[0] != 0:
        return None
    try:
        size, _ = read_uleb128_from(stream)
    except EOFError:
        raise WasmFormatError("module ends inside its first section header") from None
    content = stream.read(size)
    if len(content) < size:
        raise WasmFormatError(f"first section (size {size}) runs past the end of the module")
    reader = BinaryReader(content)
    name = reader.name()
    if name not in (DYLINK_SECTION_NAME, LEGACY_DYLINK_SECTION_NAME):
        return None
    return parse_dylink_body(name, reader.take(reader.remaining))


# -- decoding -------------------------------------------------------------------------------


def _split_subsections(body: bytes) -> list[DylinkSubsection]:
    reader = BinaryReader(body)
    result = []
    while not reader.at_end:
        start = reader.pos
        sub_type = reader.u8()
        try:
            size = reader.uleb()
            payload_offset = reader.pos - start
            reader.take(size)
        except WasmFormatError as e:
            # The framing itself is broken: keep the rest of the section as one raw piece.
            rest = body[start:]
            result.append(DylinkSubsection(sub_type, rest, len(rest), f"truncated: {e}", True))
            break
        result.append(DylinkSubsection(sub_type, body[start : reader.pos], payload_offset))
    return result


_Decoded = tuple[list[Any], str | None]  # the values, and a problem if not decoded exactly


def _decode_mem_info(payload: bytes) -> _Decoded:
    reader = BinaryReader(payload)
    info = MemInfo(reader.uleb(), reader.uleb(), reader.uleb(), reader.uleb())
    return [info], _trailing(reader)


def _decode_string_list(payload: bytes) -> _Decoded:
    reader = BinaryReader(payload)
    count = reader.uleb()
    items = [reader.name() for _ in range(count)]
    return items, _trailing(reader)


def _decode_export_info(payload: bytes) -> _Decoded:
    return _decode_counted(payload, lambda r: ExportInfo(r.name(), r.uleb()))


def _decode_import_info(payload: bytes) -> _Decoded:
    return _decode_counted(payload, lambda r: ImportInfo(r.name(), r.name(), r.uleb()))


def _decode_counted(payload: bytes, read_one: Callable[[BinaryReader], Any]) -> _Decoded:
    """Decode ``count`` entries; if bytes remain, decode on and report the real number.

    Some tools (auditwheel-emscripten 0.3.0) write IMPORT_INFO with a count that is the
    number of distinct import modules rather than the number of entries. The entries are
    still well-formed, so they are returned, and the mismatch is reported as a problem.
    """
    reader = BinaryReader(payload)
    count = reader.uleb()
    items = [read_one(reader) for _ in range(count)]
    if reader.at_end:
        return items, None
    extra_start = reader.pos
    try:
        while not reader.at_end:
            items.append(read_one(reader))
    except WasmFormatError:
        return items[:count], f"{len(payload) - extra_start} bytes after the {count} entries"
    noun = "entry" if count == 1 else "entries"
    return items, f"declares {count} {noun} but holds {len(items)}"


def _trailing(reader: BinaryReader) -> str | None:
    return None if reader.at_end else f"{reader.remaining} unexpected bytes at the end"


_DECODERS: dict[int, Callable[[bytes], _Decoded]] = {
    DylinkSubsectionType.MEM_INFO: _decode_mem_info,
    DylinkSubsectionType.NEEDED: _decode_string_list,
    DylinkSubsectionType.EXPORT_INFO: _decode_export_info,
    DylinkSubsectionType.IMPORT_INFO: _decode_import_info,
    DylinkSubsectionType.RUNTIME_PATH: _decode_string_list,
}


def _parse_legacy(body: bytes) -> DylinkSection:
    reader = BinaryReader(body)
    mem_info = MemInfo(reader.uleb(), reader.uleb(), reader.uleb(), reader.uleb())
    needed = tuple(reader.name() for _ in range(reader.uleb()))
    if not reader.at_end:
        raise WasmFormatError(f"legacy dylink section: {reader.remaining} unexpected bytes")
    return DylinkSection(
        name=LEGACY_DYLINK_SECTION_NAME,
        mem_info=mem_info,
        needed=needed,
        runtime_path=(),
        export_info=(),
        import_info=(),
        legacy_body=body,
    )


# -- encoding -------------------------------------------------------------------------------


def _encode_mem_info(info: MemInfo) -> bytes:
    return b"".join(
        encode_uleb128(v)
        for v in (info.memory_size, info.memory_alignment, info.table_size, info.table_alignment)
    )


def _encode_string_list(items: Sequence[str]) -> bytes:
    return encode_uleb128(len(items)) + b"".join(encode_name(item) for item in items)


def _encode_subsection(sub_type: int, payload: bytes) -> DylinkSubsection:
    header = bytes([sub_type]) + encode_uleb128(len(payload))
    return DylinkSubsection(sub_type, header + payload, len(header))


def _replace_string_list(
    subsections: tuple[DylinkSubsection, ...], sub_type: DylinkSubsectionType, items: Sequence[str]
) -> tuple[DylinkSubsection, ...]:
    """Replace every subsection of ``sub_type`` by one holding ``items`` (none if empty).

    The new subsection takes the place of the first old one; if there was none, it goes
    before the first subsection of a higher known type, keeping the conventional order,
    and always before a truncated subsection, which would otherwise swallow it.
    """
    new = [_encode_subsection(sub_type, _encode_string_list(items))] if items else []
    result: list[DylinkSubsection] = []
    placed = False
    for sub in subsections:
        if sub.type == sub_type:
            if not placed:
                result.extend(new)
                placed = True
            continue
        if not placed and (sub.truncated or (sub.type in _DECODERS and sub.type > sub_type)):
            result.extend(new)
            placed = True
        result.append(sub)
    if not placed:
        result.extend(new)
    return tuple(result)
