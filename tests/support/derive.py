"""Derived "unrepaired" copies of real wheels: libraries taken out, RUNTIME_PATHs stripped.

The removed libraries go into a libdir, from which `emwheel repair` must bring them back.
Built with zipfile and the test wheel builder's RECORD logic, not with emwheel's writer;
cached on disk by the source wheel's hash.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from emwheel.wasm_module import WasmModule

from .cache import cache_root
from .wheel_builder import FIXED_DATE, _record_hash

DERIVE_VERSION = "1"  # bump when the derivation changes, to rebuild the cache


@dataclass(frozen=True)
class DerivedWheel:
    wheel: Path
    libdir: Path
    removed: tuple[str, ...]  # archive paths taken out of the wheel


def derive_unrepaired(source: Path, remove: tuple[str, ...]) -> DerivedWheel:
    key = hashlib.sha256(f"{source.name}:{remove}:{DERIVE_VERSION}".encode()).hexdigest()[:16]
    out = cache_root() / "derived" / key
    result = DerivedWheel(out / "wheel" / source.name, out / "libdir", remove)
    if (out / "complete").exists():
        return result
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        work = Path(tmp)
        (work / "wheel").mkdir()
        (work / "libdir").mkdir()
        _derive(source, work / "wheel" / source.name, work / "libdir", remove)
        (work / "complete").touch()
        shutil.rmtree(out, ignore_errors=True)
        work.rename(out)
    return result


def _strip_runtime_path(data: bytes) -> bytes:
    if not data.startswith(b"\0asm"):
        return data
    module = WasmModule.parse(data)
    if module.dylink is None:
        return data
    return module.encode(module.dylink.with_runtime_path([]))


def _derive(source: Path, target: Path, libdir: Path, remove: tuple[str, ...]) -> None:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        record_name = next(n for n in zin.namelist() if n.endswith(".dist-info/RECORD"))
        rows = []
        for info in zin.infolist():
            if info.is_dir() or info.filename == record_name:
                continue
            data = zin.read(info)
            if info.filename in remove:
                (libdir / Path(info.filename).name).write_bytes(_strip_runtime_path(data))
                continue
            data = _strip_runtime_path(data)
            out_info = zipfile.ZipInfo(info.filename, FIXED_DATE)
            out_info.compress_type = zipfile.ZIP_DEFLATED
            out_info.external_attr = 0o644 << 16
            zout.writestr(out_info, data, compresslevel=1)
            rows.append(f"{info.filename},{_record_hash(data)},{len(data)}")
        rows.append(f"{record_name},,")
        zout.writestr(zipfile.ZipInfo(record_name, FIXED_DATE), "\n".join(rows) + "\n")
