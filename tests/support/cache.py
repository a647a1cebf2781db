"""Where the test suite keeps what it downloads or builds (never committed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path


def cache_root() -> Path:
    configured = os.environ.get("EMWHEEL_DEV_CACHE")
    root = Path(configured) if configured else Path.home() / ".cache" / "emwheel-dev"
    root.mkdir(parents=True, exist_ok=True)
    return root


def run_tool(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run a build command (``env``: variables to set); its stderr is the error if it fails."""
    environment = {**os.environ, **env} if env else None
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")


def cached_build(
    kind: str, key: str, tools: tuple[str, ...], build: Callable[[Path], None]
) -> Path:
    """The folder ``<cache>/<kind>/<key>``, made by ``build(folder)`` unless already complete.

    The build runs in a temporary folder renamed into place at the end, so an interrupted
    build is never taken for a finished one.
    """
    out = cache_root() / kind / key
    if (out / "complete").exists():
        return out
    for tool in tools:
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} not found: run tools/setup (apt: clang-19 lld-19)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        work = Path(tmp)
        build(work)
        (work / "complete").touch()
        shutil.rmtree(out, ignore_errors=True)
        work.rename(out)
    return out
