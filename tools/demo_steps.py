"""The steps of tools/demo: a wheel that needs a library it lacks, failing in stock Pyodide,
repaired by emwheel, working in Pyodide with the loader. Run by tools/demo after set-up.

    .venv/bin/python tools/demo_steps.py --dist PYODIDE_DIST --node NODE_BIN_DIR

Each step prints a header and what it saw; each checks that it saw what the demo says
(the failure really fails, the fix really works) and the demo exits 1 at the first step
that does not. Pyodide runs in Node through tests/support/run_pyodide.mjs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.derive import derive_unrepaired  # noqa: E402
from support.project_wheel import build_project_wheel  # noqa: E402
from support.real_wheels import fetch_real_wheel  # noqa: E402

LIBRARY = "grill_usd_core.libs/libusd_ms.so"
EMWHEEL = ROOT / ".venv" / "bin" / "emwheel"
RUN_PYODIDE = ROOT / "tests" / "support" / "run_pyodide.mjs"

# In stock Pyodide: micropip.install of the unrepaired wheel must fail on the missing
# library. Prints the lines of the error that say why (micropip's traceback above them is
# long) and a JSON line for the demo to check. NAME is the wheel's file name, for display.
STOCK_CODE = """
import json, time, micropip
print(f">>> await micropip.install('emfs:.../{NAME}', deps=False)")
start = time.monotonic()
try:
    await micropip.install(WHEEL_URL, deps=False)
    outcome = {"installed": True, "error": ""}
except Exception as e:
    lines = [l.strip().removeprefix("Error: ") for l in str(e).splitlines()]
    reason = [l for l in lines if "dynamic lib" in l]
    print(f"{type(e).__name__} after {time.monotonic() - start:.1f} s:")
    for line in reason:
        print(f"  {line}")
    outcome = {"installed": False, "error": "\\n".join(reason)}
print("DEMO-RESULT " + json.dumps(outcome))
"""

# In Pyodide with the loader: the cells a notebook would run (docs/notebooks.md), then a
# USD stage made with the repaired wheel. LOADER_NAME and NAME are file names, for display.
LOADER_CODE = """
import json, time, micropip
print(f">>> await micropip.install('emfs:.../{LOADER_NAME}', deps=False)")
await micropip.install(LOADER_URL, deps=False)
print(">>> import emwheel_loader; emwheel_loader.activate()")
import emwheel_loader
emwheel_loader.activate()
print(f">>> await micropip.install('emfs:.../{NAME}', deps=False)")
start = time.monotonic()
await micropip.install(WHEEL_URL, deps=False)
(t,) = emwheel_loader.install_timings()
print(f"installed in {time.monotonic() - start:.1f} s: {t.modules} WebAssembly files in the "
      f"manifest, checked (sizes, NEEDED, content by {t.hash_method}); {t.loaded_at_install} "
      f"loaded now, the rest on first import; the loader's own work {t.own_seconds:.2f} s")
print(">>> from pxr import Usd, UsdGeom  # a stage with a sphere, exported as .usda")
start = time.monotonic()
from pxr import Usd, UsdGeom
stage = Usd.Stage.CreateInMemory()
UsdGeom.Xform.Define(stage, "/World")
UsdGeom.Sphere.Define(stage, "/World/Ball").GetRadiusAttr().Set(2.5)
text = stage.GetRootLayer().ExportToString()
for line in text.strip().splitlines():
    print(f"  {line}")
print(f"(imports and stage: {time.monotonic() - start:.1f} s)")
print("DEMO-RESULT " + json.dumps({"radius": "double radius = 2.5" in text,
                                    "version": ".".join(map(str, Usd.GetVersion()))}))
