"""Import and export names of a module, read fast, for `emwheel check`.

The careful readers in wasm_imports_exports decode every entry into objects; resolving the
imports of a wheel with 175,000 of them needs only names, so these walk the section bytes
once, inline, and return names as bytes. The same walk gives the feature scan
(wasm_features) what it needs from the import section: how many functions are imported,
and where the few imports whose types can need a feature are (tables, memories, tags,
globals of a non-numeric type), so the section is read once per module, not twice.

Each section is checked as `show` checks it (wasm_imports_exports.check_import_section and
check_export_section), with the same messages: `check` reads every module with these alone.

Where emwheel was built with its compiled loops (``_wasm_names.c``, setup.py), they read
the entries in the plainest form, and these loops only the others.

What `check` asks of an import is which names it looks for and whether Pyodide binds it at
load time; so the table keeps the names in one list and, in two byte strings, each import's
group (``env`` function, other ``env`` import, ``GOT.mem``, ``GOT.func``, any other module)
and kind. Those travel between processes as three strings, and `check` answers most of its
questions with set operations on the names of a group rather than a loop over imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from emwheel_loader.binary_reader import BinaryReader
from emwheel_loader.errors import WasmFormatError

from .wasm_imports_exports import ExternalKind, _skip_import_description, _uleb_at

try:  # built with emwheel where a C compiler was found (setup.py)
    from . import _wasm_names as compiled_loops
except ImportError:  # installed as pure Python: these loops read every entry
    compiled_loops = None  # type: ignore[assignment]

__all__ = [
    "ImportGroup",
    "ImportTable",
    "compiled_loops",
    "export_names",
    "read_export_names",
    "read_imports",
]

# i32, i64, f32, f64: a global import of one of these types needs no feature (nor does
# mutability, 0 or 1): the GOT entries of a side module, nearly all of its global imports.
_NUMERIC_TYPES = frozenset((0x7F, 0x7E, 0x7D, 0x7C))


class ImportGroup(IntEnum):
    ENV_FUNCTION = 0  # bound when first called
    ENV_OTHER = 1  # an env global, memory, table or tag: bound at load
    GOT_MEM = 2  # the address of data: bound at load
    GOT_FUNC = 3  # the address of a function: bound at load
    OTHER = 4  # any other import module


# The import modules of nearly every import of a side module, with their length byte.
_ENV = b"\x03env"
_GOT_MEM = b"\x07GOT.mem"
_GOT_FUNC = b"\x08GOT.func"
_MODULE_NAMES: dict[int, bytes] = {
    ImportGroup.ENV_FUNCTION: b"env",
    ImportGroup.ENV_OTHER: b"env",
    ImportGroup.GOT_MEM: b"GOT.mem",
    ImportGroup.GOT_FUNC: b"GOT.func",
}
# The groups as plain ints, for the loop of read_imports.
_ENV_FUNCTION, _ENV_OTHER, _GOT_MEM_GROUP, _GOT_FUNC_GROUP, _OTHER = (int(g) for g in ImportGroup)
_GROUPS = {b"env": _ENV_FUNCTION, b"GOT.mem": _GOT_MEM_GROUP, b"GOT.func": _GOT_FUNC_GROUP}


@dataclass(frozen=True)
class ImportTable:
    names: list[bytes]  # field names, in section order
    groups: bytes  # each import's ImportGroup, in section order
    kinds: bytes  # each import's ExternalKind, in section order
    other_modules: dict[int, bytes]  # the import module of each OTHER import, by index
    # (offset of the entry's names, kind, offset of its type) for each import whose type
    # the feature scan must read: tables, memories, tags, non-numeric or odd globals
    typed: list[tuple[int, int, int]]
    end: int  # offset just after the last entry

    @property
    def functions(self) -> int:
        """Imported functions: the module's own functions are numbered after them."""
        return self.kinds.count(ExternalKind.FUNCTION)

    def module(self, index: int) -> bytes:
        """The import module of the import at ``index``."""
        group = self.groups[index]
        return self.other_modules[index] if group == ImportGroup.OTHER else _MODULE_NAMES[group]

    @property
    def entries(self) -> list[tuple[bytes, bytes, int]]:
        """(module, name, kind) of every import, in section order."""
        pairs = enumerate(zip(self.names, self.kinds, strict=True))
        return [(self.module(index), name, kind) for index, (name, kind) in pairs]


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


