"""Huge counts, lengths and sizes declared by tiny inputs (issue 7, fuzzing).

A reader must never trust a declared count or size to allocate or to loop: a NEEDED count of
2^32 in a 20-byte section is refused (or read as far as the bytes go) at once, in memory
bounded by the input. Each case runs every reader that reads such bytes, and checks its
time and the memory it allocates, and that it ends with the package's own error (or a
result with the problem noted).
"""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emwheel.errors import EmwheelError
from emwheel.symbol_tables import export_names, read_imports
from emwheel.wasm_features import detect_features
from emwheel.wasm_imports_exports import (
    check_export_section,
    check_import_section,
    parse_export_section,
    parse_import_section,
)
from emwheel.wasm_module import WasmModule, iter_section_headers, scan_module_stream
from emwheel_loader.binary_reader import BinaryReader, encode_name, encode_uleb128
from emwheel_loader.dylink import (
    DYLINK_SECTION_NAME,
    LEGACY_DYLINK_SECTION_NAME,
    parse_dylink_body,
    read_dylink_prefix,
)
from emwheel_loader.manifest import Manifest, ManifestError

from cli_runner import run_cli
from support.wheel_builder import build_wheel

HEADER = b"\0asm\x01\x00\x00\x00"
TIME_LIMIT = 1.0  # seconds: these inputs take microseconds to milliseconds
MEGABYTE = 1 << 20


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + encode_uleb128(len(payload)) + payload


def dylink_module(body: bytes) -> bytes:
    return HEADER + section(0, encode_name(DYLINK_SECTION_NAME) + body)


