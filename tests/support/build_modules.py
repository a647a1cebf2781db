"""Build the test modules from the C sources in tests/c with clang-19 and wasm-ld-19.

No Emscripten is needed: clang's wasm32-unknown-emscripten target with -fPIC and wasm-ld's
--experimental-pic produce side modules with a dylink.0 section (see NOTES.md section 3).
Builds are cached by a hash of the sources and commands.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .cache import cache_root

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
)


def _build_key() -> str:
    digest = hashlib.sha256()
    for recipe in RECIPES:
        digest.update(repr(recipe).encode())
        digest.update((C_SOURCES / recipe.source).read_bytes())
    digest.update(repr((COMPILE, LINK)).encode())
    return digest.hexdigest()[:16]


def _run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")


def build_test_modules() -> dict[str, Path]:
    """Build (or reuse) every test module; returns output name -> path."""
    out = cache_root() / "test-modules" / _build_key()
    if not (out / "complete").exists():
        for tool in (CLANG, WASM_LD):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} not found: run tools/setup (apt: clang-19 lld-19)")
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            work = Path(tmp)
            for recipe in RECIPES:
                obj = recipe.output + ".o"
                _run([*COMPILE, str(C_SOURCES / recipe.source), "-o", obj], work)
                link = [*LINK, obj, *recipe.links, "-o", recipe.output]
                if recipe.import_undefined:
                    link.insert(len(LINK), "--unresolved-symbols=import-dynamic")
                _run(link, work)
                (work / obj).unlink()
            (work / "complete").touch()
            shutil.rmtree(out, ignore_errors=True)
            work.rename(out)
    return {recipe.output: out / recipe.output for recipe in RECIPES}
