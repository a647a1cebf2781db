"""What binds each import of a module, for `emwheel check`: Pyodide's main module, a Pyodide
library package, the wheel's own modules, or nothing.

The rules (check.py's docstring says why): an ``env`` import is bound by the main module's
symbols (or a prefix the release reserves), a ``GOT.mem``/``GOT.func`` entry by its symbols;
then by the exports of the Pyodide library packages the module NEEDs; then by the wheel's
modules: a function of ``env`` by any of them (it binds at its first call), anything else
only by the modules loaded by then (it binds at load). An import nothing binds is weak
(ignored), left to libraries whose exports are not known (unverified), or unresolved.

Speed: grill-usd-core's modules have 175,000 imports, nearly all bound by the wheel. Each
group of imports (ImportGroup) is resolved as a set of names, by set operations, so that
only the few imports nothing binds, and those of other import modules, are looked at one by
one, in section order, by the rules as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress

from .symbol_tables import ImportGroup, ImportTable

__all__ = ["ImportVerdict", "SymbolSources", "UnresolvedSymbol", "group_sets", "resolve_imports"]

_GOT = (b"GOT.mem", b"GOT.func")
_RESOLVERS = ("pyodide", "wheel", "packages")  # what ImportVerdict.counts counts


@dataclass(frozen=True)
class UnresolvedSymbol:
    name: str
    import_module: str  # "env", "GOT.mem", "GOT.func", ...
    effect: str  # "load fails" or "fatal at first call"


@dataclass(frozen=True)
class SymbolSources:
    """What can bind a module's imports."""

    main: frozenset[bytes]  # the main module's symbols
    prefixes: tuple[bytes, ...]  # of symbols the main module provides, whatever their name
    packages: set[bytes]  # exports of the Pyodide library packages the module NEEDs
    # Exports of the wheel's modules, a set per module (their union would copy a large
    # library's exports again for every module), the module's own first: of every module,
    # and of those loaded by the time it loads.
    wheel: Sequence[set[bytes]]
    at_load: Sequence[set[bytes]]
    unknown: bool  # some imports may be left to libraries whose exports are not known


@dataclass
class ImportVerdict:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_RESOLVERS, 0))
    unresolved: list[UnresolvedSymbol] = field(default_factory=list)
    late: list[str] = field(default_factory=list)  # bound at load by a module loaded later
    unverified: list[str] = field(default_factory=list)
    weak_unresolved: int = 0


# The groups resolved as sets of names, and whether they are bound at load.
_SET_GROUPS = (
    (ImportGroup.ENV_FUNCTION, False),
    (ImportGroup.ENV_OTHER, True),
    (ImportGroup.GOT_MEM, True),
    (ImportGroup.GOT_FUNC, True),
)


def group_sets(table: ImportTable) -> dict[int, tuple[int, set[bytes]]]:
    """For each group resolved by set operations: how many imports it holds, and their
    names as a set."""
    sets: dict[int, tuple[int, set[bytes]]] = {}
    for group, _ in _SET_GROUPS:
        if group in table.groups:
            names = list(compress(table.names, table.groups.translate(_SELECTORS[group])))
            sets[group] = (len(names), set(names))
    return sets


def resolve_imports(
    table: ImportTable,
    sets: dict[int, tuple[int, set[bytes]]],
    weak: set[tuple[bytes, bytes]],
    sources: SymbolSources,
) -> ImportVerdict:
    """``sets``: group_sets(table)."""
    verdict = ImportVerdict()
    left = _resolve_groups(sets, sources, verdict.counts)
    if left is None:  # a group names a symbol twice: every import one by one
        _resolve_each(table, range(len(table.names)), weak, sources, verdict)
        return verdict
    names, groups = table.names, table.groups
    candidates = set().union(*left.values())
    indexes = compress(range(len(names)), map(candidates.__contains__, names))
    chosen = [i for i in indexes if names[i] in left.get(groups[i], ())]
    _resolve_each(table, sorted(chosen + list(table.other_modules)), weak, sources, verdict)
    return verdict


def _resolve_groups(
    sets: dict[int, tuple[int, set[bytes]]], sources: SymbolSources, counts: dict[str, int]
) -> dict[int, set[bytes]] | None:
    """Count the imports of each group that something binds; return, by group, the names
    nothing binds (None if a group holds a name twice: counts must be per import)."""
    left: dict[int, set[bytes]] = {}
    for group, bound_at_load in _SET_GROUPS:
        if group not in sets:
            continue
        count, rest = sets[group]
        if len(rest) != count:
            return None
        provided = rest & sources.main
        if sources.prefixes and group in (ImportGroup.ENV_FUNCTION, ImportGroup.ENV_OTHER):
            provided |= {name for name in rest - provided if name.startswith(sources.prefixes)}
        rest = rest - provided
        packaged = rest & sources.packages
        rest = rest - packaged
        unbound = rest
        for exports in sources.at_load if bound_at_load else sources.wheel:
            if not unbound:
                break
            unbound = unbound - exports
        counts["pyodide"] += len(provided)
        counts["packages"] += len(packaged)
        counts["wheel"] += len(rest) - len(unbound)
        if unbound:
            left[group] = unbound
    return left


# For each group, a translation of the groups string to a selector: 1 for the group, else 0.
_SELECTORS = {group: bytes(int(other == group) for other in range(256)) for group in ImportGroup}


def _resolve_each(
    table: ImportTable,
    indexes: Iterable[int],
    weak: set[tuple[bytes, bytes]],
    sources: SymbolSources,
    verdict: ImportVerdict,
) -> None:
    """The rules, import by import, for the imports at ``indexes`` (in section order)."""
    counts = verdict.counts
    names, kinds = table.names, table.kinds
    for index in indexes:
        import_module, symbol, kind = table.module(index), names[index], kinds[index]
        env = import_module == b"env"
        got = not env and import_module in _GOT
        from_main = symbol in sources.main
        if (env and (from_main or symbol.startswith(sources.prefixes))) or (got and from_main):
            counts["pyodide"] += 1
            continue
        if (env or got) and symbol in sources.packages:
            counts["packages"] += 1
            continue
        bound_at_load = got or kind != 0  # functions from env bind lazily
        if (env or got) and (
            any(symbol in exports for exports in sources.at_load)
            if bound_at_load
            else any(symbol in exports for exports in sources.wheel)
        ):
            counts["wheel"] += 1
        elif (import_module, symbol) in weak:
            verdict.weak_unresolved += 1
        elif sources.unknown and (env or got):
            verdict.unverified.append(symbol.decode("utf-8", "replace"))
        else:
            text = symbol.decode("utf-8", "replace")
            effect = "load fails" if bound_at_load else "fatal at first call"
            module_text = import_module.decode("utf-8", "replace")
            verdict.unresolved.append(UnresolvedSymbol(text, module_text, effect))
            if bound_at_load and any(symbol in exports for exports in sources.wheel):
                verdict.late.append(text)
