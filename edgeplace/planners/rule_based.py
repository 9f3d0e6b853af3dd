"""The deterministic semantic parser: affinity constraints from keywords in each agent's description.

For each agent, its name, role and every tool are lower-cased and split into words (any character
other than a-z and 0-9 separates words, so ``camera_capture`` reads "camera capture"); a vocabulary
term matches when its words appear consecutively in one of those fields. The word "image" is in no
vocabulary, so an agent that loads stored images is not bound to a camera.

Target node of a constrained agent: the request's ``data_source_node`` when it holds every required
attribute; otherwise the holder with the highest mean residual fraction (ties: lower id). When no node
holds them, the constraint goes to :attr:`ConstraintSet.unsatisfiable` and the request is infeasible.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from edgeplace.planners.constraints import NO_TARGET, AgentConstraint, ConstraintSet, attribute_holders
from edgeplace.topology import Affinity

if TYPE_CHECKING:
    from edgeplace.workloads.agentic_workflows import SubstrateSummary, WorkflowAgent, WorkflowRequest

#: Bias a matched constraint puts on its target node (spec c, our default).
DEFAULT_BIAS = 0.4

#: Attribute name -> terms (words or phrases) that require it.
ATTRIBUTE_VOCABULARY: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        Affinity.TEE.value: (
            "payment",
            "pay",
            "pci",
            "hsm",
            "credit card",
            "bank",
            "transfer",
            "identity",
            "medical",
            "patient",
            "confidential",
            "sensitive",
            "privacy",
            "private key",
            "encrypt",
            "authenticate",
            "tee",
            "sgx",
            "trustzone",
        ),
        Affinity.CAMERA.value: (
            "camera",
            "webcam",
            "cctv",
            "video stream",
            "live video",
            "capture frame",
            "capture frames",
            "frame capture",
            "surveillance",
            "dashcam",
        ),
    }
)

_NON_WORD = re.compile(r"[^a-z0-9]+")


def words(text: str) -> str:
    """``text`` lower-cased, as a-z/0-9 words joined by single spaces.

    ``"Camera_Capture!"`` -> ``"camera capture"``.
    """
    return " ".join(_NON_WORD.split(text.lower())).strip()


def agent_text(agent: WorkflowAgent) -> str:
    """The agent's name, role and tools as :func:`words`, each padded by spaces, joined by ``|``.

    A term matches when `` {term} `` is a substring, so it is whole words and never spans two fields.
    """
    return "|".join(f" {words(text)} " for text in (agent.name, agent.role, *agent.tools))


def target_node(summary: SubstrateSummary, attributes: Iterable[str], data_source_node: int | None) -> int:
    """The node a constraint on ``attributes`` is pinned to, or :data:`NO_TARGET` when no node holds them.

    ``data_source_node`` when it holds them all, else the holder with the largest mean of
    ``summary.residual_fraction`` over resources (ties -> lower id).
    """
    holders = attribute_holders(summary, attributes)
    if data_source_node is not None and holders[data_source_node]:
        return int(data_source_node)
    candidates = np.flatnonzero(holders)
    if candidates.size == 0:
        return NO_TARGET
    score = np.asarray(summary.residual_fraction, dtype=np.float64)[candidates].mean(axis=1)
    return int(candidates[np.argmax(score)])  # argmax keeps the first (lowest id) maximum


class RuleBasedParser:
    """Keyword parser (spec c's default backend); deterministic, no state.

    Args:
        bias: the bias of every matched constraint, in [0, 1].
        vocabulary: attribute name -> terms. Attribute names are looked up in
            ``SubstrateSummary.attributes`` ignoring case; an attribute the registry lacks has no holder.
    """

    def __init__(self, bias: float = DEFAULT_BIAS, vocabulary: Mapping[str, tuple[str, ...]] | None = None):
        if not 0.0 <= bias <= 1.0:
            raise ValueError(f"bias: must be in [0, 1], got {bias!r}")
        self.bias = float(bias)
        chosen = ATTRIBUTE_VOCABULARY if vocabulary is None else vocabulary
        self.vocabulary = {str(attr): tuple(terms) for attr, terms in chosen.items()}
        # Terms as they appear in an agent_text: normalised words padded by spaces.
        self._padded = {
            attr: [(term, f" {words(term)} ") for term in terms] for attr, terms in self.vocabulary.items()
        }

    def parse(self, request: WorkflowRequest, summary: SubstrateSummary) -> ConstraintSet:
        """The constraints of ``request`` on the substrate ``summary`` describes.

        Raises:
            ValueError: ``request.data_source_node`` is not a node of the summary.
        """
        num_nodes = int(np.asarray(summary.degree).shape[0])
        source = request.data_source_node
        if source is not None and not 0 <= source < num_nodes:
            raise ValueError(f"data_source_node: {source} is not a node (N = {num_nodes})")
        registry = {name.lower(): name for name in summary.attributes}
        satisfied, unsatisfied = [], []
        for agent in sorted(request.agents, key=lambda a: a.id):
            text = agent_text(agent)
            hits = {
                attr: tuple(term for term, padded in terms if padded in text)
                for attr, terms in self._padded.items()
            }
            hits = {registry.get(attr.lower(), attr): terms for attr, terms in hits.items() if terms}
            if not hits:
                continue
            attributes = tuple(sorted(hits))
            reason = "; ".join(f"{attr}: {', '.join(terms)}" for attr, terms in sorted(hits.items()))
            if all(attr in summary.attributes for attr in attributes):
                node = target_node(summary, attributes, source)
            else:
                node = NO_TARGET
            if node == NO_TARGET:
                unsatisfied.append(
                    AgentConstraint(int(agent.id), attributes, NO_TARGET, 0.0, f"no holder; {reason}")
                )
            else:
                satisfied.append(AgentConstraint(int(agent.id), attributes, node, self.bias, reason))
        return ConstraintSet(request.request_id, tuple(satisfied), tuple(unsatisfied))
