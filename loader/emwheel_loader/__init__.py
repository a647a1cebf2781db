"""emwheel's runtime side: loads repaired wheels by their manifest inside Pyodide.

    import emwheel_loader
    emwheel_loader.activate()   # then micropip.install / pyodide.loadPackage as usual

The manifest format (`manifest`) and the dylink.0 reader (`dylink`) are also used by the
repairer on the host.
"""

from .activation import activate, deactivate, is_active
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
