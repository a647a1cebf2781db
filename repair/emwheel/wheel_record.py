"""The RECORD file of a wheel: reading its hashes, writing a new one."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterable

__all__ = ["SIGNATURE_FILES", "parse_record", "record_hash", "render_record"]

SIGNATURE_FILES = ("RECORD.jws", "RECORD.p7s")


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


def parse_record(text: str) -> dict[str, str]:
    """Path -> sha256 (hex) for every row that has a sha256 hash."""
    hashes = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 2 or not row[1].startswith("sha256="):
            continue
        encoded = row[1][len("sha256=") :]
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            continue
        hashes[row[0]] = raw.hex()
    return hashes
