"""Errors of the repairer; the hierarchy itself is shared with the loader (emwheel_loader)."""

from __future__ import annotations

from emwheel_loader.errors import EmwheelError, InvalidInput, WasmFormatError

__all__ = ["EmwheelError", "InvalidInput", "WasmFormatError"]
