"""WebAssembly features, and the instruction and type tables that tell them apart.

The tables and the regular expression over "ordinary" instructions used by wasm_features
(see its docstring for the binary formats and why a regular expression).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from functools import cache

__all__ = ["Feature"]


class Feature(StrEnum):
    EXCEPTIONS = "exceptions"  # tags and throw: common to both forms of exception handling
    EXCEPTIONS_LEGACY = "exceptions-legacy"  # try, catch, catch_all, rethrow, delegate
    EXCEPTIONS_EXNREF = "exceptions-exnref"  # try_table, throw_ref, exnref
    SIMD = "simd"
    RELAXED_SIMD = "relaxed-simd"
    BULK_MEMORY = "bulk-memory"
    THREADS = "threads"
    MEMORY64 = "memory64"
    MULTI_MEMORY = "multi-memory"
    TAIL_CALLS = "tail-calls"
    REFERENCE_TYPES = "reference-types"
    FUNCTION_REFERENCES = "function-references"  # typed (ref $t), call_ref, br_on_null
    GC = "gc"
    NONTRAPPING_FPTOINT = "nontrapping-fptoint"
    SIGN_EXT = "sign-ext"
    MULTI_VALUE = "multi-value"
    EXTENDED_CONST = "extended-const"
    WIDE_ARITHMETIC = "wide-arithmetic"
    CUSTOM_PAGE_SIZES = "custom-page-sizes"


_F = Feature
_EXC, _LEGACY, _EXNREF = _F.EXCEPTIONS, _F.EXCEPTIONS_LEGACY, _F.EXCEPTIONS_EXNREF
_REF, _FUNCREF, _TAIL = _F.REFERENCE_TYPES, _F.FUNCTION_REFERENCES, _F.TAIL_CALLS

# -- instructions -------------------------------------------------------------------------------
# opcode -> (name, immediates, features). Immediates, a letter each: u LEB128 integer (index,
# label, constant), k block type, m memarg, x memory index, t table index of an indirect call,
# v br_table targets, s select's types, h heap type, c try_table's catch clauses, f cast
# flags, 1/4/8/V that many raw bytes (V: 16).
_Op = tuple[str, str, tuple[Feature, ...]]
_OPCODES: dict[int, _Op] = {
    0x00: ("unreachable", "", ()), 0x01: ("nop", "", ()), 0x02: ("block", "k", ()),
    0x03: ("loop", "k", ()), 0x04: ("if", "k", ()), 0x05: ("else", "", ()),
    0x06: ("try", "k", (_LEGACY,)), 0x07: ("catch", "u", (_LEGACY,)),
    0x08: ("throw", "u", (_EXC,)), 0x09: ("rethrow", "u", (_LEGACY,)),
    0x0A: ("throw_ref", "", (_EXNREF,)), 0x0B: ("end", "", ()), 0x0C: ("br", "u", ()),
    0x0D: ("br_if", "u", ()), 0x0E: ("br_table", "v", ()), 0x0F: ("return", "", ()),
    0x10: ("call", "u", ()), 0x11: ("call_indirect", "ut", ()),
    0x12: ("return_call", "u", (_TAIL,)), 0x13: ("return_call_indirect", "ut", (_TAIL,)),
    0x14: ("call_ref", "u", (_FUNCREF,)), 0x15: ("return_call_ref", "u", (_TAIL, _FUNCREF)),
    0x18: ("delegate", "u", (_LEGACY,)), 0x19: ("catch_all", "", (_LEGACY,)),
    0x1A: ("drop", "", ()), 0x1B: ("select", "", ()), 0x1C: ("select", "s", (_REF,)),
    0x1F: ("try_table", "kc", (_EXNREF,)), 0x25: ("table.get", "u", (_REF,)),
    0x26: ("table.set", "u", (_REF,)), 0x3F: ("memory.size", "x", ()),
    0x40: ("memory.grow", "x", ()), 0x41: ("i32.const", "u", ()), 0x42: ("i64.const", "u", ()),
    0x43: ("f32.const", "4", ()), 0x44: ("f64.const", "8", ()),
    0xD0: ("ref.null", "h", (_REF,)), 0xD1: ("ref.is_null", "", (_REF,)),
    0xD2: ("ref.func", "u", (_REF,)), 0xD3: ("ref.eq", "", (_F.GC,)),
    0xD4: ("ref.as_non_null", "", (_FUNCREF,)), 0xD5: ("br_on_null", "u", (_FUNCREF,)),
    0xD6: ("br_on_non_null", "u", (_FUNCREF,)),
}  # fmt: skip
_OPCODES.update({op: ("local/global access", "u", ()) for op in range(0x20, 0x25)})
_OPCODES.update({op: ("load/store", "m", ()) for op in range(0x28, 0x3F)})
_OPCODES.update({op: ("numeric", "", ()) for op in range(0x45, 0xC0)})
_OPCODES.update({op: ("sign extension", "", (_F.SIGN_EXT,)) for op in range(0xC0, 0xC5)})

_BULK = (_F.BULK_MEMORY,)
_MISC: dict[int, _Op] = {
    0x08: ("memory.init", "ux", _BULK), 0x09: ("data.drop", "u", _BULK),
    0x0A: ("memory.copy", "xx", _BULK), 0x0B: ("memory.fill", "x", _BULK),
    0x0C: ("table.init", "uu", _BULK), 0x0D: ("elem.drop", "u", _BULK),
    0x0E: ("table.copy", "uu", _BULK), 0x0F: ("table.grow", "u", (_REF,)),
    0x10: ("table.size", "u", (_REF,)), 0x11: ("table.fill", "u", (_REF,)),
}  # fmt: skip
_MISC.update({op: ("trunc_sat", "", (_F.NONTRAPPING_FPTOINT,)) for op in range(8)})
_MISC.update({op: ("wide arithmetic", "", (_F.WIDE_ARITHMETIC,)) for op in range(0x13, 0x17)})

_SIMD_GAPS = {0x9A, 0xA2, 0xA5, 0xA6, 0xAF, 0xB0, 0xB2, 0xB3, 0xB4, 0xBB, 0xC2, 0xC5, 0xC6}
_SIMD_GAPS |= {0xCF, 0xD0, 0xD2, 0xD3, 0xD4, 0xE2, 0xEE}
_SIMD_MEMARG = {*range(0x0C), 0x5C, 0x5D}
_SIMD_ONLY = (_F.SIMD,)
_SIMD_OPS = set(range(0x100)) - _SIMD_GAPS
_SIMD: dict[int, _Op] = {op: ("simd", "", _SIMD_ONLY) for op in _SIMD_OPS}
_SIMD.update({op: ("simd load/store", "m", _SIMD_ONLY) for op in _SIMD_MEMARG})
_SIMD.update({0x0C: ("v128.const", "V", _SIMD_ONLY), 0x0D: ("i8x16.shuffle", "V", _SIMD_ONLY)})
_SIMD.update({op: ("simd lane", "1", _SIMD_ONLY) for op in range(0x15, 0x23)})
_SIMD.update({op: ("simd lane load/store", "m1", _SIMD_ONLY) for op in range(0x54, 0x5C)})
_SIMD.update({op: ("relaxed simd", "", (_F.SIMD, _F.RELAXED_SIMD)) for op in range(0x100, 0x114)})

_THREADS = (_F.THREADS,)
_ATOMICS: dict[int, _Op] = {op: ("atomic", "m", _THREADS) for op in (0, 1, 2, *range(0x10, 0x4F))}
_ATOMICS[0x03] = ("atomic.fence", "1", _THREADS)

_GC_IMMEDIATES = ["u", "u", "uu", "uu", "uu", "uu", "u", "u", "uu", "uu", "uu", "u", "u", "u"]
_GC_IMMEDIATES += ["u", "", "u", "uu", "uu", "uu", "h", "h", "h", "h", "fuhh", "fuhh", "", ""]
_GC_IMMEDIATES += ["", "", ""]
_GC: dict[int, _Op] = {op: ("gc", imm, (_F.GC,)) for op, imm in enumerate(_GC_IMMEDIATES)}

_PREFIXED = {0xFB: _GC, 0xFC: _MISC, 0xFD: _SIMD, 0xFE: _ATOMICS}
_EXTENDED_CONST_OPS = {0x6A: "i32.add", 0x6B: "i32.sub", 0x6C: "i32.mul"}
_EXTENDED_CONST_OPS |= {0x7C: "i64.add", 0x7D: "i64.sub", 0x7E: "i64.mul"}

# -- types --------------------------------------------------------------------------------------
_NUMERIC_TYPES = {0x7C, 0x7D, 0x7E, 0x7F}
_GC_HEAP_TYPES = {0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x71, 0x72, 0x73}  # array ... any, none ...
_TYPE_NAMES = {0x7B: "v128", 0x70: "funcref", 0x6F: "externref", 0x69: "exnref"}
_TYPE_NAMES |= {0x74: "nullexnref", **{code: "gc reference" for code in _GC_HEAP_TYPES}}
_TYPE_FEATURES = {0x7B: _F.SIMD, 0x70: _REF, 0x6F: _REF, 0x69: _EXNREF, 0x74: _EXNREF}
_TYPE_FEATURES |= {code: _F.GC for code in _GC_HEAP_TYPES}
_TYPED_REFERENCES = (0x63, 0x64)  # (ref null ht), (ref ht)


# -- the expression for ordinary instructions ---------------------------------------------------
_LEB = rb"[\x80-\xff]*+[\x00-\x7f]"
_TYPE_INDEX = rb"(?:[\x00-\x3f]|[\x80-\xff]{1,4}[\x00-\x3f])"  # a non-negative s33
_MEMARG = rb"[\x00-\x3f]" + _LEB  # alignment without the memory index bit, then the offset
_BR_TABLE = rb"\x0e(?:%s)" % b"|".join(b"\\x%02x(?:%s){%d}" % (n, _LEB, n + 1) for n in range(16))


def _one_of(codes: Iterable[int]) -> bytes:
    return b"[" + b"".join(b"\\x%02x" % code for code in sorted(codes)) + b"]"


def _opcodes(found: frozenset[Feature], immediates: str) -> set[int]:
    """The one-byte opcodes with these immediates whose features are all ``found``."""
    return {
        op for op, (_, imm, feats) in _OPCODES.items() if imm == immediates and found >= {*feats}
    }


def _type_codes(found: frozenset[Feature]) -> tuple[set[int], set[int]]:
    """The value types and the one-byte heap types that show no feature not yet ``found``."""
    value_types = set(_NUMERIC_TYPES)
    value_types |= {code for code, feature in _TYPE_FEATURES.items() if feature in found}
    return value_types, {0x6F, 0x70} | (value_types - _NUMERIC_TYPES - {0x7B})


@cache
def _ordinary_instructions(found: frozenset[Feature]) -> re.Pattern[bytes]:
    """A regular expression for runs of instructions that show no feature not yet ``found``."""
    value_types, heap_types = _type_codes(found)
    heap_type = _one_of(heap_types) + (b"|" + _TYPE_INDEX if _FUNCREF in found else b"")
    value_type = _one_of(value_types)
    block_type = [_one_of(value_types | {0x40})]
    if _FUNCREF in found:
        value_type = b"(?:%s|[\\x63\\x64](?:%s))" % (value_type, heap_type)
        block_type.append(b"[\\x63\\x64](?:%s)" % heap_type)
    if _F.MULTI_VALUE in found:
        block_type.append(_TYPE_INDEX)
    block = b"(?:" + b"|".join(block_type) + b")"

    call_table = _LEB if _REF in found else rb"\x00"
    alternatives = [
        rb"\x20[\x00-\x7f]",  # local.get of one of the first 128 locals: the commonest
        _one_of(_opcodes(found, "u")) + _LEB,
        _one_of(_opcodes(found, "")),
        rb"[\x28-\x3e]" + _MEMARG,
        _one_of(_opcodes(found, "k")) + block,
        _one_of(_opcodes(found, "ut")) + _LEB + call_table,
        rb"\x43[\x00-\xff]{4}|\x44[\x00-\xff]{8}|[\x3f\x40]\x00",
        _BR_TABLE,
    ]
    misc = [rb"[\x00-\x07]"] if _F.NONTRAPPING_FPTOINT in found else []
    if _F.BULK_MEMORY in found:
        misc += [rb"\x08%s\x00|\x0a\x00\x00|\x0b\x00" % _LEB, rb"[\x09\x0d]" + _LEB]
        misc += [rb"[\x0c\x0e]" + _LEB + _LEB]
    if _REF in found:
        misc.append(rb"[\x0f-\x11]" + _LEB)
        alternatives += [rb"\x1c\x01" + value_type, rb"\xd0(?:%s)" % heap_type]
    if _F.WIDE_ARITHMETIC in found:
        misc.append(rb"[\x13-\x16]")
    if misc:
        alternatives.append(rb"\xfc(?:" + b"|".join(misc) + rb")")
    if _F.SIMD in found:
        plain = {op for op, (_, imm, _) in _SIMD.items() if imm == "" and op < 0x100}
        simd = [_one_of(plain - set(range(0x80, 0x100)))]  # one-byte LEB128 opcodes, then two
        simd += [_one_of(plain & set(range(0x80, 0x100))) + rb"\x01"]
        simd += [_one_of(_SIMD_MEMARG) + _MEMARG, rb"[\x0c\x0d][\x00-\xff]{16}"]
        simd += [rb"[\x15-\x22][\x00-\xff]", rb"[\x54-\x5b]%s[\x00-\xff]" % _MEMARG]
        if _F.RELAXED_SIMD in found:
            simd.append(rb"[\x80-\x93]\x02")
        alternatives.append(rb"\xfd(?:" + b"|".join(simd) + rb")")
    if _F.THREADS in found:
        alternatives.append(rb"\xfe(?:[\x00-\x02\x10-\x4e]%s|\x03\x00)" % _MEMARG)
    if _EXNREF in found:
        catch = rb"(?:[\x00\x01]%s%s|[\x02\x03]%s)" % (_LEB, _LEB, _LEB)
        catches = b"|".join(b"\\x%02x%s" % (n, catch * n) for n in range(4))
        alternatives.append(rb"\x1f%s(?:%s)" % (block, catches))
    return re.compile(b"(?:" + b"|".join(alternatives) + b")*+")


_PATTERN_FEATURES = frozenset(Feature) - {_F.MEMORY64, _F.MULTI_MEMORY, _F.EXTENDED_CONST}
_PATTERN_FEATURES -= {_F.CUSTOM_PAGE_SIZES}


# -- the table for the compiled scanner ---------------------------------------------------------
# _wasm_scan.c follows this table instead of the expression (same instructions, ten times as
# fast); its layout is described there, and these constants are the same as its own.
_IMMEDIATES_WIDTH = 4
_NOT_ORDINARY = b"!".ljust(_IMMEDIATES_WIDTH, b"\0")
_SCANNED_OPCODES = ((_OPCODES, 0x100), (_MISC, 0x20), (_SIMD, 0x114), (_ATOMICS, 0x50))
_FLAG_TYPED_REFERENCES, _FLAG_TYPE_INDEX_BLOCKS, _FLAG_TABLE_INDICES = 1, 2, 4


@cache
def scanner_table(found: frozenset[Feature]) -> bytes:
    """The compiled scanner's table for instructions that show no feature not yet ``found``:
    the same instructions as ``_ordinary_instructions(found)`` matches, and two it leaves to
    the decoder, which finds nothing in them either: br_table of 17 to 128 targets (the
    expression takes 16 at most) and atomic.fence with a byte other than 0."""
    table = bytearray()
    for opcodes, count in _SCANNED_OPCODES:
        for op in range(count):
            entry = opcodes.get(op)
            if entry is None or not found >= {*entry[2]}:
                table += _NOT_ORDINARY
            else:
                table += entry[1].encode().ljust(_IMMEDIATES_WIDTH, b"\0")
    value_types, heap_types = _type_codes(found)
    table += bytes(code in value_types for code in range(256))
    table += bytes(code in heap_types for code in range(256))
    flags = _FLAG_TYPED_REFERENCES if _FUNCREF in found else 0
    flags |= _FLAG_TYPE_INDEX_BLOCKS if _F.MULTI_VALUE in found else 0
    flags |= _FLAG_TABLE_INDICES if _REF in found else 0
    return bytes(table + bytes([flags]))
