"""What the benchmark scripts share: the real wheels, the upstream tool's virtualenv, the
machine's description, and writing one marked section of docs/benchmarks.md.

The scripts run as `.venv/bin/python benchmarks/bench_<name>.py`, so this folder is on
sys.path and they import this module as `bench_common`.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import os
import platform
import re
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DOC",
    "REPO",
    "UPSTREAM",
    "UPSTREAM_VERSION",
    "Check",
    "cache_root",
    "cpu_model",
    "derive_unrepaired",
    "emwheel_executable",
    "ensure_upstream_venv",
    "fetch_real_wheel",
    "fmt_ms",
    "invocation",
    "last_error_line",
    "machine_line",
    "os_name",
    "run_or_exit",
    "spread_ms",
    "tool_env",
    "unpacked_size",
    "upstream_env",
    "write_section",
]

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the test suite's cache of real and derived wheels
cache_root: Callable[[], Path] = importlib.import_module("support.cache").cache_root
fetch_real_wheel: Callable[[str], Path] = importlib.import_module(
    "support.real_wheels"
).fetch_real_wheel
# derive_unrepaired(wheel, removed archive paths) -> DerivedWheel(wheel, libdir, removed)
derive_unrepaired: Callable[[Path, tuple[str, ...]], Any] = importlib.import_module(
    "support.derive"
).derive_unrepaired

UPSTREAM = "auditwheel-emscripten"
UPSTREAM_VERSION = "0.3.0"
DOC = REPO / "docs" / "benchmarks.md"
DOC_HEADER = """# Benchmarks

Measured on real wheels. Each section below is written by a script in `benchmarks/`
(named in the section's markers); run the script again to refresh its section.
"""


@dataclass(frozen=True)
class Check:
    """One thing a tool's answer or output must satisfy, and whether it does."""

    description: str
    passed: bool


# --- the tools --------------------------------------------------------------------------


def emwheel_executable() -> Path:
    """The `emwheel` command next to the running Python (the repository's .venv)."""
    emwheel = Path(sys.executable).parent / "emwheel"
    if not emwheel.exists():
        sys.exit(f"no {emwheel}: run tools/setup first, then this script with .venv/bin/python")
    return emwheel


def ensure_upstream_venv() -> Path:
    """The upstream tool's own virtualenv, made (with this Python) unless it already works.

    pip installs it by package name; `--ignore-requires-python` because it declares
    Python >= 3.12, while its Python API runs on 3.11 (its CLI does not).
    """
    venv = cache_root() / "bench" / f"{UPSTREAM}-{UPSTREAM_VERSION}"
    python = venv / "bin" / "python"
    probe = "import sys; from importlib.metadata import version; sys.exit(version(sys.argv[1]))"
    if python.exists():
        found = subprocess.run([python, "-c", probe, UPSTREAM], capture_output=True, text=True)
        if found.stderr.strip() == UPSTREAM_VERSION:
            return venv
    print(f"creating {venv} ...", flush=True)
    run_or_exit([sys.executable, "-m", "venv", "--clear", str(venv)])
    pip_install = ["-m", "pip", "install", "--quiet", "--ignore-requires-python"]
    run_or_exit([str(python), *pip_install, f"{UPSTREAM}=={UPSTREAM_VERSION}"])
    return venv


def tool_env() -> dict[str, str]:
    """The environment both tools run in: this one, with bytecode caching on.

    Both tools' bytecode then goes to one folder outside the repository (written during
    the untimed warm-up), whether PYTHONDONTWRITEBYTECODE is set here or not: otherwise
    emwheel, installed editable, would compile its sources at every start, while pip has
    compiled auditwheel-emscripten's. EMWHEEL_LIBDIR is dropped: only -L counts.
    """
    drop = {"PYTHONDONTWRITEBYTECODE", "EMWHEEL_LIBDIR"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPYCACHEPREFIX"] = str(cache_root() / "bench" / "pycache")
    return env


def upstream_env(venv: Path) -> dict[str, str]:
    """Like an activated venv: the tool shells out to `wheel unpack`/`wheel pack` via PATH."""
    env = tool_env()
    return {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"}


def run_or_exit(command: list[str], env: Mapping[str, str] | None = None) -> str:
    """The command's output; exit with its error output if it fails."""
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr}")
    return result.stdout


def git_head() -> str:
    """The commit of the working tree, and whether repair/ or loader/ differ from it."""
    head = run_or_exit(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]).strip()
    dirty = run_or_exit(["git", "-C", str(REPO), "status", "--porcelain", "repair", "loader"])
    return head + (" (with uncommitted changes in repair/ or loader/)" if dirty.strip() else "")


def last_error_line(stderr: str) -> str:
    """The exception line of a traceback, with where it was raised when that is known."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "failed without a message"
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', stderr)
    if not frames:
        return lines[-1]
    filename, lineno, function = frames[-1]
    return f"{lines[-1]} (at {Path(filename).name}:{lineno} in {function})"


# --- the wheels -------------------------------------------------------------------------


def unpacked_size(wheel: Path) -> int:
    """The sum of the entries' uncompressed sizes."""
    with zipfile.ZipFile(wheel) as archive:
        return sum(info.file_size for info in archive.infolist())


# --- the report -------------------------------------------------------------------------


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def spread_ms(seconds: list[float]) -> str:
    return f"{min(seconds) * 1000:.0f}-{max(seconds) * 1000:.0f} ms"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def os_name() -> str:
    try:
        return platform.freedesktop_os_release()["PRETTY_NAME"]
    except (OSError, KeyError):
        return platform.system()


def machine_line() -> str:
    return (
        f"- machine: {cpu_model()}, {os.cpu_count()} cores, {os_name()}, "
        f"Python {platform.python_version()}"
    )


def invocation(script: str) -> str:
    """How this script was run, with the Python relative to the repository when inside it."""
    python = Path(sys.executable)
    shown = python.relative_to(REPO) if python.is_relative_to(REPO) else python
    return " ".join([str(shown), script, *sys.argv[1:]])


def write_section(section: str, start: str, end: str) -> None:
    """Replace the doc's section between the markers ``start`` and ``end``, or append it.

    ``section`` includes both markers; the rest of the doc is left as it is.
    """
    text = DOC.read_text() if DOC.exists() else DOC_HEADER
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text)


# --- a local web server, for the runtime benchmarks -----------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    # HTTP/1.1 keeps connections open: Node's fetch (undici) fails an assertion when an
    # HTTP/1.0 server closes the connection under a large body.
    protocol_version = "HTTP/1.1"
    extensions_map = {  # noqa: RUF012 (the base class's own attribute)
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",  # Chromium imports modules only with a JavaScript type
        ".wasm": "application/wasm",  # for WebAssembly.instantiateStreaming
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def http_server(root: Path) -> Iterator[str]:
    """Serve ``root`` on a free local port while the block runs; yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
