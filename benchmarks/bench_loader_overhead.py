"""The runtime loader's own work against the whole install, on the repaired grill-usd-core.

    .venv/bin/python benchmarks/bench_loader_overhead.py [--rounds N] [--runtimes node,chrome]
        [--loader-rev REV] [--print-only]

Target (issue "Fast installs"): what the loader does itself on the install path (finding
and parsing the manifest, checking the files, hashing them, planning the loads, the dlopen
hook's bookkeeping) costs at most 5% of the install time of grill-usd-core, the repaired
derived copy the runtime tests use (tests/runtime/test_repaired_wheels_load.py).

Each round is a fresh Pyodide 314.0.7 (a new Node 24 process, or a new headless Chromium
session on a page served from the distribution folder) that activates the loader in its
default (lazy) mode and times one `micropip.install` of the wheel; the loader's own steps
come from `emwheel_loader.install_timings()`, measured inside the same install. Variants,
interleaved round by round: files checked by CRC-32 (the default, for the manifest
`emwheel repair` writes); the same wheel with its manifest rewritten as version 1 (no
CRC-32s), its files checked by sha256 with WebCrypto, and with hashlib inside Pyodide (the
fallback where WebCrypto is missing); and files not checked. The loader's sources come from
the working tree, or from a git revision with --loader-rev (the section says which). The
section between the bench_loader_overhead markers of docs/benchmarks.md is rewritten (not
with --print-only).
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import statistics
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_common import (
    REPO,
    derive_unrepaired,
    emwheel_executable,
    fetch_real_wheel,
    fmt_ms,
    http_server,
    invocation,
    machine_line,
    run_or_exit,
    spread_ms,
    write_section,
)

START, END = "<!-- bench_loader_overhead:start -->", "<!-- bench_loader_overhead:end -->"
PYODIDE = "314.0.7"  # grill-usd-core 26.8 is published for Pyodide 314 only
LIBRARY = "grill_usd_core.libs/libusd_ms.so"  # taken out, then brought back by repair
TARGET = 0.05  # the loader's own work, as a share of the install time
ROUND_MODULE = REPO / "benchmarks" / "loader_overhead_round.mjs"
NODE_DRIVER = REPO / "benchmarks" / "loader_overhead_node.mjs"
LOADER = REPO / "loader" / "emwheel_loader"
STEPS = ("manifest", "checks", "hashing", "planning", "hook")


# wheel_as_version_1(wheel, out folder) -> the wheel's copy with a version-1 manifest
wheel_as_version_1: Callable[[Path, Path], Path] = importlib.import_module(
    "support.manifest_edit"
).wheel_as_version_1


@dataclass(frozen=True)
class Variant:
    name: str
    verify_hashes: bool
    hide_webcrypto: bool
    manifest_version: int  # of the wheel installed: 2 as repaired, 1 rewritten


VARIANTS = (
    Variant("CRC-32 (default)", True, False, 2),
    Variant("sha256, WebCrypto (version-1 manifest)", True, False, 1),
    Variant("sha256, hashlib (version-1 manifest, no WebCrypto)", True, True, 1),
    Variant("not checked", False, False, 2),
)

Round = Callable[[Variant], dict[str, Any]]


def repaired_grill(out: Path) -> Path:
    derived = derive_unrepaired(fetch_real_wheel("grill-usd-core"), (LIBRARY,))
    emwheel = str(emwheel_executable())
    run_or_exit([emwheel, "repair", str(derived.wheel), "-L", str(derived.libdir), "-w", str(out)])
    (wheel,) = out.glob("*.whl")
    return wheel


def is_loader_source(name: str) -> bool:
    return name.endswith((".py", ".js"))


def loader_files(rev: str | None) -> dict[str, str]:
    """emwheel_loader's sources, from the working tree or from git revision ``rev``."""
    if rev is None:
        return {p.name: p.read_text() for p in sorted(LOADER.iterdir()) if is_loader_source(p.name)}
    folder = LOADER.relative_to(REPO).as_posix()
    git = ["git", "-C", str(REPO)]
    names = run_or_exit([*git, "ls-tree", "--name-only", rev, f"{folder}/"]).split()
    return {
        Path(name).name: run_or_exit([*git, "show", f"{rev}:{name}"])
        for name in sorted(names)
        if is_loader_source(name)
    }


def loader_source(rev: str | None) -> str:
    if rev is None:
        return "the working tree"
    commit = run_or_exit(["git", "-C", str(REPO), "rev-parse", "--short", rev]).strip()
    return f"git revision {commit}"


def round_options(variant: Variant, wheel: str, loader: dict[str, str]) -> dict[str, Any]:
    return {
        "wheel": wheel,
        "loaderFiles": loader,
        "verifyHashes": variant.verify_hashes,
        "lazy": True,
        "hideWebCrypto": variant.hide_webcrypto,
    }


# --- Node -----------------------------------------------------------------------------------


def node_folder() -> Path:
    return Path(run_or_exit([str(REPO / "tools" / "node24")]).strip())


