"""Limits on how much a wheel may inflate to: the guard against zip bombs.

A zip archive declares each entry's uncompressed size in its central directory, and a
hostile one can declare gigabytes in a few kilobytes (or lie about the sizes). Two limits
apply to every wheel emwheel opens, checked against the declared sizes before anything is
inflated:

- the total uncompressed size of its entries (default 1 GiB: the largest real Emscripten
  wheel in the test set, cadquery-ocp with its one 152 MB module, unpacks to 145 MiB);
- the compression ratio of each entry of 1 MiB or more (default 100:1: real wheels reach
  22:1 on small text files and 14:1 on large libraries; deflate tops out near 1032:1, and
  a bomb needs a ratio near that).

The declared sizes are then enforced while reading: no entry is inflated past its declared
size (zipfile truncates there and fails the CRC check; emwheel's own inflater,
zip_reader.iter_inflated_entry, stops with an error), so what is decompressed never exceeds
what was checked. The command line sets the limits (``--max-uncompressed-size``,
``--max-compression-ratio``, or the environment variables below) for everything a command
opens, worker processes included: see `limits_in_force`.
"""

from __future__ import annotations

import argparse
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import InvalidInput

__all__ = [
    "DEFAULT_LIMITS",
    "ENV_MAX_COMPRESSION_RATIO",
    "ENV_MAX_UNCOMPRESSED_SIZE",
    "RATIO_MIN_SIZE",
    "ArchiveLimits",
    "active_limits",
    "add_limit_arguments",
    "check_archive_sizes",
    "format_size",
    "limits_from_arguments",
    "limits_in_force",
    "parse_size",
]

ENV_MAX_UNCOMPRESSED_SIZE = "EMWHEEL_MAX_UNCOMPRESSED_SIZE"
ENV_MAX_COMPRESSION_RATIO = "EMWHEEL_MAX_COMPRESSION_RATIO"

# Below this, an entry's ratio says nothing: a few KiB of blanks compress 200:1 and can
# never inflate to much.
RATIO_MIN_SIZE = 1 << 20

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"(\d+)\s*([kmgt]?)(?:i?b)?", re.IGNORECASE)


@dataclass(frozen=True)
class ArchiveLimits:
    max_uncompressed_size: int = 1 << 30
    max_compression_ratio: int = 100


DEFAULT_LIMITS = ArchiveLimits()


def parse_size(text: str) -> int:
    """``1073741824``, ``1024M``, ``1G``, ``1GiB``, ``2gb``: binary units, bytes without."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a size (examples: 1073741824, 1500M, 2G)")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def format_size(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def _ratio(text: str) -> int:
    value = int(text.strip().removesuffix(":1"))
    if value < 1:
        raise ValueError(f"{text!r} is below 1")
    return value


def limits_from_environment() -> ArchiveLimits:
    limits = DEFAULT_LIMITS
    size = os.environ.get(ENV_MAX_UNCOMPRESSED_SIZE)
    ratio = os.environ.get(ENV_MAX_COMPRESSION_RATIO)
    try:
        if size:
            limits = ArchiveLimits(parse_size(size), limits.max_compression_ratio)
        if ratio:
            limits = ArchiveLimits(limits.max_uncompressed_size, _ratio(ratio))
    except ValueError as e:
        raise InvalidInput(f"bad archive limit in the environment: {e}") from None
    return limits


_active: ArchiveLimits | None = None


def active_limits() -> ArchiveLimits:
    """The limits a command set (`limits_in_force`), else those of the environment."""
    return _active if _active is not None else limits_from_environment()


@contextmanager
def limits_in_force(limits: ArchiveLimits) -> Iterator[None]:
    """Apply ``limits`` to every wheel opened inside the block (and in worker processes
    forked from it, which inherit this module's state)."""
    global _active
    previous, _active = _active, limits
    try:
        yield
    finally:
        _active = previous


def check_archive_sizes(
    label: str, infos: Iterable[zipfile.ZipInfo], limits: ArchiveLimits
) -> None:
    """Refuse an archive whose declared sizes pass the limits, before inflating anything."""
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size >= RATIO_MIN_SIZE:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise InvalidInput(
                    f"{label}!{info.filename}: compression ratio {ratio:.0f}:1 "
                    f"({format_size(info.file_size)} uncompressed) is over the limit of "
                    f"{limits.max_compression_ratio}:1 (a zip bomb?); --max-compression-ratio "
                    "raises it"
                )
    if total > limits.max_uncompressed_size:
        raise InvalidInput(
            f"{label}: entries add up to {format_size(total)} uncompressed, over the limit of "
            f"{format_size(limits.max_uncompressed_size)} (a zip bomb?); "
            "--max-uncompressed-size raises it"
        )


# -- command line ---------------------------------------------------------------------------


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-uncompressed-size",
        type=parse_size,
        metavar="SIZE",
        help="refuse a wheel whose entries add up to more than this uncompressed, e.g. 2G "
        f"(default: ${ENV_MAX_UNCOMPRESSED_SIZE}, else "
        f"{format_size(DEFAULT_LIMITS.max_uncompressed_size)})",
    )
    parser.add_argument(
        "--max-compression-ratio",
        type=_ratio,
        metavar="N",
        help="refuse a wheel with an entry of 1 MiB or more compressed more than N:1 "
        f"(default: ${ENV_MAX_COMPRESSION_RATIO}, else "
        f"{DEFAULT_LIMITS.max_compression_ratio})",
    )


def limits_from_arguments(args: argparse.Namespace) -> ArchiveLimits:
    limits = limits_from_environment()
    size, ratio = args.max_uncompressed_size, args.max_compression_ratio
    return ArchiveLimits(
        limits.max_uncompressed_size if size is None else size,
        limits.max_compression_ratio if ratio is None else ratio,
    )
