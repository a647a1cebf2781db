"""Hostile wheels (issue 7): refused or reported by `show`, `check` and `repair`, never obeyed.

A broken archive (paths out of the install folder, links, duplicates, zip bombs) is bad
input for every command: exit code 2, one line naming the wheel and what is wrong, nothing
written, the input untouched. Contents that disagree with each other (RECORD, manifest,
NEEDED cycles, copies of Pyodide's own libraries) are findings for `show` and `check`, and
refused by `repair`, which would otherwise rewrite RECORD and the manifest from them.
"""

from __future__ import annotations

import hashlib
import json
import random
import stat
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from emwheel.archive_limits import DEFAULT_LIMITS, check_archive_sizes, parse_size
from emwheel.check_integrity import check_integrity
from emwheel.errors import InvalidInput
from emwheel.pyodide_abi import available_versions, load_shipped_abi
from emwheel.system_libraries import SYSTEM_LIBRARIES, system_library_name
from emwheel.zip_reader import CHUNK, BoundedInflater
from emwheel_loader.manifest import MANIFEST_FILENAME, Manifest, ModuleEntry

from cli_runner import SCHEMAS, CliResult, run_cli, run_cli_process, validate_show_json
from support.module_edit import with_needed, with_runtime_path
from support.real_wheels import REAL_WHEELS, fetch_real_wheel
from support.wheel_builder import FIXED_DATE, build_wheel

WHEEL_NAME = "pkg-1.0-cp314-abi3-pyemscripten_2026_0_wasm32.whl"
COMMANDS = ("show", "check", "repair")
Entry = tuple[str | zipfile.ZipInfo, bytes]


