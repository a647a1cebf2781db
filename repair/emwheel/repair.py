"""`emwheel repair` for one wheel: plan, then write; the input is never changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .errors import EmwheelError, InvalidInput
from .package_source import WheelSource
from .pyodide_abi import PyodideAbi
from .repair_plan import RepairOptions, RepairPlan, plan_repair
from .repair_writer import write_repaired_wheel
from .wheel_integrity import require_consistent


class UnloadableRepairError(EmwheelError):
    """The repaired wheel would not load in the target Pyodide (exit code 1)."""


def _refuse_unloadable(
    target: PyodideAbi, loader: bool, jobs: int | None, on_stage: Callable[[str], None]
) -> Callable[[Path], None]:
    def validate(path: Path) -> None:
        from .check import check_wheel

        on_stage("checking")
        report = check_wheel(path, target, loader=loader, jobs=jobs, integrity=False)
        if not report.loads:
            errors = [f"  {f.path + ': ' if f.path else ''}{f.message}"
                      for f in report.findings if f.severity == "error"]  # fmt: skip
            raise UnloadableRepairError(
                f"{path.name}: the repaired wheel would not load in Pyodide "
                f"{target.pyodide_version}; not written (--no-check writes it anyway):\n"
                + "\n".join(errors)
            )

    return validate


__all__ = ["RepairResult", "repair_wheel"]


class RepairResult:
    def __init__(self, plan: RepairPlan, output: Path) -> None:
        self.plan = plan
        self.output = output

    @property
    def vendored(self) -> list[str]:
        return sorted(m.path for m in self.plan.modules.values() if m.file is None)

    @property
    def changed(self) -> list[str]:
        return sorted(
            m.path for m in self.plan.modules.values() if m.file is not None and m.new_dylink()
        )


def repair_wheel(
    wheel: Path,
    wheel_dir: Path,
    options: RepairOptions,
    check: PyodideAbi | None = None,
    *,
    check_jobs: int | None = None,
    on_stage: Callable[[str], None] = lambda stage: None,
) -> RepairResult:
    """Repair ``wheel`` into ``wheel_dir``. With ``check`` (a target Pyodide), the result is
    checked as `emwheel check` does, and not written if it will not load there.

    ``check_jobs``: processes that check reads modules with (default: one per core for a
    large wheel; 1 where wheels are already repaired one per core). ``on_stage`` hears
    "reading", "writing", "checking" as the repair gets there (for progress on a terminal).
    """
    output = wheel_dir / wheel.name
    if output.resolve() == wheel.resolve():
        raise InvalidInput(
            f"{wheel}: the output would overwrite the input; choose another --wheel-dir"
        )
    if not wheel.is_file():
        raise InvalidInput(f"{wheel}: no such file")
    on_stage("reading")
    with WheelSource(wheel) as source:
        assert isinstance(source, WheelSource)
        require_consistent(source)  # RECORD and the manifest are rewritten from what is read
        plan = plan_repair(source, options)
        # Without RUNTIME_PATH entries the result is meant for emwheel's loader.
        loader = not options.runtime_path
        validate = (
            None if check is None else _refuse_unloadable(check, loader, check_jobs, on_stage)
        )
        on_stage("writing")
        write_repaired_wheel(plan, output, validate)
    return RepairResult(plan, output)
