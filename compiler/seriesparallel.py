"""A DAG of steps -> nested sequences and parallel groups (what Step Functions can express).

Step Functions runs states one after another, or side by side in the branches of a
Parallel state: it can express *series-parallel* graphs only. A series-parallel DAG is
decomposed exactly, keeping all of its parallelism. Any other DAG (the smallest is the
"N": a->c, a->d, b->d) needs extra ordering: the decomposition then cuts the graph into a
before-part and an after-part at the cut that lengthens the critical path least, and
reports every ordering it added. It never drops a dependency.

The algorithm, on one connected group of nodes:

1. Order the nodes by earliest start (ties by program order). Every prefix of this order is
   "closed": it holds all the predecessors of its nodes.
2. A prefix A is a *natural* cut when every node of A precedes every node after it. Then A
   and the rest run in sequence and nothing is lost. It is natural exactly when each sink
   of A has an edge to each source of the rest, which a single scan over the order checks
   in O(nodes + edges).
3. With no natural cut, force one: among all prefixes (of the earliest-start order and of
   the latest-start order), take the one whose two sides' critical paths add up to the
   least; its added orderings are reported.
4. Disconnected groups become parallel branches; each part is decomposed again.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Decomposition", "Leaf", "Parallel", "SPNode", "Series", "critical_path", "decompose", "makespan"]


@dataclass(frozen=True, slots=True)
class Leaf:
    index: int


@dataclass(frozen=True, slots=True)
class Series:
    parts: tuple[SPNode, ...]


@dataclass(frozen=True, slots=True)
class Parallel:
    parts: tuple[SPNode, ...]


SPNode = Leaf | Series | Parallel


@dataclass(frozen=True, slots=True)
class Decomposition:
    tree: SPNode
    added: tuple[tuple[int, int], ...]  # orderings (before, after) the DAG did not have
    critical_path: float  # of the DAG as written
    makespan: float  # of the decomposition: equal to critical_path when nothing was lost


def makespan(tree: SPNode, weights: Sequence[float]) -> float:
    if isinstance(tree, Leaf):
        return weights[tree.index]
    spans = [makespan(part, weights) for part in tree.parts]
    return sum(spans) if isinstance(tree, Series) else max(spans)


def critical_path(n: int, edges: Sequence[tuple[int, int]], weights: Sequence[float]) -> float:
    preds: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        preds[b].append(a)
    finish = [0.0] * n
    for v in _topological(n, edges):
        finish[v] = weights[v] + max((finish[p] for p in preds[v]), default=0.0)
    return max(finish, default=0.0)


def _topological(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    succs: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for a, b in edges:
        succs[a].append(b)
        indegree[b] += 1
    ready = [v for v in range(n) if indegree[v] == 0]
    order: list[int] = []
    import heapq

    heapq.heapify(ready)
    while ready:
        v = heapq.heappop(ready)
        order.append(v)
        for s in succs[v]:
            indegree[s] -= 1
            if indegree[s] == 0:
                heapq.heappush(ready, s)
    if len(order) != n:
        raise ValueError("the graph has a cycle")
    return order


class _Graph:
    def __init__(self, n: int, edges: Sequence[tuple[int, int]], weights: Sequence[float]) -> None:
        self.weights = list(weights)
        self.succs: list[set[int]] = [set() for _ in range(n)]
        self.preds: list[set[int]] = [set() for _ in range(n)]
        for a, b in edges:
            if a != b:
                self.succs[a].add(b)
                self.preds[b].add(a)
        self.order_index = {v: i for i, v in enumerate(_topological(n, edges))}
        self.added: list[tuple[int, int]] = []

    def components(self, nodes: list[int]) -> list[list[int]]:
        inside = set(nodes)
        seen: set[int] = set()
        groups: list[list[int]] = []
        for start in nodes:
            if start in seen:
                continue
            group, stack = [], [start]
            seen.add(start)
            while stack:
                v = stack.pop()
                group.append(v)
                for u in self.succs[v] | self.preds[v]:
                    if u in inside and u not in seen:
                        seen.add(u)
                        stack.append(u)
            groups.append(sorted(group, key=self.order_index.__getitem__))
        groups.sort(key=lambda g: min(g))
        return groups

    def _earliest(self, nodes: list[int], inside: set[int]) -> dict[int, float]:
        est: dict[int, float] = {}
        for v in nodes:  # nodes are in topological order
            est[v] = max((est[p] + self.weights[p] for p in self.preds[v] if p in inside), default=0.0)
        return est

    def _tails(self, nodes: list[int], inside: set[int]) -> dict[int, float]:
        tail: dict[int, float] = {}
        for v in reversed(nodes):
            tail[v] = self.weights[v] + max((tail[s] for s in self.succs[v] if s in inside), default=0.0)
        return tail

    def natural_cuts(self, order: list[int], inside: set[int]) -> list[int]:
        """Positions k where order[:k] entirely precedes order[k:]."""
        in_a: set[int] = set()
        sinks_a: set[int] = set()  # nodes of A with no successor in A
        preds_in_b = {v: sum(1 for p in self.preds[v] if p in inside) for v in order}
        sources_b = {v for v in order if preds_in_b[v] == 0}  # nodes of B with no predecessor in B
        links = 0  # edges from sinks_a to sources_b
        cuts: list[int] = []
        for k, x in enumerate(order[:-1], start=1):
            # x moves from B to A
            if x in sources_b:
                sources_b.discard(x)
                links -= sum(1 for p in self.preds[x] if p in sinks_a)
            for p in self.preds[x]:
                if p in sinks_a:  # p now has a successor in A
                    sinks_a.discard(p)
                    links -= sum(1 for s in self.succs[p] if s in sources_b)
            in_a.add(x)
            sinks_a.add(x)
            links += sum(1 for s in self.succs[x] if s in sources_b)
            for s in self.succs[x]:
                if s in inside:
                    preds_in_b[s] -= 1
                    if preds_in_b[s] == 0 and s not in in_a:
                        sources_b.add(s)
                        links += sum(1 for p in self.preds[s] if p in sinks_a)
            if links == len(sinks_a) * len(sources_b):
                cuts.append(k)
        return cuts

    def decompose(self, nodes: list[int]) -> SPNode:
        if len(nodes) == 1:
            return Leaf(nodes[0])
        groups = self.components(nodes)
        if len(groups) > 1:
            return Parallel(tuple(self.decompose(g) for g in groups))
        inside = set(nodes)
        est = self._earliest(nodes, inside)
        order = sorted(nodes, key=lambda v: (est[v], self.order_index[v]))
        cuts = self.natural_cuts(order, inside)
        if cuts:
            bounds = [0, *cuts, len(order)]
            parts = [self._sorted(order[a:b]) for a, b in itertools.pairwise(bounds)]
            return Series(tuple(self.decompose(p) for p in parts))
        return self._forced_cut(nodes, inside, est, order)

    def _sorted(self, nodes: list[int]) -> list[int]:
        return sorted(nodes, key=self.order_index.__getitem__)

    def _forced_cut(self, nodes: list[int], inside: set[int], est: dict[int, float], order: list[int]) -> SPNode:
        tail = self._tails(nodes, inside)
        total = max(est[v] + self.weights[v] for v in nodes)
        late_order = sorted(nodes, key=lambda v: (total - tail[v], self.order_index[v]))
        best: tuple[float, int, int, list[int]] | None = None
        for rank, candidate in enumerate((order, late_order)):
            finish = [est[v] + self.weights[v] for v in candidate]
            prefix_max: list[float] = []
            running = 0.0
            for f in finish:
                running = max(running, f)
                prefix_max.append(running)
            suffix_max = [0.0] * (len(candidate) + 1)
            for i in range(len(candidate) - 1, -1, -1):
                suffix_max[i] = max(suffix_max[i + 1], tail[candidate[i]])
            for k in range(1, len(candidate)):
                cost = prefix_max[k - 1] + suffix_max[k]
                balance = abs(2 * k - len(candidate))
                key = (cost, balance, rank)
                if best is None or key < (best[0], best[1], best[2]):
                    best = (cost, balance, rank, candidate[:k])
        assert best is not None
        first = set(best[3])
        before = self._sorted([v for v in nodes if v in first])
        after = self._sorted([v for v in nodes if v not in first])
        sinks = [a for a in before if not any(s in first for s in self.succs[a])]
        sources = [b for b in after if not any(p in inside and p not in first for p in self.preds[b])]
        for a in sinks:
            for b in sources:
                if b not in self.succs[a]:
                    self.added.append((a, b))
        return Series((self.decompose(before), self.decompose(after)))


def _flatten(tree: SPNode) -> SPNode:
    """Series inside Series and Parallel inside Parallel merge into one level."""
    if isinstance(tree, Leaf):
        return tree
    parts: list[SPNode] = []
    for part in tree.parts:
        flat = _flatten(part)
        if type(flat) is type(tree):
            parts.extend(flat.parts)
        else:
            parts.append(flat)
    return type(tree)(tuple(parts))


def decompose(n: int, edges: Sequence[tuple[int, int]], weights: Sequence[float] | None = None) -> Decomposition:
    """Decompose a DAG of ``n`` nodes (0..n-1) with ``edges`` (before, after).

    ``weights`` are the nodes' expected durations (1 each when not given); they decide
    which extra orderings cost least when the DAG is not series-parallel.
    """
    w = list(weights) if weights is not None else [1.0] * n
    if n == 0:
        return Decomposition(Series(()), (), 0.0, 0.0)
    graph = _Graph(n, edges, w)
    nodes = sorted(range(n), key=graph.order_index.__getitem__)
    tree = _flatten(graph.decompose(nodes))
    return Decomposition(
        tree=tree,
        added=tuple(sorted(set(graph.added))),
        critical_path=critical_path(n, edges, w),
        makespan=makespan(tree, w),
    )
