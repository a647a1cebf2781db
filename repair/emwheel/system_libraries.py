"""Libraries linked into Pyodide's main module, which a wheel must not bring a copy of.

Defined in the loader package (emwheel_loader.system_libraries), which refuses such a copy
at install time too and must not import anything from the repairer.
"""

from __future__ import annotations

from emwheel_loader.system_libraries import SYSTEM_LIBRARIES, system_library_name

__all__ = ["SYSTEM_LIBRARIES", "system_library_name"]
