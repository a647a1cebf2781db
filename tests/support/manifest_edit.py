"""Changing a repaired wheel's manifest the way an older emwheel would have written it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

from emwheel.wheel_record import record_hash
from emwheel_loader.manifest import MANIFEST_FILENAME


def as_version_1(files: dict[str, bytes]) -> None:
    """Rewrite the manifest among a wheel's ``files`` (archive path -> content) as emwheel
    wrote it before it recorded CRC-32s (manifest version 1): the loader then checks every
    file by sha256."""
    (name,) = [n for n in files if n.endswith("/" + MANIFEST_FILENAME)]
    manifest = json.loads(files[name])
    manifest["version"] = 1
    for module in manifest["modules"]:
        del module["crc32"]
    files[name] = json.dumps(manifest, indent=2).encode()


def wheel_as_version_1(wheel: Path, out_dir: Path) -> Path:
    """A copy of a repaired wheel, same name, with its manifest as version 1 and its RECORD
    row for the manifest updated; every other entry is copied as it is."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / wheel.name
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(target, "w") as copy:
        names = source.namelist()
        (manifest,) = [n for n in names if n.endswith("/" + MANIFEST_FILENAME)]
        (record,) = [n for n in names if n.endswith(".dist-info/RECORD")]
        files = {manifest: source.read(manifest)}
        as_version_1(files)
        for info in source.infolist():
            if info.filename == manifest:
                copy.writestr(info, files[manifest])
            elif info.filename == record:
                copy.writestr(info, _record_with(source.read(record), manifest, files[manifest]))
            else:
                copy.writestr(info, source.read(info))
    return target


def _record_with(record: bytes, path: str, content: bytes) -> bytes:
    digest = record_hash(hashlib.sha256(content).hexdigest())
    rows = list(csv.reader(io.StringIO(record.decode())))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    for row in rows:
        writer.writerow([path, digest, len(content)] if row[0] == path else row)
    return text.getvalue().encode()
