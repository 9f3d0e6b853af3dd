import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
)

from edgeplace.topology import InsufficientCapacityError, Ledger, Substrate, TopologyError


def _substrate() -> Substrate:
    """Five nodes in a ring plus a chord; capacities and bandwidths that are not round in binary."""
    return Substrate(
        name="ledger-test",
        resource_names=("compute", "memory"),
        capacity=np.array([[1.0, 0.3], [2.7, 0.0], [0.1, 5.0], [3.3, 3.3], [1.1, 0.7]]),
        edge_index=np.array([[0, 0, 1, 2, 3, 1], [1, 4, 2, 3, 4, 3]]),
        bandwidth_mb_s=np.array([0.3, 1.7, 2.2, 0.9, 1.3, 0.1]),
        delay_s=np.full(6, 1e-3),
    )


def _state(ledger: Ledger) -> tuple[np.ndarray, ...]:
    return ledger.node_free.copy(), ledger.link_free.copy(), ledger.utilisation(), ledger.link_utilisation()


def test_allocate_release_round_trip():
    ledger = Ledger(_substrate())
    a = ledger.allocate_node(3, [1.1, 0.2])
    np.testing.assert_allclose(ledger.node_free[3], [2.2, 3.1])
    b = ledger.allocate_path(0, 3, 0.05)
    path = ledger.substrate.paths.path_edges(0, 3)
    np.testing.assert_allclose(ledger.link_free[path], ledger.substrate.bandwidth_mb_s[path] - 0.05)
    ledger.release(a)
    ledger.release(b)
    np.testing.assert_array_equal(ledger.node_free, ledger.substrate.capacity)
    np.testing.assert_array_equal(ledger.link_free, ledger.substrate.bandwidth_mb_s)
    assert ledger.num_outstanding == 0


def test_over_allocation_raises_and_changes_nothing():
    ledger = Ledger(_substrate())
    ledger.allocate_node(0, [0.5, 0.1])
    before = _state(ledger)
    with pytest.raises(InsufficientCapacityError) as info:
        ledger.allocate_node(0, [0.4, 0.3])
    assert info.value.field == "memory" and "node 0" in str(info.value)
    with pytest.raises(InsufficientCapacityError, match="link 5"):
        ledger.allocate_links([0, 5], 0.2)
    for got, want in zip(_state(ledger), before, strict=True):
        np.testing.assert_array_equal(got, want)


def test_exact_fill_despite_rounding():
    ledger = Ledger(_substrate())
    ledger.allocate_node(0, [0.0, 0.1])
    ledger.allocate_node(0, [0.0, 0.2])  # 0.3 - 0.1 is 0.19999999999999998 in floating point
    ledger.allocate_links([0], 0.1)
    ledger.allocate_links([0], 0.2)
    assert ledger.node_free[0, 1] == 0.0 and ledger.link_free[0] == 0.0
    assert not ledger.can_allocate_node(0, [0.0, 1e-6])
    assert ledger.utilisation()[0, 1] == 1.0


def test_release_all_restores_capacity_exactly():
    ledger = Ledger(_substrate())
    first, second = ledger.allocate_node(3, [0.1, 0.1]), ledger.allocate_node(3, [0.2, 0.2])
    links = [ledger.allocate_links([2], 0.1), ledger.allocate_links([2], 0.2)]
    ledger.release(first)
    ledger.release(second)  # ((0.1 + 0.2) - 0.1) - 0.2 is 2.8e-17, not 0
    for allocation in links:
        ledger.release(allocation)
    np.testing.assert_array_equal(ledger.node_free, ledger.substrate.capacity)
    np.testing.assert_array_equal(ledger.link_free, ledger.substrate.bandwidth_mb_s)
    assert (ledger.utilisation() == 0).all() and (ledger.link_utilisation() == 0).all()


def test_free_never_exceeds_capacity_while_held():
    ledger = Ledger(_substrate())
    ledger.allocate_links([3], 0.0)  # keeps link 3 held, so nothing snaps back to 0
    for allocation in [ledger.allocate_links([3], 0.3), ledger.allocate_links([3], 0.4)]:
        ledger.release(allocation)  # ((0.3 + 0.4) - 0.3) - 0.4 is -5.6e-17
    assert ledger.link_free[3] == ledger.substrate.bandwidth_mb_s[3]


def test_repeated_links_are_merged():
    ledger = Ledger(_substrate())
    assert not ledger.can_allocate_links([0, 0], [0.2, 0.2])
    with pytest.raises(InsufficientCapacityError):
        ledger.allocate_links([0, 0], [0.2, 0.2])
    allocation = ledger.allocate_links([2, 2], [0.5, 0.5])
    np.testing.assert_array_equal(allocation.edge_ids, [2])
    assert ledger.link_free[2] == pytest.approx(1.2)


def test_feasible_nodes_matches_can_allocate():
    ledger = Ledger(_substrate())
    demand = np.array([1.0, 0.3])
    feasible = ledger.feasible_nodes(demand)
    np.testing.assert_array_equal(feasible, [ledger.can_allocate_node(n, demand) for n in range(5)])
    np.testing.assert_array_equal(feasible, [True, False, False, True, True])
    np.testing.assert_array_equal(ledger.feasible_nodes(0.0), np.ones(5, bool))


