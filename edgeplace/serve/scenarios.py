"""The scenarios the placement API serves: scenario id -> its :class:`ScenarioPlacer` class."""

from __future__ import annotations

from edgeplace.serve.agent_vne_placer import VNEPlacer
from edgeplace.serve.dnn_inference_placer import DnnInferencePlacer
from edgeplace.serve.genai_chain_placer import ChainPlacer
from edgeplace.serve.placer import ScenarioPlacer

PLACERS: dict[str, type[ScenarioPlacer]] = {
    placer.scenario: placer for placer in (ChainPlacer, DnnInferencePlacer, VNEPlacer)
}