def node_round(dist: Path, wheels: dict[int, Path], work: Path, loader: dict[str, str]) -> Round:
    node = str(node_folder() / "node")

    def run(variant: Variant) -> dict[str, Any]:
        options = work / "options.json"
        wheel = wheels[variant.manifest_version]
        options.write_text(json.dumps(round_options(variant, str(wheel), loader)))
        output = run_or_exit([node, str(NODE_DRIVER), str(dist), str(options)])
        result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
        return result

    return run


# --- Chromium -------------------------------------------------------------------------------


CHROME_ROUND = """
const done = arguments[arguments.length - 1];
(async () => {
  const { loadPyodide } = await import(%(base)s + "/pyodide.mjs");
  const { installRound } = await import(%(base)s + "/" + %(folder)s + "/loader_overhead_round.mjs");
  const pyodide = await loadPyodide({ indexURL: %(base)s + "/" });
  return await installRound(pyodide, %(options)s);
})().then((result) => done([true, result]), (e) => done([false, String(e?.stack ?? e)]));
"""


def chrome_driver() -> Any:
    from selenium.webdriver import Chrome
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for flag in ("--headless", "--no-sandbox"):
        options.add_argument(flag)
    # The chromedriver on the PATH (tools/setup installs Debian's): without it, Selenium
    # would look for a driver online first.
    chromedriver = shutil.which("chromedriver")
    if chromedriver is None:
        sys.exit("no chromedriver on the PATH (tools/setup installs it); or use --runtimes node")
    driver = Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_script_timeout(600)
    return driver


def chrome_round(base: str, folder: str, wheels: dict[int, Path], loader: dict[str, str]) -> Round:
    def run(variant: Variant) -> dict[str, Any]:
        wheel = wheels[variant.manifest_version]
        url = f"{base}/{folder}/{served_name(variant.manifest_version, wheel)}"
        options = round_options(variant, url, loader)
        script = CHROME_ROUND % {
            "base": json.dumps(base),
            "folder": json.dumps(folder),
            "options": json.dumps(options),
        }
        driver = chrome_driver()
        try:
            driver.get(f"{base}/{folder}/blank.html")
            ok, result = driver.execute_async_script(script)
        finally:
            driver.quit()
        if not ok:
            sys.exit(f"Chromium round failed: {result}")
        return dict(result)

    return run


def served_name(manifest_version: int, wheel: Path) -> str:
    return f"manifest-v{manifest_version}/{wheel.name}"


@contextmanager
def chrome_setup(
    dist: Path, wheels: dict[int, Path], loader: dict[str, str]
) -> Iterator[tuple[Round, str]]:
    """Serve the distribution, with the wheels and the round module in a folder of it
    (removed afterwards); the round function and the browser's version."""
    folder = dist / ".emwheel-bench"
    folder.mkdir(exist_ok=True)
    try:
        for version, wheel in wheels.items():
            target = folder / served_name(version, wheel)
            target.parent.mkdir(exist_ok=True)
            shutil.copy(wheel, target)
        shutil.copy(ROUND_MODULE, folder / ROUND_MODULE.name)
        (folder / "blank.html").write_text("<!doctype html><title>bench</title>\n")
        with http_server(dist) as base:
            driver = chrome_driver()
            version = str(driver.capabilities.get("browserVersion", "unknown"))
            driver.quit()
            yield chrome_round(base, folder.name, wheels, loader), f"Chromium {version} (headless)"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- measuring and the report ---------------------------------------------------------------


def measure(run: Round, rounds: int, label: str) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {v.name: [] for v in VARIANTS}
    for i in range(rounds):
        for variant in VARIANTS:
            result = run(variant)
            results[variant.name].append(result)
            print(
                f"{label} round {i + 1}/{rounds}, {variant.name}: install "
                f"{fmt_ms(result['install_seconds'])}, loader {fmt_ms(result['own_seconds'])}",
                flush=True,
            )
    return results


def median(values: list[float]) -> float:
    return statistics.median(values)


def share(result: dict[str, Any]) -> float:
    return float(result["own_seconds"]) / float(result["install_seconds"])


def digests_span(result: dict[str, Any]) -> float:
    # Loaders older than hashing_wall_seconds ran every digest before any load.
    return float(result.get("hashing_wall_seconds", result["hashing_seconds"]))


def table_rows(runtime: str, results: dict[str, list[dict[str, Any]]]) -> list[str]:
    rows = []
    for name, runs in results.items():
        install = [r["install_seconds"] for r in runs]
        own = [r["own_seconds"] for r in runs]
        shares = [share(r) for r in runs]
        steps = " / ".join(fmt_ms(median([r[f"{s}_seconds"] for r in runs])) for s in STEPS)
        rows.append(
            f"| {runtime} | {name} | {fmt_ms(median(install))} | {spread_ms(install)} | "
            f"{fmt_ms(median(own))} | {spread_ms(own)} | {median(shares):.1%} "
            f"({min(shares):.1%}-{max(shares):.1%}) | {steps} | "
            f"{fmt_ms(median([digests_span(r) for r in runs]))} | "
            f"{fmt_ms(median([r['loading_seconds'] for r in runs]))} | "
            f"{fmt_ms(median([r.get('got_listing_seconds', 0.0) for r in runs]))} |"
        )
    return rows