def test_release_twice_or_foreign_raises():
    ledger, other = Ledger(_substrate()), Ledger(_substrate())
    allocation = ledger.allocate_node(2, [0.1, 1.0])
    ledger.release(allocation)
    with pytest.raises(TopologyError, match="not outstanding"):
        ledger.release(allocation)
    foreign = ledger.allocate_node(2, 0.0)
    with pytest.raises(TopologyError, match="not outstanding"):
        other.release(foreign)


def test_snapshot_restore_voids_later_allocations():
    ledger = Ledger(_substrate())
    kept = ledger.allocate_node(4, [1.0, 0.5])
    snap = ledger.snapshot()
    later = ledger.allocate_node(3, [1.0, 1.0])
    ledger.release(kept)
    ledger.restore(snap)
    assert ledger.node_free[4, 0] == pytest.approx(0.1) and ledger.node_free[3, 0] == 3.3
    with pytest.raises(TopologyError):
        ledger.release(later)
    ledger.release(kept)
    np.testing.assert_array_equal(ledger.node_free, ledger.substrate.capacity)
    with pytest.raises(TopologyError, match="another ledger"):
        Ledger(ledger.substrate).restore(snap)


def test_views_are_read_only_and_live():
    ledger = Ledger(_substrate())
    free = ledger.node_free
    with pytest.raises(ValueError):
        free[0, 0] = 5.0
    ledger.allocate_node(0, [1.0, 0.0])
    assert free[0, 0] == 0.0
    np.testing.assert_array_equal(ledger.utilisation()[0], [1.0, 0.0])
    ledger.reset()
    assert free[0, 0] == 1.0 and ledger.num_outstanding == 0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda ledger: ledger.allocate_node(5, [0, 0]), "node"),
        (lambda ledger: ledger.allocate_node(0, [0, 0, 0]), "demand"),
        (lambda ledger: ledger.allocate_node(0, [-1, 0]), "demand"),
        (lambda ledger: ledger.allocate_links([6], 0.1), "edge_ids"),
        (lambda ledger: ledger.allocate_links([0, 1], [0.1]), "bw_mb_s"),
        (lambda ledger: ledger.allocate_links([0.5], 0.1), "edge_ids"),
    ],
)
def test_bad_requests(call, field):
    with pytest.raises(TopologyError) as info:
        call(Ledger(_substrate()))
    assert info.value.field == field


amounts = st.sampled_from([0.0, 0.1, 0.2, 0.3, 0.7, 1.1]) | st.floats(min_value=0.0, max_value=3.5)


class LedgerMachine(RuleBasedStateMachine):
    """Arbitrary interleavings of allocate / release / snapshot / restore against the invariants."""

    allocations = Bundle("allocations")

    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger(_substrate())
        self.live = {}  # alloc_id -> Allocation, the model of what is outstanding
        self.snap = None

    def _try(self, allocate):
        before = _state(self.ledger)
        try:
            allocation = allocate()
        except InsufficientCapacityError:
            for got, want in zip(_state(self.ledger), before, strict=True):
                np.testing.assert_array_equal(got, want)
            return multiple()
        self.live[allocation.alloc_id] = allocation
        return multiple(allocation)

    @rule(target=allocations, node=st.integers(0, 4), demand=st.tuples(amounts, amounts))
    def allocate_node(self, node, demand):
        feasible = self.ledger.can_allocate_node(node, demand)
        assert feasible == self.ledger.feasible_nodes(demand)[node]
        made = self._try(lambda: self.ledger.allocate_node(node, demand))
        assert bool(made.values) == feasible
        return made

    @rule(target=allocations, src=st.integers(0, 4), dst=st.integers(0, 4), bw=amounts)
    def allocate_path(self, src, dst, bw):
        feasible = self.ledger.can_allocate_path(src, dst, bw)
        made = self._try(lambda: self.ledger.allocate_path(src, dst, bw))
        assert bool(made.values) == feasible
        return made

    @rule(allocation=consumes(allocations))
    def release(self, allocation):
        if self.live.pop(allocation.alloc_id, None) is not None:
            self.ledger.release(allocation)
        else:
            with pytest.raises(TopologyError):
                self.ledger.release(allocation)

    @rule()
    def snapshot(self):
        self.snap = (self.ledger.snapshot(), _state(self.ledger), dict(self.live))

    @precondition(lambda self: self.snap is not None)
    @rule()
    def restore(self):
        snapshot, state, live = self.snap
        self.ledger.restore(snapshot)
        self.live = dict(live)
        for got, want in zip(_state(self.ledger), state, strict=True):
            np.testing.assert_array_equal(got, want)

    @rule()
    def release_all(self):
        for allocation in self.live.values():
            self.ledger.release(allocation)
        self.live.clear()
        assert self.ledger.num_outstanding == 0
        assert (self.ledger.utilisation() == 0).all() and (self.ledger.link_utilisation() == 0).all()
        np.testing.assert_array_equal(self.ledger.node_free, self.ledger.substrate.capacity)
        np.testing.assert_array_equal(self.ledger.link_free, self.ledger.substrate.bandwidth_mb_s)

    @invariant()
    def free_within_capacity(self):
        s = self.ledger.substrate
        assert self.ledger.num_outstanding == len(self.live)
        assert (self.ledger.node_free >= 0).all() and (self.ledger.node_free <= s.capacity).all()
        assert (self.ledger.link_free >= 0).all() and (self.ledger.link_free <= s.bandwidth_mb_s).all()


LedgerMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_ledger_state_machine = LedgerMachine.TestCase
