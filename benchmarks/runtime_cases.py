"""The wheels of the runtime benchmark (bench_runtime.py) and what "first use" means for each.

Every case is made from cached inputs (real wheels pinned by sha256, derived copies, a
generated wheel built from C), then repaired with the `emwheel repair` of this checkout
into the run's own folder, so the benchmark measures the current repair output.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench_common import REPO, derive_unrepaired, emwheel_executable, fetch_real_wheel

# bench_common has put tests/ on sys.path: the test suite's builders and caches
from support.build_modules import CLANG, COMPILE, LINK, WASM_LD
from support.cache import cached_build, run_tool
from support.real_wheels import RealWheel, fetch_pinned_wheel
from support.wheel_builder import build_wheel

__all__ = ["CASES", "RuntimeCase", "loader_wheel"]

PYODIDE_ABI = "2026_0"  # Pyodide 314: every wheel below is built for it


@dataclass(frozen=True)
class RuntimeCase:
    key: str  # the name on the command line and in the tables
    wheel: Path  # the wheel whose micropip.install is timed
    setup: tuple[Path, ...]  # its dependencies, installed before the clock starts
    first_use: str  # Python code; the value of its last expression is the result
    expect: tuple[str, ...]  # the result must contain each of these
    made_by: str  # how the wheel was made, for the report
    # Rounds per requested round: a case whose install and first use take about 0.1 s in
    # every mode varies by tens of percent from round to round, so it gets more rounds
    # (each costs about as much as starting Pyodide) for a median that holds still.
    rounds_factor: int = 1


# --- first use of each wheel ------------------------------------------------------------

USD_STAGE = """
from pxr import Usd, UsdGeom
stage = Usd.Stage.CreateInMemory()
UsdGeom.Sphere.Define(stage, "/World/Ball").GetRadiusAttr().Set(2.5)
stage.GetRootLayer().ExportToString()
"""
USD_EXPECT = ('def Sphere "Ball"', "double radius = 2.5")

# --cache-dir=/dev/null: mypy writes no cache (nothing to reuse in a fresh Pyodide)
MYPY_CHECK = """
import mypy.api
out, err, status = mypy.api.run(["--cache-dir=/dev/null", "-c", "x: int = 'a'"])
f"exit {status}: {out}{err}"
"""
MYPY_EXPECT = ("exit 1: <string>:1: error: Incompatible types in assignment",)

# awkward_cpp/__init__.py imports numpy, which the offline distribution does not have: the
# extension module is loaded by itself, as in tests/runtime/test_repaired_wheels_load.py.
# AwkwardForth is implemented in libawkward.so, the library the extension NEEDs.
AWKWARD_FORTH = """
import importlib.util, os, site
folder = f"{site.getsitepackages()[0]}/awkward_cpp/lib"
(name,) = [n for n in os.listdir(folder) if n.startswith("_ext.")]
spec = importlib.util.spec_from_file_location("_ext", f"{folder}/{name}")
ext = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ext)
machine = ext.ForthMachine32("1 2 + 10 *")
machine.run()
repr(list(machine.stack))
"""
AWKWARD_EXPECT = ("[30]",)

MANY_MODULES = 200
MANY_IMPORTED = (0, 49, 99, 149, 199)  # module _mNNN returns 7 * NNN + 3
MANY_IMPORT = f"""
import importlib
values = [importlib.import_module(f"manymods._m{{i:03d}}").value() for i in {MANY_IMPORTED}]
f"sum {{sum(values)}}"
"""
MANY_EXPECT = (f"sum {sum(7 * i + 3 for i in MANY_IMPORTED)}",)


# --- the wheels -------------------------------------------------------------------------

# mypy's dependencies (its Requires-Dist for Python 3.14 in Pyodide), pinned like the real
# wheels of tests/support/real_wheels.py; librt and ast-serialize are compiled for Pyodide.
MYPY_DEPENDENCIES = tuple(
    RealWheel(f"mypy-dep-{name}", f"{name}=={version}", filename, sha256, size, "mypy needs it")
    for name, version, filename, sha256, size in (
        ("librt", "0.16.0", "librt-0.16.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
         "1b384b90ab79a7bc30b566895809a636e0666f21f3cf12b54823d025b7e83839", 79119),
        ("ast-serialize", "0.13.1",
         "ast_serialize-0.13.1-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
         "3e129d44b0cffbea24a7f40117ce49e30993c3d119e584d4817ebd6f87246456", 897306),
        ("mypy-extensions", "1.2.0", "mypy_extensions-1.2.0-py3-none-any.whl",
         "993e7a20aa5671eb41a7132cf555af30062da99729601601b9a8382b11cae768", 5114),
        ("pathspec", "1.1.1", "pathspec-1.1.1-py3-none-any.whl",
         "a00ce642f577bf7f473932318056212bc4f8bfdf53128c78bbd5af0b9b20b189", 57328),
        ("typing-extensions", "4.16.0", "typing_extensions-4.16.0-py3-none-any.whl",
         "481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8", 45571),
    )
)  # fmt: skip


def repair(wheel: Path, out: Path, libdir: Path | None = None) -> Path:
    """`emwheel repair` of this checkout. --no-check: the check here is the first use in
    Pyodide, and `emwheel check` is not what this benchmark measures."""
    command = [str(emwheel_executable()), "repair", "--no-check", str(wheel), "-w", str(out)]
    if libdir is not None:
        command += ["-L", str(libdir)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"emwheel repair {wheel.name} failed:\n{result.stderr}")
    return out / wheel.name


def repaired_derived(key: str, library: str, out: Path) -> Path:
    """The real wheel with ``library`` taken out (tests/support/derive.py), then repaired
    from the libdir it went to, as the runtime tests do."""
    derived = derive_unrepaired(fetch_real_wheel(key), (library,))
    return repair(derived.wheel, out, derived.libdir)


def many_modules_unrepaired() -> tuple[Path, Path]:
    """A wheel of MANY_MODULES small abi3 extension modules built from C, each NEEDing
    libmany.so, which is left out in a libdir: (wheel, libdir). Cached by sources and
    commands, as the test modules are."""
    sources = REPO / "benchmarks" / "c"
    digest = hashlib.sha256(repr((COMPILE, LINK, MANY_MODULES)).encode())
    for name in ("many_lib.c", "many_ext.c"):
        digest.update((sources / name).read_bytes())

    def build(work: Path) -> None:
        run_tool([*COMPILE, str(sources / "many_lib.c"), "-o", "many_lib.o"], work)
        run_tool([*LINK, "many_lib.o", "-o", "libmany.so"], work)
        files = {"manymods/__init__.py": b""}
        for index in range(MANY_MODULES):
            name = f"_m{index:03d}"
            defines = [f"-DMODULE_NAME={name}", f"-DMODULE_INDEX={index}"]
            run_tool([*COMPILE, *defines, str(sources / "many_ext.c"), "-o", "ext.o"], work)
            link = [*LINK, "--unresolved-symbols=import-dynamic", "ext.o", "libmany.so"]
            run_tool([*link, "-o", "ext.so"], work)
            files[f"manymods/{name}.abi3.so"] = (work / "ext.so").read_bytes()
        tag = f"cp312-abi3-pyemscripten_{PYODIDE_ABI}_wasm32"
        build_wheel(work / "wheel", "manymods", "1.0", files, tag=tag)
        (work / "libdir").mkdir()
        (work / "libmany.so").rename(work / "libdir" / "libmany.so")
        for leftover in ("many_lib.o", "ext.o", "ext.so"):
            (work / leftover).unlink()

    folder = cached_build("bench-many-modules", digest.hexdigest()[:16], (CLANG, WASM_LD), build)
    (wheel,) = (folder / "wheel").glob("*.whl")
    return wheel, folder / "libdir"


def grill_repaired(out: Path) -> RuntimeCase:
    wheel = repaired_derived("grill-usd-core", "grill_usd_core.libs/libusd_ms.so", out)
    made_by = (
        "real wheel without `libusd_ms.so` (tests/support/derive.py), then `emwheel repair -L`"
    )
    return RuntimeCase("grill-usd-core", wheel, (), USD_STAGE, USD_EXPECT, made_by)


def grill_published(out: Path) -> RuntimeCase:
    made_by = "as published (no manifest: the loader leaves it to Pyodide)"
    wheel = fetch_real_wheel("grill-usd-core")
    return RuntimeCase("grill-usd-core-published", wheel, (), USD_STAGE, USD_EXPECT, made_by)


def mypy(out: Path) -> RuntimeCase:
    wheel = repair(fetch_real_wheel("mypy"), out)
    setup = tuple(fetch_pinned_wheel(w) for w in MYPY_DEPENDENCIES)
    made_by = "published wheel through `emwheel repair` (no libdir: it adds the manifest)"
    return RuntimeCase("mypy", wheel, setup, MYPY_CHECK, MYPY_EXPECT, made_by)


def awkward_cpp(out: Path) -> RuntimeCase:
    wheel = repaired_derived("awkward-cpp", "awkward_cpp/lib/libawkward.so", out)
    made_by = "real wheel without `libawkward.so`, then `emwheel repair -L`"
    return RuntimeCase("awkward-cpp", wheel, (), AWKWARD_FORTH, AWKWARD_EXPECT, made_by, 3)


def many_modules(out: Path) -> RuntimeCase:
    unrepaired, libdir = many_modules_unrepaired()
    wheel = repair(unrepaired, out, libdir)
    made_by = (
        f"{MANY_MODULES} abi3 extension modules from C (clang-19, benchmarks/c/), each NEEDing"
        f" `libmany.so`, then `emwheel repair -L`; first use imports {len(MANY_IMPORTED)}"
    )
    return RuntimeCase("many-modules", wheel, (), MANY_IMPORT, MANY_EXPECT, made_by, 3)


# key -> maker(output folder); the order of the tables
CASES: dict[str, Callable[[Path], RuntimeCase]] = {
    "grill-usd-core": grill_repaired,
    "grill-usd-core-published": grill_published,
    "mypy": mypy,
    "awkward-cpp": awkward_cpp,
    "many-modules": many_modules,
}


def loader_wheel(out: Path, rev: str | None = None) -> tuple[Path, str]:
    """emwheel_loader packed as a pure-Python wheel, as the `loader_wheel` test fixture does,
    from the working tree or from the git revision ``rev``; and where it came from."""
    folder = "loader/emwheel_loader"
    if rev is None:
        sources = {f.name: f.read_bytes() for f in sorted((REPO / folder).iterdir())}
    else:
        listing = git("ls-tree", "--name-only", f"{rev}:{folder}").decode().split()
        sources = {name: git("show", f"{rev}:{folder}/{name}") for name in listing}
    files = {
        f"emwheel_loader/{name}": data
        for name, data in sources.items()
        if Path(name).suffix in (".py", ".js", ".typed")
    }
    wheel = build_wheel(out, "emwheel_loader", "0.1.0", files, tag="py3-none-any")
    commit = git("rev-parse", "--short", rev or "HEAD").decode().strip()
    if rev is not None:
        return wheel, f"commit {commit} (`--loader-rev {rev}`)"
    dirty = git("status", "--porcelain", "--", folder).strip()
    return wheel, f"working tree at commit {commit}" + (
        ", with uncommitted changes in loader/" if dirty else " (loader/ unchanged)"
    )


def git(*args: str) -> bytes:
    result = subprocess.run(["git", *args], cwd=REPO, capture_output=True)
    if result.returncode != 0:
        sys.exit(f"git {' '.join(args)} failed:\n{result.stderr.decode()}")
    return result.stdout
