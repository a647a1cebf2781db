"""The compiled loops of `emwheel check`, built when they can be: the feature scan's
(repair/emwheel/_wasm_scan.c) and the import and export readers' (_wasm_names.c).

Everything else is in pyproject.toml. The extensions are optional: without a C compiler, or
with EMWHEEL_PURE_PYTHON=1 (a wheel for Pyodide, where emwheel_loader runs, must be pure
Python), emwheel installs as pure Python and the same loops run in Python, with the same
results, about twice as slow on large wheels (docs/check.md).
"""

import os

from setuptools import Extension, setup

pure_python = os.environ.get("EMWHEEL_PURE_PYTHON") == "1"
extensions = [
    Extension(f"emwheel.{name}", [f"repair/emwheel/{name}.c"], optional=True)
    for name in ("_wasm_scan", "_wasm_names")
]
setup(ext_modules=[] if pure_python else extensions)