def bounded(call: Callable[[], Any], input_size: int) -> Any:
    """Run ``call``; check its time and the memory it allocates; return its result or the
    package error it raised (any other exception fails the test)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = call()
    except EmwheelError as e:
        result = e
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < TIME_LIMIT, f"{elapsed:.2f} s"
    assert peak < 3 * input_size + MEGABYTE, f"{peak} bytes allocated"
    return result


def module_readers(data: bytes) -> dict[str, Callable[[], Any]]:
    """Every reader of a whole module, each as it is called."""

    def careful() -> Any:
        module = WasmModule.parse(data)
        module.validate()
        return module.dylink, module.imports, module.exports

    def streamed() -> Any:
        summary = scan_module_stream(io.BytesIO(data), len(data))
        return summary.dylink, summary.imports, summary.exports

    return {
        "WasmModule": careful,
        "scan_module_stream": streamed,
        "read_dylink_prefix": lambda: read_dylink_prefix(io.BytesIO(data)),
        "detect_features": lambda: detect_features(data),
    }


# -- dylink.0: NEEDED and the other counted subsections ------------------------------------------

NEEDED_2_32_MINUS_1 = b"\x02\x06" + encode_uleb128(2**32 - 1) + b"\x00"  # 8 bytes
NEEDED_2_32 = b"\x02\x06" + b"\x80\x80\x80\x80\x10" + b"\x00"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param(
            b"\x01\x04\x00\x00\x00\x00" + NEEDED_2_32_MINUS_1 + b"\x05\x01\x00" + b"\x03\x02",
            "unexpected end of data",
            id="needed-count-2^32-1-in-20-bytes",
        ),
        pytest.param(
            b"\x01\x04\x00\x00\x00\x00" + NEEDED_2_32 + b"\x05\x01\x00\x00\x00\x00\x00\x00",
            "LEB128 integer out of range",
            id="needed-count-2^32-in-20-bytes",
        ),
        pytest.param(
            b"\x03\x05" + encode_uleb128(2**32 - 1),
            "unexpected end of data",
            id="export-info-count-2^32-1",
        ),
        pytest.param(
            b"\x04\x06" + encode_uleb128(2**32 - 1) + b"\x01",
            "run past the end",
            id="import-info-count-2^32-1",
        ),
        pytest.param(
            b"\x02" + b"\x80" * 100_000 + b"\x00",
            "truncated: LEB128 integer too long",
            id="subsection-size-leb-of-100000-bytes",
        ),
        pytest.param(
            b"\x02" + encode_uleb128(2**32 - 1) + b"\x01",
            "truncated",
            id="subsection-size-2^32-1-past-the-end",
        ),
        pytest.param(
            b"\x02\x06\x01" + encode_uleb128(2**32 - 1) + b"a",
            "bytes at offset",
            id="name-length-2^32-1",
        ),
    ],
)
def test_a_huge_count_in_a_tiny_dylink_section_is_a_problem_noted(
    body: bytes, problem: str
) -> None:
    section = bounded(lambda: parse_dylink_body(DYLINK_SECTION_NAME, body), len(body))
    assert not isinstance(section, EmwheelError)
    assert any(problem in p for p in section.problems), section.problems
    assert section.encode_body() == body  # kept byte for byte
    data = dylink_module(body)
    for name, reader in module_readers(data).items():
        result = bounded(reader, len(data))
        assert not isinstance(result, EmwheelError) or name == "detect_features", result


def test_a_legacy_dylink_section_with_a_huge_needed_count_is_refused() -> None:
    body = b"\x00\x00\x00\x00" + encode_uleb128(2**32 - 1) + b"\x03abc"
    error = bounded(lambda: parse_dylink_body(LEGACY_DYLINK_SECTION_NAME, body), len(body))
    assert isinstance(error, EmwheelError)


# -- module structure: section sizes, LEB128 runs, vector counts ---------------------------------


def _cases() -> list[Any]:
    long_leb = b"\x80" * MEGABYTE + b"\x00"
    huge = encode_uleb128(2**32 - 1)
    return [
        pytest.param(HEADER + b"\x01" + huge + b"\x00\x00", id="section-size-2^32-1-past-the-end"),
        pytest.param(HEADER + b"\x00" + huge + b"\x08dylink.0", id="dylink-size-2^32-1"),
        pytest.param(HEADER + b"\x00\x05" + huge, id="custom-name-length-2^32-1"),
        pytest.param(HEADER + b"\x01" + long_leb, id="section-size-leb-of-1-MB"),
        pytest.param(HEADER + section(1, long_leb), id="type-count-leb-of-1-MB"),
        pytest.param(HEADER + section(2, long_leb), id="import-count-leb-of-1-MB"),
        pytest.param(HEADER + section(1, b"\x01\x60" + long_leb), id="param-count-leb-of-1-MB"),
        pytest.param(HEADER + section(1, huge + b"\x60\x00\x00"), id="type-count-2^32-1"),
        pytest.param(HEADER + section(2, huge + b"\x01a\x01b\x00\x00"), id="import-count-2^32-1"),
        pytest.param(HEADER + section(7, huge + b"\x01f\x00\x00"), id="export-count-2^32-1"),
        pytest.param(HEADER + section(10, huge + b"\x02\x00\x0b"), id="code-count-2^32-1"),
        pytest.param(HEADER + section(11, huge + b"\x01\x00"), id="data-count-2^32-1"),
        pytest.param(HEADER + section(9, huge + b"\x01\x00"), id="element-count-2^32-1"),
        pytest.param(HEADER + section(5, huge + b"\x00\x01"), id="memory-count-2^32-1"),
        pytest.param(
            HEADER + section(10, b"\x01" + huge + b"\x00\x0b"), id="code-body-size-2^32-1"
        ),
        pytest.param(HEADER + section(10, b"\x01\x06" + huge + b"\x0b"), id="local-groups-2^32-1"),
        pytest.param(
            HEADER + section(10, b"\x01\x0a\x00\x0e" + huge + b"\x00\x0b"),
            id="br-table-targets-2^32-1",
        ),
        pytest.param(
            HEADER
            + section(
                2, b"\x01\x01a" + encode_uleb128(MEGABYTE) + b"n" * MEGABYTE + b"\x03\x7f\x00"
            ),
            id="import-name-of-1-MB",
        ),
    ]


@pytest.mark.parametrize("data", _cases())
def test_every_module_reader_ends_at_once_on_a_huge_declared_size(data: bytes) -> None:
    for reader in module_readers(data).values():
        bounded(reader, len(data))


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(encode_uleb128(2**32 - 1) + b"\x01a\x01b\x00\x00", id="count-2^32-1"),
        pytest.param(b"\xff" * MEGABYTE, id="count-leb-of-1-MB"),
        pytest.param(b"\x01" + b"\xff" * 10 + b"\x01", id="name-length-leb-overflow"),
        pytest.param(b"\x01" + encode_uleb128(2**32 - 1) + b"a", id="name-length-2^32-1"),
    ],
)
def test_the_import_and_export_readers_end_at_once_on_a_huge_count(payload: bytes) -> None:
    for reader in (
        parse_import_section,
        check_import_section,
        read_imports,
        parse_export_section,
        check_export_section,
        export_names,
    ):
        result = bounded(lambda reader=reader: reader(payload), len(payload))  # type: ignore[misc]
        assert isinstance(result, EmwheelError), reader


def test_leb128_overflow_is_refused_by_the_binary_reader() -> None:
    for data in (b"\xff\xff\xff\xff\x10", b"\x80" * 6 + b"\x00"):
        error = bounded(lambda data=data: BinaryReader(data).uleb(32), len(data))  # type: ignore[misc]
        assert isinstance(error, EmwheelError)
    leb = b"\xff" * MEGABYTE + b"\x00"
    assert isinstance(
        bounded(lambda: [iter_section_headers(HEADER + b"\x01" + leb)][0].__next__(), len(leb)),
        EmwheelError,
    )


# -- the manifest: depth and size ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b"[" * 100_000, id="arrays-nested-100000-deep"),
        pytest.param(b'{"a":' * 100_000, id="objects-nested-100000-deep"),
        pytest.param(
            b'{"format": "emwheel-manifest", "version": 1' + b" " * MEGABYTE, id="unclosed"
        ),
        pytest.param(
            b'{"format": "emwheel-manifest", "version": ' + b"9" * 100_000 + b"}", id="long-int"
        ),
    ],
)
def test_a_deep_or_huge_manifest_is_a_manifest_error(text: bytes) -> None:
    error = bounded(lambda: Manifest.from_json(text, "m.json"), len(text))
    assert isinstance(error, ManifestError)
    assert str(error).startswith("m.json: ")


# -- zip archives whose central directory lies --------------------------------------------------


def _patch_central(wheel: Path, name: str, offset_in_header: int, fmt: str, value: int) -> None:
    """Overwrite one field of ``name``'s central directory header."""
    data = bytearray(wheel.read_bytes())
    end_record = data.rindex(b"PK\x05\x06")
    (count,) = struct.unpack_from("<H", data, end_record + 10)
    (header,) = struct.unpack_from("<I", data, end_record + 16)
    for _ in range(count):
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, header + 28)
        if data[header + 46 : header + 46 + name_length] == name.encode():
            struct.pack_into(fmt, data, header + offset_in_header, value)
            wheel.write_bytes(bytes(data))
            return
        header += 46 + name_length + extra_length + comment_length
    raise AssertionError(f"{name} not in the central directory")


