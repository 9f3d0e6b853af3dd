"""A served metaverse-dag request as the env's workload: the DAG checked (sizes within the policy's slot
layout, parents in range, one entry, no cycle) and laid out as the DAG templates of an episode whose
other two classes have no microservice (their slots and route entries are padding).

The env numbers a template's microservices in a topological order (every parent before its child; the
slot features' "topological quantile" is that position): a DAG given in another order is renumbered
(stably, smallest request index first among the ready ones), and :attr:`CheckedDag.order` maps back.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from http import HTTPStatus

import numpy as np

from edgeplace.envs.metaverse_dag.layout import SlotLayout
from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.metaverse_dag_schemas import MetaverseDagRequest
from edgeplace.workloads.metaverse_dag import CLASSES, NUM_CLASSES, DagTemplates


@dataclass(frozen=True)
class CheckedDag:
    """A checked DAG as templates. ``order``: (n,) int64, the request index of each template position."""

    service_class: int
    order: np.ndarray
    templates: DagTemplates


def invalid(field: str, detail: str) -> ServeInputError:
    """A 422 naming ``field``."""
    return ServeInputError(HTTPStatus.UNPROCESSABLE_ENTITY, field, detail)


def check_dag(request: MetaverseDagRequest, layout: SlotLayout, field: str) -> CheckedDag:
    """Check ``request`` (at body path ``field``) against ``layout`` and lay it out as templates.

    Raises:
        ServeInputError: 422 naming the offending field: more microservices or edges than the layout
            holds for the class, a parent out of range, repeated or itself, payload fractions that do
            not match the parents, an entry with parents, a non-entry without, a cycle.
    """
    c, ms = request.service_class.index, request.microservices
    n, where = len(ms), f"{field}.microservices"
    if n > layout.max_ms[c]:
        raise invalid(
            where,
            f"{n} microservices: the policy's layout holds at most {layout.max_ms[c]} for class "
            f"{request.service_class.value}",
        )
    for i, service in enumerate(ms):
        _check_parents(service.parents, len(service.payload_fractions), i, n, f"{where}[{i}]")
    edges = sum(len(service.parents) for service in ms)
    budget = int(layout.edge_start[c + 1] - layout.edge_start[c])
    if edges > budget:
        raise invalid(
            where,
            f"{edges} DAG edges: the policy's layout holds at most {budget} for class "
            f"{request.service_class.value}",
        )
    order = topological_order([service.parents for service in ms], where)
    return CheckedDag(c, order, _templates(request, layout.padded_ms, order))


def _check_parents(parents: list[int], fractions: int, i: int, n: int, where: str) -> None:
    """Raise for a bad ``parents`` list of microservice ``i`` of ``n`` (at body path ``where``)."""
    if fractions != len(parents):
        raise invalid(
            f"{where}.payload_fractions",
            f"expected one payload fraction per parent ({len(parents)}), got {fractions}",
        )
    if i == 0 and parents:
        raise invalid(f"{where}.parents", "microservice 0 is the DAG's entry: it has no parents")
    if i > 0 and not parents:
        raise invalid(f"{where}.parents", f"microservice {i} has no parent: only microservice 0 is an entry")
    seen: set[int] = set()
    for j, parent in enumerate(parents):
        if parent >= n:
            raise invalid(
                f"{where}.parents[{j}]", f"parent {parent} out of range: the DAG has {n} microservices"
            )
        if parent == i:
            raise invalid(f"{where}.parents[{j}]", f"microservice {i} cannot be its own parent")
        if parent in seen:
            raise invalid(f"{where}.parents[{j}]", f"parent {parent} is listed twice")
        seen.add(parent)


def topological_order(parents: list[list[int]], where: str) -> np.ndarray:
    """Kahn's order of a DAG given as parent lists, smallest index first among the ready ones.

    Shapes: n lists -> (n,) int64 request indices.

    Raises:
        ServeInputError: 422 naming ``where[i].parents`` of a microservice on a cycle, spelling the cycle.
    """
    n = len(parents)
    children: list[list[int]] = [[] for _ in range(n)]
    waiting = [len(p) for p in parents]
    for child, ps in enumerate(parents):
        for parent in ps:
            children[parent].append(child)
    ready = [i for i in range(n) if waiting[i] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for child in children[node]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, child)
    if len(order) < n:
        cycle = _a_cycle(parents, {i for i in range(n) if waiting[i] > 0})
        spelled = " -> ".join(map(str, [*cycle, cycle[0]]))
        raise invalid(f"{where}[{cycle[0]}].parents", f"the DAG has a cycle: {spelled}")
    return np.array(order, dtype=np.int64)


def _a_cycle(parents: list[list[int]], left: set[int]) -> list[int]:
    """A cycle among ``left`` (Kahn's leftovers: each has a parent among them), in data-flow order,
    starting from its smallest index."""
    path, node = [], min(left)
    while node not in path:
        path.append(node)
        node = min(p for p in parents[node] if p in left)
    cycle = path[path.index(node) :][::-1]  # walked child -> parent; reversed: parent -> child
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]


def _templates(request: MetaverseDagRequest, padded_ms: int, order: np.ndarray) -> DagTemplates:
    """The templates of an episode whose class ``request.service_class`` has the request's DAG (in
    ``order``) and whose other classes have no microservice."""
    c, ms, n = request.service_class.index, request.microservices, len(request.microservices)
    position = np.empty(n, np.int64)
    position[order] = np.arange(n)
    num_ms = np.zeros(NUM_CLASSES, np.int64)
    num_ms[c] = n
    shape = (NUM_CLASSES, padded_ms)
    parents, fraction = np.zeros((*shape, padded_ms), bool), np.zeros((*shape, padded_ms))
    cpu, ram_gb, stateful, work = np.zeros(shape), np.zeros(shape), np.zeros(shape, bool), np.zeros(shape)
    for child, service in enumerate(ms):
        for parent, share in zip(service.parents, service.payload_fractions, strict=True):
            parents[c, position[child], position[parent]] = True
            fraction[c, position[parent], position[child]] = share
    cpu[c, :n] = [ms[i].cpu for i in order]
    ram_gb[c, :n] = [ms[i].ram_gb for i in order]
    stateful[c, :n] = [ms[i].stateful for i in order]
    work[c, :n] = 1.0 / n  # not observed; even shares
    deadline_s = np.zeros(NUM_CLASSES)
    deadline_s[c] = request.deadline_s
    p_min = np.array([spec.p_min for spec in CLASSES])
    return DagTemplates(num_ms, parents, work, fraction, cpu, ram_gb, stateful, deadline_s, p_min)
