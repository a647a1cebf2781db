"""Reproduce, in real Pyodide under Node, the errors that docs/troubleshooting.md quotes.

Each case builds a small wheel from the C test modules (tests/support/build_modules.py),
installs it in a fresh Pyodide the way a user would (micropip in Python, or
pyodide.loadPackage from JavaScript), with or without emwheel's loader, and prints the
error exactly as Pyodide, micropip or the loader words it, followed by what `emwheel check`
says of the same wheel. Not part of the test suite: run it by hand when Pyodide or the
loader changes, and compare with the page.

    .venv/bin/python tools/troubleshooting_errors.py [--pyodide 314.0.7] [--case NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from emwheel.repair import repair_wheel  # noqa: E402
from emwheel.repair_plan import RepairOptions  # noqa: E402

from support.build_modules import build_test_modules  # noqa: E402
from support.wheel_builder import build_wheel  # noqa: E402

RUN_PYODIDE = ROOT / "tests" / "support" / "run_pyodide.mjs"
INIT = b"from ._testext import compute\n"

# Python run inside Pyodide: install (stock or with the loader), then use the wheel; print
# the exception as the last line of its traceback would show it.
PYTHON_CASE = """
import sys, ctypes, site, importlib
sys.path.insert(0, {loader_dir!r})
import micropip
if {with_loader!r}:
    import emwheel_loader
    emwheel_loader.activate(lazy={lazy!r})
try:
    await micropip.install({wheels!r}, deps=False)
    for library, function in {ctypes_calls!r}:
        loaded = ctypes.CDLL(site.getsitepackages()[0] + "/" + library)
        if function:
            print(function, "(1) =", getattr(loaded, function)(1))
    if {import_name!r}:
        module = importlib.import_module({import_name!r})
        if hasattr(module, "compute"):
            print("compute(1) =", module.compute(1))
    print("RESULT: no error")
except BaseException as e:
    print(f"RESULT: {{type(e).__module__}}.{{type(e).__qualname__}}: {{e}}")
