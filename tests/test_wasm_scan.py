"""The compiled scanner (repair/emwheel/_wasm_scan.c) against the expression it stands in for:
instruction by instruction, for every opcode of the tables with right and wrong immediates,
under several sets of features found. Whole modules are compared in test_wasm_features.py
and by the wasm fuzz target."""

from __future__ import annotations

import itertools
import os

import pytest

from emwheel import wasm_features
from emwheel.wasm_opcodes import (
    _ATOMICS,
    _MISC,
    _OPCODES,
    _PATTERN_FEATURES,
    _SIMD,
    Feature,
    _ordinary_instructions,
    scanner_table,
)

scanner = wasm_features.compiled_scanner
needs_scanner = pytest.mark.skipif(scanner is None, reason="emwheel built as pure Python")


def test_the_scanner_is_built_unless_asked_not_to() -> None:
    """setup.py builds it wherever a C compiler is found, so the test suite checks it."""
    pure_python = os.environ.get("EMWHEEL_PURE_PYTHON") == "1"
    assert (scanner is None) == pure_python


# Encodings of each immediate: the first is the commonest; the others are right only under
# some features (block and value types, heap types) or wrong (the scanner must stop where the
# expression stops; the decoder then says what is wrong, or what feature it shows).
IMMEDIATE_VARIANTS = {
    "u": [b"\x05", b"\x80\x01", b"\xff\xff\xff\xff\x0f", b"\x80"],
    "k": [b"\x40", b"\x7f", b"\x7b", b"\x70", b"\x69", b"\x6e", b"\x05", b"\x85\x00", b"\x64\x70",
          b"\x63\x05", b"\x65", b"\x80\x80\x80\x80\x80\x00"],
    "m": [b"\x02\x10", b"\x00\x80\x01", b"\x40\x00\x00", b"\x3f\xff"],
    "x": [b"\x00", b"\x01"],
    "t": [b"\x00", b"\x01", b"\x80\x01"],
    "v": [b"\x00\x00", b"\x02\x00\x01\x02", b"\x10" + b"\x01" * 17, b"\x01\x00"],
    "s": [b"\x01\x7f", b"\x01\x7b", b"\x01\x70", b"\x01\x64\x70", b"\x02\x7f\x7f", b"\x00"],
    "h": [b"\x70", b"\x6f", b"\x69", b"\x6e", b"\x05", b"\x7b", b"\x40"],
    "c": [b"\x00", b"\x01\x00\x00\x00", b"\x02\x02\x01\x03\x00", b"\x01\x04\x00", b"\x04"],
    "f": [b"\x00"],
    "1": [b"\x03"],
    "4": [b"\x00\x00\x80\x3f"],
    "8": [bytes(8)],
    "V": [bytes(16)],
}  # fmt: skip

FOUND_SETS = {
    "nothing": frozenset(),
    "everything": _PATTERN_FEATURES,
    "references": frozenset({Feature.REFERENCE_TYPES, Feature.FUNCTION_REFERENCES}),
    "simd, multi-value": frozenset({Feature.SIMD, Feature.MULTI_VALUE}),
    "exnref, gc": frozenset({Feature.EXCEPTIONS_EXNREF, Feature.GC}),
}


def opcode_encodings() -> list[tuple[bytes, str]]:
    """Every opcode of the tables the scanner reads (prefixed ones with their sub-opcode as a
    LEB128, the long form too where it fits) with its immediates' letters."""
    encodings = [(bytes([op]), imm) for op, (_, imm, _) in _OPCODES.items()]
    for prefix, table in ((0xFC, _MISC), (0xFD, _SIMD), (0xFE, _ATOMICS)):
        for op, (_, imm, _) in table.items():
            if op < 0x80:
                encodings += [(bytes([prefix, op]), imm), (bytes([prefix, op | 0x80, 0]), imm)]
            else:
                encodings.append((bytes([prefix, op & 0x7F | 0x80, op >> 7]), imm))
    return encodings


def instructions(opcode: bytes, letters: str) -> list[bytes]:
    """The opcode with each combination of its immediates' variants (at most 200)."""
    variants = [IMMEDIATE_VARIANTS[letter] for letter in letters]
    return [
        opcode + b"".join(parts) for parts in itertools.islice(itertools.product(*variants), 200)
    ]


def decodes_without_a_finding(data: bytes, pos: int, end: int, found: frozenset[Feature]) -> bool:
    """Whether Python's decoder reads the instructions from pos to exactly end without an
    error and without finding a feature not in ``found``."""
    scan = wasm_features._Scan(data, None)
    scan.evidence = dict.fromkeys(found, "found before")
    try:
        while pos < end:
            pos = scan.instruction(pos, end)
    except wasm_features.WasmFormatError:
        return False
    return pos == end and set(scan.evidence) == found


@needs_scanner
@pytest.mark.parametrize("found", FOUND_SETS.values(), ids=FOUND_SETS.keys())
def test_the_scanner_stops_where_the_expression_stops(found: frozenset[Feature]) -> None:
    """Or later, where the decoder finds nothing either: the expression leaves br_table of
    more than 16 targets and atomic.fence with a byte other than 0 to the decoder."""
    assert scanner is not None
    match = _ordinary_instructions(found).match
    table = scanner_table(found)
    further = set()
    for opcode, letters in opcode_encodings():
        for instruction in instructions(opcode, letters):
            # between two ordinary instructions; then cut short of its end, byte by byte
            data = b"\x01" + instruction + b"\x01"
            for last in range(len(data), 0, -1):
                expected = match(data, 0, last).end()  # type: ignore[union-attr]
                stop = scanner.skip_ordinary(data, 0, last, table)
                if stop != expected:
                    assert stop > expected, (data, last)
                    assert decodes_without_a_finding(data, expected, stop, found), (data, last)
                    further.add(instruction[:2])
    fence = {b"\xfe\x03"} if Feature.THREADS in found else set()
    assert further == {b"\x0e\x10"} | fence


@needs_scanner
def test_the_scanner_refuses_a_wrong_table_or_range() -> None:
    assert scanner is not None
    table = scanner_table(frozenset())
    with pytest.raises(ValueError, match="scanner table of 3 bytes"):
        scanner.skip_ordinary(b"\x01", 0, 1, b"abc")
    with pytest.raises(ValueError, match="outside 1 bytes"):
        scanner.skip_ordinary(b"\x01", 0, 2, table)
    with pytest.raises(ValueError, match="outside 1 bytes"):
        scanner.skip_functions(b"\x01", 1, 0, 1, table)
