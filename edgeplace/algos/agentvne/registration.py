"""Register the learned agent-vne policies (``gal-vne``, ``agentvne``) with the baseline registry.

Both need a trained checkpoint; their factories read it from an environment variable
(``EDGEPLACE_GAL_VNE_CHECKPOINT``, ``EDGEPLACE_AGENTVNE_CHECKPOINT``) and fail with a message saying so.
"""

from __future__ import annotations

from edgeplace.algos.agentvne.gal_vne import gal_vne_factory
from edgeplace.algos.agentvne.policy import agentvne_factory
from edgeplace.algos.baselines import baseline_names, register_baselines
from edgeplace.algos.baselines.agent_vne import SCENARIO_ID

LEARNED_POLICIES = {"gal-vne": gal_vne_factory, "agentvne": agentvne_factory}


def register_agentvne_policies() -> None:
    """Add ``gal-vne`` and ``agentvne`` to the agent-vne baselines (a second call does nothing)."""
    missing = {name: f for name, f in LEARNED_POLICIES.items() if name not in baseline_names(SCENARIO_ID)}
    if missing:
        register_baselines(SCENARIO_ID, missing)
