"""Write the seed corpus of each fuzz target into tests/fuzz/corpus/<target>/.

    .venv/bin/python tests/fuzz/make_corpus.py

Seeds come from the test modules built from C (tests/support/build_modules.py,
build_feature_modules.py), from wheels packed of them, and from the real wheels of
tests/support/real_wheels.py (downloaded on first use): their small modules whole, a few
sections cut from their large ones, their dylink.0 bodies and the manifests `emwheel repair`
writes for them. Every seed is small (SEED_LIMIT), so the committed corpus stays a few
hundred KB. File names are the seed's origin; running this again rewrites the same files.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))

from emwheel.wasm_module import WasmModule, iter_section_headers  # noqa: E402
from emwheel_loader.manifest import MANIFEST_FILENAME  # noqa: E402

from support.build_feature_modules import build_feature_modules  # noqa: E402
from support.build_modules import build_test_modules  # noqa: E402
from support.manifest_edit import as_version_1  # noqa: E402
from support.module_edit import with_runtime_path  # noqa: E402
from support.real_wheels import fetch_real_wheel  # noqa: E402
from support.wheel_builder import build_wheel  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "corpus"
SEED_LIMIT = 24 * 1024
CUT_LIMIT = 16 * 1024
# The real wheels to take seeds from: every kind of module without the 150 MB one.
# mem info (memory size 16, alignment 2^2, no table), NEEDED ["libbase.so"]: a section of
# the legacy 'dylink' layout (before Emscripten 2.0.x), as the dylink target reads it.
LEGACY_BODY = b"\x10\x02\x00\x00\x01\x0alibbase.so"
WHEELS = ("awkward-cpp", "xtbloom", "grill-usd-core", "mypy", "pyoqs-wasm")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _cut_sections(data: bytes, limit: int = CUT_LIMIT) -> bytes:
    """The module with only whole sections that fit in ``limit`` bytes, in their order:
    still a well-framed module, with the real dylink, type, memory or export sections."""
    out = bytearray(data[:8])
    for header in iter_section_headers(data):
        piece = data[header.offset : header.end]
        if len(out) + len(piece) <= limit:
            out += piece
    return bytes(out)


def _wasm_entries(wheel: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(wheel) as zf:
        return [
            (info.filename, zf.read(info))
            for info in sorted(zf.infolist(), key=lambda i: i.file_size)
            if zf.open(info).read(4) == b"\0asm"
        ]


def _dylink_body(data: bytes) -> bytes | None:
    module = WasmModule.parse(data)
    first = module.first_section
    if module.dylink is None or first is None:
        return None
    return module.dylink.encode_body()


def _repaired_manifest(wheel: Path, work: Path) -> bytes | None:
    out = work / f"repaired-{wheel.stem}"
    result = subprocess.run(
        [sys.executable, "-m", "emwheel", "repair", str(wheel), "-w", str(out)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(f"{wheel.name}: not repaired, no manifest seed: {result.stderr.strip()}")
        return None
    (repaired,) = out.glob("*.whl")
    with zipfile.ZipFile(repaired) as zf:
        for name in zf.namelist():
            if name.endswith(MANIFEST_FILENAME):
                return zf.read(name)
    return None


class Seeds:
    def __init__(self) -> None:
        self.by_target: dict[str, dict[str, bytes]] = {}
        self.digests: set[tuple[str, str]] = set()

    def add(self, target: str, name: str, data: bytes) -> None:
        key = (target, hashlib.sha256(data).hexdigest())
        if len(data) > SEED_LIMIT or key in self.digests:
            return
        self.digests.add(key)
        self.by_target.setdefault(target, {})[_safe(name)] = data

    def write(self) -> None:
        for target, seeds in self.by_target.items():
            folder = CORPUS / target
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.iterdir():
                old.unlink()
            for name, data in seeds.items():
                (folder / name).write_bytes(data)
            size = sum(len(d) for d in seeds.values())
            print(f"{target}: {len(seeds)} seeds, {size} bytes")


def main() -> None:
    seeds = Seeds()
    modules = {name: path.read_bytes() for name, path in build_test_modules().items()}
    modules |= {name: path.read_bytes() for name, path in build_feature_modules().items()}
    for name, data in sorted(modules.items()):
        seeds.add("wasm", f"test-{name}", data)
        body = _dylink_body(data)
        if body is not None:
            seeds.add("dylink", f"test-{name}", body)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = {
            "testpkg/__init__.py": b"from ._testext import compute\n",
            "testpkg/_testext.abi3.so": modules["_testext.abi3.so"],
            "testpkg.libs/libmid.so": modules["libmid.so"],
            "testpkg.libs/libbase.so": modules["libbase.so"],
        }
        plain = build_wheel(work / "plain", "testpkg", "1.0", files)
        seeds.add("wheel", "test-unrepaired.whl", plain.read_bytes())
        repaired_style = dict(files)
        repaired_style["testpkg/_testext.abi3.so"] = with_runtime_path(
            modules["_testext.abi3.so"], "$ORIGIN/../testpkg.libs"
        )
        repaired_style["testpkg.libs/libmid.so"] = with_runtime_path(
            modules["libmid.so"], "$ORIGIN"
        )
        styled = build_wheel(work / "styled", "testpkg", "1.0", repaired_style)
        seeds.add("wheel", "test-runtime-path.whl", styled.read_bytes())
        manifest = _repaired_manifest(plain, work)
        if manifest is not None:
            seeds.add("manifest", "test-repaired.json", manifest)
            # The same as an older emwheel wrote it (version 1, no crc32s), which is still read.
            older = {"testpkg.libs/" + MANIFEST_FILENAME: manifest}
            as_version_1(older)
            seeds.add("manifest", "test-repaired-version-1.json", older.popitem()[1])
            (repaired,) = (work / f"repaired-{plain.stem}").glob("*.whl")
            seeds.add("wheel", "test-repaired.whl", repaired.read_bytes())
        features = {f"feat/{n}": d for n, d in modules.items() if n not in files}
        # The section emwheel writes: RUNTIME_PATH added; and the legacy 'dylink' layout.
        seeds.add(
            "dylink",
            "test-runtime-path",
            _dylink_body(repaired_style["testpkg.libs/libmid.so"]) or b"",
        )
        seeds.add("dylink", "legacy-dylink", LEGACY_BODY)
        seeds.add(
            "wheel",
            "test-features.whl",
            build_wheel(work / "feat", "feat", "1.0", features).read_bytes(),
        )

        for key in WHEELS:
            wheel = fetch_real_wheel(key)
            entries = _wasm_entries(wheel)
            for name, data in entries[:2]:
                seeds.add("wasm", f"{key}-{name}", data)
            for name, data in entries[-2:]:
                seeds.add("wasm", f"{key}-cut-{name}", _cut_sections(data))
            for name, data in entries[:2] + entries[-2:]:
                body = _dylink_body(data)
                if body is not None:
                    seeds.add("dylink", f"{key}-{name}", body)
            if key in ("awkward-cpp", "xtbloom"):
                manifest = _repaired_manifest(wheel, work)
                if manifest is not None:
                    seeds.add("manifest", f"{key}-repaired.json", manifest)
    seeds.write()


if __name__ == "__main__":
    main()
