"""Section headers, imports and exports, on modules built from C and on hand-made ones."""

from __future__ import annotations

import io
import itertools

import pytest

from emwheel.wasm_imports_exports import ExternalKind, parse_import_section
from emwheel.wasm_module import SectionId, WasmModule, iter_section_headers, scan_module_stream
from emwheel_loader.binary_reader import encode_name, encode_uleb128
from emwheel_loader.errors import WasmFormatError

HEADER = b"\0asm\x01\x00\x00\x00"


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + encode_uleb128(len(payload)) + payload


def vector(*items: bytes) -> bytes:
    return encode_uleb128(len(items)) + b"".join(items)


def test_section_headers_of_a_built_module(module_bytes: dict[str, bytes]) -> None:
    data = module_bytes["_testext.abi3.so"]
    headers = list(iter_section_headers(data))
    assert headers[0].name == "dylink.0"
    ids = [h.id for h in headers if h.id != SectionId.CUSTOM]
    assert ids == sorted(ids, key=lambda i: [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11].index(i))
    assert headers[-1].end == len(data)
    for before, after in itertools.pairwise(headers):
        assert before.end == after.offset


def test_imports_and_exports_of_the_test_extension(module_bytes: dict[str, bytes]) -> None:
    module = WasmModule.parse(module_bytes["_testext.abi3.so"])
    imports = {(i.module, i.name): i.kind_name for i in module.imports}
    assert imports[("env", "memory")] == "memory"
    assert imports[("env", "__indirect_function_table")] == "table"
    assert imports[("env", "__memory_base")] == "global"
    assert imports[("env", "mid_value")] == "function"
    assert imports[("env", "PyLong_FromLong")] == "function"
    assert "PyInit__testext" in {e.name for e in module.exports}


def test_stream_scan_matches_the_in_memory_reader(module_bytes: dict[str, bytes]) -> None:
    for data in module_bytes.values():
        module = WasmModule.parse(data)
        summary = scan_module_stream(io.BytesIO(data))
        assert summary.imports == module.imports
        assert summary.exports == module.exports
        assert summary.dylink == module.dylink


def test_stream_scan_stops_before_the_code_section(module_bytes: dict[str, bytes]) -> None:
    data = module_bytes["_testext.abi3.so"]
    module = WasmModule.parse(data)
    code = module.section(SectionId.CODE)
    assert code is not None
    stream = io.BytesIO(data[: code.payload_offset])  # nothing of the code section's body
    summary = scan_module_stream(stream)
    assert "PyInit__testext" in {e.name for e in summary.exports}


def test_newer_value_and_reference_types_are_skipped_not_refused() -> None:
    imports = vector(
        # global (ref null exn): exception handling with exnref, abstract heap type
        encode_name("env") + encode_name("g_exn") + b"\x03" + b"\x63\x74" + b"\x00",
        # global exnref shorthand, and stringref, both one-byte types
        encode_name("env") + encode_name("g_exnref") + b"\x03\x69\x00",
        encode_name("env") + encode_name("g_str") + b"\x03\x67\x01",
        # global (ref 3): GC / typed function references, concrete heap type index
        encode_name("env") + encode_name("g_ref") + b"\x03\x64\x03\x00",
        # global (ref null exact 2): custom descriptors' exact heap type
        encode_name("env") + encode_name("g_exact") + b"\x03\x63\x62\x02\x00",
        # table of exnref with a maximum
        encode_name("env") + encode_name("t_exn") + b"\x01\x69\x01\x00\x10",
        # 64-bit memory with a maximum, and a shared 32-bit memory
        encode_name("env") + encode_name("mem64") + b"\x02\x05\x01\x80\x80\x04",
        encode_name("env") + encode_name("shared") + b"\x02\x03\x01\x10",
        # memory with a custom page size (log2 = 0)
        encode_name("env") + encode_name("tiny") + b"\x02\x08\x01\x00",
        # tag import (exception handling)
        encode_name("env") + encode_name("__cpp_exception") + b"\x04\x00\x00",
        encode_name("env") + encode_name("f") + b"\x00\x00",
    )
    parsed = parse_import_section(imports)
    assert [i.name for i in parsed] == [
        "g_exn", "g_exnref", "g_str", "g_ref", "g_exact", "t_exn", "mem64", "shared", "tiny",
        "__cpp_exception", "f",
    ]  # fmt: skip
    assert parsed[-2].kind == ExternalKind.TAG


def test_a_module_with_only_custom_sections_after_dylink() -> None:
    data = HEADER + section(0, encode_name("dylink.0")) + section(0, encode_name("name"))
    module = WasmModule.parse(data)
    assert module.dylink is not None and module.dylink.needed == ()
    assert module.imports == () and module.exports == ()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"\x7fELF\x02\x01\x01\x00", "bad magic", id="elf"),
        pytest.param(b"\0asm\x02\x00\x00\x00", "unsupported WebAssembly version", id="version"),
        pytest.param(HEADER + b"\x01\x20\x00", "runs past the end", id="section-past-end"),
        pytest.param(HEADER + b"\x01\xff\xff", "unexpected end of data", id="cut-in-size"),
        pytest.param(
            HEADER + section(2, b"\x05" + encode_name("env")), "import section", id="bad-imports"
        ),
        pytest.param(
            HEADER + section(7, vector(encode_name("x") + b"\x09\x00")),
            "unknown export kind",
            id="bad-export-kind",
        ),
    ],
)
def test_corrupt_modules_raise_a_format_error(data: bytes, message: str) -> None:
    with pytest.raises(WasmFormatError, match=message):
        module = WasmModule.parse(data)
        module.validate()
        module.imports  # noqa: B018
        module.exports  # noqa: B018
    with pytest.raises(WasmFormatError, match=message):
        scan_module_stream(io.BytesIO(data))


def test_every_truncation_of_a_section_is_a_format_error(module_bytes: dict[str, bytes]) -> None:
    from emwheel.wasm_imports_exports import (
        check_export_section,
        check_import_section,
        parse_export_section,
        parse_import_section,
    )

    module = WasmModule.parse(module_bytes["_testext.abi3.so"])
    for section_id, fast, careful in (
        (SectionId.IMPORT, check_import_section, parse_import_section),
        (SectionId.EXPORT, check_export_section, parse_export_section),
    ):
        header = module.section(section_id)
        assert header is not None
        payload = module.data[header.payload_offset : header.end]
        assert fast(payload) == len(careful(payload))
        for cut in range(1, len(payload)):
            for check in (fast, careful):
                with pytest.raises(WasmFormatError):
                    check(payload[:cut])
