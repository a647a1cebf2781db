"""`emwheel repair` for one wheel: plan, then write; the input is never changed."""

from __future__ import annotations

from pathlib import Path

from .errors import InvalidInput
from .package_source import WheelSource
from .repair_plan import RepairOptions, RepairPlan, plan_repair
from .repair_writer import write_repaired_wheel

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


def repair_wheel(wheel: Path, wheel_dir: Path, options: RepairOptions) -> RepairResult:
    output = wheel_dir / wheel.name
    if output.resolve() == wheel.resolve():
        raise InvalidInput(
            f"{wheel}: the output would overwrite the input; choose another --wheel-dir"
        )
    if not wheel.is_file():
        raise InvalidInput(f"{wheel}: no such file")
    with WheelSource(wheel) as source:
        assert isinstance(source, WheelSource)
        plan = plan_repair(source, options)
        write_repaired_wheel(plan, output)
    return RepairResult(plan, output)
