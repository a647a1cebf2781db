"""Pack files into a wheel with a valid RECORD, for tests.

Deliberately independent of emwheel's own wheel writing, so tests do not check emwheel
with itself.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Mapping
from pathlib import Path

FIXED_DATE = (2024, 1, 1, 0, 0, 0)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def build_wheel(
    out_dir: Path,
    distribution: str,
    version: str,
    files: Mapping[str, bytes],
    tag: str = "cp314-abi3-pyemscripten_2026_0_wasm32",
    requires: tuple[str, ...] = (),
) -> Path:
    """Write ``<distribution>-<version>-<tag>.whl`` holding ``files`` plus its dist-info."""
    dist_info = f"{distribution}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    pure = "true" if tag.endswith("-any") else "false"
    wheel_meta = f"Wheel-Version: 1.0\nGenerator: emwheel-tests\nRoot-Is-Purelib: {pure}\n"
    wheel_meta += "".join(f"Tag: {t}\n" for t in _expand_tags(tag))
    entries = dict(files)
    entries[f"{dist_info}/METADATA"] = metadata.encode()
    entries[f"{dist_info}/WHEEL"] = wheel_meta.encode()
    record_lines = [f"{name},{_record_hash(data)},{len(data)}" for name, data in entries.items()]
    record_lines.append(f"{dist_info}/RECORD,,")
    entries[f"{dist_info}/RECORD"] = ("\n".join(record_lines) + "\n").encode()

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{distribution}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return path


def _expand_tags(tag: str) -> list[str]:
    interpreters, abis, platforms = tag.split("-")
    return [
        f"{i}-{a}-{p}"
        for i in interpreters.split(".")
        for a in abis.split(".")
        for p in platforms.split(".")
    ]
