"""Installing wheels in Pyodide and using them: stock against emwheel's loader, eager and lazy.

Run from the repository root, after `tools/setup` (Node 24, Chromium, the Pyodide 314.0.7
distribution):

    .venv/bin/python benchmarks/bench_runtime.py [--rounds 3] [--runtime node,chrome]
        [--cases grill-usd-core,mypy,...] [--no-write]

For each case (runtime_cases.py) and runtime, each round runs every mode once, in an order
that rotates from round to round, each in a fresh Pyodide (a new Node process, or a new
headless Chromium driven by selenium):

- stock: the loader's wheel is installed but never imported;
- loader eager: `emwheel_loader.activate(lazy=False)`;
- loader lazy: `emwheel_loader.activate(lazy=True)`.

Then the case's wheel is installed with `micropip.install(url, deps=False)` from a local
HTTP server (timed: install), and its first use runs (timed from the end of the install:
first use); its result must contain what the case expects, or the round counts as failed.
After that, the length of Pyodide's WebAssembly memory is read (it only grows). What runs
inside Pyodide is benchmarks/runtime_round.mjs, the same in both runtimes.

The results replace the section between `<!-- bench_runtime:start -->` and
`<!-- bench_runtime:end -->` in docs/benchmarks.md (not with --no-write).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from bench_common import DOC, REPO, http_server, invocation, machine_line, write_section
from runtime_cases import CASES, RuntimeCase, loader_wheel

START, END = "<!-- bench_runtime:start -->", "<!-- bench_runtime:end -->"
PYODIDE_VERSION = "314.0.7"
MODES: dict[str, bool | None] = {"stock": None, "loader eager": False, "loader lazy": True}
RUNTIMES = ("node", "chrome")
ROUND_TIMEOUT = 300  # seconds; a round that takes longer has hung (the slowest take 20 s)
MB = 1e6

# Targets of issue 6 ("Fast installs"), evaluated from the numbers
MAIN_CASE = "grill-usd-core"
TOTAL_SPEEDUP = 2.0  # install + first use, stock / loader
INSTALL_SPEEDUP = 4.0  # install alone
SLOWER_TOLERANCE = 1.05  # no case's total median more than 5% above stock's


@dataclass(frozen=True)
class Round:
    """One mode of one case in one fresh Pyodide."""

    install: float | None  # seconds; None if it failed
    first_use: float | None
    heap: int | None  # bytes of malloc heap (sbrk break) after install and first use
    heap_before: int | None  # the same before the install (after the loader's activation)
    memory: int | None  # bytes of WebAssembly memory then (grows in steps of up to 96 MB)
    error: str | None

    @property
    def total(self) -> float:
        assert self.install is not None and self.first_use is not None
        return self.install + self.first_use


Results = dict[tuple[str, str, str], list[Round]]  # (runtime, case, mode) -> rounds


class Runtime(Protocol):
    name: str  # for the report
    version: str

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        """One round of runtime_round.mjs in a fresh Pyodide: its result object."""
        ...


# --- serving the distribution and the wheels --------------------------------------------


@dataclass(frozen=True)
class Served:
    """Where each file is, relative to the server's root."""

    loader: str
    wheels: dict[str, str]  # case key -> path
    setup: dict[str, list[str]]


def lay_out(root: Path, dist: Path, loader: Path, cases: list[RuntimeCase]) -> Served:
    """The served folder: dist/ (the distribution), bench/ (the page and the round's code),
    one folder per case (two cases may have wheels of the same name)."""
    (root / "dist").symlink_to(dist, target_is_directory=True)
    (root / "bench").mkdir()
    (root / "bench" / "index.html").write_text("<!doctype html><title>bench</title>\n")
    shutil.copy(REPO / "benchmarks" / "runtime_round.mjs", root / "bench")

    def place(path: Path, folder: str) -> str:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / path.name).symlink_to(path)
        return f"{folder}/{path.name}"

    return Served(
        place(loader, "loader"),
        {c.key: place(c.wheel, f"cases/{c.key}") for c in cases},
        {c.key: [place(w, f"cases/{c.key}/setup") for w in c.setup] for c in cases},
    )