def _patch_end_record(wheel: Path, offset_in_record: int, fmt: str, value: int) -> None:
    data = bytearray(wheel.read_bytes())
    struct.pack_into(fmt, data, data.rindex(b"PK\x05\x06") + offset_in_record, value)
    wheel.write_bytes(bytes(data))


LIES = {
    # central directory header: compressed size at 20, uncompressed size at 24
    "compressed-size-4-GiB": lambda w: _patch_central(w, "pkg/mod.so", 20, "<I", 0xFFFFFFFE),
    "uncompressed-size-4-GiB": lambda w: _patch_central(w, "pkg/mod.so", 24, "<I", 0xFFFFFFFE),
    "local-header-offset-past-the-end": lambda w: _patch_central(
        w, "pkg/mod.so", 42, "<I", 1 << 30
    ),
    "name-length-past-the-end": lambda w: _patch_central(w, "pkg/mod.so", 28, "<H", 0xFFFF),
    # end of central directory record: entry counts at 8 and 10, size at 12, offset at 16
    "entry-count-65535": lambda w: (
        _patch_end_record(w, 8, "<H", 0xFFFF),
        _patch_end_record(w, 10, "<H", 0xFFFF),
    ),
    "central-directory-size-4-GiB": lambda w: _patch_end_record(w, 12, "<I", 0xFFFFFFFE),
    "central-directory-offset-4-GiB": lambda w: _patch_end_record(w, 16, "<I", 0xFFFFFFFE),
}


@pytest.mark.parametrize("lie", sorted(LIES))
@pytest.mark.parametrize("command", ["show", "check"])
def test_a_central_directory_lying_about_sizes_or_counts_is_read_or_refused(
    capsys: Any, tmp_path: Path, module_bytes: dict[str, bytes], lie: str, command: str
) -> None:
    wheel = build_wheel(tmp_path, "pkg", "1.0", {"pkg/mod.so": module_bytes["libbase.so"]})
    LIES[lie](wheel)
    before = wheel.read_bytes()
    extra = ["--pyodide", "314.0.7"] if command == "check" else []
    start = time.perf_counter()
    result = run_cli(capsys, command, *extra, wheel)
    assert time.perf_counter() - start < 2 * TIME_LIMIT
    assert result.code in (0, 1, 2), result
    if result.code == 2:
        (line,) = result.err.splitlines()
        assert line.startswith(f"emwheel: error: {wheel}")
    assert wheel.read_bytes() == before
