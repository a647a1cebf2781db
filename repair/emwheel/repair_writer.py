"""Writing the repaired wheel a RepairPlan describes.

Two passes over the input. The first hashes the final bytes of every WebAssembly module,
which the manifest needs; the second writes the output in sorted order (dist-info last,
RECORD last of all): unchanged entries are copied still compressed, changed modules are
streamed with their new dylink section in front of their untouched remainder, vendored
libraries are streamed from the libdir. No module is ever held whole in memory.

The output is reproducible: entry order is fixed, timestamps come from SOURCE_DATE_EPOCH
when it is set and otherwise from the input, and the manifest's JSON is deterministic.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from emwheel_loader.manifest import Manifest, ModuleEntry, NeededEntry

from . import __version__
from .errors import InvalidInput
from .package_source import READ_ERRORS
from .repair_plan import ModulePlan, RepairPlan
from .wasm_module import encode_dylink_section
from .wheel_record import SIGNATURE_FILES, render_record
from .zip_reader import CHUNK, BoundedInflater, iter_raw_entry
from .zip_writer import ZipEntryWriter

__all__ = ["ContentDigest", "build_manifest", "write_repaired_wheel"]

DateTime = tuple[int, int, int, int, int, int]


def write_repaired_wheel(
    plan: RepairPlan, output: Path, validate: Callable[[Path], None] | None = None
) -> Path:
    """Write the repaired wheel to ``output`` atomically: into a temporary folder next to it,
    then renamed. ``validate`` sees the finished wheel first and may refuse it by raising."""
    hashes = {path: _hash_module(plan, module) for path, module in plan.modules.items()}
    manifest = build_manifest(plan, hashes)
    output.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}."))
    temporary = folder / output.name  # a wheel's own name, so that it can be checked
    try:
        with open(temporary, "wb") as file:
            _write(plan, manifest, file)
        os.chmod(temporary, 0o666 & ~_umask())  # mkdtemp makes it private; a wheel is not
        if validate is not None:
            validate(temporary)
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)
        folder.rmdir()
    return output


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def build_manifest(plan: RepairPlan, hashes: dict[str, ContentDigest]) -> Manifest:
    wheel = plan.source.wheel_name
    assert wheel is not None
    entries = []
    for path in sorted(plan.modules):
        module = plan.modules[path]
        digest = hashes[path]
        entries.append(
            ModuleEntry(
                path=path,
                kind=module.kind,
                sha256=digest.sha256,
                size=digest.size,
                crc32=digest.crc32,
                needed=tuple(NeededEntry(n.name, n.path, n.external) for n in module.needed),
                side_module=module.dylink is not None,
                vendored_from=module.vendored_from,
            )
        )
    return Manifest(
        distribution=wheel.distribution,
        version=wheel.version,
        generator=f"emwheel {__version__}",
        modules=tuple(entries),
        load_order=plan.load_order,
    )


# -- content streams ----------------------------------------------------------------------------


def _new_prefix(module: ModulePlan) -> bytes | None:
    """Header and new dylink section, replacing the first ``dylink_end`` bytes; None if the
    module is unchanged."""
    dylink = module.new_dylink()
    if dylink is None:
        return None
    return b"\0asm\x01\x00\x00\x00" + encode_dylink_section(dylink)


def _open_module(plan: RepairPlan, module: ModulePlan, stack: ExitStack) -> IO[bytes]:
    if module.file is not None:
        return stack.enter_context(plan.source.open(module.file))
    assert module.source is not None
    return stack.enter_context(open(module.source, "rb"))


def _module_chunks(plan: RepairPlan, module: ModulePlan) -> Iterator[bytes]:
    label = plan.source.describe(module.file) if module.file else str(module.source)
    prefix = _new_prefix(module)
    with ExitStack() as stack:
        stream = _open_module(plan, module, stack)
        try:
            if prefix is not None:
                skipped = stream.read(module.summary.dylink_end)
                if len(skipped) != module.summary.dylink_end or not skipped.startswith(b"\0asm"):
                    raise InvalidInput(f"{label}: changed while being repaired")
                yield prefix
            while chunk := stream.read(CHUNK):
                yield chunk
        except READ_ERRORS as e:
            raise InvalidInput(f"{label}: cannot read ({e})") from None


@dataclass(frozen=True)
class ContentDigest:
    """What the manifest records of a module's content as it will be in the wheel."""

    sha256: str
    size: int
    crc32: int  # the same CRC-32 the module's zip entry gets


