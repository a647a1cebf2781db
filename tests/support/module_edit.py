"""Small edits of test modules, done with emwheel's writer."""

from __future__ import annotations

from emwheel.wasm_module import WasmModule


def with_runtime_path(data: bytes, *entries: str) -> bytes:
    module = WasmModule.parse(data)
    assert module.dylink is not None
    return module.encode(module.dylink.with_runtime_path(entries))


def with_needed(data: bytes, *names: str) -> bytes:
    module = WasmModule.parse(data)
    assert module.dylink is not None
    return module.encode(module.dylink.with_needed(names))
