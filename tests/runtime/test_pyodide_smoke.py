"""Smoke test: a real Pyodide runs through pytest-pyodide and can import micropip.

Run with a distribution from tools/pyodide_dist.py:

    pytest tests/runtime/test_pyodide_smoke.py --dist-dir="$(python tools/pyodide_dist.py \
        --version 314.0.7)" --rt node
"""

import pytest
from pytest_pyodide import run_in_pyodide


@pytest.mark.runtime
@run_in_pyodide(packages=["micropip"])
def test_micropip_imports_in_pyodide(selenium: object) -> None:
    import sys

    import micropip

    assert sys.platform == "emscripten"
    assert micropip.__version__ == "0.11.1"
