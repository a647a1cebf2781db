"""The oldest Chrome and Node.js that run each WebAssembly feature, and where that is from.

Chrome numbers: MDN's browser-compat-data (BCD, mdn/browser-compat-data, files
``webassembly/<feature>.json``; read at commit a0a74f9b). Node.js numbers: BCD where it has
them (memory64), else the first Node release whose bundled V8 is at least the Chrome
version (Chrome M ships V8 M/10; BCD ``browsers/nodejs.json``), corrected where Node's own
changelogs or webassembly.org's feature table (WebAssembly/website ``features.json``) say
otherwise. Seen on this project's machines: Node 20.20 rejects grill-usd-core 26.8 (typed
function references in libusd_ms.so), Node 24.21 and Chromium 156 run it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RUNTIME_SUPPORT", "RuntimeSupport", "minimum_versions"]


@dataclass(frozen=True)
class RuntimeSupport:
    chrome: int
    node: str  # major.minor.patch
    source: str


_BCD = "BCD webassembly/{}.json"
_V8 = "; Node: first release with V8 >= {}"

RUNTIME_SUPPORT: dict[str, RuntimeSupport] = {
    # Tags and throw belong to both forms of exception handling: the first to ship counts.
    "exceptions": RuntimeSupport(
        95, "17.0.0", _BCD.format("exception-handling") + _V8.format("9.5")
    ),
    "exceptions-legacy": RuntimeSupport(
        95, "17.0.0", _BCD.format("exception-handling") + _V8.format("9.5")
    ),
    "exceptions-exnref": RuntimeSupport(
        137,
        "24.15.0",
        _BCD.format("exceptionsFinal") + "; Node: enabled by the V8 backport in Node 24.15.0 "
        "(nodejs/node#62567; webassembly.org features.json says 24.15)",
    ),
    "simd": RuntimeSupport(91, "16.4.0", _BCD.format("fixed-width-SIMD") + _V8.format("9.1")),
    "bulk-memory": RuntimeSupport(
        75, "12.5.0", _BCD.format("bulk-memory-operations") + _V8.format("7.5")
    ),
    "threads": RuntimeSupport(
        74,
        "16.6.0",
        _BCD.format("threads-and-atomics") + "; Node: BCD webassembly/api/Memory.json "
        "(Memory.shared), V8 9.2 turned threads on by default",
    ),
    "memory64": RuntimeSupport(133, "24.0.0", _BCD.format("memory64") + " (Chrome and Node)"),
    "tail-calls": RuntimeSupport(112, "20.0.0", _BCD.format("tail-calls") + _V8.format("11.2")),
    "gc": RuntimeSupport(119, "22.0.0", _BCD.format("garbage-collection") + _V8.format("11.9")),
    "function-references": RuntimeSupport(
        119,
        "22.0.0",
        "V8 shipped typed function references with GC in V8 11.9 (Chrome 119; BCD "
        "webassembly/garbage-collection.json)" + _V8.format("11.9") + "; checked here: Node "
        "20.20 (V8 11.3) rejects grill-usd-core 26.8, whose libusd_ms.so declares (ref ...) "
        "types, and Node 24.21 runs it",
    ),
    "reference-types": RuntimeSupport(
        96, "17.2.0", _BCD.format("reference-types") + _V8.format("9.6")
    ),
    "multi-value": RuntimeSupport(86, "15.0.0", _BCD.format("multi-value") + _V8.format("8.6")),
    "sign-ext": RuntimeSupport(
        69,
        "12.0.0",
        _BCD.format("sign-extension-operations") + "; Node: webassembly.org features.json",
    ),
    "nontrapping-fptoint": RuntimeSupport(
        75, "12.5.0", _BCD.format("non-trapping-float-to-int-conversions") + _V8.format("7.5")
    ),
    "extended-const": RuntimeSupport(
        114, "21.0.0", _BCD.format("extended-constant-expressions") + _V8.format("11.4")
    ),
}


def _node_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def minimum_versions(features: set[str]) -> tuple[int, str, list[str]]:
    """The oldest Chrome and Node that run all ``features``, and the features that set them."""
    chrome, node = 0, "0.0.0"
    reasons: list[str] = []
    for feature in sorted(features):
        support = RUNTIME_SUPPORT.get(feature)
        if support is None:
            continue
        chrome = max(chrome, support.chrome)
        node = max(node, support.node, key=_node_key)
        reasons.append(feature)
    return chrome, node, reasons
