"""Running the emwheel CLI from tests: in-process for speed, or as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from emwheel.cli import main

SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(capsys: Any, *args: str | Path) -> CliResult:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def run_cli_process(*args: str | Path) -> CliResult:
    result = subprocess.run(
        [sys.executable, "-m", "emwheel", *map(str, args)], capture_output=True, text=True
    )
    return CliResult(result.returncode, result.stdout, result.stderr)


def validate_show_json(document: Any) -> None:
    schema = json.loads((SCHEMAS / "show.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)
