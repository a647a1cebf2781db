"""Does a wheel's RECORD agree with its files?

RECORD lists every file of a wheel with its hash and size, except RECORD itself and the
signature files (listed without a hash, or not at all). Without hashes of the content the
check is cheap: names and sizes against the zip's central directory (for `show`). With them
(content_hashes, for `check` and `repair`) every listed hash is compared too.
"""

from __future__ import annotations

from collections.abc import Mapping

from .content_hashes import FileHashes
from .package_source import READ_ERRORS, PackageFile, PackageSource
from .wheel_record import SIGNATURE_FILES, RecordRow, read_record_rows

__all__ = ["find_record", "read_record", "record_algorithms", "record_problems"]


def find_record(source: PackageSource) -> PackageFile | None:
    """The wheel's ``<name>.dist-info/RECORD`` (the first, if there are several)."""
    for file in source.files:
        if file.archive_path.count("/") == 1 and file.archive_path.endswith(".dist-info/RECORD"):
            return file
    return None


def read_record(source: PackageSource) -> tuple[PackageFile | None, list[RecordRow], list[str]]:
    """The RECORD file, its rows, and what is wrong with it as a file."""
    record = find_record(source)
    if record is None:
        return None, [], ["the wheel has no .dist-info/RECORD"]
    try:
        with source.open(record) as stream:
            text = stream.read().decode("utf-8")
    except UnicodeDecodeError:
        return record, [], [f"{record.archive_path} is not UTF-8 text"]
    except READ_ERRORS as e:
        return record, [], [f"{record.archive_path} cannot be read ({e})"]
    rows, problems = read_record_rows(text)
    return record, rows, problems


def record_problems(
    source: PackageSource, hashes: Mapping[str, FileHashes] | None = None
) -> list[str]:
    """Every way RECORD disagrees with the wheel's files; hashes are compared only when
    ``hashes`` (from content_hashes.hash_files, by archive path) is given."""
    record, rows, problems = read_record(source)
    if record is None:
        return problems
    exempt = {record.archive_path} | {
        f"{record.archive_path.rsplit('/', 1)[0]}/{name}" for name in SIGNATURE_FILES
    }
    by_path: dict[str, RecordRow] = {}
    for row in rows:
        if row.path in by_path:
            problems.append(f"RECORD lists {row.path} twice")
        by_path[row.path] = row
    files = {f.archive_path: f for f in source.files}
    for path in sorted(set(by_path) - set(files)):
        problems.append(f"RECORD lists {path}, which the wheel does not hold")
    for path, file in files.items():
        if path in exempt:
            continue
        if path not in by_path:
            problems.append(f"{path} is not in RECORD")
            continue
        problems += _row_problems(by_path[path], file.size, hashes.get(path) if hashes else None)
    return problems


def _row_problems(row: RecordRow, size: int, hashes: FileHashes | None) -> list[str]:
    if row.algorithm is None or row.digest is None:
        return [f"{row.path}: RECORD gives no hash"]
    problems = []
    if row.size is not None and row.size != size:
        problems.append(f"{row.path}: size {size}, RECORD says {row.size}")
    if hashes is not None and hashes.hexdigests.get(row.algorithm) != row.digest:
        problems.append(f"{row.path}: {row.algorithm} of the file differs from RECORD's")
    return problems


def record_algorithms(source: PackageSource) -> dict[str, str]:
    """Archive path -> the hash algorithm RECORD uses for it, for content_hashes."""
    _, rows, _ = read_record(source)
    return {row.path: row.algorithm for row in rows if row.algorithm is not None}