def round_spec(base: str, served: Served, case: RuntimeCase, lazy: bool | None) -> dict[str, Any]:
    """runtime_round.mjs's spec, without indexURL (which each runtime sets)."""
    return {
        "loaderURL": f"{base}/{served.loader}",
        "setupURLs": [f"{base}/{path}" for path in served.setup[case.key]],
        "lazy": lazy,
        "wheelURL": f"{base}/{served.wheels[case.key]}",
        "firstUse": case.first_use,
    }


# --- the runtimes -----------------------------------------------------------------------


def node_binary() -> Path:
    """Node 24 from tools/node24 (grill-usd-core needs more than Node 20 compiles)."""
    result = subprocess.run([REPO / "tools" / "node24"], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"tools/node24 failed:\n{result.stderr}")
    return Path(result.stdout.strip()) / "node"


class NodeRuntime:
    name = "Node"

    def __init__(self, dist: Path) -> None:
        self.node = node_binary()
        self.dist = dist
        self.version = subprocess.run(
            [self.node, "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        """One round in a new Node process (a fresh Pyodide); Pyodide's files from disk."""
        driver = REPO / "benchmarks" / "runtime_node.mjs"
        argv = [str(self.node), str(driver), json.dumps({**spec, "indexURL": str(self.dist)})]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=ROUND_TIMEOUT)
        except subprocess.TimeoutExpired as expired:
            # Node 24 can deadlock in process.exit() after the round, its result printed
            # (seen once: a V8 worker waiting for a garbage collection while the main thread
            # joins it); the round itself finished, so its result stands.
            printed = expired.stdout.decode() if isinstance(expired.stdout, bytes) else ""
            try:
                return dict(json.loads(printed.strip().splitlines()[-1]))
            except (IndexError, ValueError):  # nothing printed, or cut off mid-line
                return {"error": f"no result after {ROUND_TIMEOUT} s"}
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or ["no message"]
            return {"error": f"node exited with {done.returncode}: {lines[0]}"}
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


# Runs in the page: imports Pyodide and runtime_round.mjs from the server, runs one round.
CHROME_ROUND = """
const [spec, done] = [arguments[0], arguments[arguments.length - 1]];
(async () => {
  const { loadPyodide } = await import(spec.indexURL + "pyodide.mjs");
  const { runRound } = await import("./runtime_round.mjs");
  return await runRound(loadPyodide, spec);
})().then(done, (err) => done({ error: String((err && err.stack) || err).split("\\n")[0] }));
"""


class ChromeRuntime:
    name = "Chromium"

    def __init__(self, base: str) -> None:
        self.base = base
        self.version = "?"  # known once a browser has started

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        """One round in a new headless Chromium (a fresh profile, so no compiled-code cache
        carries over from the previous round); browser start-up is not timed."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver import Chrome
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        options = Options()
        for flag in ("--headless", "--no-sandbox"):
            options.add_argument(flag)
        driver = Chrome(options=options, service=Service(shutil.which("chromedriver")))
        try:
            self.version = driver.capabilities.get("browserVersion", "?")
            driver.set_script_timeout(ROUND_TIMEOUT)
            driver.get(f"{self.base}/bench/index.html")
            result: dict[str, Any] = driver.execute_async_script(
                CHROME_ROUND, {**spec, "indexURL": f"{self.base}/dist/"}
            )
            return result
        except WebDriverException as error:  # a crashed tab fails its round, not the run
            return {"error": f"Chromium: {error.msg or type(error).__name__}"}
        finally:
            driver.quit()


# --- measuring --------------------------------------------------------------------------


def to_round(raw: dict[str, Any], case: RuntimeCase) -> Round:
    """A round's raw result, failed if its first use did not give the expected result."""
    error = raw.get("error")
    result = raw.get("result") or ""
    missing = [text for text in case.expect if text not in result]
    if error is None and missing:
        error = f"unexpected first-use result {result[:120]!r} (no {missing[0]!r})"
    if error is not None:
        heap, before = raw.get("heapBytes"), raw.get("heapBeforeBytes")
        return Round(None, None, heap, before, raw.get("memoryBytes"), str(error))
    return Round(
        raw["installSeconds"],
        raw["firstUseSeconds"],
        raw["heapBytes"],
        raw["heapBeforeBytes"],
        raw["memoryBytes"],
        None,
    )


def measure(
    runtimes: dict[str, Runtime],
    cases: list[RuntimeCase],
    rounds: int,
    spec: Callable[[RuntimeCase, bool | None], dict[str, Any]],
) -> Results:
    results: Results = {}
    modes = list(MODES)
    for key, runtime in runtimes.items():
        # untimed: the first Pyodide start of a runtime reads its files from disk
        runtime.run(spec(cases[-1], None))
        for number in range(rounds * max(case.rounds_factor for case in cases)):
            order = modes[number % len(modes) :] + modes[: number % len(modes)]
            for case in cases:
                if number >= rounds * case.rounds_factor:
                    continue
                for mode in order:
                    one = to_round(runtime.run(spec(case, MODES[mode])), case)
                    results.setdefault((key, case.key, mode), []).append(one)
                    print(f"{runtime.name} round {number + 1}/{rounds * case.rounds_factor} "
                          f"{case.key} {mode}: {describe(one)}", flush=True)  # fmt: skip
    return results


def describe(one: Round) -> str:
    if one.error is not None:
        return f"FAILED: {one.error}"
    return f"install {one.install:.2f} s, first use {one.first_use:.2f} s, heap {mb(one.heap)}"


# --- the report -------------------------------------------------------------------------


def mb(size: int | float | None) -> str:
    return "?" if size is None else f"{size / MB:.1f} MB"


def ok_rounds(rounds: list[Round]) -> list[Round]:
    return [r for r in rounds if r.error is None]


def median_spread(values: list[float]) -> str:
    """Median and min-max, in ms below a second, else in seconds."""
    median = statistics.median(values)
    if median < 1:
        return f"{median * 1000:.0f} ms ({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"
    return f"{median:.2f} s ({min(values):.2f}-{max(values):.2f})"


def table_row(case: str, mode: str, rounds: list[Round]) -> str:
    good = ok_rounds(rounds)
    failed = [r.error for r in rounds if r.error is not None]
    if not good:
        return f"| {case} | {mode} | fails: {failed[0]} | | | | | |"
    cells = [
        median_spread([r.install for r in good if r.install is not None]),
        median_spread([r.first_use for r in good if r.first_use is not None]),
        median_spread([r.total for r in good]),
        mb(statistics.median(r.heap_before for r in good if r.heap_before is not None)),
        mb(statistics.median(r.heap for r in good if r.heap is not None)),
        mb(statistics.median(r.memory for r in good if r.memory is not None)),
    ]
    if failed:
        cells[-1] += f"; failed {len(failed)} of {len(rounds)}: {failed[0]}"
    return f"| {case} | {mode} | " + " | ".join(cells) + " |"


def medians(results: Results, runtime: str, case: str, mode: str) -> dict[str, float] | None:
    """Median install, total and heap over the rounds that worked; None if none did."""
    good = ok_rounds(results.get((runtime, case, mode), []))
    if not good:
        return None
    return {
        "install": statistics.median(r.install for r in good if r.install is not None),
        "total": statistics.median(r.total for r in good),
        "heap": statistics.median(r.heap for r in good if r.heap is not None),
    }


def ratio(results: Results, runtime: str, case: str, mode: str, what: str) -> float | None:
    """stock median / loader median: above 1, the loader is faster."""
    stock = medians(results, runtime, case, "stock")
    loader = medians(results, runtime, case, mode)
    return None if stock is None or loader is None else stock[what] / loader[what]


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def speedup_target(
    results: Results, runtimes: dict[str, Runtime], what: str, factor: float
) -> list[str]:
    """The main case's speed-up per runtime and loader mode against ``factor``."""
    lines = []
    for key, runtime in runtimes.items():
        parts = []
        for mode in list(MODES)[1:]:
            value = ratio(results, key, MAIN_CASE, mode, what)
            verdict = "not measured" if value is None else "met" if value >= factor else "not met"
            parts.append(f"{mode} {verdict} ({fmt_ratio(value)})")
        lines.append(f"  - {runtime.name}: " + "; ".join(parts))
    return lines


def per_case_target(
    results: Results,
    runtimes: dict[str, Runtime],
    cases: list[RuntimeCase],
    within: Callable[[dict[str, float], dict[str, float]], tuple[bool, str]],
) -> list[str]:
    """For each runtime and loader mode: met if ``within(stock, loader)`` holds for every
    case, else the cases where it does not."""
    lines = []
    for key, runtime in runtimes.items():
        for mode in list(MODES)[1:]:
            misses, unmeasured = [], []
            for case in cases:
                stock = medians(results, key, case.key, "stock")
                loader = medians(results, key, case.key, mode)
                if stock is None or loader is None:
                    unmeasured.append(case.key)
                    continue
                holds, detail = within(stock, loader)
                if not holds:
                    misses.append(f"{case.key} ({detail})")
            verdict = "met" if not misses else "not met: " + ", ".join(misses)
            if unmeasured:
                verdict += f"; not measured (a mode failed): {', '.join(unmeasured)}"
            lines.append(f"  - {runtime.name}, {mode}: {verdict}")
    return lines


def not_slower(stock: dict[str, float], loader: dict[str, float]) -> tuple[bool, str]:
    excess = loader["total"] / stock["total"]
    return excess <= SLOWER_TOLERANCE, f"total {excess:.2f}x stock's"


def heap_not_larger(stock: dict[str, float], loader: dict[str, float]) -> tuple[bool, str]:
    return loader["heap"] <= stock["heap"], f"{mb(loader['heap'])} against {mb(stock['heap'])}"


def targets(results: Results, runtimes: dict[str, Runtime], cases: list[RuntimeCase]) -> list[str]:
    keys = {case.key for case in cases}
    lines = ['Targets (issue 6, "Fast installs"), from the medians above:', ""]
    if MAIN_CASE in keys:
        lines += [
            f"- {MAIN_CASE} (repaired): install + first use at least {TOTAL_SPEEDUP:.0f}x "
            "faster than stock in Node and in Chromium:",
            *speedup_target(results, runtimes, "total", TOTAL_SPEEDUP),
            f"- {MAIN_CASE} (repaired): install alone at least {INSTALL_SPEEDUP:.0f}x faster:",
            *speedup_target(results, runtimes, "install", INSTALL_SPEEDUP),
        ]
    else:
        lines.append(f"- {MAIN_CASE}: not measured in this run (speed-up targets)")
    tolerance = round((SLOWER_TOLERANCE - 1) * 100)
    lines += [
        f"- no case slower than stock by more than {tolerance}% (total median):",
        *per_case_target(results, runtimes, cases, not_slower),
        "- heap after install + first use no larger than stock's (median):",
        *per_case_target(results, runtimes, cases, heap_not_larger),
    ]
    return lines


def case_line(case: RuntimeCase) -> str:
    size = case.wheel.stat().st_size / MB
    setup = f"; installed first, untimed: {len(case.setup)} dependencies" if case.setup else ""
    if case.rounds_factor > 1:
        setup += f"; {case.rounds_factor} times the rounds (it takes about 0.1 s)"
    expect = " and ".join(f"`{text}`" for text in case.expect)
    return (
        f"- {case.key}: `{case.wheel.name}`, {size:.1f} MB: {case.made_by}{setup}. "
        f"First use must give {expect}."
    )


def render(
    results: Results,
    runtimes: dict[str, Runtime],
    cases: list[RuntimeCase],
    rounds: int,
    load: tuple[float, float],
    loader_source: str,
) -> str:
    versions = ", ".join(f"{runtime.name} {runtime.version}" for runtime in runtimes.values())
    lines = [
        START,
        "## Installing and first use in Pyodide: stock against emwheel's loader",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `{invocation('benchmarks/bench_runtime.py')}` ({rounds} "
        f"round{'s' if rounds != 1 else ''}: a fresh Pyodide per round and mode, modes "
        "interleaved round by round)",
        machine_line(),
        f"- load average (1 min) before and after the run: {load[0]:.2f}, {load[1]:.2f} "
        "(the machine may be shared: compare modes within one run)",
        f"- Pyodide {PYODIDE_VERSION} (tools/pyodide_dist.py); {versions}"
        + (" (headless, through selenium)" if "chrome" in runtimes else ""),
        f"- emwheel_loader: {loader_source}",
        *(case_line(case) for case in cases),
        "",
        "Each round starts a fresh Pyodide (Node: a new process; Chromium: a new browser with"
        " a new profile, not timed), loads micropip, installs emwheel_loader's wheel from the"
        " local HTTP server in every mode (not timed; in stock mode it is never imported),"
        " installs the case's dependencies (not timed) and, for the loader modes, runs"
        " `emwheel_loader.activate(lazy=False)` (eager) or `activate(lazy=True)` (lazy)."
        " Timed: install = `await micropip.install(url, deps=False)` of the case's wheel from"
        " that server; first use = the case's code, from the end of the install; total ="
        " both (median of the per-round sums). The first use's result is checked; a round"
        " that fails or gives another result is left out of the medians and reported. Heap:"
        " the malloc heap after the first use (the sbrk break, where the heap ends); heap"
        " before: the same just before the timed install, after the loader's activation (in"
        " the loader modes it holds emwheel_loader's Python modules, which stock mode never"
        " imports); wasm"
        " memory: `pyodide._module.HEAP8.length` then, which grows in steps of up to 96 MB"
        " (so one allocation more can show as 75 MB more, and the target is judged on the"
        " heap); medians over the rounds; MB are 10^6 bytes. Medians with"
        " min-max in parentheses. The code that runs in Pyodide is"
        " `benchmarks/runtime_round.mjs`, the same in both runtimes.",
    ]
    for key, runtime in runtimes.items():
        lines += [
            "",
            f"### {runtime.name} {runtime.version}",
            "",
            "| case | mode | install | first use | total | heap before | heap | wasm memory |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *(
                table_row(case.key, mode, results.get((key, case.key, mode), []))
                for case in cases
                for mode in MODES
            ),
        ]
    lines += [
        "",
        "Stock median / loader median (above 1: the loader is faster):",
        "",
        "| runtime | case | eager install | eager total | lazy install | lazy total |",
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {runtime.name} | {case.key} | "
            + " | ".join(
                fmt_ratio(ratio(results, key, case.key, mode, what))
                for mode in ("loader eager", "loader lazy")
                for what in ("install", "total")
            )
            + " |"
            for key, runtime in runtimes.items()
            for case in cases
        ),
        "",
        *targets(results, runtimes, cases),
        END,
    ]
    return "\n".join(lines) + "\n"


