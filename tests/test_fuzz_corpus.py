"""Every committed fuzz input, and the crashes fuzzing found, as host tests (docs/fuzzing.md).

Each file of tests/fuzz/corpus/<target>/ and tests/fuzz/crashes/<target>/ runs through its
target (tests/fuzz/targets.py) under its linear time budget: read or refused with the
package's own error, round trips kept. Each crash also has a test of its own below that
says what the fix does, through the command line where the input is a wheel.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from emwheel.errors import InvalidInput, WasmFormatError
from emwheel.wasm_imports_exports import parse_import_section
from emwheel.wasm_module import WasmModule
from emwheel.zip_reader import data_offset
from emwheel_loader.dylink import DYLINK_SECTION_NAME, parse_dylink_body

from cli_runner import run_cli
from fuzz.targets import TARGETS, WHEEL_NAME, run_timed

FUZZ = Path(__file__).resolve().parent / "fuzz"
CRASHES = FUZZ / "crashes"


def _inputs() -> list[Any]:
    params = []
    for kind in ("corpus", "crashes"):
        for target in TARGETS:
            folder = FUZZ / kind / target
            for path in sorted(folder.iterdir()) if folder.is_dir() else []:
                params.append(pytest.param(target, path, id=f"{kind}/{target}/{path.name}"))
    return params


def test_the_corpus_has_seeds_for_every_target() -> None:
    for target in TARGETS:
        assert len(list((FUZZ / "corpus" / target).iterdir())) >= 3, target


@pytest.mark.parametrize(("target", "path"), _inputs())
def test_committed_input_is_read_or_refused_in_linear_time(target: str, path: Path) -> None:
    run_timed(target, path.read_bytes())


# -- the crashes, one test each ------------------------------------------------------------------


def test_an_edit_goes_before_a_truncated_subsection_not_into_it() -> None:
    """Crash (dylink target): a new RUNTIME_PATH was written after a subsection whose size
    runs past the end, which then read it as part of itself: the edit was lost."""
    body = (CRASHES / "dylink" / "edit-after-truncated-subsection").read_bytes()
    section = parse_dylink_body(DYLINK_SECTION_NAME, body)
    assert section.subsections[-1].truncated
    edited = section.with_runtime_path(["$ORIGIN"]).with_needed(["libz.so"])
    reread = parse_dylink_body(DYLINK_SECTION_NAME, edited.encode_body())
    assert reread.runtime_path == ("$ORIGIN",)
    assert reread.needed == ("libz.so",)
    assert reread.subsections[-1].raw == section.subsections[-1].raw  # kept, still last


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"\x01\x01a\x01b\x03\x63", id="global-of-ref-null-type"),
        pytest.param(b"\x01\x01a\x01b\x01\x64", id="table-of-ref-type"),
    ],
)
def test_a_reference_type_cut_at_the_end_of_the_import_section_is_a_format_error(
    payload: bytes,
) -> None:
    """Crash (wasm target): the careful import reader peeked at the heap type after a
    reference type prefix (0x63, 0x64) past the end of the section: IndexError."""
    with pytest.raises(WasmFormatError, match="import section: unexpected end of data"):
        parse_import_section(payload)
    data = (CRASHES / "wasm" / "import-ref-type-at-section-end").read_bytes()
    with pytest.raises(WasmFormatError, match="import section: unexpected end of data"):
        _ = WasmModule.parse(data).imports


WHEEL_CRASHES = [
    ("negative-local-header-offset.whl", None, "show check"),
    ("unsupported-zip-version.whl", "not a readable zip archive (zip file version", "show check"),
    ("empty-entry-name.whl", "entry '' has an empty name", "show check"),
    ("name-flagged-utf8-not-utf8.whl", "not a readable zip archive ('utf-8' codec", "show check"),
    ("encrypted-entry.whl", "'testpkg.libs/libmid.so' is encrypted (not supported)", "show check"),
    # show reads only a module's first sections; check inflates it whole
    ("deflate-stream-without-end.whl", "deflate data ends without its last block", "check"),
]


@pytest.mark.parametrize(
    ("crash", "message", "command"),
    [
        pytest.param(crash, message, command, id=f"{command}-{crash}")
        for crash, message, commands in WHEEL_CRASHES
        for command in commands.split()
    ],
)
def test_a_crashing_wheel_is_refused_in_one_line(
    capsys: Any, tmp_path: Path, crash: str, message: str | None, command: str
) -> None:
    """Crashes (wheel target): zipfile's or zlib's own exceptions escaped (a negative local
    header offset from a central directory lying about its offset, an unknown zip version,
    an empty entry name, a name flagged UTF-8 that is not, an entry flagged encrypted, a
    deflate stream holding all its data but not its last block)."""
    wheel = tmp_path / WHEEL_NAME
    wheel.write_bytes((CRASHES / "wheel" / crash).read_bytes())
    extra = ["--pyodide", "314.0.7"] if command == "check" else []
    result = run_cli(capsys, command, *extra, wheel)
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert line.startswith(f"emwheel: error: {wheel}")
    if message is not None:
        assert message in line
    assert wheel.read_bytes() == (CRASHES / "wheel" / crash).read_bytes()


def test_the_negative_offset_is_named() -> None:
    path = CRASHES / "wheel" / "negative-local-header-offset.whl"
    with zipfile.ZipFile(path) as zf, pytest.raises(InvalidInput, match="before the start"):
        info = min(zf.infolist(), key=lambda i: i.header_offset)
        assert info.header_offset < 0
        data_offset(zf.fp, info, "w.whl")  # type: ignore[arg-type]


# -- linear time: the same input grown four times must take at most about four times as long --


def _grown(seed: bytes, fill: bytes, size: int) -> bytes:
    return seed + fill * (size - len(seed))


# Sizes of the short and the long input: the wasm and dylink targets read an input several
# times over (dylink: ten parses), so theirs are smaller, to keep the test to seconds.
GROWTH_SIZES = {"wasm": 1 << 16, "dylink": 1 << 13, "manifest": 1 << 18, "wheel": 1 << 18}


@pytest.mark.parametrize("fill", [b"\x80", b"\xff", b"\x00", b"\x01", b"["])
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_time_grows_linearly_with_the_input(target: str, fill: bytes) -> None:
    """Seeds' first bytes (their headers) followed by a long run of one byte, at two sizes:
    four times the bytes may take at most eight times as long (plus 0.3 s of noise). A
    reader quadratic in a run (a LEB128, a count, a nesting) takes sixteen times."""
    size = GROWTH_SIZES[target]
    for path in sorted((FUZZ / "corpus" / target).iterdir())[:2]:
        seed = path.read_bytes()[:64]
        small, large = _grown(seed, fill, size), _grown(seed, fill, 4 * size)
        run_timed(target, small)  # warm: caches, compiled expressions
        small_time = min(run_timed(target, small) for _ in range(2))
        large_time = run_timed(target, large)
        assert large_time <= 8 * small_time + 0.3, (path.name, small_time, large_time)