def read_imports(
    data: bytes | bytearray | memoryview, start: int = 0, end: int | None = None
) -> ImportTable:
    """The import section whose payload is ``data[start:end]`` (offsets stay the module's)."""
    end = len(data) if end is None else end
    # The payload as bytes of its own (a copy, unless it is all of ``data``): nothing is read
    # past its end, and the names are bytes.
    payload = bytes(data[start:end])
    count, pos = _uleb_at(payload, 0)
    names: list[bytes] = []
    groups = bytearray()
    kinds = bytearray()
    other_modules = {}
    typed = []
    add_name, add_group, add_kind = names.append, groups.append, kinds.append
    starts_with = payload.startswith
    compiled = compiled_loops  # read once: tests turn the compiled loops off by setting None
    index = 0
    try:
        # This loop runs 175,000 times for grill-usd-core: lengths of one and two bytes and
        # the common import modules are inlined, each step kept to a few operations.
        while index < count:
            if compiled is not None:  # the plain entries from here, at once
                pos, read = compiled.read_plain_imports(
                    payload, pos, count - index, names, groups, kinds
                )
                index += read
                if index == count:
                    break
            entry = pos
            if starts_with(_ENV, pos):
                group = _ENV_FUNCTION
                pos += 4
            elif starts_with(_GOT_MEM, pos):
                group = _GOT_MEM_GROUP
                pos += 8
            elif starts_with(_GOT_FUNC, pos):
                group = _GOT_FUNC_GROUP
                pos += 9
            else:  # another module, or one of those with its length written long
                module, pos = _name(payload, pos)
                group = _GROUPS.get(module, _OTHER)
                if group == _OTHER:
                    other_modules[index] = module
            length = payload[pos]
            if length < 0x80:
                pos += 1 + length
                add_name(payload[pos - length : pos])
            elif payload[pos + 1] < 0x80:
                length = (length & 0x7F) | (payload[pos + 1] << 7)
                pos += 2 + length
                add_name(payload[pos - length : pos])
            else:
                name, pos = _name(payload, pos)
                add_name(name)
            kind = payload[pos]
            pos += 1
            if kind == 0:  # a function: its type index
                while payload[pos] & 0x80:
                    pos += 1
                pos += 1
            elif kind == 3 and payload[pos] in _NUMERIC_TYPES and payload[pos + 1] < 2:
                pos += 2  # a global of a numeric type
            else:
                typed.append((start + entry, kind, start + pos))
                reader = BinaryReader(payload, pos)
                _skip_import_description(reader, kind)
                pos = reader.pos
            if kind and group == _ENV_FUNCTION:
                group = _ENV_OTHER
            add_group(group)
            add_kind(kind)
            index += 1
    except IndexError:
        pos = len(payload) + 1
    except WasmFormatError as e:
        raise WasmFormatError(f"import section: {e}") from None
    _check_end("import", payload, pos)
    return ImportTable(names, bytes(groups), bytes(kinds), other_modules, typed, start + pos)


def _check_end(section: str, payload: bytes, pos: int) -> None:
    """A section's entries, read up to ``pos``, must end exactly where its payload does."""
    if pos != len(payload):
        problem = (
            "an entry runs past the end"
            if pos > len(payload)
            else f"{len(payload) - pos} unexpected bytes"
        )
        raise WasmFormatError(f"{section} section: {problem}")


def read_export_names(payload: bytes) -> list[bytes]:
    """The names of the export section whose payload this is, in section order (the same
    name may come twice). The section is checked as `show` checks it."""
    count, pos = _uleb_at(payload, 0)
    names: list[bytes] = []
    add = names.append
    compiled = compiled_loops
    index = 0
    try:
        while index < count:
            if compiled is not None:  # the plain entries from here, at once
                pos, read = compiled.read_plain_exports(payload, pos, count - index, names)
                index += read
                if index == count:
                    break
            length = payload[pos]
            if length < 0x80:  # inlined, as in read_imports
                pos += 1 + length
                add(payload[pos - length : pos])
            elif payload[pos + 1] < 0x80:
                length = (length & 0x7F) | (payload[pos + 1] << 7)
                pos += 2 + length
                add(payload[pos - length : pos])
            else:
                name, pos = _name(payload, pos)
                add(name)
            if payload[pos] > 4:
                raise WasmFormatError(f"export section: unknown export kind {payload[pos]}")
            pos += 1
            while payload[pos] & 0x80:
                pos += 1
            pos += 1
            index += 1
    except IndexError:
        pos = len(payload) + 1
    _check_end("export", payload, pos)
    return names


def export_names(payload: bytes) -> set[bytes]:
    """The names of the export section whose payload this is (empty: no export section)."""
    return set(read_export_names(payload)) if payload else set()
