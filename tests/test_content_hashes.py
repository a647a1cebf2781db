"""content_hashes.read_content: a file's whole content and hashes, one copy at the peak."""

from __future__ import annotations

import hashlib
import random
import struct
import zipfile
from pathlib import Path

import pytest

from emwheel.content_hashes import read_content
from emwheel.errors import InvalidInput
from emwheel.package_source import WheelSource, open_source

# Over 3 MiB, so that the hashing pass inflates it in several pieces; mostly incompressible
# (a wheel's compression ratio is limited).
CONTENT = random.Random(7).randbytes(3 << 20) + bytes(300_000)


def wheel_with(tmp_path: Path, method: int) -> Path:
    path = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("pkg/data.bin"), CONTENT, compress_type=method)
    return path


@pytest.mark.parametrize(
    "method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED], ids=["deflated", "stored"]
)
def test_the_content_and_hashes_of_a_wheel_entry(tmp_path: Path, method: int) -> None:
    with WheelSource(wheel_with(tmp_path, method)) as source:
        (file,) = source.files
        data, hashes = read_content(source, file, "sha384")
    # Deflated: inflated into a bytearray of the exact size; stored: the bytes as read.
    assert type(data) is (bytearray if method == zipfile.ZIP_DEFLATED else bytes)
    assert data == CONTENT and len(data) == len(CONTENT)
    assert hashes.size == len(CONTENT)
    assert hashes.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert hashes.hexdigests["sha384"] == hashlib.sha384(CONTENT).hexdigest()


def test_the_content_of_a_file_in_a_folder(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "data.bin").write_bytes(CONTENT)
    with open_source(tmp_path) as source:
        (file,) = source.files
        data, hashes = read_content(source, file)
    assert data == CONTENT and hashes.sha256 == hashlib.sha256(CONTENT).hexdigest()


def test_an_entry_that_inflates_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    wheel = wheel_with(tmp_path, zipfile.ZIP_DEFLATED)
    declared = len(CONTENT) // 2
    data = bytearray(wheel.read_bytes())
    struct.pack_into("<I", data, 22, declared)  # the local header, at offset 0
    struct.pack_into("<I", data, data.rindex(b"PK\x01\x02") + 24, declared)
    wheel.write_bytes(bytes(data))
    with WheelSource(wheel) as source:
        (file,) = source.files
        with pytest.raises(InvalidInput, match=f"inflates past its declared size of {declared}"):
            read_content(source, file)


def test_a_damaged_entry_is_refused(tmp_path: Path) -> None:
    wheel = wheel_with(tmp_path, zipfile.ZIP_STORED)
    data = bytearray(wheel.read_bytes())
    data[data.index(CONTENT[:64]) + 1000] ^= 0xFF
    wheel.write_bytes(bytes(data))
    with WheelSource(wheel) as source:
        (file,) = source.files
        with pytest.raises(InvalidInput, match="CRC check failed"):
            read_content(source, file)
