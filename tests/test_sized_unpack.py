"""The loader's sized unpacking writes what shutil.unpack_archive writes, and nothing else
changes: other copies, a failing member, shutil itself afterwards. The CRC-32s it notes are
those of the files written."""

from __future__ import annotations

import io
import os
import random
import shutil
import zipfile
import zlib
from pathlib import Path

import pytest

from emwheel_loader.sized_unpack import sized_unpacking

MEMBERS = {
    "pkg/__init__.py": b"VALUE = 1\n",
    "pkg/empty.txt": b"",
    # Over 1 MiB: where MEMFS would grow the file by an eighth at a time.
    "pkg/lib/libbig.so": random.Random(7).randbytes(3 * 1024 * 1024),
    "pkg/zeros.bin": bytes(2 * 1024 * 1024),
}


def make_zip(path: Path, stored: bool = False) -> Path:
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("pkg/sub/", b"")  # a directory entry
        for name, data in MEMBERS.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("stored", [False, True], ids=["deflated", "stored"])
def test_unpacking_writes_every_member_as_it_is(tmp_path: Path, stored: bool) -> None:
    wheel = make_zip(tmp_path / "pkg-1.0-py3-none-any.zip", stored)
    with sized_unpacking() as checked_crcs:
        shutil.unpack_archive(wheel, tmp_path / "sized")
    shutil.unpack_archive(wheel, tmp_path / "plain")
    for name, data in MEMBERS.items():
        assert (tmp_path / "sized" / name).read_bytes() == data
        assert (tmp_path / "plain" / name).read_bytes() == data
    assert (tmp_path / "sized" / "pkg" / "sub").is_dir()
    assert checked_crcs == {
        os.path.abspath(tmp_path / "sized" / name): zlib.crc32(data)
        for name, data in MEMBERS.items()
    }


def test_a_member_read_only_in_part_has_no_checked_crc(tmp_path: Path) -> None:
    """zipfile compares the CRC at a member's end: a copy that stops short is not checked."""
    archive = zipfile.ZipFile(make_zip(tmp_path / "a.zip"))
    target = tmp_path / "part.bin"
    with sized_unpacking() as checked_crcs, archive, archive.open("pkg/lib/libbig.so") as member:
        partial = io.BufferedReader(member, 4096)  # not a ZipExtFile: copied as shutil would
        with target.open("wb") as out:
            shutil.copyfileobj(partial, out)
        assert target.read_bytes() == MEMBERS["pkg/lib/libbig.so"]
        member.seek(0)
        with target.open("wb") as out:
            out.write(member.read(10))
            shutil.copyfileobj(member, out)  # read to its end, but after a seek
    assert checked_crcs == {}


def test_shutil_is_restored_also_after_an_error(tmp_path: Path) -> None:
    original = shutil.copyfileobj
    with pytest.raises(RuntimeError), sized_unpacking():
        assert shutil.copyfileobj is not original
        raise RuntimeError("unpacking failed")
    assert shutil.copyfileobj is original


def test_other_copies_are_left_as_shutil_makes_them(tmp_path: Path) -> None:
    """Not a zip member, or a target already written to: copied without sizing."""
    target = tmp_path / "out.bin"
    with sized_unpacking(), target.open("wb") as out:
        out.write(b"head:")
        shutil.copyfileobj(io.BytesIO(b"body"), out)
        archive = zipfile.ZipFile(make_zip(tmp_path / "a.zip"))
        with archive, archive.open("pkg/__init__.py") as member:
            shutil.copyfileobj(member, out, 16)
    assert target.read_bytes() == b"head:body" + MEMBERS["pkg/__init__.py"]


def test_a_corrupt_member_still_fails(tmp_path: Path) -> None:
    wheel = make_zip(tmp_path / "pkg-1.0-py3-none-any.zip", stored=True)
    data = bytearray(wheel.read_bytes())
    start = data.index(MEMBERS["pkg/lib/libbig.so"][:64])
    data[start + 1000] ^= 0xFF  # stored: the member's bytes as they are, CRC now wrong
    wheel.write_bytes(bytes(data))
    with pytest.raises(zipfile.BadZipFile, match="CRC"), sized_unpacking() as checked_crcs:
        shutil.unpack_archive(wheel, tmp_path / "out")
    assert os.path.abspath(tmp_path / "out" / "pkg" / "lib" / "libbig.so") not in checked_crcs
