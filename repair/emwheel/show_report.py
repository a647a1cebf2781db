"""What `emwheel show` reports: plain data, rendered by show_output."""

from __future__ import annotations

from dataclasses import dataclass, field

from emwheel_loader.manifest import Manifest

from .library_resolution import NeededLibrary
from .package_source import WheelName
from .pyodide_targets import PyodideTarget

__all__ = ["Finding", "ManifestReport", "ModuleReport", "SourceReport"]


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" (will not load as is) or "warning"
    code: str
    message: str
    path: str | None = None


@dataclass(frozen=True)
class ModuleReport:
    path: str  # install path, relative to site-packages
    archive_path: str
    size: int
    format: str  # "wasm", or what the file is instead ("elf", "text", ...)
    kind: str | None = None  # "extension" or "shared" for wasm modules
    side_module: bool = False  # has a dylink section (can be dlopened)
    dylink_section: str | None = None  # "dylink.0", or "dylink" (legacy)
    needed: tuple[NeededLibrary, ...] = ()
    runtime_path: tuple[str, ...] = ()
    import_count: int = 0
    export_count: int = 0
    dylink_problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ManifestReport:
    path: str  # install path of the manifest
    manifest: Manifest | None  # None when it cannot be read
    problems: tuple[str, ...]  # ways it disagrees with the wheel (or why it is unreadable)


@dataclass(frozen=True)
class SourceReport:
    source: str
    source_kind: str  # "wheel", "directory" or "module"
    wheel: WheelName | None
    targets: tuple[PyodideTarget, ...]  # the Pyodide ABIs the wheel's tags name
    modules: tuple[ModuleReport, ...]
    findings: tuple[Finding, ...] = field(default=())
    manifests: tuple[ManifestReport, ...] = field(default=())

    @property
    def wasm_modules(self) -> tuple[ModuleReport, ...]:
        return tuple(m for m in self.modules if m.format == "wasm")
