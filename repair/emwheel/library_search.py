"""Finding libraries to vendor in the folders given with ``--libdir`` / ``EMWHEEL_LIBDIR``.

Each folder is searched as it is and in the sub-folders where Emscripten toolchains and
Pyodide's build install libraries. Only WebAssembly side modules are accepted: a host
library of the same name (an ELF ``libz.so``) is skipped and mentioned if nothing is found.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from emwheel_loader.dylink import read_dylink_prefix
from emwheel_loader.errors import WasmFormatError

from .file_formats import PREFIX_SIZE, detect_format

__all__ = ["LIBDIR_ENV", "SUBFOLDERS", "LibrarySearch", "SearchResult"]

LIBDIR_ENV = "EMWHEEL_LIBDIR"
SUBFOLDERS = ("", "lib", "lib/wasm32-emscripten/pic", "lib/wasm32-emscripten")


@dataclass(frozen=True)
class SearchResult:
    path: Path | None
    rejected: tuple[str, ...] = ()  # files of that name that are not side modules, and why


class LibrarySearch:
    def __init__(self, libdirs: Sequence[Path]) -> None:
        self.libdirs = tuple(libdirs)

    @classmethod
    def from_options(
        cls, libdirs: Sequence[Path], environ: dict[str, str] | None = None
    ) -> LibrarySearch:
        env = os.environ if environ is None else environ
        from_env = [Path(p) for p in env.get(LIBDIR_ENV, "").split(":") if p]
        return cls([*libdirs, *from_env])

    def find(self, name: str) -> SearchResult:
        """The first side module called ``name`` (a base name) in the search folders."""
        rejected: list[str] = []
        for libdir in self.libdirs:
            for sub in SUBFOLDERS:
                candidate = libdir / sub / name
                if not candidate.is_file():
                    continue
                problem = _side_module_problem(candidate)
                if problem is None:
                    return SearchResult(candidate.resolve(), tuple(rejected))
                rejected.append(f"{candidate}: {problem}")
        return SearchResult(None, tuple(rejected))


def _side_module_problem(path: Path) -> str | None:
    with open(path, "rb") as f:
        prefix = f.read(PREFIX_SIZE)
        fmt = detect_format(prefix)
        if fmt != "wasm":
            return f"not WebAssembly ({fmt})"
        f.seek(0)
        try:
            dylink = read_dylink_prefix(f)
        except WasmFormatError as e:
            return f"corrupt module ({e})"
    if dylink is None:
        return "WebAssembly without a dylink.0 section (not a side module)"
    return None
