"""emwheel as a subcommand of the `pyodide` command line: ``pyodide emwheel repair ...``.

pyodide-cli (0.5.0, pyodide_cli/app.py: ``register_plugins``) loads every entry point of
the ``pyodide.cli`` group and adds what it finds to its click group under the entry
point's name: a ``click.Command`` as it is (a typer app or function needs typer, which
pyodide-cli 0.5 no longer brings). auditwheel-emscripten registers its click group the
same way (``auditwheel = auditwheel_emscripten.cli.main:app``).

This command hands its arguments untouched to emwheel's own parser, so ``pyodide emwheel``
takes exactly the options, help and exit codes of ``emwheel``. click is imported here
only: pyodide-cli depends on it; emwheel itself does not.
"""

from __future__ import annotations

import click

__all__ = ["command"]


def _run(args: tuple[str, ...]) -> None:
    from .cli import main

    context = click.get_current_context()
    context.exit(main(list(args), prog=context.command_path))


command = click.Command(
    "emwheel",
    callback=_run,
    params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
    # everything, --help included, is emwheel's to parse
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    add_help_option=False,
    help="Inspect, repair and check Emscripten wheels: emwheel show|repair|check "
    "(`pyodide emwheel --help`).",
    short_help="Inspect, repair and check Emscripten wheels (emwheel).",
)
