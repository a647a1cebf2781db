"""Bad input: one line naming the file and what is wrong, exit code 2, no traceback."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from emwheel.wasm_module import WasmModule
from emwheel_loader.binary_reader import encode_uleb128

from cli_runner import run_cli_process
from support.wheel_builder import build_wheel

WheelMaker = Callable[[Path, dict[str, bytes]], Path]


def not_a_zip(tmp: Path, modules: dict[str, bytes]) -> Path:
    path = tmp / "pkg-1.0-py3-none-any.whl"
    path.write_text("this is not a zip archive\n")
    return path


def truncated_zip(tmp: Path, modules: dict[str, bytes]) -> Path:
    good = build_wheel(tmp / "good", "pkg", "1.0", {"pkg/libbase.so": modules["libbase.so"]})
    path = tmp / good.name
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return path


def bad_wheel_name(tmp: Path, modules: dict[str, bytes]) -> Path:
    good = build_wheel(tmp / "good", "pkg", "1.0", {"pkg/libbase.so": modules["libbase.so"]})
    path = tmp / "not-a-valid-wheel-name.whl"
    path.write_bytes(good.read_bytes())
    return path


def truncated_module(tmp: Path, modules: dict[str, bytes]) -> Path:
    cut = modules["_testext.abi3.so"][:300]
    return build_wheel(tmp, "pkg", "1.0", {"pkg/_testext.abi3.so": cut})


def section_past_end(tmp: Path, modules: dict[str, bytes]) -> Path:
    # A type section that claims 1000 bytes in a 20-byte module.
    data = b"\0asm\x01\x00\x00\x00" + b"\x01" + encode_uleb128(1000) + b"\x00" * 9
    return build_wheel(tmp, "pkg", "1.0", {"pkg/libbad.so": data})


def corrupt_module(tmp: Path, modules: dict[str, bytes]) -> Path:
    data = bytearray(modules["_testext.abi3.so"])
    first = WasmModule.parse(bytes(data)).first_section
    assert first is not None
    data[first.end : first.end + 8] = b"\xff" * 8  # the next section's header
    return build_wheel(tmp, "pkg", "1.0", {"pkg/_testext.abi3.so": bytes(data)})


def _wheel_with_entry(tmp: Path, name: str) -> Path:
    path = tmp / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("pkg/__init__.py", "")
        zf.writestr(zipfile.ZipInfo(name), b"x")
    return path


def absolute_entry(tmp: Path, modules: dict[str, bytes]) -> Path:
    return _wheel_with_entry(tmp, "/etc/evil.so")


def dotdot_entry(tmp: Path, modules: dict[str, bytes]) -> Path:
    return _wheel_with_entry(tmp, "pkg/../../evil.so")


def corrupt_zip_data(tmp: Path, modules: dict[str, bytes]) -> Path:
    good = build_wheel(tmp / "good", "pkg", "1.0", {"pkg/libbase.so": modules["libbase.so"] * 40})
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("pkg/libbase.so")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 20 : start + 60] = bytes(40)  # inside the deflated data
    path = tmp / good.name
    path.write_bytes(bytes(data))
    return path


CASES: list[tuple[WheelMaker, str]] = [
    (not_a_zip, "not a readable zip archive"),
    (truncated_zip, "not a readable zip archive"),
    (bad_wheel_name, "not a valid wheel file name"),
    (truncated_module, "runs past the end of the module"),
    (section_past_end, "section type at offset 8 (size 1000) runs past the end"),
    (corrupt_module, "section header at offset"),
    (absolute_entry, "has an absolute path"),
    (dotdot_entry, "points outside the archive"),
    (corrupt_zip_data, "cannot read entry"),
]


@pytest.mark.parametrize(("make", "message"), CASES, ids=[make.__name__ for make, _ in CASES])
@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_bad_input_gives_one_line_and_exit_code_2(
    make: WheelMaker,
    message: str,
    json_output: bool,
    module_bytes: dict[str, bytes],
    tmp_path: Path,
) -> None:
    path = make(tmp_path, module_bytes)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    result = run_cli_process("show", *(["--json"] if json_output else []), path)
    assert result.code == 2
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("emwheel: error: ")
    assert str(path) in lines[0]
    assert message in lines[0]
    assert result.out.strip() == ""
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # input untouched


def test_a_module_inside_a_wheel_is_named_with_the_wheel(
    module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    path = truncated_module(tmp_path, module_bytes)
    result = run_cli_process("show", path)
    assert f"{path}!pkg/_testext.abi3.so:" in result.err


def test_missing_path(tmp_path: Path) -> None:
    result = run_cli_process("show", tmp_path / "nowhere.whl")
    assert result.code == 2
    assert result.err == f"emwheel: error: {tmp_path / 'nowhere.whl'}: no such file or directory\n"


def test_good_inputs_are_still_shown_next_to_a_bad_one(
    repaired_style_wheel: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad-1.0-py3-none-any.whl"
    bad.write_text("no zip")
    result = run_cli_process("show", repaired_style_wheel, bad)
    assert result.code == 2
    assert "testpkg/_testext.abi3.so" in result.out
    assert len(result.err.splitlines()) == 1
