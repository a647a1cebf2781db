"""MkDocs hook: fill pages with text generated from the project itself at build time.

Two markers, each alone on its line in a page's Markdown:

- ``<!-- emwheel-help: COMMAND -->``: the real ``--help`` of ``emwheel COMMAND`` (``emwheel``
  alone for the top-level parser), from ``emwheel.cli.build_parser()``, so the reference
  cannot drift from the CLI;
- ``<!-- json-schema: NAME -->``: the JSON Schema file ``docs/schemas/NAME``, shown as it is.

An unknown command or schema fails the build (a PluginError): a page never shows a stale or
empty placeholder. So does a command or a schema file that no page shows: a new subcommand
or schema needs its section.
"""

from __future__ import annotations

import argparse
import functools
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

from emwheel.cli import build_parser

# Fixed width: help text must not depend on the terminal the site is built in.
HELP_WIDTH = 88

_MARKER = re.compile(r"^<!--\s*(emwheel-help|json-schema):\s*(.*?)\s*-->$", re.MULTILINE)

# What the pages of the current build showed, for the completeness check after it.
_shown: set[str] = set()


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """The top-level parser under "emwheel" and each subcommand's under "emwheel NAME"."""
    root = build_parser()
    found = {"emwheel": root}
    for action in root._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[f"emwheel {name}"] = sub
    for parser in found.values():
        formatter: Any = parser.formatter_class  # typeshed's protocol has no width
        parser.formatter_class = functools.partial(formatter, width=HELP_WIDTH)
    return found


def _schema_files(docs_dir: Path) -> set[str]:
    return {p.name for p in (docs_dir / "schemas").glob("*.json")}


def _help_block(command: str) -> str:
    parsers = _parsers()
    if command not in parsers:
        known = ", ".join(sorted(parsers))
        raise PluginError(f"emwheel-help: no command {command!r} (known: {known})")
    _shown.add(f"emwheel-help: {command}")
    return f"```text\n$ {command} --help\n{parsers[command].format_help().rstrip()}\n```"


def _schema_block(docs_dir: Path, name: str) -> str:
    if name not in _schema_files(docs_dir):
        raise PluginError(f"json-schema: no schema file docs/schemas/{name}")
    _shown.add(f"json-schema: {name}")
    text = (docs_dir / "schemas" / name).read_text(encoding="utf-8")
    return f"```json\n{text.rstrip()}\n```"


def on_pre_build(config: Any) -> None:
    _shown.clear()


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs_dir = Path(config["docs_dir"])

    def replace(match: re.Match[str]) -> str:
        kind, argument = match.group(1), match.group(2)
        try:
            if kind == "emwheel-help":
                return _help_block(argument)
            return _schema_block(docs_dir, argument)
        except PluginError as e:
            raise PluginError(f"{page.file.src_uri}: {e}") from None

    return _MARKER.sub(replace, markdown)


def on_env(env: Any, config: Any, files: Any) -> Any:
    """After every page's Markdown was read: every command and schema must have been shown."""
    expected = {f"emwheel-help: {c}" for c in _parsers()}
    expected |= {f"json-schema: {n}" for n in _schema_files(Path(config["docs_dir"]))}
    missing = sorted(expected - _shown)
    if missing:
        raise PluginError(f"no page shows: {', '.join(missing)} (add a marker for each)")
    return env
