"""The import graph of the harness has no cycles (the layers themselves: pyproject's import-linter contracts).

A cycle is a design question, not something to hide behind a function-level import: grimp
sees imports inside functions and under ``TYPE_CHECKING`` too, so neither hides one here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import grimp


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components of ``graph`` (node -> the nodes it points to)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def cycles() -> list[frozenset[str]]:
    """Every set of harness modules that import each other, directly or through others."""
    built = grimp.build_graph("harness", "mlharness_fixtures", cache_dir=None)
    graph = {m: built.find_modules_directly_imported_by(m) for m in built.modules}
    return [frozenset(c) for c in strongly_connected(graph) if len(c) > 1]


def test_strongly_connected_finds_a_cycle_and_only_the_cycle() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": [], "e": ["e"]}
    components = strongly_connected(graph)
    assert {"a", "b", "c"} in components
    assert [c for c in components if len(c) > 1] == [{"a", "b", "c"}]


def test_no_import_cycles() -> None:
    found = [sorted(c) for c in cycles()]
    assert not found, f"import cycles (move the shared piece to the layer below both): {found}"
