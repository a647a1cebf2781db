"""emwheel: inspect, repair and check Emscripten (Pyodide) wheels."""

__version__ = "0.1.0"
