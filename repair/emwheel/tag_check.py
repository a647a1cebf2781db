"""Do a wheel's tags fit a Pyodide release? (For `emwheel check`.)

A wheel fits when one of its tags fits on all three counts: the platform is the release's
ABI (``pyemscripten_2026_0_wasm32`` for Pyodide 314) or ``any``; the interpreter is the
release's CPython (``cp314``), a lower one for an ``abi3`` wheel, or a generic ``py3``;
the ABI tag is the release's (``cp314``), ``abi3`` or ``none``.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.tags import Tag

__all__ = ["TagVerdict", "check_tags"]


@dataclass(frozen=True)
class TagVerdict:
    fits: bool
    problems: tuple[str, ...]  # one line per tag that does not fit, saying why


def _cpython(python: str) -> tuple[int, int]:
    major, minor = python.split(".")[:2]
    return int(major), int(minor)


def _interpreter_version(interpreter: str) -> tuple[int, int] | None:
    digits = interpreter[2:]
    if not digits.isdigit():
        return None
    if len(digits) == 1:
        return int(digits), 0
    return int(digits[0]), int(digits[1:])


def _tag_problems(tag: Tag, abi: str, python: str) -> list[str]:
    problems = []
    target = _cpython(python)
    cp = f"cp{target[0]}{target[1]}"
    platforms = {f"{abi}_wasm32", f"{abi.replace('pyemscripten_', 'pyodide_')}_wasm32", "any"}
    if tag.platform not in platforms:
        problems.append(f"platform {tag.platform} is not {abi}_wasm32")
    version = _interpreter_version(tag.interpreter)
    if tag.interpreter.startswith("cp"):
        if version is None:
            problems.append(f"interpreter {tag.interpreter} is not understood")
        elif tag.abi == "abi3":
            if version > target:
                problems.append(f"abi3 for {tag.interpreter} needs Python newer than {python}")
        elif version != target:
            problems.append(f"interpreter {tag.interpreter} is not {cp} (Python {python})")
    elif tag.interpreter.startswith("py"):
        if version is not None and (version[0] != target[0] or version > target):
            problems.append(f"interpreter {tag.interpreter} does not run on Python {python}")
    else:
        problems.append(f"interpreter {tag.interpreter} is not CPython")
    if tag.abi not in (cp, "abi3", "none"):
        problems.append(f"ABI {tag.abi} is not {cp}, abi3 or none")
    return problems


def check_tags(tags: tuple[Tag, ...], abi: str, python: str) -> TagVerdict:
    """``abi``: the release's platform ABI (``pyemscripten_2026_0``); ``python``: ``3.14``."""
    problems = []
    for tag in tags:
        found = _tag_problems(tag, abi, python)
        if not found:
            return TagVerdict(True, ())
        problems.append(f"{tag}: {'; '.join(found)}")
    return TagVerdict(False, tuple(problems))
