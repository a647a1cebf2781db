"""emwheel's runtime side: loads repaired wheels by their manifest inside Pyodide.

    import emwheel_loader
    emwheel_loader.activate()   # then micropip.install / pyodide.loadPackage as usual

The manifest format (`manifest`) and the dylink.0 reader (`dylink`) are also used by the
repairer on the host, which is why the loader's own machinery is imported only when used.
"""

from __future__ import annotations

from .errors import EmwheelError, LoadError, UnsupportedPyodideError
from .timings import InstallTimings

__all__ = [
    "EmwheelError",
    "InstallTimings",
    "LoadError",
    "UnsupportedPyodideError",
    "__version__",
    "activate",
    "deactivate",
    "install_timings",
    "is_active",
]

__version__ = "0.1.0"


def activate(
    *, verify_hashes: bool = True, provider_grace_seconds: float = 1.0, lazy: bool = True
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


def install_timings() -> list[InstallTimings]:
    """The loader's own work on each wheel installed with a manifest since activation (see
    timings.InstallTimings), in install order."""
    from .activation import install_timings as _install_timings

    return _install_timings()
