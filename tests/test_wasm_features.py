"""Feature detection on modules built from C with features turned on, on hand-made modules for
what clang cannot produce, on broken modules, and on every module of the real wheels."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from emwheel import wasm_features
from emwheel.wasm_features import Feature, FeatureReport, detect_features
from emwheel.wasm_module import SectionId, WasmModule
from emwheel_loader.binary_reader import encode_name, encode_uleb128
from emwheel_loader.errors import WasmFormatError

from support.build_feature_modules import build_feature_modules
from support.real_wheels import fetch_real_wheel

HEADER = b"\0asm\x01\x00\x00\x00"
SECTION_ORDER = (1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11)
SENTINEL = b"\x41\x01\xc0\x1a"  # i32.const 1, i32.extend8_s, drop: shows decoding kept in step
EMPTY_TYPE = b"\x60\x00\x00"  # [] -> []


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + encode_uleb128(len(payload)) + payload


def vector(*items: bytes) -> bytes:
    return encode_uleb128(len(items)) + b"".join(items)


def body(*instructions: bytes, local_types: tuple[bytes, ...] = ()) -> bytes:
    """A code entry: one local of each of ``local_types``, the instructions, end."""
    content = vector(*(b"\x01" + t for t in local_types)) + b"".join(instructions)
    return encode_uleb128(len(content) + 1) + content + b"\x0b"


def module(
    *bodies: bytes, types: tuple[bytes, ...] = (EMPTY_TYPE,), **sections: bytes | tuple[bytes, ...]
) -> bytes:
    """A module whose functions, all of type 0, have these bodies; ``sections`` are named by
    SectionId (``memory=(limits, ...)`` for a vector, ``data_count=b"..."`` for raw bytes)."""
    payloads = {SectionId.TYPE: vector(*types)}
    if bodies:
        payloads[SectionId.FUNCTION] = vector(*[b"\x00"] * len(bodies))
        payloads[SectionId.CODE] = vector(*bodies)
    for name, value in sections.items():
        payloads[SectionId[name.rstrip("_").upper()]] = (
            value if isinstance(value, bytes) else vector(*value)
        )
    return HEADER + b"".join(section(i, payloads[i]) for i in SECTION_ORDER if i in payloads)


def custom_section(name: str, payload: bytes) -> bytes:
    return section(SectionId.CUSTOM, encode_name(name) + payload)


def outcome(data: bytes) -> FeatureReport | str:
    try:
        return detect_features(data)
    except WasmFormatError as e:
        return str(e)


NOTHING = re.compile(b"(?:(?!))*+")  # matches no instruction: every one goes to the decoder


def decoded_one_by_one(monkeypatch: pytest.MonkeyPatch, data: bytes) -> FeatureReport | str:
    """What detect_features says when the compiled scanner and the expression for ordinary
    instructions are turned off."""
    with monkeypatch.context() as patch:
        patch.setattr(wasm_features, "compiled_scanner", None)
        patch.setattr(wasm_features, "_ordinary_instructions", lambda found: NOTHING)
        return outcome(data)


def by_the_expression(monkeypatch: pytest.MonkeyPatch, data: bytes) -> FeatureReport | str:
    """What detect_features says without the compiled scanner (emwheel as pure Python)."""
    with monkeypatch.context() as patch:
        patch.setattr(wasm_features, "compiled_scanner", None)
        return outcome(data)


def assert_every_way_agrees(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    """The compiled scanner (where built), the expression and the decoder alone give the same
    report, or the same error."""
    expected = outcome(data)
    assert by_the_expression(monkeypatch, data) == expected
    assert decoded_one_by_one(monkeypatch, data) == expected


def import_entry(module_name: str, name: str, kind: int, description: bytes) -> bytes:
    return encode_name(module_name) + encode_name(name) + bytes([kind]) + description


# -- modules built from C -----------------------------------------------------------------------
FEATURES_OF_BUILT_MODULES = {
    "mvp.so": set(),
    "sign_ext.so": {Feature.SIGN_EXT},
    "nontrapping_fptoint.so": {Feature.NONTRAPPING_FPTOINT},
    "bulk_memory.so": {Feature.BULK_MEMORY},
    "simd.so": {Feature.SIMD},
    "relaxed_simd.so": {Feature.SIMD, Feature.RELAXED_SIMD},
    "tail_calls.so": {Feature.TAIL_CALLS},
    # wasm-ld initializes the memory with memory.fill when atomics and bulk memory are on
    "atomics.so": {Feature.THREADS, Feature.BULK_MEMORY},
    "multi_value.so": {Feature.MULTI_VALUE},
    "externref.so": {Feature.REFERENCE_TYPES},
    "extended_const.so": {Feature.EXTENDED_CONST},
    "exceptions.so": {Feature.EXCEPTIONS, Feature.EXCEPTIONS_LEGACY},
    "memory64.so": {Feature.MEMORY64},
}

# LLVM's names for the features, as its target_features section lists them
LLVM_NAMES = {
    Feature.SIGN_EXT: "sign-ext",
    Feature.NONTRAPPING_FPTOINT: "nontrapping-fptoint",
    Feature.BULK_MEMORY: "bulk-memory",
    Feature.SIMD: "simd128",
    Feature.RELAXED_SIMD: "relaxed-simd",
    Feature.TAIL_CALLS: "tail-call",
    Feature.THREADS: "atomics",
    Feature.MULTI_VALUE: "multivalue",
    Feature.REFERENCE_TYPES: "reference-types",
    Feature.EXTENDED_CONST: "extended-const",
    Feature.EXCEPTIONS: "exception-handling",
    Feature.EXCEPTIONS_LEGACY: "exception-handling",
    Feature.MEMORY64: "memory64",
}


@pytest.fixture(scope="session")
def feature_modules() -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in build_feature_modules().items()}


@pytest.mark.parametrize("name", sorted(FEATURES_OF_BUILT_MODULES))
def test_features_of_modules_built_from_c(
    feature_modules: dict[str, bytes], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = detect_features(feature_modules[name])
    assert report.features == FEATURES_OF_BUILT_MODULES[name]
    assert set(report.evidence) == set(report.features)
    assert_every_way_agrees(monkeypatch, feature_modules[name])


@pytest.mark.parametrize("name", sorted(FEATURES_OF_BUILT_MODULES))
def test_declared_features_cover_the_detected_ones(
    feature_modules: dict[str, bytes], name: str
) -> None:
    report = detect_features(feature_modules[name])
    assert report.declared  # clang always writes target_features
    assert {LLVM_NAMES[f] for f in report.features} <= {
        n for n, prefix in report.declared.items() if prefix == "+"
    }


def test_evidence_names_the_opcode_and_function(feature_modules: dict[str, bytes]) -> None:
    evidence = detect_features(feature_modules["exceptions.so"]).evidence
    assert evidence[Feature.EXCEPTIONS_LEGACY].startswith("opcode 0x06 (try) in function ")
    assert evidence[Feature.EXCEPTIONS] == "tag in import env.__cpp_exception"
    evidence = detect_features(feature_modules["memory64.so"]).evidence
    assert evidence[Feature.MEMORY64] == "64-bit memory in import env.memory"


# -- hand-made modules --------------------------------------------------------------------------
TAG = b"\x00\x00"  # attribute 0 (exception), type 0
FUNCREF_TABLE = b"\x70\x00\x01"  # funcref, minimum 1
I32_TO_I32 = b"\x60\x01\x7f\x01\x7f"

HAND_MADE = {
    "mvp instructions": (
        module(
            body(
                b"\x02\x40\x03\x7f\x41\x00\x0d\x00\x41\x05\x0b\x1a\x0b",  # block, loop i32, br_if
                b"\x41\x00\x04\x7f\x41\x01\x05\x41\x02\x0b\x1a",  # if i32 else end
                b"\x02\x40\x41\x00\x0e\x02\x00\x00\x00\x0b",  # br_table 0 0 0
                b"\x41\x00\x28\x02\x10\x41\x00\x36\x02\x90\x01",  # i32.load, i32.store
                b"\x43\x00\x00\x80\x3f\x1a\x44" + bytes(8) + b"\x1a",  # f32.const, f64.const
                b"\x3f\x00\x40\x00\x1a\x42\x7f\x7a\x1a",  # memory.size/grow, i64.const, i64.ctz
                b"\x10\x00\x41\x00\x11\x00\x00",  # call, call_indirect
                b"\x23\x00\x24\x00\x20\x00\x21\x00\x20\x00\x22\x00\x1a",
                local_types=(b"\x7f",),
            ),
            table=(FUNCREF_TABLE,),
            memory=(b"\x00\x01",),
            global_=(b"\x7f\x01\x41\x00\x0b",),
        ),
        set(),
    ),
    "try_table, throw_ref and exnref": (
        module(
            # block (result exnref), try_table (catch 0 0) (catch_all_ref 0), end, end
            body(b"\x02\x69\x1f\x40\x02\x00\x00\x00\x03\x00\x0b\x0b\x0a", SENTINEL),
            tag=(TAG,),
        ),
        {Feature.EXCEPTIONS, Feature.EXCEPTIONS_EXNREF, Feature.SIGN_EXT},
    ),
    "exnref local": (
        module(body(SENTINEL, local_types=(b"\x69",))),
        {Feature.EXCEPTIONS_EXNREF, Feature.SIGN_EXT},
    ),
    "legacy exceptions in every function": (
        module(
            body(b"\x06\x40\x08\x00\x07\x00\x19\x09\x00\x0b"),  # try throw catch catch_all rethrow
            body(b"\x06\x40\x01\x18\x00", b"\x06\x7f\x41\x00\x19\x41\x01\x0b\x1a", SENTINEL),
            tag=(TAG,),
        ),
        {Feature.EXCEPTIONS, Feature.EXCEPTIONS_LEGACY, Feature.SIGN_EXT},
    ),
    "gc types and instructions": (
        module(
            body(
                b"\x41\x01\xfb\x00\x01\x1a",  # struct.new 1, drop
                b"\x02\x40\xd0\x6e\xfb\x14\x6c\x1a",  # block, ref.null any, ref.test (ref i31)
                b"\xd0\x6e\xfb\x18\x03\x00\x6e\x6c\x1a",  # br_on_cast 0 anyref (ref i31)
                SENTINEL,
                b"\x0b",
            ),
            # the function type, then rec (struct (field (mut i32))) (sub final (array i8))
            types=(EMPTY_TYPE, b"\x4e\x02\x5f\x01\x7f\x01\x4f\x00\x5e\x78\x00"),
        ),
        {Feature.GC, Feature.REFERENCE_TYPES, Feature.SIGN_EXT},
    ),
    "memory64": (
        # i64.const 0, i32.load offset=2**32, drop
        module(body(b"\x42\x00\x28\x02\x80\x80\x80\x80\x10\x1a"), memory=(b"\x04\x01",)),
        {Feature.MEMORY64},
    ),
    "shared memory": (module(memory=(b"\x03\x01\x02",)), {Feature.THREADS}),
    "custom page size": (module(memory=(b"\x08\x01\x00",)), {Feature.CUSTOM_PAGE_SIZES}),
    "two memories and a memory index": (
        module(body(b"\x41\x00\x28\x42\x01\x00\x1a", SENTINEL), memory=(b"\x00\x01", b"\x00\x01")),
        {Feature.MULTI_MEMORY, Feature.SIGN_EXT},
    ),
    "typed select": (
        module(body(b"\x41\x01\x41\x02\x41\x00\x1c\x01\x7f\x1a", SENTINEL)),
        {Feature.REFERENCE_TYPES, Feature.SIGN_EXT},
    ),
    "call_indirect with an overlong table index": (
        module(body(b"\x41\x00\x11\x00\x80\x00", SENTINEL), table=(FUNCREF_TABLE,)),
        {Feature.REFERENCE_TYPES, Feature.SIGN_EXT},
    ),
    "ref.null and ref.is_null": (
        module(body(b"\xd0\x70\xd1\x1a\xd0\x6f\xd1\x1a", SENTINEL)),
        {Feature.REFERENCE_TYPES, Feature.SIGN_EXT},
    ),
    "typed function references": (
        module(body(b"\x20\x00\x14\x00", SENTINEL, local_types=(b"\x63\x00",))),
        {Feature.FUNCTION_REFERENCES, Feature.SIGN_EXT},
    ),
    "return_call_ref": (
        module(body(b"\xd2\x00\x15\x00")),
        {Feature.TAIL_CALLS, Feature.FUNCTION_REFERENCES, Feature.REFERENCE_TYPES},
    ),
    "table with an initializer": (
        module(table=(b"\x40\x00\x63\x70\x00\x01\xd0\x70\x0b",)),
        {Feature.FUNCTION_REFERENCES, Feature.REFERENCE_TYPES},
    ),
    "passive data segment": (module(data=(b"\x01\x02ab",)), {Feature.BULK_MEMORY}),
    "active element segment": (
        module(body(b"\x01"), table=(FUNCREF_TABLE,), element=(b"\x00\x41\x00\x0b\x01\x00",)),
        set(),
    ),
    "passive element segment": (
        module(body(b"\x01"), element=(b"\x01\x00\x01\x00",)),
        {Feature.BULK_MEMORY},
    ),
    "declarative element segment of expressions": (
        module(body(b"\x01"), element=(b"\x07\x70\x01\xd2\x00\x0b",)),
        {Feature.REFERENCE_TYPES},
    ),
    "data count section": (module(data_count=b"\x00"), {Feature.BULK_MEMORY}),
    "extended-const data offset": (
        module(memory=(b"\x00\x01",), data=(b"\x00\x41\x01\x41\x02\x6a\x0b\x01a",)),
        {Feature.EXTENDED_CONST},
    ),
    "block of a type index": (
        module(body(b"\x41\x01\x02\x01\x0b\x1a", SENTINEL), types=(EMPTY_TYPE, I32_TO_I32)),
        {Feature.MULTI_VALUE, Feature.SIGN_EXT},
    ),
    "function type with two results": (
        module(types=(b"\x60\x00\x02\x7f\x7f",)),
        {Feature.MULTI_VALUE},
    ),
    "br_table with many targets": (
        module(body(b"\x02\x40\x41\x00\x0e\x28" + bytes(41) + b"\x0b", SENTINEL)),
        {Feature.SIGN_EXT},
    ),
    "simd immediates": (
        module(
            body(
                b"\xfd\x0c" + bytes(range(6, 22)),  # v128.const with bytes that look like opcodes
                b"\xfd\x0c" + bytes(16),
                b"\xfd\x0d" + bytes(range(16)),  # i8x16.shuffle
                b"\xfd\x15\x06\x1a",  # i8x16.extract_lane_s 6
                b"\x41\x00\xfd\x00\x04\x00\xfd\x8e\x01\xfd\x62\x1a",  # load, i16x8.add, popcnt
                SENTINEL,
            )
        ),
        {Feature.SIMD, Feature.SIGN_EXT},
    ),
    "wide arithmetic": (
        module(body(b"\x42\x00\x42\x00\x42\x00\x42\x00\xfc\x13\x1a\x1a", SENTINEL)),
        {Feature.WIDE_ARITHMETIC, Feature.SIGN_EXT},
    ),
    "memory.copy with an overlong opcode": (
        module(body(b"\x41\x00\x41\x00\x41\x00\xfc\x8a\x00\x00\x00", SENTINEL)),
        {Feature.BULK_MEMORY, Feature.SIGN_EXT},
    ),
    "atomic.fence": (module(body(b"\xfe\x03\x00", SENTINEL)), {Feature.THREADS, Feature.SIGN_EXT}),
}


@pytest.mark.parametrize("name", sorted(HAND_MADE))
def test_features_of_hand_made_modules(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data, expected = HAND_MADE[name]
    report = detect_features(data)
    assert report.features == expected
    assert set(report.evidence) == expected
    assert_every_way_agrees(monkeypatch, data)


def test_features_of_a_later_function_are_found_after_earlier_ones() -> None:
    data = module(body(b"\xc0\x1a"), body(b"\x06\x40\x0b"), body(SENTINEL), body(b"\xfc\x00\x1a"))
    evidence = detect_features(data).evidence
    assert evidence[Feature.SIGN_EXT] == "opcode 0xc0 (sign extension) in function 0"
    assert evidence[Feature.EXCEPTIONS_LEGACY] == "opcode 0x06 (try) in function 1"
    assert evidence[Feature.NONTRAPPING_FPTOINT] == "opcode 0xfc 0x00 (trunc_sat) in function 3"


def test_function_indices_count_imported_functions() -> None:
    imports = (
        import_entry("env", "f", 0, b"\x00"),
        import_entry("env", "__cpp_exception", 4, TAG),
        import_entry("env", "g", 0, b"\x00"),
    )
    data = module(body(b"\x01"), body(b"\x06\x40\x0b"), import_=imports)
    evidence = detect_features(data).evidence
    assert evidence[Feature.EXCEPTIONS_LEGACY] == "opcode 0x06 (try) in function 3"
    assert evidence[Feature.EXCEPTIONS] == "tag in import env.__cpp_exception"


def test_target_features_are_read_as_declared() -> None:
    payload = vector(b"+" + encode_name("simd128"), b"-" + encode_name("atomics"))
    data = module(body(b"\x01")) + custom_section("target_features", payload)
    report = detect_features(data)
    assert report.declared == {"simd128": "+", "atomics": "-"}
    assert report.features == frozenset()


# -- broken modules -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("instructions", "message"),
    [
        (b"\x27", "function 0: unknown opcode 0x27 at offset"),
        (b"\xfd\x9a\x01", "function 0: unknown opcode 0xfd 0x9a at offset"),
        (b"\xfb\x80\x01", "function 0: unknown opcode 0xfb 0x80 at offset"),
        (b"\x02\x65\x0b", "function 0: unknown block type 0x65"),
        (b"\xd0\x7b", "function 0: unknown heap type 0x7b"),
        (b"\x1f\x40\x01\x04\x00\x0b", "function 0: unknown catch clause 4"),
    ],
    ids=["opcode", "simd gap", "stringref", "block type", "heap type", "catch"],
)
def test_unknown_encodings_are_named(instructions: bytes, message: str) -> None:
    with pytest.raises(WasmFormatError, match=message):
        detect_features(module(body(instructions)))


def test_an_immediate_running_past_its_body_is_an_error() -> None:
    data = module(body(b"\x01"), body(b"\x41\xff\xff"), body(b"\x01"))
    with pytest.raises(WasmFormatError, match=r"function 1: i32.const at offset \d+ runs past"):
        detect_features(data)


def test_a_body_without_end_is_an_error() -> None:
    data = module(b"\x03\x00\x01\x01")  # size 3: no locals, nop, nop
    with pytest.raises(WasmFormatError, match="function 0: body does not end with end"):
        detect_features(data)


def test_a_body_larger_than_the_code_section_is_an_error() -> None:
    data = module(b"\x40\x00\x01\x0b")
    with pytest.raises(WasmFormatError, match="runs past the end of the code section"):
        detect_features(data)


def code_section_range(data: bytes) -> range:
    code = WasmModule.parse(data).section(SectionId.CODE)
    assert code is not None
    return range(code.payload_offset, code.end)


@pytest.mark.parametrize("name", ["exceptions.so", "simd.so", "atomics.so"])
def test_a_cut_module_is_a_format_error(feature_modules: dict[str, bytes], name: str) -> None:
    data = feature_modules[name]
    for end in code_section_range(data):
        with pytest.raises(WasmFormatError, match="past the end of the module"):
            detect_features(data[:end])


@pytest.mark.parametrize("name", ["exceptions.so", "simd.so", "atomics.so"])
def test_a_cut_code_section_is_a_format_error(feature_modules: dict[str, bytes], name: str) -> None:
    """The code section's payload cut short, its size and every other section left valid."""
    data = feature_modules[name]
    code = code_section_range(data)
    header = WasmModule.parse(data).section(SectionId.CODE)
    assert header is not None
    for end in code[:-1]:
        cut = section(SectionId.CODE, data[code.start : end])
        with pytest.raises(WasmFormatError):
            detect_features(data[: header.offset] + cut + data[code.stop :])


