"""What the Emscripten platform tags mean: which Pyodide releases, Python and Emscripten.

Sources: Pyodide's release notes and the npm packages' pyodide-lock.json (see
docs/show.md). The shared-library packages are those of each release's lock file with
``package_type: shared_library``; the .so names they install come from their recipes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.tags import Tag

__all__ = [
    "PYODIDE_TARGETS",
    "PyodideTarget",
    "known_library_files",
    "target_for_platform",
    "targets_for_tags",
]


@dataclass(frozen=True)
class PyodideTarget:
    abi: str  # the platform tag without its "_wasm32" suffix
    pyodide_versions: str
    python: str  # major.minor
    emscripten: str
    platform_tags: tuple[str, ...]
    # .so name -> Pyodide package that installs it into /usr/lib (on LD_LIBRARY_PATH)
    shared_libraries: dict[str, str]


def _libraries(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {so_name: package for package, names in table.items() for so_name in names}


# Shared-library packages of Pyodide 314.0.7's pyodide-lock.json, with the files each puts
# into /usr/lib (from their recipes).
_SHARED_LIBRARY_PACKAGES: dict[str, tuple[str, ...]] = {
    # package: files it unpacks into /usr/lib, from pyodide-recipes packages/<name>/meta.yaml
    "libblis": ("libblis.so",),
    "libcrc32c": ("libcrc32c.so",),
    "libgdal": ("libgdal.so",),
    "libgeos": ("libgeos.so", "libgeos_c.so"),  # the recipe copies libgeos*
    "libhdf5": ("libhdf5.so", "libhdf5_hl.so"),  # the recipe copies libhdf*
    "libheif": ("libheif.so",),
    "libngspice": ("libngspice.so",),
    "libopenblas": ("libopenblas.so",),
    "libproj": (),  # its recipe puts no library into the package; pyproj vendors its own
    "libsuitesparse": (
        "libsuitesparseconfig.so",
        "libamd.so",
        "libcamd.so",
        "libccolamd.so",
        "libcolamd.so",
        "libmetis.so",
        "libcholmod.so",
        "libspqr.so",
    ),
    "libtaglib": ("libtag.so", "libtag_c.so"),
}

# Pyodide 0.29.3's lock file has no libblis, and two library packages 314 dropped.
_SHARED_LIBRARY_PACKAGES_2025 = {
    **{k: v for k, v in _SHARED_LIBRARY_PACKAGES.items() if k != "libblis"},
    "libmagic": ("libmagic.so",),
    "libopenssl": ("libcrypto.so", "libssl.so"),
}

PYODIDE_TARGETS: tuple[PyodideTarget, ...] = (
    PyodideTarget(
        abi="pyemscripten_2026_0",
        pyodide_versions="314.x",
        python="3.14",
        emscripten="5.0.3",
        platform_tags=("pyemscripten_2026_0_wasm32", "pyodide_2026_0_wasm32"),
        shared_libraries=_libraries(_SHARED_LIBRARY_PACKAGES),
    ),
    PyodideTarget(
        abi="pyemscripten_2025_0",
        pyodide_versions="0.28.x, 0.29.x",
        python="3.13",
        emscripten="4.0.9",
        platform_tags=("pyemscripten_2025_0_wasm32", "pyodide_2025_0_wasm32"),
        shared_libraries=_libraries(_SHARED_LIBRARY_PACKAGES_2025),
    ),
    PyodideTarget(
        abi="pyemscripten_2024_0",
        pyodide_versions="0.27.x",
        python="3.12",
        emscripten="3.1.58",
        platform_tags=(
            "pyemscripten_2024_0_wasm32",
            "pyodide_2024_0_wasm32",
            "emscripten_3_1_58_wasm32",
        ),
        shared_libraries={},
    ),
)

DEFAULT_TARGET = PYODIDE_TARGETS[0]


def targets_for_tags(tags: Iterable[Tag]) -> tuple[PyodideTarget, ...]:
    """The Pyodide releases the platforms of ``tags`` name, in tag order, each once."""
    found: list[PyodideTarget] = []
    for tag in tags:
        target = target_for_platform(tag.platform)
        if target is not None and target not in found:
            found.append(target)
    return tuple(found)


def known_library_files(package: str) -> list[str]:
    """The library files emwheel's table says a Pyodide shared-library package installs."""
    return sorted(
        {
            so
            for t in PYODIDE_TARGETS
            for so, owner in t.shared_libraries.items()
            if owner == package
        }
    )


def target_for_platform(platform_tag: str) -> PyodideTarget | None:
    for target in PYODIDE_TARGETS:
        if platform_tag in target.platform_tags:
            return target
    return None
