"""emwheel's runtime side: loads repaired wheels by their manifest inside Pyodide.

    import emwheel_loader
    emwheel_loader.activate()   # then micropip.install / pyodide.loadPackage as usual

The manifest format (`manifest`) and the dylink.0 reader (`dylink`) are also used by the
repairer on the host, which is why the loader's own machinery is imported only when used.
"""

from __future__ import annotations

from .errors import EmwheelError, LoadError, UnsupportedPyodideError

__all__ = [
    "EmwheelError",
    "LoadError",
    "UnsupportedPyodideError",
    "__version__",
    "activate",
    "deactivate",
    "is_active",
]

__version__ = "0.1.0"


def activate(
    *, verify_hashes: bool = True, provider_grace_seconds: float = 1.0, lazy: bool = False
) -> None:
    """Load every wheel installed from now on by its manifest (see activation.activate)."""
    from .activation import activate as _activate

    _activate(verify_hashes=verify_hashes, provider_grace_seconds=provider_grace_seconds, lazy=lazy)


def deactivate() -> None:
    """Restore stock behaviour; libraries already loaded stay loaded."""
    from .activation import deactivate as _deactivate

    _deactivate()


def is_active() -> bool:
    from .activation import is_active as _is_active

    return _is_active()