def raw_wheel(folder: Path, entries: list[Entry]) -> Path:
    """A zip written entry by entry with zipfile, malformed as the entries make it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / WHEEL_NAME
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile: "Duplicate name"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return path


def run(capsys: Any, command: str, wheel: Path, tmp_path: Path, *extra: str) -> CliResult:
    if command == "repair":
        return run_cli(capsys, "repair", wheel, "-w", tmp_path / "out", *extra)
    if command == "check":
        return run_cli(capsys, "check", "--pyodide", "314.0.7", wheel, *extra)
    return run_cli(capsys, command, wheel, *extra)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused(result: CliResult, wheel: Path, message: str, tmp_path: Path) -> None:
    assert result.code == 2, result.out + result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"emwheel: error: {wheel}")
    assert message in lines[0]
    assert not (tmp_path / "out").exists()  # repair wrote nothing, not even its folder


# -- the archive --------------------------------------------------------------------------------


def _symlink(target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("pkg/evil.so", FIXED_DATE)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.create_system = 3  # unix, where the mode bits mean what they say
    return info


ARCHIVE_CASES: dict[str, tuple[list[Entry], str]] = {
    "dotdot": ([("pkg/../../evil.so", b"x")], "points outside the archive ('..')"),
    "absolute": ([("/etc/evil.so", b"x")], "'/etc/evil.so' has an absolute path"),
    "windows-drive": ([("C:\\evil.so", b"x")], "has an absolute path"),
    "windows-drive-slash": ([("C:/evil.so", b"x")], "has an absolute path"),
    "backslash-root": ([("\\evil.so", b"x")], "has an absolute path"),
    "windows-unc": ([("\\\\server\\share\\evil.so", b"x")], "has an absolute path"),
    "backslash-dotdot": ([("pkg\\..\\..\\evil.so", b"x")], "points outside the archive"),
    # Installers unpack <name>.data/purelib/ into site-packages: what is left is absolute.
    "absolute-once-installed": (
        [("pkg-1.0.data/purelib//etc/evil.so", b"x")],
        "has an absolute path",
    ),
    "symlink": ([(_symlink("../../etc/passwd"), b"../../etc/passwd")], "is a symbolic link"),
    "duplicate-name": (
        [("pkg/__init__.py", b"a = 1\n"), ("pkg/__init__.py", b"a = 2\n")],
        "entry 'pkg/__init__.py' appears twice",
    ),
    "duplicate-install-path": (
        [("pkg/__init__.py", b"a = 1\n"), ("pkg-1.0.data/purelib/pkg/__init__.py", b"a = 2\n")],
        "installs where 'pkg/__init__.py' does",
    ),
    # 8 MiB of zeros deflate about 1000:1.
    "compression-ratio": ([("pkg/data.bin", bytes(8 << 20))], "compression ratio 1"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", sorted(ARCHIVE_CASES))
def test_a_broken_archive_is_bad_input_for_every_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str, command: str
) -> None:
    entries, message = ARCHIVE_CASES[case]
    wheel = raw_wheel(tmp_path / "in", entries)
    before = digest(wheel)
    result = run(capsys, command, wheel, tmp_path)
    assert_refused(result, wheel, message, tmp_path)
    assert digest(wheel) == before


def test_in_a_real_process_there_is_one_line_and_no_traceback(tmp_path: Path) -> None:
    wheel = raw_wheel(tmp_path / "in", [(_symlink("/etc/passwd"), b"/etc/passwd")])
    for command, extra in (("show", ["--json"]), ("check", ["--json"]), ("repair", ["-w"])):
        args = [*extra, tmp_path / "out"] if command == "repair" else extra
        result = run_cli_process(command, *args, wheel)
        assert result.code == 2
        assert result.err == f"emwheel: error: {wheel}: entry 'pkg/evil.so' is a symbolic link\n"
        assert result.out == ""
    assert not (tmp_path / "out").exists()


# -- zip bombs ----------------------------------------------------------------------------------


def test_the_total_size_limit_can_be_lowered_and_raised(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = random.Random(7).randbytes(3 << 20)  # does not compress: only the total counts
    wheel = raw_wheel(tmp_path / "in", [("pkg/data.bin", data)])
    for command in COMMANDS:
        result = run(capsys, command, wheel, tmp_path, "--max-uncompressed-size", "2M")
        message = "entries add up to 3 MiB uncompressed, over the limit of 2 MiB"
        assert_refused(result, wheel, message, tmp_path)
    monkeypatch.setenv("EMWHEEL_MAX_UNCOMPRESSED_SIZE", "2MiB")
    assert_refused(run(capsys, "show", wheel, tmp_path), wheel, "over the limit", tmp_path)
    # The flag wins over the environment.
    assert run(capsys, "show", wheel, tmp_path, "--max-uncompressed-size", "4M").code == 0


def test_the_ratio_limit_can_be_raised(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wheel = raw_wheel(tmp_path / "in", [("pkg/data.bin", bytes(8 << 20))])
    assert run(capsys, "show", wheel, tmp_path).code == 2
    assert run(capsys, "show", wheel, tmp_path, "--max-compression-ratio", "2000").code == 0


def test_a_bad_limit_in_the_environment_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = raw_wheel(tmp_path / "in", [("pkg/__init__.py", b"")])
    monkeypatch.setenv("EMWHEEL_MAX_COMPRESSION_RATIO", "lots")
    for command in COMMANDS:
        result = run(capsys, command, wheel, tmp_path)
        assert result.code == 2
        assert result.err.startswith("emwheel: error: bad archive limit in the environment")
        assert len(result.err.splitlines()) == 1


def _lying_entry(tmp_path: Path, real: bytes, declared: int) -> Path:
    """A wheel whose one entry declares ``declared`` bytes but inflates to ``real``: the
    sizes in its local header and central directory are overwritten after writing."""
    wheel = raw_wheel(tmp_path / "in", [("pkg/libbase.so", real)])
    data = bytearray(wheel.read_bytes())
    with zipfile.ZipFile(wheel) as zf:
        info = zf.getinfo("pkg/libbase.so")
    struct.pack_into("<I", data, info.header_offset + 22, declared)  # local header
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)  # central directory
    wheel.write_bytes(bytes(data))
    return wheel


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("show", "cannot read entry (Bad CRC-32"),  # zipfile stops at the declared size
        ("check", "inflates past its declared size of"),  # reads each module once, whole
        ("repair", "inflates past its declared size of"),
    ],
)
def test_an_entry_that_inflates_past_its_declared_size_is_refused(
    capsys: pytest.CaptureFixture[str],
    module_bytes: dict[str, bytes],
    tmp_path: Path,
    command: str,
    message: str,
) -> None:
    module = module_bytes["libbase.so"]
    wheel = _lying_entry(tmp_path, module + bytes(4 << 20), len(module))
    before = digest(wheel)
    assert_refused(run(capsys, command, wheel, tmp_path), wheel, message, tmp_path)
    assert digest(wheel) == before


def test_inflating_stops_at_the_declared_size_not_at_the_end_of_the_data() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = b"".join(compressor.compress(bytes(CHUNK)) for _ in range(256)) + compressor.flush()
    info = zipfile.ZipInfo("bomb.bin")
    info.compress_type, info.compress_size, info.file_size = zipfile.ZIP_DEFLATED, len(raw), 1000
    inflater = BoundedInflater(info, "w.whl")
    produced = 0
    with pytest.raises(InvalidInput, match="inflates past its declared size of 1000 bytes"):
        for piece in inflater.feed(raw):  # 256 MiB of zeros behind a 1000-byte entry
            produced += len(piece)
    assert produced <= 1000


def test_size_arguments() -> None:
    assert parse_size("1073741824") == parse_size("1G") == parse_size("1GiB") == 1 << 30
    assert parse_size("1500m") == 1500 << 20
    with pytest.raises(ValueError, match="is not a size"):
        parse_size("a lot")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_documents_the_limits_with_their_defaults(command: str) -> None:
    text = " ".join(run_cli_process(command, "--help").out.split())
    assert "--max-uncompressed-size SIZE" in text
    assert "(default: $EMWHEEL_MAX_UNCOMPRESSED_SIZE, else 1 GiB)" in text
    assert "--max-compression-ratio N" in text
    assert "(default: $EMWHEEL_MAX_COMPRESSION_RATIO, else 100)" in text


@pytest.mark.realwheels
@pytest.mark.parametrize("key", sorted(REAL_WHEELS))
def test_real_wheels_are_within_the_default_limits(key: str) -> None:
    with zipfile.ZipFile(fetch_real_wheel(key)) as zf:
        infos = zf.infolist()
    check_archive_sizes(key, infos, DEFAULT_LIMITS)  # raises if not
    assert check_integrity(fetch_real_wheel(key)) == []


# -- what the contents say about each other ---------------------------------------------------


def findings(capsys: Any, command: str, wheel: Path, *extra: str) -> list[dict[str, Any]]:
    args = ["--pyodide", "314.0.7"] if command == "check" else []
    result = run_cli(capsys, command, "--json", *args, *extra, wheel)
    assert result.code in (0, 1), result.err
    (report,) = result.json()["reports"]
    validate = validate_show_json if command == "show" else validate_check_json
    validate(result.json())
    return list(report["findings"])


def validate_check_json(document: Any) -> None:
    schema = json.loads((SCHEMAS / "check.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(document)


def messages(found: list[dict[str, Any]], code: str) -> list[str]:
    return [f["message"] for f in found if f["code"] == code]


def _rewrite_record(wheel: Path, edit: Callable[[list[str]], list[str]] | None) -> Path:
    """The same wheel with its RECORD lines edited (``None``: RECORD taken out)."""
    out = wheel.parent / "edited" / wheel.name
    out.parent.mkdir()
    with zipfile.ZipFile(wheel) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                if edit is None:
                    continue
                data = ("\n".join(edit(data.decode().splitlines())) + "\n").encode()
            zout.writestr(info, data)
    return out


def _swap_content(lines: list[str]) -> list[str]:
    """Give pkg/a.py the hash of pkg/b.py, which has the same size."""
    rows = {line.split(",")[0]: line for line in lines}
    b_hash = rows["pkg/b.py"].split(",")[1]
    return [f"pkg/a.py,{b_hash},6" if line.startswith("pkg/a.py,") else line for line in lines]


RECORD_CASES: dict[str, tuple[Callable[[list[str]], list[str]] | None, str, bool]] = {
    # name: (RECORD edit, problem, does show see it without hashing)
    "hash": (_swap_content, "pkg/a.py: sha256 of the file differs from RECORD's", False),
    "size": (
        lambda ls: [ls[0].rsplit(",", 1)[0] + ",7", *ls[1:]],
        "pkg/a.py: size 6, RECORD says 7",
        True,
    ),
    "unlisted-file": (lambda ls: ls[1:], "pkg/a.py is not in RECORD", True),
    "missing-file": (
        lambda ls: [*ls, "pkg/gone.py,sha256=AAAA,3"],
        "RECORD lists pkg/gone.py, which the wheel does not hold",
        True,
    ),
    "no-record": (None, "the wheel has no .dist-info/RECORD", True),
}


@pytest.mark.parametrize("case", sorted(RECORD_CASES))
def test_a_record_that_disagrees_is_reported_and_refused_by_repair(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path, case: str
) -> None:
    edit, problem, cheap = RECORD_CASES[case]
    files = {"pkg/a.py": b"a = 1\n", "pkg/b.py": b"b = 2\n", "pkg/libbase.so": module_bytes[
        "libbase.so"]}  # fmt: skip
    wheel = _rewrite_record(build_wheel(tmp_path / "in", "pkg", "1.0", files), edit)
    assert (problem in messages(findings(capsys, "show", wheel), "record-mismatch")) == cheap
    found = findings(capsys, "check", wheel)
    assert problem in messages(found, "record-mismatch")
    assert all(f["severity"] == "warning" for f in found)  # no installer of Pyodide reads it
    result = run(capsys, "repair", wheel, tmp_path)
    assert_refused(result, wheel, f"RECORD disagrees with the wheel: {problem}", tmp_path)


def _manifest_wheel(tmp_path: Path, module: bytes, entry: ModuleEntry) -> Path:
    manifest = Manifest("pkg", "1.0", "test", (entry,), (entry.path,))
    files = {"pkg/libbase.so": module, f"pkg.libs/{MANIFEST_FILENAME}": manifest.to_json().encode()}
    return build_wheel(tmp_path / "in", "pkg", "1.0", files)


@pytest.mark.parametrize("path", ["../evil.so", "/usr/lib/evil.so", "pkg/../../evil.so"])
def test_a_manifest_that_points_outside_the_install_folder(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path, path: str
) -> None:
    module = module_bytes["libbase.so"]
    entry = ModuleEntry(path, "shared", hashlib.sha256(module).hexdigest(), len(module))
    wheel = _manifest_wheel(tmp_path, module, entry)
    problem = f"module path {path!r} points outside the install root"
    shown = findings(capsys, "show", wheel)
    assert [(f["code"], f["severity"]) for f in shown] == [("manifest-invalid", "error")]
    assert problem in shown[0]["message"]
    checked = findings(capsys, "check", wheel)
    (message,) = messages(checked, "manifest-invalid")
    assert message == f"pkg.libs/{MANIFEST_FILENAME}: {problem}"
    # Stock Pyodide ignores the manifest; emwheel's loader refuses the wheel.
    result = run_cli(capsys, "check", "--loader", "--pyodide", "314.0.7", wheel)
    assert result.code == 1 and problem in result.out
    assert_refused(run(capsys, "repair", wheel, tmp_path), wheel, problem, tmp_path)


def test_a_manifest_whose_hashes_do_not_match_the_files(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    module = module_bytes["libbase.so"]
    entry = ModuleEntry("pkg/libbase.so", "shared", "0" * 64, len(module))
    wheel = _manifest_wheel(tmp_path, module, entry)
    shown = messages(findings(capsys, "show", wheel), "manifest-mismatch")
    assert shown == ["pkg/libbase.so: sha256 in RECORD differs from the manifest's"]
    checked = findings(capsys, "check", wheel)
    problem = "pkg/libbase.so: sha256 of the file differs from the manifest's"
    assert problem in messages(checked, "manifest-mismatch")
    assert {f["severity"] for f in checked if f["code"] == "manifest-mismatch"} == {"warning"}
    loader = findings(capsys, "check", wheel, "--loader")
    assert {f["severity"] for f in loader if f["code"] == "manifest-mismatch"} == {"error"}
    result = run(capsys, "repair", wheel, tmp_path)
    assert_refused(result, wheel, f"{problem} (the wheel changed after it was repaired", tmp_path)


def test_a_manifest_whose_crc32s_do_not_match_the_files(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    """What emwheel's loader compares first: even `show` sees it, in the zip directory."""
    module = module_bytes["libbase.so"]
    digest = hashlib.sha256(module).hexdigest()
    wrong = zlib.crc32(module) ^ 1
    entry = ModuleEntry("pkg/libbase.so", "shared", digest, len(module), crc32=wrong)
    wheel = _manifest_wheel(tmp_path, module, entry)
    shown = messages(findings(capsys, "show", wheel), "manifest-mismatch")
    assert shown == ["pkg/libbase.so: crc32 in the zip entry differs from the manifest's"]
    loader = findings(capsys, "check", wheel, "--loader")
    problem = "pkg/libbase.so: crc32 of the file differs from the manifest's"
    assert problem in messages(loader, "manifest-mismatch")
    assert {f["severity"] for f in loader if f["code"] == "manifest-mismatch"} == {"error"}
    assert_refused(run(capsys, "repair", wheel, tmp_path), wheel, problem, tmp_path)