def _hash_module(plan: RepairPlan, module: ModulePlan) -> ContentDigest:
    digest = hashlib.sha256()
    size = crc = 0
    for chunk in _module_chunks(plan, module):
        digest.update(chunk)
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
    return ContentDigest(digest.hexdigest(), size, crc)


# -- writing --------------------------------------------------------------------------------


def _source_date_epoch() -> DateTime | None:
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if not value:
        return None
    try:
        seconds = int(value)
    except ValueError:
        raise InvalidInput(f"SOURCE_DATE_EPOCH={value!r} is not a whole number") from None
    return tuple(time.gmtime(max(seconds, 315532800))[:6])  # type: ignore[return-value]


def _sort_key(name: str) -> tuple[bool, bool, str]:
    top = name.split("/", 1)[0]
    in_dist_info = top.endswith(".dist-info")
    return in_dist_info, in_dist_info and name.endswith("/RECORD"), name


def _write(plan: RepairPlan, manifest: Manifest, file: IO[bytes]) -> None:
    source = plan.source
    fixed_date = _source_date_epoch()
    infos = {info.filename: info for info in source.zip.infolist()}
    latest_input_date: DateTime = max(
        (info.date_time for info in infos.values()), default=(1980, 1, 1, 0, 0, 0)
    )
    record_path = next(
        (n for n in infos if n.count("/") == 1 and n.endswith(".dist-info/RECORD")), None
    )
    if record_path is None:
        raise InvalidInput(f"{source.label}: no .dist-info/RECORD in the wheel")
    dist_info = record_path.split("/", 1)[0]

    modules_by_archive_path = {m.file.archive_path: m for m in plan.modules.values() if m.file}
    manifest_archive_path = plan.manifest_path  # the .libs folder sits at the archive root
    names = [
        name
        for name in infos
        if not infos[name].is_dir()
        and name != record_path
        and name != manifest_archive_path
        and name not in {f"{dist_info}/{s}" for s in SIGNATURE_FILES}
    ]
    vendored = {m.path: m for m in plan.modules.values() if m.file is None}
    all_names = sorted([*names, *vendored, manifest_archive_path], key=_sort_key)

    def date_of(name: str) -> DateTime:
        if fixed_date is not None:
            return fixed_date
        info = infos.get(name)
        return info.date_time if info is not None else latest_input_date

    rows: list[tuple[str, str, int]] = []
    writer = ZipEntryWriter(file, source.label)
    with open(source.path, "rb") as raw_archive:
        for name in all_names:
            module = modules_by_archive_path.get(name) or vendored.get(name)
            if name == manifest_archive_path:
                written = writer.add_stream(name, [manifest.to_json().encode()], date_of(name))
                rows.append((name, written.sha256, written.size))
            elif module is not None and (module.file is None or _new_prefix(module) is not None):
                written = writer.add_stream(name, _module_chunks(plan, module), date_of(name))
                rows.append((name, written.sha256, written.size))
            else:
                info = infos[name]
                sha256 = _copy_raw(writer, raw_archive, info, date_of(name), source.label)
                rows.append((name, sha256, info.file_size))
    record = render_record(rows, record_path)
    writer.add_stream(record_path, [record], date_of(record_path))
    writer.close()


def _copy_raw(
    writer: ZipEntryWriter, archive: IO[bytes], info: zipfile.ZipInfo, date: DateTime, label: str
) -> str:
    """Copy an entry still compressed; its content is inflated on the side only to hash it."""
    digest = hashlib.sha256()
    inflater = BoundedInflater(info, label)

    def chunks() -> Iterator[bytes]:
        for raw in iter_raw_entry(archive, info, label):
            for data in inflater.feed(raw):
                digest.update(data)
            yield raw
        inflater.finish()

    writer.add_raw(info, chunks(), date)
    return digest.hexdigest()
