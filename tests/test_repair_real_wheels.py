"""`emwheel repair` on derived copies of real wheels: libraries taken out, then put back."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import jsonschema
import pytest

from emwheel_loader.manifest import MANIFEST_FILENAME

from cli_runner import SCHEMAS, run_cli, validate_show_json
from support.derive import derive_unrepaired
from support.real_wheels import fetch_real_wheel

pytestmark = pytest.mark.realwheels

CASES = {
    "awkward-cpp": ("awkward_cpp/lib/libawkward.so",),
    "grill-usd-core": ("grill_usd_core.libs/libusd_ms.so",),
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_derived_wheel_is_broken_then_repaired(
    capsys: pytest.CaptureFixture[str], key: str, tmp_path: Path
) -> None:
    derived = derive_unrepaired(fetch_real_wheel(key), CASES[key])
    (before,) = run_cli(capsys, "show", "--json", derived.wheel).json()["reports"]
    assert before["summary"]["errors"] > 0  # the removed library is missing

    result = run_cli(capsys, "repair", derived.wheel, "-L", derived.libdir, "-w", tmp_path / "a")
    assert result.code == 0, result.err
    repaired = tmp_path / "a" / derived.wheel.name
    document = run_cli(capsys, "show", "--json", repaired).json()
    validate_show_json(document)
    (report,) = document["reports"]
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    needed = [n for m in report["modules"] for n in m["needed"]]
    assert needed and all(n["resolution"] == "runtime_path" for n in needed)
    assert report["manifests"][0]["agrees_with_wheel"]

    dist = derived.wheel.name.split("-")[0]
    with zipfile.ZipFile(repaired) as zf:
        manifest = json.loads(zf.read(f"{dist}.libs/{MANIFEST_FILENAME}"))
        assert zf.testzip() is None
    schema = json.loads((SCHEMAS / "manifest.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(manifest)
    vendored = [m for m in manifest["modules"] if "vendored_from" in m]
    assert [m["vendored_from"] for m in vendored] == [Path(p).name for p in CASES[key]]
    assert manifest["load_order"][0] == vendored[0]["path"]

    # Idempotent: repairing the repaired wheel gives the same bytes.
    assert run_cli(capsys, "repair", repaired, "-w", tmp_path / "b").code == 0
    assert (tmp_path / "b" / repaired.name).read_bytes() == repaired.read_bytes()
