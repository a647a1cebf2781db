"""MkDocs hook: fill pages with text generated from the project itself at build time.

Two markers, each alone on its line in a page's Markdown:

- ``<!-- emwheel-help: COMMAND -->``: the real ``--help`` of ``emwheel COMMAND`` (``emwheel``
  alone for the top-level parser), from ``emwheel.cli.build_parser()``, so the reference
  cannot drift from the CLI;
- ``<!-- json-schema: NAME -->``: the JSON Schema file ``docs/schemas/NAME``, shown as it is.

An unknown command or schema fails the build (a PluginError), as does a marker that names
nothing: a page never shows a stale or empty placeholder.
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


def _help_block(command: str) -> str:
    parsers = _parsers()
    if command not in parsers:
        known = ", ".join(sorted(parsers))
        raise PluginError(f"emwheel-help: no command {command!r} (known: {known})")
    return f"```text\n$ {command} --help\n{parsers[command].format_help().rstrip()}\n```"


def _schema_block(docs_dir: Path, name: str) -> str:
    path = docs_dir / "schemas" / name
    if not name or "/" in name or not path.is_file():
        raise PluginError(f"json-schema: no schema file docs/schemas/{name}")
    return f"```json\n{path.read_text(encoding='utf-8').rstrip()}\n```"


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
