"""The RECORD file of a wheel: reading its rows, writing a new one."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "HASH_ALGORITHMS",
    "SIGNATURE_FILES",
    "RecordRow",
    "read_record_rows",
    "record_hash",
    "render_record",
]

SIGNATURE_FILES = ("RECORD.jws", "RECORD.p7s")

# The binary distribution format: "sha256 or better"; md5 and sha1 are not allowed.
HASH_ALGORITHMS = frozenset(
    {"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s"}
)


def record_hash(sha256_hex: str) -> str:
    """``sha256=<urlsafe base64, no padding>`` as RECORD writes it."""
    digest = base64.urlsafe_b64encode(bytes.fromhex(sha256_hex)).rstrip(b"=").decode()
    return f"sha256={digest}"


def render_record(entries: Iterable[tuple[str, str, int]], record_path: str) -> bytes:
    """RECORD text for (path, sha256 hex, size) rows, with RECORD's own row last."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path, sha256, size in entries:
        writer.writerow([path, record_hash(sha256), size])
    writer.writerow([record_path, "", ""])
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class RecordRow:
    path: str
    algorithm: str | None  # None: no hash (RECORD's own row, signature files)
    digest: str | None  # hex
    size: int | None


def read_record_rows(text: str) -> tuple[list[RecordRow], list[str]]:
    """The rows of a RECORD, and a problem for each row that is malformed (a bad hash or
    size, a hash algorithm the wheel spec does not allow)."""
    rows: list[RecordRow] = []
    problems: list[str] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row:
            continue
        try:
            rows.append(_parse_row(row))
        except ValueError as e:
            problems.append(f"RECORD line {number}: {e}")
    return rows, problems


def _parse_row(row: list[str]) -> RecordRow:
    if len(row) != 3:
        raise ValueError(f"{len(row)} fields, not 3 (path, hash, size)")
    path, hash_text, size_text = row
    algorithm = digest = None
    if hash_text:
        algorithm, _, encoded = hash_text.partition("=")
        if algorithm not in HASH_ALGORITHMS:
            raise ValueError(f"{path}: hash algorithm {algorithm!r} is not allowed in a RECORD")
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            raise ValueError(f"{path}: the hash is not urlsafe base64") from None
        digest = raw.hex()
    if size_text and not size_text.isdigit():
        raise ValueError(f"{path}: size {size_text!r} is not a whole number")
    return RecordRow(path, algorithm, digest, int(size_text) if size_text else None)
