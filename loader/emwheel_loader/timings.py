"""What the loader's own work costs on each install: `emwheel_loader.install_timings()`.

The loader adds work to the install of every wheel with a manifest: finding and parsing the
manifest, checking the files (and hashing those their CRC-32 does not check), planning the
loads, and the dlopen hook's bookkeeping around each load. Each step's wall time is kept
per wheel, next to the time Emscripten spends loading the modules the hook passes on, which
is not the loader's own work but what it is compared with. Nothing here is measured unless
a wheel is installed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["InstallTimings", "Step", "measure"]

Step = Literal["manifest", "checks", "hashing", "planning"]  # the steps timed in Python


@dataclass
class InstallTimings:
    """One wheel's install, as the loader saw it. Times are seconds of wall time."""

    wheel: str
    modules: int = 0  # WebAssembly files the manifest lists
    loaded_at_install: int = 0  # of those, loaded by the installer (the rest on first import)
    # How the files' content was checked: "crc32" (each file's CRC-32, as zipfile checked it
    # while unpacking, against the manifest's), "webcrypto" or "hashlib" (sha256: native, in
    # JavaScript, or in Python), "crc32+webcrypto" or "crc32+hashlib" (sha256 for the files
    # the CRC-32 could not check), or "off".
    hash_method: str = "off"
    crc_checked: int = 0  # files checked by their CRC-32
    hashed_bytes: int = 0  # bytes checked by sha256
    manifest_seconds: float = 0.0  # finding the manifest through RECORD, reading, parsing it
    # every file: inside the folder, size, header, NEEDED list, CRC-32
    checks_seconds: float = 0.0
    # sha256 of the files the CRC-32 could not check: what the install waited for it. With
    # WebCrypto the digests run while Emscripten loads, and hashing_wall_seconds is their
    # span, mostly hidden in the loads; with hashlib both are the same, before any load.
    hashing_seconds: float = 0.0
    hashing_wall_seconds: float = 0.0
    planning_seconds: float = 0.0  # load order, lookup names, handing the plan to the hook
    hook_seconds: float = 0.0  # dlopen_hook.js's bookkeeping around each load
    loading_seconds: float = 0.0  # Emscripten's loads of the planned modules: not own work
    # Of loading: Emscripten listing the GOT's entries (Object.entries) in the walk after
    # each module's load, which stock Pyodide does too, over every entry at every load; the
    # hook settles the entries listed there (hook_seconds) so that later walks list fewer.
    got_listing_seconds: float = 0.0
    # Modules the install loaded from a compile started when the wheel was planned (those of
    # at least activation.PRECOMPILE_MIN bytes), overlapped with the hashing and earlier loads.
    compiled_for_install: int = 0
    # Lazy mode: modules compiled during the install for a later import (not own work: stock
    # Pyodide compiles every module at install), the span of those compiles, and what the
    # install waited for them after the loads and digests; compiled_ahead_used: of those,
    # the ones imported so far, which skipped the compile on import.
    compiled_ahead: int = 0
    compiled_ahead_used: int = 0
    compiling_wall_seconds: float = 0.0
    compile_wait_seconds: float = 0.0

    @property
    def own_seconds(self) -> float:
        """The loader's own work: every step but Emscripten's loads."""
        return (
            self.manifest_seconds
            + self.checks_seconds
            + self.hashing_seconds
            + self.planning_seconds
            + self.hook_seconds
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "own_seconds": self.own_seconds}


@contextmanager
def measure(timings: InstallTimings, step: Step) -> Iterator[None]:
    """Add the wall time of the ``with`` block to ``timings``' ``step``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        field = f"{step}_seconds"
        setattr(timings, field, getattr(timings, field) + time.perf_counter() - start)
