"""The dylink.0 reader/writer, on modules built from C and on edited copies of them."""

from __future__ import annotations

import io

import pytest

from emwheel.wasm_module import WasmModule
from emwheel_loader.binary_reader import encode_name, encode_uleb128
from emwheel_loader.dylink import (
    DylinkSubsectionType,
    parse_dylink_body,
    read_dylink_prefix,
)
from emwheel_loader.errors import WasmFormatError


def test_reads_needed_of_modules_built_from_c(module_bytes: dict[str, bytes]) -> None:
    assert WasmModule.parse(module_bytes["libbase.so"]).dylink.needed == ()  # type: ignore[union-attr]
    assert WasmModule.parse(module_bytes["libmid.so"]).dylink.needed == ("libbase.so",)  # type: ignore[union-attr]
    ext = WasmModule.parse(module_bytes["_testext.abi3.so"]).dylink
    assert ext is not None
    assert ext.needed == ("libmid.so",)
    assert ext.runtime_path == ()
    assert ext.mem_info is not None
    assert ext.problems == ()


def test_mem_info_counts_the_library_data(module_bytes: dict[str, bytes]) -> None:
    dylink = WasmModule.parse(module_bytes["libbase.so"]).dylink
    assert dylink is not None
    assert dylink.subsections[0].type == DylinkSubsectionType.MEM_INFO
    assert dylink.mem_info is not None
    assert dylink.mem_info.memory_size == 4  # int base_scale


def test_setting_runtime_path_changes_only_the_dylink_section(
    module_bytes: dict[str, bytes],
) -> None:
    original = module_bytes["_testext.abi3.so"]
    module = WasmModule.parse(original)
    assert module.dylink is not None and module.first_section is not None
    new_bytes = module.encode(module.dylink.with_runtime_path(["$ORIGIN/../pkg.libs"]))

    reread = WasmModule.parse(new_bytes)
    assert reread.dylink is not None
    assert reread.dylink.runtime_path == ("$ORIGIN/../pkg.libs",)
    assert reread.dylink.needed == ("libmid.so",)
    # Every byte after the dylink section is the original's.
    old_end = module.first_section.end
    new_first = reread.first_section
    assert new_first is not None
    assert new_bytes[new_first.end :] == original[old_end:]
    assert new_bytes[:8] == original[:8]
    # Untouched subsections keep their exact bytes, in their order, RUNTIME_PATH after them.
    old_subs = [s.raw for s in module.dylink.subsections]
    new_subs = [s.raw for s in reread.dylink.subsections]
    assert new_subs[: len(old_subs)] == old_subs
    assert reread.dylink.subsections[-1].type == DylinkSubsectionType.RUNTIME_PATH
    reread.validate()


def test_replacing_needed_keeps_other_subsections_byte_identical(
    module_bytes: dict[str, bytes],
) -> None:
    module = WasmModule.parse(module_bytes["libmid.so"])
    assert module.dylink is not None
    edited = module.dylink.with_needed(["libbase-1a2b3c4d.so"])
    assert edited.needed == ("libbase-1a2b3c4d.so",)
    for old, new in zip(module.dylink.subsections, edited.subsections, strict=True):
        if old.type == DylinkSubsectionType.NEEDED:
            assert new.raw != old.raw
        else:
            assert new.raw is old.raw
    reread = WasmModule.parse(module.encode(edited))
    assert reread.dylink is not None and reread.dylink.needed == ("libbase-1a2b3c4d.so",)


def test_unchanged_edit_gives_the_same_bytes(module_bytes: dict[str, bytes]) -> None:
    data = module_bytes["libmid.so"]
    module = WasmModule.parse(data)
    assert module.dylink is not None
    assert module.encode(module.dylink.with_needed(module.dylink.needed)) == data
    assert module.encode(module.dylink) == data


def test_emptying_a_list_removes_its_subsection(module_bytes: dict[str, bytes]) -> None:
    module = WasmModule.parse(module_bytes["libmid.so"])
    assert module.dylink is not None
    edited = module.dylink.with_needed([])
    assert DylinkSubsectionType.NEEDED not in [s.type for s in edited.subsections]
    assert WasmModule.parse(module.encode(edited)).dylink.needed == ()  # type: ignore[union-attr]


