"""Build side modules that use one WebAssembly feature each, from tests/c/features.

Each recipe compiles its sources with clang-19 for a baseline of the MVP plus mutable
globals (which position-independent code needs), adds the flags that turn its feature on,
and links with wasm-ld-19 as build_modules.py does. Builds are cached by a hash of the
sources and commands.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .build_modules import CLANG, WASM_LD
from .cache import cached_build, run_tool

FEATURE_SOURCES = Path(__file__).resolve().parent.parent / "c" / "features"
CLANGXX = "clang++-19"
COMPILE = ["-fPIC", "-fvisibility=default", "-O2", "-nostdlib", "-c"]
BASELINE = ["-mcpu=mvp", "-mmutable-globals"]
LINK = ["--experimental-pic", "-shared", "--export-dynamic", "--unresolved-symbols=import-dynamic"]


@dataclass(frozen=True)
class FeatureRecipe:
    output: str
    sources: tuple[str, ...]
    flags: tuple[str, ...] = ()
    wasm64: bool = False

    def compile_command(self, source: str, obj: str) -> list[str]:
        compiler = CLANGXX if source.endswith(".cpp") else CLANG
        target = "wasm64" if self.wasm64 else "wasm32"
        return [compiler, f"--target={target}-unknown-emscripten", *COMPILE, *BASELINE,
                *self.flags, str(FEATURE_SOURCES / source), "-o", obj]  # fmt: skip

    def link_command(self, objects: list[str]) -> list[str]:
        return [WASM_LD, *(["-mwasm64"] if self.wasm64 else []), *LINK, *objects,
                "-o", self.output]  # fmt: skip


RECIPES = (
    # the same C as sign_ext, nontrapping_fptoint and bulk_memory, built for the MVP
    FeatureRecipe("mvp.so", ("sign_extend.c", "float_to_int.c", "bulk_memory.c")),
    FeatureRecipe("sign_ext.so", ("sign_extend.c",), ("-msign-ext",)),
    FeatureRecipe("nontrapping_fptoint.so", ("float_to_int.c",), ("-mnontrapping-fptoint",)),
    FeatureRecipe("bulk_memory.so", ("bulk_memory.c",), ("-mbulk-memory",)),
    FeatureRecipe("simd.so", ("simd.c",), ("-msimd128",)),
    FeatureRecipe("relaxed_simd.so", ("relaxed_simd.c",), ("-mrelaxed-simd",)),
    FeatureRecipe("tail_calls.so", ("tail_call.c",), ("-mtail-call",)),
    FeatureRecipe("atomics.so", ("atomics.c",), ("-matomics", "-mbulk-memory")),
    FeatureRecipe(
        "multi_value.so",
        ("multi_value.c",),
        ("-mmultivalue", "-Xclang", "-target-abi", "-Xclang", "experimental-mv"),
    ),
    FeatureRecipe("externref.so", ("externref.c",), ("-mreference-types",)),
    FeatureRecipe(
        "extended_const.so", ("hidden_data.c", "hidden_data_user.c"), ("-mextended-const",)
    ),
    FeatureRecipe("exceptions.so", ("exceptions.cpp",), ("-fwasm-exceptions",)),
    FeatureRecipe("memory64.so", ("sign_extend.c",), wasm64=True),
)


def _build_key() -> str:
    digest = hashlib.sha256()
    for recipe in RECIPES:
        digest.update(repr(recipe).encode())
        digest.update(repr((recipe.compile_command("x", "y"), recipe.link_command([]))).encode())
        for source in recipe.sources:
            digest.update((FEATURE_SOURCES / source).read_bytes())
    return digest.hexdigest()[:16]


def build_feature_modules() -> dict[str, Path]:
    """Build (or reuse) every feature module; returns output name -> path."""

    def build(work: Path) -> None:
        for recipe in RECIPES:
            objects = [f"{recipe.output}.{n}.o" for n in range(len(recipe.sources))]
            for source, obj in zip(recipe.sources, objects, strict=True):
                run_tool(recipe.compile_command(source, obj), work)
            run_tool(recipe.link_command(objects), work)
            for obj in objects:
                (work / obj).unlink()

    out = cached_build("feature-modules", _build_key(), (CLANG, CLANGXX, WASM_LD), build)
    return {recipe.output: out / recipe.output for recipe in RECIPES}
