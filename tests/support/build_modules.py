"""Build the test modules from the C sources in tests/c with clang-19 and wasm-ld-19.

No Emscripten is needed: clang's wasm32-unknown-emscripten target with -fPIC and wasm-ld's
--experimental-pic produce side modules with a dylink.0 section (see NOTES.md section 3).
Builds are cached by a hash of the sources and commands.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .cache import cached_build, run_tool

C_SOURCES = Path(__file__).resolve().parent.parent / "c"
CLANG = "clang-19"
WASM_LD = "wasm-ld-19"
# clang defaults to hidden visibility for wasm: export every non-static symbol, as emcc does
COMPILE = [CLANG, "--target=wasm32-unknown-emscripten", "-fPIC", "-fvisibility=default", "-O2"]
COMPILE += ["-nostdlib", "-c"]
LINK = [WASM_LD, "--experimental-pic", "-shared", "--export-dynamic"]


@dataclass(frozen=True)
class ModuleRecipe:
    output: str
    source: str
    links: tuple[str, ...] = ()  # other outputs to link against (become NEEDED)
    import_undefined: bool = False  # leave undefined symbols as dynamic imports


RECIPES = (
    ModuleRecipe("libbase.so", "base.c"),
    ModuleRecipe("libmid.so", "mid.c", links=("libbase.so",), import_undefined=True),
    ModuleRecipe("_testext.abi3.so", "testext.c", links=("libmid.so",), import_undefined=True),
    ModuleRecipe("libundefined.so", "undefined_call.c", import_undefined=True),
    ModuleRecipe("libscale.so", "scale_user.c", import_undefined=True),
    ModuleRecipe("libundefinedptr.so", "undefined_pointer.c", import_undefined=True),
    # Faults at load time (tests/runtime/test_faults.py): data nobody defines, in a library
    # and in an extension module, and a library whose constructor traps.
    ModuleRecipe("libnodata.so", "fault_undefined_data.c", import_undefined=True),
    ModuleRecipe("libtrap.so", "fault_trap.c", links=("libbase.so",), import_undefined=True),
    ModuleRecipe(
        "_faultext_nodata.abi3.so", "fault_ext.c", links=("libnodata.so",), import_undefined=True
    ),
    ModuleRecipe(
        "_faultext_trap.abi3.so", "fault_ext.c", links=("libtrap.so",), import_undefined=True
    ),
    ModuleRecipe("_faultdata.abi3.so", "fault_data_ext.c", import_undefined=True),
    # Exports data it reads through the GOT (tests/runtime/test_immutable_globals.py).
    ModuleRecipe("_dataext.abi3.so", "data_ext.c", import_undefined=True),
)


def _build_key() -> str:
    digest = hashlib.sha256()
    for recipe in RECIPES:
        digest.update(repr(recipe).encode())
        digest.update((C_SOURCES / recipe.source).read_bytes())
    for header in sorted(C_SOURCES.glob("*.h")):  # included by the sources
        digest.update(header.read_bytes())
    digest.update(repr((COMPILE, LINK)).encode())
    return digest.hexdigest()[:16]


def build_test_modules() -> dict[str, Path]:
    """Build (or reuse) every test module; returns output name -> path."""

    def build(work: Path) -> None:
        for recipe in RECIPES:
            obj = recipe.output + ".o"
            run_tool([*COMPILE, str(C_SOURCES / recipe.source), "-o", obj], work)
            link = [*LINK, obj, *recipe.links, "-o", recipe.output]
            if recipe.import_undefined:
                link.insert(len(LINK), "--unresolved-symbols=import-dynamic")
            run_tool(link, work)
            (work / obj).unlink()

    out = cached_build("test-modules", _build_key(), (CLANG, WASM_LD), build)
    return {recipe.output: out / recipe.output for recipe in RECIPES}
