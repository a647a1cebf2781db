"""Generated wheels for the "large and many" tests and benchmark: thousands of distinct
extension modules, and many wheels at once.

Each module is the test extension `_testext.abi3.so` (tests/c/testext.c, built once by
build_modules) with its name changed and a custom section of its own:

- every `_testext` in its bytes (the PyInit_ export, the module's name in the data
  segment) becomes `_t` and six digits, the same length, so no size or offset changes;
- a custom section `emwheel.fixture` of ``padding`` bytes is appended: 4 KiB of
  pseudo-random bytes seeded by the index, repeated. It makes the modules distinct and
  gives them a size worth measuring (a repair or check that held every module at once
  would show), while deflate still shrinks them several times over, as it does real code.

The modules NEED libmid.so (which NEEDs libbase.so); both are left out of the wheel in a
libdir, so that `emwheel repair -L` has something to vendor. Cached on disk by a hash of
the test modules and the parameters, like the other fixtures.
"""

from __future__ import annotations

import hashlib
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from emwheel_loader.binary_reader import encode_uleb128

from .build_modules import build_test_modules
from .cache import cached_build
from .wheel_builder import build_wheel

FIXTURE_VERSION = "1"  # bump when the generation changes, to rebuild the cache
TEMPLATE_NAME = b"_testext"
LIBRARIES = ("libmid.so", "libbase.so")  # what the modules need, left out in the libdir
PADDING_SECTION = b"emwheel.fixture"
PATTERN_SIZE = 4096


@dataclass(frozen=True)
class GeneratedWheels:
    wheels: tuple[Path, ...]
    libdir: Path  # holds LIBRARIES
    modules_per_wheel: int
    padding: int  # bytes of custom section per module


def module_name(index: int) -> str:
    return f"_t{index:06d}"  # as long as "_testext"


def generated_module(template: bytes, index: int, padding: int) -> bytes:
    """The template extension renamed to module_name(index), with its own custom section."""
    name = module_name(index).encode()
    assert len(name) == len(TEMPLATE_NAME) and template.count(TEMPLATE_NAME) >= 2
    data = template.replace(TEMPLATE_NAME, name)
    body = encode_uleb128(len(PADDING_SECTION)) + PADDING_SECTION
    pattern = random.Random(index).randbytes(PATTERN_SIZE)
    body += (pattern * (padding // PATTERN_SIZE + 1))[:padding]
    return data + b"\x00" + encode_uleb128(len(body)) + body


def many_module_wheels(
    wheels: int, modules_per_wheel: int, padding: int = 32768
) -> GeneratedWheels:
    """``wheels`` wheels (distributions gen0000, gen0001, ...) of ``modules_per_wheel``
    extension modules each, numbered across all of them, and the libdir they need."""
    modules = build_test_modules()
    template = modules["_testext.abi3.so"].read_bytes()
    digest = hashlib.sha256(repr((FIXTURE_VERSION, wheels, modules_per_wheel, padding)).encode())
    for name in ("_testext.abi3.so", *LIBRARIES):
        digest.update(modules[name].read_bytes())

    def build(work: Path) -> None:
        for number in range(wheels):
            package = f"gen{number:04d}"
            files = {f"{package}/__init__.py": b""}
            for offset in range(modules_per_wheel):
                index = number * modules_per_wheel + offset
                data = generated_module(template, index, padding)
                files[f"{package}/{module_name(index)}.abi3.so"] = data
            build_wheel(work / "wheels", package, "1.0", files)
        (work / "libdir").mkdir()
        for name in LIBRARIES:
            shutil.copyfile(modules[name], work / "libdir" / name)

    folder = cached_build("large-wheels", digest.hexdigest()[:16], (), build)
    return GeneratedWheels(
        tuple(sorted((folder / "wheels").glob("*.whl"))),
        folder / "libdir",
        modules_per_wheel,
        padding,
    )