"""

LOAD_PACKAGE_CASE = """
const {{ loadPyodide }} = await import({pyodide});
const pyodide = await loadPyodide({{ indexURL: {dist} }});
if ({with_loader}) {{
  const {{ patchPyodide }} = await import({js_loader});
  await patchPyodide(pyodide);
}}
const errors = [];
await pyodide.loadPackage({wheel}, {{ errorCallback: (m) => errors.push(m) }});
console.log(errors.length ? errors.map((m) => `RESULT: ${{m}}`).join("\\n") : "RESULT: no error");
"""


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path, dict[str, bytes], str], list[Path]]  # (folder, modules, abi)
    via: str = "micropip"  # or "loadPackage" (pyodide.loadPackage from JavaScript)
    with_loader: bool = False
    lazy: bool = True
    # (library, function): dlopen the library with ctypes, then call function(1) if named
    ctypes_calls: tuple[tuple[str, str], ...] = ()
    import_name: str = "testpkg"


def _tag(abi: str, python: str = "cp312-abi3") -> str:
    return f"{python}-pyemscripten_{abi}_wasm32"


def _ext_only(out: Path, m: dict[str, bytes], abi: str) -> list[Path]:
    files = {"testpkg/__init__.py": INIT, "testpkg/_testext.abi3.so": m["_testext.abi3.so"]}
    return [build_wheel(out, "testpkg", "1.0", files, tag=_tag(abi))]


def _libs_off_path(out: Path, m: dict[str, bytes], abi: str) -> list[Path]:
    files = {
        "testpkg/__init__.py": INIT,
        "testpkg/_testext.abi3.so": m["_testext.abi3.so"],
        "testpkg.libs/libmid.so": m["libmid.so"],
        "testpkg.libs/libbase.so": m["libbase.so"],
    }
    return [build_wheel(out, "testpkg", "1.0", files, tag=_tag(abi))]


def _single(library: str) -> Callable[[Path, dict[str, bytes], str], list[Path]]:
    def make(out: Path, m: dict[str, bytes], abi: str) -> list[Path]:
        files = {f"pkg/{library}": m[library]}
        return [build_wheel(out, "pkg", "1.0", files, tag=_tag(abi))]

    return make


def _other_platform(out: Path, m: dict[str, bytes], abi: str) -> list[Path]:
    other = "2025_0" if abi == "2026_0" else "2026_0"
    files = {"testpkg/__init__.py": INIT, "testpkg/_testext.abi3.so": m["_testext.abi3.so"]}
    return [build_wheel(out, "testpkg", "1.0", files, tag=_tag(other))]


def _other_python(out: Path, m: dict[str, bytes], abi: str) -> list[Path]:
    python = "cp313-cp313" if abi == "2026_0" else "cp314-cp314"
    files = {"testpkg/__init__.py": INIT, "testpkg/_testext.abi3.so": m["_testext.abi3.so"]}
    return [build_wheel(out, "testpkg", "1.0", files, tag=_tag(abi, python))]


def _repaired(out: Path, m: dict[str, bytes], abi: str, *, exclude: tuple[str, ...] = ()) -> Path:
    libdir = out / "libdir"
    libdir.mkdir(parents=True, exist_ok=True)
    for name in ("libmid.so", "libbase.so"):
        (libdir / name).write_bytes(m[name])
    bare = _ext_only(out / "bare", m, abi)[0]
    options = RepairOptions(libdirs=(libdir,), exclude=exclude, runtime_path=False)
    return repair_wheel(bare, out / "repaired", options).output


def _rebuilt(out: Path, wheel: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """The wheel's files changed by ``change``, packed again with a RECORD that matches
    (as a wheel edited after its repair would be)."""
    with zipfile.ZipFile(wheel) as zf:
        entries = {n: zf.read(n) for n in zf.namelist() if ".dist-info/" not in n}
    change(entries)
    name, version, *_ = wheel.name.split("-")
    tag = "-".join(wheel.stem.split("-")[2:])
    return build_wheel(out / "changed", name, version, entries, tag=tag)


def _library(entries: dict[str, bytes], prefix: str) -> str:
    return next(n for n in entries if n.startswith(f"testpkg.libs/{prefix}"))


def _tampered(out: Path, m: dict[str, bytes], abi: str) -> list[Path]:
    def flip_last_byte(entries: dict[str, bytes]) -> None:
        name = _library(entries, "libbase-")
        data = bytearray(entries[name])
        data[-1] ^= 0xFF
        entries[name] = bytes(data)

    return [_rebuilt(out, _repaired(out, m, abi), flip_last_byte)]


def _library_removed(out: Path, m: dict[str, bytes], abi: str) -> list[Path]:
    def remove(entries: dict[str, bytes]) -> None:
        del entries[_library(entries, "libbase-")]

    return [_rebuilt(out, _repaired(out, m, abi), remove)]


def _real_wheel(key: str) -> Callable[[Path, dict[str, bytes], str], list[Path]]:
    def make(out: Path, m: dict[str, bytes], abi: str) -> list[Path]:
        from support.real_wheels import fetch_real_wheel

        return [Path(shutil.copy(fetch_real_wheel(key), out))]

    return make


def _excluded(out: Path, m: dict[str, bytes], abi: str) -> list[Path]:
    return [_repaired(out, m, abi, exclude=("libbase.so",))]


CASES = (
    Case("missing-library", _ext_only),
    Case("missing-library-loadPackage", _ext_only, via="loadPackage"),
    Case("library-not-on-path", _libs_off_path),
    Case("undefined-function-call", _single("libundefined.so"), import_name="",
         ctypes_calls=(("pkg/libundefined.so", "calls_undefined"),)),
    Case("undefined-function-address", _single("libundefinedptr.so"), import_name="",
         ctypes_calls=(("pkg/libundefinedptr.so", ""),)),
    Case("undefined-data", _single("libscale.so"), import_name="",
         ctypes_calls=(("pkg/libscale.so", ""),)),
    Case("other-platform-tag", _other_platform),
    Case("other-python-tag", _other_python),
    Case("loader-sha256-mismatch", _tampered, with_loader=True),
    Case("loader-missing-file", _library_removed, with_loader=True),
    Case("loader-no-provider", _excluded, with_loader=True),
    Case("loader-sha256-mismatch-loadPackage", _tampered, via="loadPackage", with_loader=True),
    # grill-usd-core 26.8 uses typed function references: run with --node set to Node 20
    Case("runtime-lacks-feature", _real_wheel("grill-usd-core"), import_name="pxr.Tf"),
)  # fmt: skip


def run_case(case: Case, dist: Path, node: str, modules: dict[str, bytes], abi: str) -> str:
    with tempfile.TemporaryDirectory(prefix="emwheel-ts-") as tmp:
        work = Path(tmp)
        wheels = case.make(work, modules, abi)
        shutil.copytree(ROOT / "loader" / "emwheel_loader", work / "loader" / "emwheel_loader")
        command = [node, str(RUN_PYODIDE), "--dist", str(dist), "--mount", str(work)]
        if case.via == "loadPackage":
            # From JavaScript, as a page would: the npm package's patchPyodide, then
            # pyodide.loadPackage, whose errors go to errorCallback (console.error by default).
            script = LOAD_PACKAGE_CASE.format(
                pyodide=json.dumps((dist / "pyodide.mjs").as_uri()),
                js_loader=json.dumps((ROOT / "js" / "index.mjs").as_uri()),
                dist=json.dumps(str(dist) + "/"),
                with_loader=json.dumps(case.with_loader),
                wheel=json.dumps(str(wheels[0])),
            )
            command = [node, "--input-type=module", "-e", script]
        else:
            code = PYTHON_CASE.format(
                loader_dir=str(work / "loader"),
                with_loader=case.with_loader,
                lazy=case.lazy,
                wheels=[f"emfs:{w}" for w in wheels],
                ctypes_calls=[list(c) for c in case.ctypes_calls],
                import_name=case.import_name,
            )
            command += ["--load-package", "micropip", "--code", code]
        run = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        check = subprocess.run(
            [sys.executable, "-m", "emwheel", "check", "--pyodide-dist", str(dist)]
            + [str(w) for w in wheels],
            capture_output=True,
            text=True,
            check=False,
        )
        report = [f"== {case.name} ({case.via}{', loader' if case.with_loader else ''})"]
        report += [f"wheel: {w.name}" for w in wheels]
        report += ["-- stdout", run.stdout.rstrip(), "-- stderr", run.stderr.rstrip()]
        report += [f"-- emwheel check (exit {check.returncode})", check.stdout.rstrip()]
        report += [check.stderr.rstrip()]
        return "\n".join(report)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyodide", default="314.0.7")
    parser.add_argument("--case", action="append", choices=[c.name for c in CASES])
    parser.add_argument("--node", help="the node binary (default: Node 24 from tools/node24)")
    args = parser.parse_args()
    dist = Path(
        subprocess.run(
            [sys.executable, str(ROOT / "tools" / "pyodide_dist.py"), "--version", args.pyodide],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    abi = json.loads((dist / "pyodide-lock.json").read_text())["info"]["abi_version"]
    node_dir = subprocess.run(
        [str(ROOT / "tools" / "node24")], capture_output=True, text=True, check=True
    ).stdout.strip()
    node = args.node or os.path.join(node_dir, "node")
    modules = {name: path.read_bytes() for name, path in build_test_modules().items()}
    for case in CASES:
        if args.case and case.name not in args.case:
            continue
        print(run_case(case, dist, node, modules, abi), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
