"""Whether a plan's argmax bindings fit the region (papers/llm-mappo.md, section d, "Candidates": b* =
argmax R-hat - .5 x the share of argmax bindings that over-commit a node)."""

from __future__ import annotations

import numpy as np

from edgeplace.planners.soft_plans.protocol import PlanContext

RESOURCES = 2
"""cpu, RAM."""


def own_holdings(context: PlanContext, region: int) -> np.ndarray:
    """cpu and RAM the region's current slots hold on each option. Shapes: -> (O, 2)."""
    held = np.zeros((context.num_options, RESOURCES))
    choice = context.choice[region]
    mine = context.slot_valid & (choice != context.num_options - 1)
    np.add.at(held, choice[mine], np.column_stack([context.slot_cpu, context.slot_ram_gb])[mine])
    return held


def room(context: PlanContext, region: int) -> np.ndarray:
    """Free capacity plus the region's own holdings per option (what a re-binding may use).

    Shapes: -> (O, 2).
    """
    return context.free[region] + own_holdings(context, region)


def overcommit_share(p: np.ndarray, context: PlanContext, region: int) -> np.ndarray:
    """Share of the real slots whose argmax option (not NONE) is over-committed: the cpu or RAM of the
    slots bound to it exceeds its :func:`room`.

    Shapes: p (B, S, O) plans -> (B,).
    """
    batch, _, options = p.shape
    none = options - 1
    target = p.argmax(axis=-1)  # (B, S)
    bound = context.slot_valid & (target != none)
    cell = (np.arange(batch)[:, None] * options + target).ravel()
    available = room(context, region)
    over = np.zeros((batch, options), bool)
    for r, demand in enumerate((context.slot_cpu, context.slot_ram_gb)):
        weights = np.where(bound, demand[None, :], 0.0).ravel()
        load = np.bincount(cell, weights, minlength=batch * options).reshape(batch, options)
        over |= load > available[:, r] + 1e-9
    hit = np.take_along_axis(over, target, axis=1) & bound
    return hit.sum(axis=1) / max(int(context.slot_valid.sum()), 1)
