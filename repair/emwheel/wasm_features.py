"""Which WebAssembly features a module uses, for ``emwheel check`` (will it run there?).

Binary formats: https://webassembly.github.io/spec/core/binary/instructions.html,
https://webassembly.github.io/spec/core/binary/types.html and .../binary/modules.html
(WebAssembly 3.0: SIMD, bulk memory, reference types, tail calls, exnref exceptions,
function references, GC, memory64, multi-memory, extended-const); the proposals' overviews
for the rest: legacy exceptions (https://github.com/WebAssembly/exception-handling/blob/main/
proposals/exception-handling/legacy/Exceptions.md), threads (https://github.com/WebAssembly/
threads/blob/main/proposals/threads/Overview.md), relaxed SIMD, wide arithmetic and custom
page sizes (https://github.com/WebAssembly/<name>/blob/main/proposals/<name>/Overview.md).

Features are found in what the module uses: every instruction of the code section, decoded
with its immediates, and the types, limits and segments of the other sections. LLVM's
``target_features`` custom section is read too (``FeatureReport.declared``) but not trusted:
it lists what the compiler was allowed to use, a superset of what it used.

Speed: the code section of a real module can be 150 MB, too much to decode one instruction
at a time in Python. The encoding of nearly every instruction is regular (an opcode byte,
LEB128 integers, fixed-size constants), so runs of instructions are matched by one compiled
regular expression, which covers the instructions of the core format and of every feature
already found. Python decodes only where the expression stops: an instruction of a feature
not seen yet, a br_table with many targets, an unknown opcode. A feature's instructions join
the expression once it is found (one compiled expression per set of features, cached).
On the 152 MB module of cadquery-ocp (62 million instructions) this takes about 2 s, against
about 60 s when the Python decoder takes every instruction itself (same result).

Where emwheel was installed with its compiled scanner (``_wasm_scan.c``, built by setup.py
when a C compiler is found), the scanner does the expression's work, following a table made
from the same opcode tables (``scanner_table``), and skips whole function bodies that need
no decoding; it is several times faster again (docs/benchmarks.md). Python still decodes
wherever the scanner stops, so both ways give the same report and the same errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from emwheel_loader.errors import WasmFormatError

from .symbol_tables import ImportTable, read_imports
from .wasm_module import SectionId, iter_section_headers
from .wasm_opcodes import (
    _EXC,
    _EXTENDED_CONST_OPS,
    _F,
    _FUNCREF,
    _NUMERIC_TYPES,
    _OPCODES,
    _PATTERN_FEATURES,
    _PREFIXED,
    _REF,
    _TYPE_FEATURES,
    _TYPE_NAMES,
    _TYPED_REFERENCES,
    Feature,
    _ordinary_instructions,
    scanner_table,
)

try:  # built with emwheel where a C compiler was found (setup.py)
    from . import _wasm_scan as compiled_scanner
except ImportError:  # installed as pure Python: the expression does its work
    compiled_scanner = None  # type: ignore[assignment]

__all__ = ["Feature", "FeatureReport", "compiled_scanner", "detect_features"]


@dataclass(frozen=True)
class FeatureReport:
    features: frozenset[Feature]
    evidence: dict[Feature, str]  # where each feature was first seen
    declared: dict[str, str] = field(default_factory=dict)  # target_features: name -> + - =


# -- decoding -----------------------------------------------------------------------------------
_Bytes = bytes | bytearray  # a module's bytes (check inflates a module into a bytearray)
# The longest LEB128 the format has (a 64-bit integer). A longer run is refused: decoding
# one of n bytes builds an n*7-bit integer, so n unchecked bytes would cost O(n^2).
_LEB_MAX_BYTES = 10


class _LongLeb(WasmFormatError):
    """Raised without a location; detect_features adds the function or section."""


def _leb(data: _Bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    start = pos
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if pos - start == _LEB_MAX_BYTES:
            raise _LongLeb(f"LEB128 integer too long at offset {start}")


def _sleb(data: _Bytes, pos: int) -> tuple[int, int]:
    value, end = _leb(data, pos)
    if data[end - 1] & 0x40:
        value -= 1 << (7 * (end - pos))
    return value, end


def _skip_leb(data: _Bytes, pos: int) -> int:
    while data[pos] & 0x80:
        pos += 1
    return pos + 1


# A global of a numeric type initialised by one constant or global.get: nearly every global
# of a side module (57,000 in grill-usd-core), none of which shows a feature. Matched whole,
# so only the others go through the decoder.
_PLAIN_GLOBAL = re.compile(
    rb"[\x7c-\x7f][\x00\x01]"
    rb"(?:[\x41\x42\x23][\x80-\xff]{0,9}[\x00-\x7f]|\x43[\x00-\xff]{4}|\x44[\x00-\xff]{8})\x0b"
)

_RAW_SIZES = {"1": 1, "4": 4, "8": 8, "V": 16, "f": 1}


def detect_features(data: _Bytes, imports: ImportTable | None = None) -> FeatureReport:
    """The features a module uses, each with where it was first seen.

    ``imports``: the module's import section, if the caller has read it already.

    A malformed module raises WasmFormatError naming the function or section and the offset.
    So does an opcode, type or section this reader does not know: it may belong to a newer
    proposal, and then no runtime can be said to run the module.
    """
    scan = _Scan(data, imports)
    try:
        scan.run()
    except IndexError:
        raise scan.error("unexpected end of the module") from None
    except _LongLeb as e:
        raise scan.error(str(e)) from None
    return FeatureReport(frozenset(scan.evidence), scan.evidence, scan.declared)


class _Scan:
    def __init__(self, data: _Bytes, imports: ImportTable | None) -> None:
        self.data = data
        self.imports = imports
        self.evidence: dict[Feature, str] = {}
        self.declared: dict[str, str] = {}
        self.section = "module"
        self.function: int | None = None  # the function being decoded, by function index
        self.import_at: int | None = None  # the offset of the import being decoded
        self.imported_functions = self.memories = self.tables = 0
        # read once: tests turn the compiled scanner off by setting compiled_scanner to None
        self.compiled = compiled_scanner
        self.table = b""  # the compiled scanner's, for the features found so far
        self.skip_ordinary = self.ordinary_skipper(frozenset())

    def location(self) -> str:
        if self.function is not None:
            return f"function {self.function}"
        if self.import_at is not None:
            return f"import {self.import_name(self.import_at)}"
        return self.section

    def error(self, problem: str) -> WasmFormatError:
        return WasmFormatError(f"{self.location()}: {problem}")

    def found(self, feature: Feature, what: str, *, located: bool = True) -> None:
        if feature in self.evidence:
            return
        self.evidence[feature] = f"{what} in {self.location()}" if located else what
        if feature in _PATTERN_FEATURES:
            found = frozenset(self.evidence) & _PATTERN_FEATURES
            self.skip_ordinary = self.ordinary_skipper(found)

    def ordinary_skipper(self, found: frozenset[Feature]) -> Callable[[_Bytes, int, int], int]:
        """skip(data, pos, last): the position of the first instruction from ``pos`` that
        may show a feature not in ``found``, or ``last``."""
        if self.compiled is None:
            match = _ordinary_instructions(found).match
            # (...)*+ matches every string, at worst an empty prefix
            return lambda data, pos, last: match(data, pos, last).end()
        skip, table = self.compiled.skip_ordinary, scanner_table(found)
        self.table = table
        return lambda data, pos, last: skip(data, pos, last, table)

    def run(self) -> None:
        readers: dict[int, Callable[[int, int], int]] = {
            SectionId.TYPE: self.type_section, SectionId.IMPORT: self.import_section,
            SectionId.TABLE: self.table_section, SectionId.MEMORY: self.memory_section,
            SectionId.GLOBAL: self.global_section, SectionId.TAG: self.tag_section,
            SectionId.ELEMENT: self.element_section, SectionId.DATA_COUNT: self.data_count,
            SectionId.CODE: self.code_section, SectionId.DATA: self.data_section,
        }  # fmt: skip
        for header in iter_section_headers(self.data):
            if header.id == SectionId.CUSTOM and header.name == "target_features":
                reader: Callable[[int, int], int] = self.target_features
            elif header.id in readers:
                reader = readers[header.id]
            elif header.id in SectionId._value2member_map_:  # function, export, start, custom
                continue
            else:
                raise WasmFormatError(f"unknown section id {header.id} at offset {header.offset}")
            self.section = f"{header.name or header.id_name} section"
            pos = reader(header.payload_offset, header.end)
            if pos != header.end:
                problem = "runs past" if pos > header.end else f"{header.end - pos} bytes after"
                raise self.error(f"the last entry {problem} the end of the section")
        self.section = "module"
        if self.memories > 1:
            self.found(_F.MULTI_MEMORY, f"{self.memories} memories", located=False)
        if self.tables > 1:
            self.found(_REF, f"{self.tables} tables", located=False)

    # -- sections ----------------------------------------------------------------------------
    def type_section(self, pos: int, end: int) -> int:
        count, pos = _leb(self.data, pos)
        index = 0
        for _ in range(count):
            if self.data[pos] != 0x4E:
                pos = self.sub_type(pos, index)
                index += 1
                continue
            self.found(_F.GC, "recursive type group")
            members, pos = _leb(self.data, pos + 1)
            for _ in range(members):
                pos = self.sub_type(pos, index)
                index += 1
        return pos

    def sub_type(self, pos: int, index: int) -> int:
        data = self.data
        form = data[pos]
        if form in (0x50, 0x4F):
            self.found(_F.GC, f"subtype declaration (type {index})")
            supertypes, pos = _leb(data, pos + 1)
            for _ in range(supertypes):
                pos = _skip_leb(data, pos)
            form = data[pos]
        pos += 1
        if form == 0x60:  # function type: parameters, results
            for _ in range(2):
                count, pos = _leb(data, pos)
                for _ in range(count):
                    pos = pos + 1 if data[pos] in _NUMERIC_TYPES else self.value_type(pos)
            if count > 1:
                self.found(_F.MULTI_VALUE, f"function type {index} with {count} results")
        elif form in (0x5F, 0x5E):  # struct (a vector of fields), array (one field)
            self.found(_F.GC, f"{'struct' if form == 0x5F else 'array'} type {index}")
            count, pos = _leb(data, pos) if form == 0x5F else (1, pos)
            for _ in range(count):
                pos = pos + 1 if data[pos] in (0x77, 0x78) else self.value_type(pos)  # i16, i8
                if data[pos] > 1:
                    raise self.error(f"invalid field mutability {data[pos]} at offset {pos}")
                pos += 1
        else:
            raise self.error(f"unknown type form 0x{form:02x} at offset {pos - 1}")
        return pos

    def import_section(self, pos: int, end: int) -> int:
        table = self.imports if self.imports is not None else read_imports(self.data, pos, end)
        self.imported_functions = table.functions
        for names_at, kind, at in table.typed:  # function imports and numeric globals need none
            self.import_at = names_at
            if kind == 1:
                self.table_type(at)
            elif kind == 2:
                self.limits(at, "memory")
                self.memories += 1
            elif kind == 3:
                self.global_type(at)
            elif kind == 4:
                self.found(_EXC, "tag")
            else:
                raise self.error(f"unknown import kind {kind} at offset {at - 1}")
        self.import_at = None
        return table.end

    def import_name(self, pos: int) -> str:
        parts = []
        for _ in range(2):
            length, pos = _leb(self.data, pos)
            parts.append(self.data[pos : pos + length].decode("utf-8", "replace"))
            pos += length
        return ".".join(parts)

    def table_section(self, pos: int, end: int) -> int:
        count, pos = _leb(self.data, pos)
        for _ in range(count):
            if self.data[pos] != 0x40:
                pos = self.table_type(pos)
                continue
            if self.data[pos + 1] != 0:
                raise self.error(f"invalid table declaration at offset {pos}")
            self.found(_FUNCREF, "table with an initializer")
            pos = self.const_expr(self.table_type(pos + 2), end)
        return pos

    def table_type(self, pos: int) -> int:
        self.tables += 1
        pos = pos + 1 if self.data[pos] == 0x70 else self.value_type(pos)  # funcref: the MVP's
        return self.limits(pos, "table")

    def memory_section(self, pos: int, end: int) -> int:
        count, pos = _leb(self.data, pos)
        for _ in range(count):
            pos = self.limits(pos, "memory")
        self.memories += count
        return pos

    def limits(self, pos: int, what: str) -> int:
        flags = self.data[pos]
        if flags > 0x0F:
            raise self.error(f"unknown {what} limits flags 0x{flags:02x} at offset {pos}")
        if flags & 0x02:
            self.found(_F.THREADS, f"shared {what}")
        if flags & 0x04:
            self.found(_F.MEMORY64, f"64-bit {what}")
        if flags & 0x08:
            self.found(_F.CUSTOM_PAGE_SIZES, f"{what} with a custom page size")
        pos = _skip_leb(self.data, pos + 1)  # minimum
        for flag in (0x01, 0x08):  # maximum, log2 of the page size
            if flags & flag:
                pos = _skip_leb(self.data, pos)
        return pos

    def global_section(self, pos: int, end: int) -> int:
        count, pos = _leb(self.data, pos)
        plain = _PLAIN_GLOBAL.match
        for _ in range(count):
            if (match := plain(self.data, pos, end)) is not None:
                pos = match.end()
            else:
                pos = self.const_expr(self.global_type(pos), end)
        return pos

    def global_type(self, pos: int) -> int:
        pos = self.value_type(pos)
        if self.data[pos] > 1:
            raise self.error(f"invalid global mutability {self.data[pos]} at offset {pos}")
        return pos + 1

    def tag_section(self, pos: int, end: int) -> int:
        count, pos = _leb(self.data, pos)
        if count:
            self.found(_EXC, "tag section", located=False)
        for _ in range(count):
            pos = _skip_leb(self.data, pos + 1)  # attribute, type index
        return pos

    def element_section(self, pos: int, end: int) -> int:
        data = self.data
        count, pos = _leb(data, pos)
        for _ in range(count):
            start = pos
            flags, pos = _leb(data, pos)  # bit 0: passive or declarative, bit 1: table index
            if flags > 7:  # or declarative, bit 2: expressions
                raise self.error(f"unknown element segment flags {flags} at offset {start}")
            if flags & 3 == 1:
                self.found(_F.BULK_MEMORY, "passive element segment")
            elif flags & 3 == 3:
                self.found(_REF, "declarative element segment")
            if flags & 4:
                self.found(_REF, "element segment of expressions")
            if not flags & 1:  # active: (table index), offset
                pos = self.const_expr(_skip_leb(data, pos) if flags & 2 else pos, end)
            if flags & 3:  # element kind byte, or reference type
                pos = pos + 1 if not flags & 4 or data[pos] == 0x70 else self.value_type(pos)
            items, pos = _leb(data, pos)
            for _ in range(items):
                pos = self.const_expr(pos, end) if flags & 4 else _skip_leb(data, pos)
        return pos

    def data_count(self, pos: int, end: int) -> int:
        self.found(_F.BULK_MEMORY, "data count section", located=False)
        return _skip_leb(self.data, pos)

    def data_section(self, pos: int, end: int) -> int:
        count, pos = _leb(self.data, pos)
        for _ in range(count):
            start = pos
            flags, pos = _leb(self.data, pos)
            if flags == 1:
                self.found(_F.BULK_MEMORY, "passive data segment")
            elif flags == 2:
                pos = self.memory_index(pos)
            elif flags:
                raise self.error(f"unknown data segment flags {flags} at offset {start}")
            if flags != 1:
                pos = self.const_expr(pos, end)
            size, pos = _leb(self.data, pos)
            pos += size
        return pos

    def target_features(self, pos: int, end: int) -> int:
        data = self.data
        name_length, pos = _leb(data, pos)
        count, pos = _leb(data, pos + name_length)
        for _ in range(count):
            prefix = chr(data[pos])
            length, pos = _leb(data, pos + 1)
            self.declared[data[pos : pos + length].decode("utf-8", "replace")] = prefix
            pos += length
        return pos

    def code_section(self, pos: int, end: int) -> int:
        data = self.data
        count, pos = _leb(data, pos)
        index, stop = self.imported_functions, self.imported_functions + count
        compiled = self.compiled
        while index < stop:  # ~100,000 functions: keep this loop lean
            if compiled is not None and pos <= end <= len(data):
                # every body up to the first one that needs decoding, at once
                pos, skipped = compiled.skip_functions(data, pos, end, stop - index, self.table)
                index += skipped
                if index == stop:
                    break
            self.function = index
            pos = self.function_body(pos, end)
            index += 1
        self.function = None
        return pos

    def function_body(self, pos: int, end: int) -> int:
        data = self.data
        size, pos = (data[pos], pos + 1) if data[pos] < 0x80 else _leb(data, pos)
        body_end = pos + size
        if body_end > end:
            raise self.error(f"body of {size} bytes runs past the end of the code section")
        groups = data[pos]
        if groups == 0:
            pos += 1
        else:
            groups, pos = _leb(data, pos)
            if groups > size:  # each takes two bytes at least
                raise self.error(f"{groups} local declarations in a body of {size} bytes")
            for _ in range(groups):  # locals: count, type
                pos = _skip_leb(data, pos)
                pos = pos + 1 if data[pos] in _NUMERIC_TYPES else self.value_type(pos)
        last = body_end - 1  # the instructions before it must end there: it is an end
        if data[last] != 0x0B:
            raise self.error("body does not end with end (0x0b)")
        if pos > last:
            raise self.error("local declarations run past the end of the body")
        while (pos := self.skip_ordinary(data, pos, last)) < last:
            pos = self.instruction(pos, last)
        return body_end

    # -- instructions and types --------------------------------------------------------------
    def const_expr(self, pos: int, end: int) -> int:
        while (op := self.data[pos]) != 0x0B:
            if op in _EXTENDED_CONST_OPS:
                what = f"opcode 0x{op:02x} ({_EXTENDED_CONST_OPS[op]}) in a constant expression"
                self.found(_F.EXTENDED_CONST, what)
            pos = self.instruction(pos, end)
        return pos + 1

    def instruction(self, pos: int, end: int) -> int:
        data = self.data
        start = pos
        op = data[pos]
        table = _PREFIXED.get(op)
        if table is None:
            entry, label, pos = _OPCODES.get(op), f"0x{op:02x}", pos + 1
        else:
            sub, pos = _leb(data, pos + 1)
            entry, label = table.get(sub), f"0x{op:02x} 0x{sub:02x}"
        if entry is None:
            raise self.error(f"unknown opcode {label} at offset {start}")
        name, immediates, features = entry
        for feature in features:
            self.found(feature, f"opcode {label} ({name})")
        for kind in immediates:
            if kind == "u":
                pos = _skip_leb(data, pos)
            elif kind == "m":
                flags, pos = _leb(data, pos)
                if flags & 0x40:
                    pos = self.memory_index(pos, explicit=True)
                pos = _skip_leb(data, pos)
            elif kind == "k":
                pos = self.block_type(pos)
            elif kind == "x":
                pos = self.memory_index(pos)
            elif kind == "t" and data[pos]:
                table_index, after = _leb(data, pos)
                self.found(_REF, f"{name} with table index {table_index} ({after - pos} bytes)")
                pos = after
            elif kind == "t":
                pos += 1
            elif kind == "v":
                targets, pos = _leb(data, pos)
                for _ in range(targets + 1):
                    pos = _skip_leb(data, pos)
            elif kind == "s":
                types, pos = _leb(data, pos)
                for _ in range(types):
                    pos = self.value_type(pos)
            elif kind == "h":
                pos = self.heap_type(pos)
            elif kind == "c":
                clauses, pos = _leb(data, pos)
                for _ in range(clauses):
                    if data[pos] > 3:
                        raise self.error(f"unknown catch clause {data[pos]} at offset {pos}")
                    pos = _skip_leb(data, pos + 1 + (data[pos] < 2))  # (tag index), label
            else:
                pos += _RAW_SIZES[kind]
        if pos > end:
            raise self.error(f"{name} at offset {start} runs past the end of its body")
        return pos

    def memory_index(self, pos: int, explicit: bool = False) -> int:
        if self.data[pos] == 0 and not explicit:
            return pos + 1
        index, after = _leb(self.data, pos)
        self.found(_F.MULTI_MEMORY, f"memory index {index} ({after - pos} bytes)")
        return after

    def block_type(self, pos: int) -> int:
        code = self.data[pos]
        if code == 0x40 or code in _NUMERIC_TYPES:
            return pos + 1
        if code in _TYPE_FEATURES or code in _TYPED_REFERENCES:
            return self.value_type(pos)
        index, after = _sleb(self.data, pos)
        if index < 0:
            raise self.error(f"unknown block type 0x{code:02x} at offset {pos}")
        self.found(_F.MULTI_VALUE, f"block of type {index}")
        return after

    def value_type(self, pos: int) -> int:
        code = self.data[pos]
        if code in _NUMERIC_TYPES:
            return pos + 1
        if code in _TYPED_REFERENCES:
            self.found(_FUNCREF, "typed reference type")
            return self.heap_type(pos + 1)
        feature = _TYPE_FEATURES.get(code)
        if feature is None:
            raise self.error(f"unknown value type 0x{code:02x} at offset {pos}")
        self.found(feature, f"{_TYPE_NAMES[code]} type")
        return pos + 1

    def heap_type(self, pos: int) -> int:
        code = self.data[pos]
        if code in (0x6F, 0x70):  # extern, func
            return pos + 1
        feature = _TYPE_FEATURES.get(code)
        if feature is not None and code != 0x7B:
            self.found(feature, f"{_TYPE_NAMES[code]} heap type")
            return pos + 1
        index, after = _sleb(self.data, pos)
        if index < 0:
            raise self.error(f"unknown heap type 0x{code:02x} at offset {pos}")
        return after