@pytest.mark.parametrize("name", ["exceptions.so", "simd.so", "atomics.so"])
def test_a_corrupt_code_section_is_read_or_refused(
    feature_modules: dict[str, bytes], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Overwriting any byte of the code section gives a report or a WasmFormatError (never
    another exception), the same with the compiled scanner, the expression for ordinary
    instructions and the decoder alone."""
    data = feature_modules[name]
    for offset in code_section_range(data):
        for value in (0x00, 0x0B, 0x11, 0x7F, 0x80, 0xFD, 0xFF):
            broken = data[:offset] + bytes([value]) + data[offset + 1 :]
            expected = outcome(broken)
            assert by_the_expression(monkeypatch, broken) == expected, offset
            assert decoded_one_by_one(monkeypatch, broken) == expected, offset


# -- real wheels --------------------------------------------------------------------------------
def wasm_entries(wheel: Path) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            with archive.open(info) as entry:
                if entry.read(4) != b"\0asm":
                    continue
            yield info.filename, archive.read(info)


COMMON = {Feature.BULK_MEMORY, Feature.NONTRAPPING_FPTOINT, Feature.SIGN_EXT}
CPP = COMMON | {Feature.EXCEPTIONS, Feature.EXCEPTIONS_LEGACY}
LIBUSD_MS = {Feature.FUNCTION_REFERENCES, Feature.REFERENCE_TYPES, Feature.TAIL_CALLS}
FEATURES_OF_REAL_WHEELS = {  # the union over each wheel's modules
    "awkward-cpp": CPP,
    "awkward-cpp-cp313": CPP,
    "xtbloom": CPP | {Feature.SIMD},
    "grill-usd-core": CPP | LIBUSD_MS | {Feature.THREADS},
    "mypy": COMMON,
    "cadquery-ocp": CPP,
    "pyoqs-wasm": COMMON,
}


@pytest.mark.realwheels
@pytest.mark.parametrize("key", sorted(FEATURES_OF_REAL_WHEELS))
def test_features_of_the_real_wheels(key: str) -> None:
    found: set[Feature] = set()
    for name, data in wasm_entries(fetch_real_wheel(key)):
        report = detect_features(data)
        found |= report.features
        if report.declared:  # only cadquery's module keeps LLVM's target_features
            assert {LLVM_NAMES[f] for f in report.features} <= set(report.declared), name
    assert found == FEATURES_OF_REAL_WHEELS[key]


@pytest.mark.realwheels
@pytest.mark.parametrize("key", ["awkward-cpp", "xtbloom"])
def test_the_scanner_the_expression_and_the_decoder_agree_on_real_modules(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, data in wasm_entries(fetch_real_wheel(key)):
        expected = detect_features(data)
        assert by_the_expression(monkeypatch, data) == expected, name
        assert decoded_one_by_one(monkeypatch, data) == expected, name


@pytest.mark.realwheels
def test_grill_usd_core_needs_typed_function_references_not_exnref() -> None:
    """Node 20 refuses libusd_ms.so with "invalid value type": the module has (ref $t) types
    and call_ref (function references), not exnref; every module uses legacy exceptions."""
    wheel = fetch_real_wheel("grill-usd-core")
    reports = {name: detect_features(data) for name, data in wasm_entries(wheel)}
    assert all(Feature.EXCEPTIONS_LEGACY in r.features for r in reports.values())
    assert not any(Feature.EXCEPTIONS_EXNREF in r.features for r in reports.values())
    with_references = {n for n, r in reports.items() if Feature.FUNCTION_REFERENCES in r.features}
    assert with_references == {"grill_usd_core.libs/libusd_ms.so"}
    evidence = reports["grill_usd_core.libs/libusd_ms.so"].evidence
    assert evidence[Feature.FUNCTION_REFERENCES] == "typed reference type in type section"


@pytest.mark.realwheels
@pytest.mark.parametrize("key", sorted(FEATURES_OF_REAL_WHEELS))
def test_the_scanner_and_the_expression_agree_on_every_real_module(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, data in wasm_entries(fetch_real_wheel(key)):
        assert by_the_expression(monkeypatch, data) == detect_features(data), name