def _subsection(sub_type: int, payload: bytes) -> bytes:
    return bytes([sub_type]) + encode_uleb128(len(payload)) + payload


def _module_with_dylink_body(body: bytes, rest: bytes = b"") -> bytes:
    content = encode_name("dylink.0") + body
    section = b"\x00" + encode_uleb128(len(content)) + content
    return b"\0asm\x01\x00\x00\x00" + section + rest


def test_unknown_and_malformed_subsections_are_kept_byte_for_byte() -> None:
    mem_info = _subsection(1, bytes([0, 0, 0, 0]))
    unknown = _subsection(0x42, b"future data")
    bad_needed = _subsection(2, b"\x05\x03ab")  # says 5 names, holds one cut-short name
    body = mem_info + unknown + bad_needed
    data = _module_with_dylink_body(body)
    module = WasmModule.parse(data)
    dylink = module.dylink
    assert dylink is not None
    assert [s.type_name for s in dylink.subsections] == ["MEM_INFO", "unknown (66)", "NEEDED"]
    assert dylink.subsections[1].problem is None
    assert dylink.subsections[2].problem is not None
    assert dylink.problems and dylink.problems[0].startswith("NEEDED subsection:")
    assert module.encode(dylink.with_runtime_path(dylink.runtime_path)) == data
    # Editing RUNTIME_PATH still keeps the unknown and malformed bytes.
    edited = module.encode(dylink.with_runtime_path(["$ORIGIN"]))
    assert unknown in edited and bad_needed in edited


def test_import_info_with_a_wrong_count_is_read_and_reported() -> None:
    entries = b"".join(encode_name("env") + encode_name(f"sym{i}") + b"\x01" for i in range(3))
    body = _subsection(1, bytes(4)) + _subsection(4, b"\x01" + entries)
    dylink = parse_dylink_body("dylink.0", body)
    assert [i.field for i in dylink.import_info] == ["sym0", "sym1", "sym2"]
    assert all(i.is_weak for i in dylink.import_info)
    assert dylink.problems == ("IMPORT_INFO subsection: declares 1 entry but holds 3",)
    assert dylink.encode_body() == body


def test_truncated_subsection_framing_is_kept_as_raw_bytes() -> None:
    body = _subsection(1, bytes(4)) + b"\x02\x7f\x00"  # NEEDED claims 127 bytes, has 1
    dylink = parse_dylink_body("dylink.0", body)
    assert dylink.subsections[-1].problem is not None
    assert dylink.encode_body() == body


def test_legacy_dylink_section_is_read_and_rewritten() -> None:
    body = bytes([16, 2, 1, 0]) + b"\x01" + encode_name("libold.so")
    dylink = parse_dylink_body("dylink", body)
    assert dylink.is_legacy and dylink.needed == ("libold.so",)
    assert dylink.encode_body() == body
    renamed = dylink.with_needed(["libnew.so"])
    assert parse_dylink_body("dylink", renamed.encode_body()).needed == ("libnew.so",)
    with pytest.raises(WasmFormatError, match="no RUNTIME_PATH"):
        dylink.with_runtime_path(["$ORIGIN"])


def test_dylink_prefix_is_read_without_the_rest_of_the_module(
    module_bytes: dict[str, bytes],
) -> None:
    data = module_bytes["_testext.abi3.so"]
    first = WasmModule.parse(data).first_section
    assert first is not None
    # Only the header and the first section: the rest of the file is not there at all.
    prefix_only = io.BytesIO(data[: first.end])
    dylink = read_dylink_prefix(prefix_only)
    assert dylink is not None and dylink.needed == ("libmid.so",)
    assert prefix_only.tell() == first.end
    # The same holds for the in-memory reader: a module cut after its first section.
    cut = WasmModule.parse(data[: first.end + 3])
    assert cut.dylink is not None and cut.dylink.needed == ("libmid.so",)
    with pytest.raises(WasmFormatError, match="runs past the end"):
        cut.validate()


def test_prefix_reader_rejects_non_wasm() -> None:
    with pytest.raises(WasmFormatError, match="bad magic"):
        read_dylink_prefix(io.BytesIO(b"\x7fELF\x01\x01\x01\x00"))