def test_a_needed_cycle_is_reported_and_repair_stops(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    base = module_bytes["libbase.so"]
    files = {
        "pkg/liba.so": with_runtime_path(with_needed(base, "libb.so"), "$ORIGIN"),
        "pkg/libb.so": with_runtime_path(with_needed(base, "liba.so"), "$ORIGIN"),
    }
    wheel = build_wheel(tmp_path / "in", "pkg", "1.0", files)
    cycle = "pkg/liba.so -> pkg/libb.so -> pkg/liba.so"
    for command in ("show", "check"):
        (message,) = messages(findings(capsys, command, wheel), "dependency-cycle")
        assert message.startswith(f"NEEDED cycle {cycle}")
    result = run(capsys, "repair", wheel, tmp_path)
    assert result.code == 1  # the planner's "cannot be repaired as asked", not bad input
    assert result.err == f"emwheel: error: {wheel}: dependency cycle: {cycle}\n"
    assert not (tmp_path / "out").exists()


def test_copies_of_pyodide_system_libraries(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    base = module_bytes["libbase.so"]
    files = {"pkg.libs/libc.so": base, "pkg/libpython3.14.so": base, "pkg.libs/libc++.so": base}
    wheel = build_wheel(tmp_path / "in", "pkg", "1.0", files)
    for command in ("show", "check"):
        found = [f for f in findings(capsys, command, wheel) if f["code"] == "system-library"]
        assert sorted(f["path"] for f in found) == ["pkg.libs/libc.so", "pkg/libpython3.14.so"]
        assert "named like libc, which Pyodide's main module already holds" in str(found)
    result = run(capsys, "repair", wheel, tmp_path)
    assert_refused(result, wheel, "libc.so: named like libc, which Pyodide's main module", tmp_path)


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("libc.so", "libc"),
        ("x/libz.so.1", "libz"),
        ("libpython3.14.so.1.0", "libpython3"),
        ("libpython3.13d.so", "libpython3"),
        ("libc++abi.so", "libc++abi"),
        ("libc++.so", None),
        ("libcrypto.so", None),
        ("libcx.so", None),
    ],
)
def test_system_library_names(name: str, stem: str | None) -> None:
    assert system_library_name(name) == stem


@pytest.mark.parametrize("version", available_versions())
def test_the_system_libraries_are_in_every_shipped_main_module(version: str) -> None:
    abi = load_shipped_abi(version)
    assert {stem: abi.provides(symbol) for stem, symbol in SYSTEM_LIBRARIES.items()} == {
        stem: True for stem in SYSTEM_LIBRARIES
    }
    # libc++ itself is not: C++ modules carry their own (and may ship it as libc++.so).
    assert not any(name.startswith("_ZNSt3__1") for name in abi.main_symbols)


def test_show_json_of_a_hostile_wheel_validates(
    capsys: pytest.CaptureFixture[str], module_bytes: dict[str, bytes], tmp_path: Path
) -> None:
    files = {"pkg.libs/libc.so": module_bytes["libbase.so"]}
    wheel = _rewrite_record(build_wheel(tmp_path / "in", "pkg", "1.0", files), lambda ls: ls[1:])
    document = run_cli(capsys, "show", "--json", wheel).json()
    validate_show_json(document)
    codes = {f["code"] for f in document["reports"][0]["findings"]}
    assert codes == {"record-mismatch", "system-library"}