"""


@dataclass
class Step:
    title: str
    outcome: str = ""
    seconds: float = 0.0


class DemoFailed(Exception):
    """A step did not behave as the demo says it does."""


def header(number: int, total: int, title: str) -> None:
    print(f"\n== {number}/{total}  {title}", flush=True)


def indent(text: str, limit: int | None = None) -> None:
    lines = text.rstrip().splitlines()
    shown = lines if limit is None or len(lines) <= limit else lines[:limit]
    for line in shown:
        print(f"   {line}")
    if len(shown) < len(lines):
        print(f"   ... ({len(lines) - len(shown)} more lines)")


def emwheel(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EMWHEEL), *args], capture_output=True, text=True)


def run_in_pyodide(
    dist: Path, node: Path, mount: Path, code: str, values: dict[str, str]
) -> dict[str, object]:
    """Run code in a fresh Pyodide in Node; returns its DEMO-RESULT line, parsed."""
    prelude = "".join(f"{name} = {json.dumps(value)}\n" for name, value in values.items())
    env = {**os.environ, "PATH": f"{node}{os.pathsep}{os.environ['PATH']}"}
    command = ["node", str(RUN_PYODIDE), "--dist", str(dist), "--mount", str(mount)]
    command += ["--load-package", "micropip", "--code", prelude + code]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    marker = "DEMO-RESULT "
    shown = [line for line in result.stdout.splitlines() if not line.startswith(marker)]
    indent("\n".join(shown))
    outcome = [line[len(marker) :] for line in result.stdout.splitlines() if marker in line]
    if result.returncode != 0 or len(outcome) != 1:
        raise DemoFailed(f"Pyodide exited with status {result.returncode}:\n{result.stderr}")
    parsed: dict[str, object] = json.loads(outcome[0])
    return parsed


def mib(path: Path) -> str:
    return f"{path.stat().st_size / 2**20:.1f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, required=True, help="Pyodide 314.0.7 distribution")
    parser.add_argument("--node", type=Path, required=True, help="folder of Node 24's node")
    args = parser.parse_args()
    version = subprocess.run(
        [str(args.node / "node"), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    pyodide = json.loads((args.dist / "package.json").read_text())["version"]
    print(f"emwheel demo: grill-usd-core 26.8 (PyPI) in Pyodide {pyodide}, Node {version}")

    work = Path(tempfile.mkdtemp(prefix="emwheel-demo-"))
    steps: list[Step] = []
    try:
        run_steps(work, args.dist, args.node, steps)
    except DemoFailed as e:
        print(f"\nDEMO FAILED at step {len(steps)} ({steps[-1].title}): {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n== Summary")
    for number, step in enumerate(steps, 1):
        print(f"   {number}. {step.title:<60} {step.seconds:5.1f} s  {step.outcome}")
    print(f"   total {sum(s.seconds for s in steps):.1f} s")
    return 0


def run_steps(work: Path, dist: Path, node: Path, steps: list[Step]) -> None:
    served = work / "served"  # the folder Pyodide sees (mounted at the same path)
    served.mkdir()
    total = 5

    def step(title: str, body: Callable[[Step], None]) -> None:
        current = Step(title)
        steps.append(current)
        header(len(steps), total, title)
        start = time.monotonic()
        body(current)
        current.seconds = time.monotonic() - start

    state: dict[str, Path] = {}

    def the_wheel(s: Step) -> None:
        source = fetch_real_wheel("grill-usd-core")
        derived = derive_unrepaired(source, (LIBRARY,))
        library = derived.libdir / Path(LIBRARY).name
        print(f"   from PyPI: {source.name} ({mib(source)})")
        print(f"   taken out as a build would leave it: {LIBRARY} ({mib(library)}) moved to")
        print(f"   {derived.libdir}/, every RUNTIME_PATH stripped")
        with zipfile.ZipFile(derived.wheel) as zf:
            if LIBRARY in zf.namelist():
                raise DemoFailed(f"{derived.wheel.name} still holds {LIBRARY}")
        shown = emwheel("show", str(derived.wheel))
        print(f"   $ emwheel show {derived.wheel.name}")
        indent(shown.stdout, limit=9)
        missing = shown.stdout.count("libusd_ms.so -> MISSING")
        if shown.returncode != 0 or missing == 0:
            raise DemoFailed(f"emwheel show did not report libusd_ms.so missing:\n{shown.stderr}")
        state["unrepaired"] = Path(shutil.copy(derived.wheel, served))
        state["libdir"] = derived.libdir
        s.outcome = f"libusd_ms.so missing for {missing} extension modules"

    def stock_fails(s: Step) -> None:
        wheel = state["unrepaired"]
        values = {"WHEEL_URL": f"emfs:{wheel}", "NAME": wheel.name}
        result = run_in_pyodide(dist, node, served, STOCK_CODE, values)
        error = str(result["error"])
        if result["installed"] or 'Failed to find dynamic library "libusd_ms.so"' not in error:
            raise DemoFailed(f"expected the install to fail on libusd_ms.so, got: {result}")
        s.outcome = "fails: libusd_ms.so not found (as expected)"

    def repair(s: Step) -> None:
        out = work / "wheelhouse"
        print(f"   $ emwheel repair {state['unrepaired'].name} -L {state['libdir']} -w {out}")
        result = emwheel(
            "repair", str(state["unrepaired"]), "-L", str(state["libdir"]), "-w", str(out)
        )
        indent(result.stdout + result.stderr, limit=4)
        wheels = list(out.glob("*.whl"))
        if result.returncode != 0 or len(wheels) != 1:
            raise DemoFailed(f"emwheel repair exited with status {result.returncode}")
        (repaired,) = wheels
        checked = emwheel("check", "--pyodide", "314.0.7", str(repaired))
        print(f"   $ emwheel check --pyodide 314.0.7 {repaired.name}")
        indent(checked.stdout + checked.stderr, limit=12)
        if checked.returncode != 0:
            raise DemoFailed(f"emwheel check exited with status {checked.returncode}")
        state["repaired"] = Path(shutil.copy(repaired, served))
        s.outcome = f"{repaired.name.split('-')[0]} repaired ({mib(repaired)}); check passes"

    def show_repaired(s: Step) -> None:
        shown = emwheel("show", str(state["repaired"]))
        print(f"   $ emwheel show {state['repaired'].name}")
        indent(shown.stdout, limit=9)
        if shown.returncode != 0 or "MISSING" in shown.stdout:
            raise DemoFailed("emwheel show still reports a missing library")
        s.outcome = "every NEEDED resolves inside the wheel"

    def loader_works(s: Step) -> None:
        start = time.monotonic()
        loader = Path(shutil.copy(build_project_wheel(), served))
        built = time.monotonic() - start
        print(f"   {loader.name}: built from this checkout ({built:.1f} s, cached by its sources)")
        wheel = state["repaired"]
        values = {"LOADER_URL": f"emfs:{loader}", "LOADER_NAME": loader.name}
        values |= {"WHEEL_URL": f"emfs:{wheel}", "NAME": wheel.name}
        result = run_in_pyodide(dist, node, served, LOADER_CODE, values)
        if result["radius"] is not True:
            raise DemoFailed(f"the USD stage did not hold the sphere's radius: {result}")
        s.outcome = f"works: USD {result['version']} stage created"

    step("The wheel: grill-usd-core 26.8, its library taken out", the_wheel)
    step("Stock Pyodide: micropip.install the unrepaired wheel", stock_fails)
    step("emwheel repair -L <libdir>, then emwheel check", repair)
    step("emwheel show on the repaired wheel", show_repaired)
    step("Pyodide with the loader: install the repaired wheel, use it", loader_works)


if __name__ == "__main__":
    sys.exit(main())
