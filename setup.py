"""The compiled scanner of `emwheel check` (repair/emwheel/_wasm_scan.c), built when it can be.

Everything else is in pyproject.toml. The extension is optional: without a C compiler, or
with EMWHEEL_PURE_PYTHON=1 (a wheel for Pyodide, where emwheel_loader runs, must be pure
Python), emwheel installs as pure Python and `check` scans code with a regular expression
instead, with the same results, several times slower on large modules (docs/check.md).
"""

import os

from setuptools import Extension, setup

pure_python = os.environ.get("EMWHEEL_PURE_PYTHON") == "1"
scanner = Extension("emwheel._wasm_scan", ["repair/emwheel/_wasm_scan.c"], optional=True)
setup(ext_modules=[] if pure_python else [scanner])
