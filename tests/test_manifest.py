"""The manifest format (loader/emwheel_loader/manifest.py), on its own."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from emwheel_loader.manifest import (
    DependencyCycleError,
    External,
    Manifest,
    ManifestError,
    ModuleEntry,
    NeededEntry,
    compute_load_order,
)

SHA = "0" * 64


def sample() -> Manifest:
    return Manifest(
        distribution="pkg",
        version="1.0",
        generator="emwheel test",
        modules=(
            ModuleEntry(
                "pkg.libs/libbase-1.so", "shared", SHA, 10, vendored_from="libbase.so",
                crc32=0x0000ABCD,
            ),
            ModuleEntry(
                "pkg.libs/libmid-2.so", "shared", SHA, 20,
                (NeededEntry("libbase-1.so", "pkg.libs/libbase-1.so"),), crc32=0xFFFFFFFF,
            ),
            ModuleEntry(
                "pkg/_ext.so", "extension", SHA, 30,
                (
                    NeededEntry("libmid-2.so", "pkg.libs/libmid-2.so"),
                    NeededEntry("libgeos_c.so", external=External("pyodide", "libgeos")),
                    NeededEntry("libother.so", external=External("excluded")),
                ),
                crc32=0,
            ),
        ),
        load_order=("pkg.libs/libbase-1.so", "pkg.libs/libmid-2.so", "pkg/_ext.so"),
    )  # fmt: skip


def test_json_round_trip_is_exact() -> None:
    manifest = sample()
    text = manifest.to_json()
    assert Manifest.from_json(text, "m.json") == manifest
    assert Manifest.from_json(text, "m.json").to_json() == text
    data = json.loads(text)
    assert data["format"] == "emwheel-manifest" and data["version"] == 2
    assert [m["crc32"] for m in data["modules"]] == ["0000abcd", "ffffffff", "00000000"]


def test_a_version_1_manifest_is_read_without_crc32s_and_written_back_as_it_was() -> None:
    """Written before crc32 was recorded: its files are checked by sha256 alone."""
    data = json.loads(sample().to_json())
    data["version"] = 1
    for module in data["modules"]:
        del module["crc32"]
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    manifest = Manifest.from_json(text, "m.json")
    assert [m.crc32 for m in manifest.modules] == [None, None, None]
    assert [m.sha256 for m in manifest.modules] == [SHA] * 3
    assert manifest.to_json() == text


def test_a_manifest_with_some_crc32s_missing_is_not_written() -> None:
    manifest = sample()
    entries = (*manifest.modules[:2], replace(manifest.modules[2], crc32=None))
    with pytest.raises(ValueError, match=r"pkg/_ext\.so: no crc32, which the manifest's other"):
        replace(manifest, modules=entries).to_json()


def test_load_order_puts_dependencies_first_and_is_deterministic() -> None:
    deps = {"c": ["b"], "b": ["a"], "a": [], "d": [], "e": ["a", "d"]}
    assert compute_load_order(deps) == ("a", "b", "c", "d", "e")
    assert compute_load_order(dict(reversed(list(deps.items())))) == ("a", "b", "c", "d", "e")


def test_cycles_are_reported_with_their_members() -> None:
    with pytest.raises(DependencyCycleError, match="dependency cycle: a -> b -> c -> a"):
        compute_load_order({"a": ["b"], "b": ["c"], "c": ["a"]})


def _broken(change: Any) -> str:
    data = json.loads(sample().to_json())
    change(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{not json", "not valid JSON", id="not-json"),
        pytest.param("[]", "not a JSON object", id="not-object"),
        pytest.param(_broken(lambda d: d.update(version=3)), "version 3 is not supported",
                     id="future-version"),
        pytest.param(_broken(lambda d: d.update(version=2.0)), "version 2.0 is not supported",
                     id="float-version"),
        pytest.param(_broken(lambda d: d.pop("modules")), "missing field 'modules'",
                     id="missing-field"),
        pytest.param(_broken(lambda d: d["modules"][0].update(kind="plugin")),
                     "unknown module kind", id="bad-kind"),
        pytest.param(_broken(lambda d: d["modules"][0].update(path="../evil.so")),
                     "points outside the install root", id="outside"),
        pytest.param(_broken(lambda d: d["modules"][0].update(path="/abs.so")),
                     "points outside the install root", id="absolute"),
        pytest.param(_broken(lambda d: d["modules"][1]["needed"][0].update(path="pkg/x.so")),
                     "which the manifest does not list", id="dangling-reference"),
        pytest.param(_broken(lambda d: d["load_order"].reverse()), "load_order puts",
                     id="bad-order"),
        pytest.param(_broken(lambda d: d["load_order"].pop()), "load_order does not list",
                     id="incomplete-order"),
        pytest.param(_broken(lambda d: d["modules"][0].update(sha256="xyz")),
                     "is not a sha256", id="bad-hash"),
        pytest.param(_broken(lambda d: d["modules"][0].update(crc32="ABCD0000")),
                     "is not a CRC-32", id="bad-crc32"),
        pytest.param(_broken(lambda d: d["modules"][0].pop("crc32")),
                     "missing field 'crc32'", id="missing-crc32"),
    ],
)  # fmt: skip
def test_invalid_manifests_are_refused_naming_the_file(text: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message) as excinfo:
        Manifest.from_json(text, "pkg.libs/emwheel-manifest.json")
    assert str(excinfo.value).startswith("pkg.libs/emwheel-manifest.json: ")


def test_the_loader_package_imports_nothing_from_the_host_side() -> None:
    import ast
    from pathlib import Path

    import emwheel_loader

    package = Path(emwheel_loader.__file__).parent
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top not in ("emwheel", "packaging"), f"{source.name} imports {name}"


@pytest.mark.parametrize(
    ("version", "supported"),
    [("314.0.7", True), ("315.1.0", True), ("0.29.3", True), ("0.28.0", True),
     ("0.27.7", False), ("0.26.4", False), ("unknown", False)],
)  # fmt: skip
def test_loader_supported_pyodide_versions(version: str, supported: bool) -> None:
    from emwheel_loader.pyodide_internals import _is_supported_version

    assert _is_supported_version(version) is supported
