"""Where the test suite keeps what it downloads or builds (never committed)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    configured = os.environ.get("EMWHEEL_DEV_CACHE")
    root = Path(configured) if configured else Path.home() / ".cache" / "emwheel-dev"
    root.mkdir(parents=True, exist_ok=True)
    return root
