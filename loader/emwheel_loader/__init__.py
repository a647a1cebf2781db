"""emwheel's runtime side: the manifest format and the dylink reader, usable inside Pyodide."""

__version__ = "0.1.0"
