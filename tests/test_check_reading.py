"""`check`'s reading of modules in worker processes and its matching of imports by sets:
the same answers as reading in this process and matching import by import."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from emwheel import speedups
from emwheel.check_modules import ModuleSymbols, read_modules
from emwheel.check_symbols import (
    ImportVerdict,
    SymbolSources,
    _resolve_each,
    group_sets,
    resolve_imports,
)
from emwheel.package_source import open_source
from emwheel.pyodide_abi import load_shipped_abi
from emwheel.symbol_tables import ImportGroup, ImportTable, read_imports

from support.real_wheels import fetch_real_wheel
from support.wheel_builder import build_wheel

ABI = load_shipped_abi("314.0.7")


@pytest.mark.parametrize("workers", ["threads", "processes"])
def test_a_module_read_by_a_worker_arrives_as_it_was_read(
    module_bytes: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """Threads where the compiled loops are built, processes (through a pipe) elsewhere."""
    if workers == "threads" and not speedups.built():
        pytest.skip("emwheel built as pure Python: no threads")
    if workers == "processes":
        monkeypatch.setattr(speedups, "built", lambda: False)
    files = {f"pkg/{name}": data for name, data in module_bytes.items() if name.endswith(".so")}
    wheel = build_wheel(tmp_path, "pkg", "1.0", files)
    with open_source(wheel) as source:
        here = read_modules(source, jobs=1)
        sent = read_modules(source, jobs=2)
    assert len(here) == len(sent) == len(files)
    for mine, theirs in zip(here, sent, strict=True):
        assert theirs.imports.entries == mine.imports.entries
        assert theirs.exports == mine.exports and theirs.export_names == mine.export_names
        assert theirs.facts == mine.facts and theirs.features == mine.features
        assert theirs.hashes == mine.hashes
        assert theirs.import_sets == group_sets(mine.imports)


def test_names_that_hold_the_separator_or_repeat_survive_the_pipe() -> None:
    # The separator inside a name, an import of an own export twice, an empty name.
    table = ImportTable(
        [b"a\0b", b"own", b"own", b"", b"x"],
        bytes([ImportGroup.ENV_FUNCTION, ImportGroup.GOT_MEM, ImportGroup.GOT_MEM,
               ImportGroup.OTHER, ImportGroup.ENV_FUNCTION]),
        bytes([0, 3, 3, 0, 0]),
        {3: b"wasi"},
        [],
        0,
    )  # fmt: skip
    module = ModuleSymbols(
        file=None,  # type: ignore[arg-type]
        kind="shared",
        weak=set(),
        imports=table,
        export_names=[b"own", b"\0", b"own"],
        features=(),
        hashes=None,  # type: ignore[arg-type]
        facts=None,  # type: ignore[arg-type]
    )
    back = pickle.loads(pickle.dumps(module))
    assert back.imports.entries == table.entries
    assert back.export_names == module.export_names and back.exports == {b"own", b"\0"}


def _one_by_one(
    table: ImportTable, sources: SymbolSources, weak: set[tuple[bytes, bytes]] | None = None
) -> tuple[object, ...]:
    """The rules applied to every import in turn, as check.py did before matching by sets."""
    verdict = ImportVerdict()
    _resolve_each(table, range(len(table.names)), weak or set(), sources, verdict)
    return _fields(verdict)


def _fields(verdict: object) -> tuple[object, ...]:
    return tuple(vars(verdict).values())


def _sources(wheel: set[bytes], loaded: set[bytes], packages: set[bytes]) -> SymbolSources:
    return SymbolSources(
        ABI.main_symbol_bytes, (b"emscripten_",), packages, [wheel], [loaded], unknown=False
    )


def test_matching_by_sets_agrees_with_the_rules_import_by_import() -> None:
    table = ImportTable(
        [b"malloc", b"emscripten_x", b"f", b"g", b"d", b"late", b"gone", b"malloc", b"w"],
        bytes([ImportGroup.ENV_FUNCTION, ImportGroup.ENV_FUNCTION, ImportGroup.ENV_FUNCTION,
               ImportGroup.ENV_FUNCTION, ImportGroup.GOT_MEM, ImportGroup.GOT_MEM,
               ImportGroup.GOT_FUNC, ImportGroup.GOT_MEM, ImportGroup.OTHER]),
        bytes([0, 0, 0, 0, 3, 3, 3, 3, 0]),
        {8: b"wasi"},
        [],
        0,
    )  # fmt: skip
    sources = _sources(wheel={b"f", b"d", b"late"}, loaded={b"d"}, packages={b"g"})
    by_sets = resolve_imports(table, group_sets(table), set(), sources)
    assert _fields(by_sets) == _one_by_one(table, sources)
    assert by_sets.counts == {"pyodide": 3, "wheel": 2, "packages": 1}
    assert [u.name for u in by_sets.unresolved] == ["late", "gone", "w"]
    assert by_sets.late == ["late"]


def test_a_group_that_names_a_symbol_twice_is_matched_import_by_import() -> None:
    table = ImportTable(
        [b"x", b"x", b"y"], bytes([ImportGroup.GOT_MEM] * 3), bytes([3, 3, 3]), {}, [], 0
    )
    sources = _sources(wheel={b"x"}, loaded={b"x"}, packages=set())
    by_sets = resolve_imports(table, group_sets(table), set(), sources)
    assert by_sets.counts["wheel"] == 2  # per import, not per name
    assert _fields(by_sets) == _one_by_one(table, sources)


@pytest.mark.realwheels
@pytest.mark.parametrize("key", ["grill-usd-core", "xtbloom", "awkward-cpp"])
def test_matching_by_sets_agrees_on_real_wheels(key: str) -> None:
    with open_source(fetch_real_wheel(key)) as source:
        modules = read_modules(source, jobs=1)
    every = [m.exports for m in modules]
    union = set().union(*every)
    for position, module in enumerate(modules):
        loaded = set().union(*every[:position])
        sources = _sources(wheel=union, loaded=loaded | module.exports, packages=set())
        table, weak = module.imports, module.weak
        by_sets = resolve_imports(table, group_sets(table), weak, sources)
        assert _fields(by_sets) == _one_by_one(table, sources, weak), module.file.install_path


def test_the_fast_import_reader_reads_each_import_of_the_test_modules(
    module_bytes: dict[str, bytes],
) -> None:
    from emwheel.wasm_module import SectionId, WasmModule

    for name, data in module_bytes.items():
        module = WasmModule.parse(data)
        header = module.section(SectionId.IMPORT)
        if header is None:
            continue
        table = read_imports(data, header.payload_offset, header.end)
        careful = [(i.module.encode(), i.name.encode(), i.kind) for i in module.imports]
        assert table.entries == careful, name