# --- main -------------------------------------------------------------------------------


def pyodide_dist() -> Path:
    script = REPO / "tools" / "pyodide_dist.py"
    result = subprocess.run(
        [sys.executable, str(script), "--version", PYODIDE_VERSION], capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"tools/pyodide_dist.py failed:\n{result.stderr}")
    return Path(result.stdout.strip())


def choice_list(names: tuple[str, ...]) -> Callable[[str], list[str]]:
    """An argparse type: a comma-separated list of some of ``names``."""

    def parse(text: str) -> list[str]:
        chosen = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in chosen if name not in names]
        if unknown or not chosen:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(names)}")
        return chosen

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds per case and mode")
    parser.add_argument(
        "--runtime", type=choice_list(RUNTIMES), default=list(RUNTIMES), help=",".join(RUNTIMES)
    )
    parser.add_argument(
        "--cases", type=choice_list(tuple(CASES)), default=list(CASES), help=",".join(CASES)
    )
    parser.add_argument(
        "--loader-rev", help="pack emwheel_loader from this git revision (default: working tree)"
    )
    parser.add_argument("--no-write", action="store_true", help="print, leave the doc alone")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    dist = pyodide_dist()
    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as tmp:
        work = Path(tmp)
        print("preparing the wheels ...", flush=True)
        cases = [CASES[key](work / "wheels" / key) for key in args.cases]
        loader, loader_source = loader_wheel(work / "wheels" / "loader", args.loader_rev)
        (work / "www").mkdir()
        served = lay_out(work / "www", dist, loader, cases)
        with http_server(work / "www") as base:
            runtimes: dict[str, Callable[[], Runtime]] = {
                "node": lambda: NodeRuntime(dist),
                "chrome": lambda: ChromeRuntime(base),
            }
            chosen = {key: runtimes[key]() for key in args.runtime}
            results = measure(
                chosen, cases, args.rounds, lambda c, lazy: round_spec(base, served, c, lazy)
            )
        load = (load_before, os.getloadavg()[0])
        section = render(results, chosen, cases, args.rounds, load, loader_source)
    print(section)
    if not args.no_write:
        write_section(section, START, END)
        print(f"written: {DOC.relative_to(REPO)}")


if __name__ == "__main__":
    main()