def verdicts(runtime: str, results: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = []
    for variant in VARIANTS[:2]:
        value = median([share(r) for r in results[variant.name]])
        met = "met" if value <= TARGET else "not met"
        lines.append(f"- {runtime}, {variant.name}: {value:.1%} of the install: {met}")
    return lines


def wasm_bytes(wheel: Path) -> int:
    with zipfile.ZipFile(wheel) as archive:
        return sum(i.file_size for i in archive.infolist() if i.filename.endswith(".so"))


def render(
    measured: dict[str, dict[str, list[dict[str, Any]]]],
    versions: list[str],
    wheel: Path,
    rounds: int,
    source: str,
) -> str:
    first = next(iter(next(iter(measured.values())).values()))[0]
    lines = [
        START,
        "## The runtime loader's own work during an install",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `{invocation('benchmarks/bench_loader_overhead.py')}` ({rounds} rounds per "
        "runtime and variant, interleaved; a fresh Pyodide each round)",
        machine_line(),
        f"- runtimes: {', '.join(versions)}; Pyodide {PYODIDE}; loader from {source}, in its "
        "default (lazy) mode",
        f"- wheel: `{wheel.name}` as the runtime tests make it (`{LIBRARY}` taken out of the "
        f"PyPI wheel, brought back by `emwheel repair`): {wheel.stat().st_size / 1e6:.1f} MB, "
        f"{first['modules']} WebAssembly files ({wasm_bytes(wheel) / 1e6:.1f} MB), "
        f"{first['loaded_at_install']} loaded at install (the library and the modules over "
        "8 MiB), the rest on import",
        "",
        "Install: the wall time of `micropip.install` in Pyodide (Node: the wheel from a mounted "
        "host folder; Chromium: by URL from a local server), everything included. Loader: the sum "
        "of its own steps, from `emwheel_loader.install_timings()` for that install. Share: "
        "loader / install per round, median (min-max). Steps (medians): manifest / checks / "
        "hashing (what the install waited for digests) / planning / hook bookkeeping. Digests: "
        "from the first digest's start to the last one's end; with WebCrypto they run off the "
        "JavaScript thread while Emscripten loads (each module waits for its own file's), with "
        "hashlib they all run first. Emscripten: the loads the hook passed on, part of the "
        "install but not the loader's work; of which GOT listing: Emscripten's own "
        "`Object.entries(GOT)` in the walk after each load, which stock Pyodide makes over every "
        "entry at every load, and in which the hook settles the entries listed (that settling "
        'is in the hook\'s time; docs/loader.md, "Faster loads").',
        "",
        "| runtime | variant | install | spread | loader | spread | share | steps | digests "
        "| Emscripten | of which GOT listing |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for runtime, results in measured.items():
        lines += table_rows(runtime, results)
    lines += ["", f"Target: the loader's own work at most {TARGET:.0%} of the install time."]
    lines += [""]
    for runtime, results in measured.items():
        lines += verdicts(runtime, results)
    lines.append(END)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="installs per runtime and variant")
    parser.add_argument("--runtimes", default="node,chrome", help="node, chrome or both")
    parser.add_argument("--loader-rev", help="take the loader from this git revision")
    parser.add_argument("--print-only", action="store_true", help="do not write the doc")
    args = parser.parse_args()
    runtimes = args.runtimes.split(",")
    dist = Path(
        run_or_exit([sys.executable, str(REPO / "tools" / "pyodide_dist.py"), "--version", PYODIDE])
        .strip()
        .splitlines()[-1]
    )
    measured: dict[str, dict[str, list[dict[str, Any]]]] = {}
    versions = []
    with tempfile.TemporaryDirectory(prefix="bench-loader-") as tmp:
        work = Path(tmp)
        wheel = repaired_grill(work / "wheelhouse")
        wheels = {2: wheel, 1: wheel_as_version_1(wheel, work / "version-1")}
        loader = loader_files(args.loader_rev)
        if "node" in runtimes:
            node = node_folder() / "node"
            versions.append(f"Node {run_or_exit([str(node), '--version']).strip()}")
            measured["Node"] = measure(node_round(dist, wheels, work, loader), args.rounds, "Node")
        if "chrome" in runtimes:
            with chrome_setup(dist, wheels, loader) as (run, version):
                versions.append(version)
                measured["Chromium"] = measure(run, args.rounds, "Chromium")
        section = render(measured, versions, wheel, args.rounds, loader_source(args.loader_rev))
    print(section)
    if not args.print_only:
        write_section(section, START, END)
        print("written: docs/benchmarks.md")


if __name__ == "__main__":
    main()
