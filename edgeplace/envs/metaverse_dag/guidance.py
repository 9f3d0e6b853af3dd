"""Trust in the planner and the rewards it shapes (papers/llm-mappo.md, section e, Eq. 25-31).

kappa_k = min(kappa_max, exp(-alpha |R-hat_k - R-bar_k|)), with R-bar the EMA of the agent's realised
utility (.5 before its first step). The trusted share kappa of the plan's weights is blended into the
static ones: omega_t, rho_t = (1 - kappa) rho + kappa 2 psi, phi_t, and the shared global weights
alpha-hat with the mean kappa. Without a planner kappa = 0 and every blend is the static value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.metaverse_dag.metrics import ALPHA, OMEGA, PENALTY_RHO, PHI0, StepMetrics

INITIAL_KAPPA = 0.5
UTILITY_EMA = 0.3
"""Weight of the newest utility in R-bar."""


@dataclass(frozen=True)
class Guidance:
    """The blended reward weights of one step. Shapes (K agents): kappa (K,), omega (K, 4), rho (K, 3),
    phi (K,), alpha (4,) (shared by every agent)."""

    kappa: np.ndarray
    omega: np.ndarray
    rho: np.ndarray
    phi: np.ndarray
    alpha: np.ndarray

    @classmethod
    def static(cls, agents: int) -> Guidance:
        """No trust in any plan: the static weights of Eq. 11-20."""
        return cls(
            kappa=np.zeros(agents),
            omega=np.tile(OMEGA, (agents, 1)),
            rho=np.tile(PENALTY_RHO, (agents, 1)),
            phi=np.full(agents, PHI0),
            alpha=ALPHA.copy(),
        )

    @classmethod
    def blended(cls, kappa: np.ndarray, w: np.ndarray, psi: np.ndarray, phi: np.ndarray) -> Guidance:
        """Eq. 26-28 and alpha-hat. Shapes: kappa (K,), w (K, 4), psi (K, 3), phi (K,)."""
        k = kappa[:, None]
        w_share = w / w.sum(axis=1, keepdims=True)
        mean_kappa = float(kappa.mean())
        return cls(
            kappa=kappa,
            omega=(1 - k) * OMEGA + k * w_share,
            rho=(1 - k) * PENALTY_RHO + k * 2 * psi,
            phi=(1 - kappa) * PHI0 + kappa * phi,
            alpha=(1 - mean_kappa) * ALPHA + mean_kappa * w_share.mean(axis=0),
        )

    def rewards(self, metrics: StepMetrics) -> np.ndarray:
        """r-hat of every agent (Eq. 29-31): phi_t r-hat_g + (1 - phi_t) r-hat_l + r-hat_pen.

        Shapes: -> (K,).
        """
        r_l = -(self.omega * metrics.local_costs).sum(axis=1)
        r_pen = -(self.rho * metrics.penalties).sum(axis=1)
        r_g = -float(self.alpha @ metrics.global_costs)
        return self.phi * r_g + (1 - self.phi) * r_l + r_pen


class TrustTracker:
    """kappa per agent (Eq. 25) from the plan's R-hat and the EMA of the agent's utility."""

    def __init__(self, agents: int, alpha: float, kappa_max: float) -> None:
        self.alpha, self.kappa_max = alpha, kappa_max
        self.utility_ema = np.full(agents, np.nan)

    def kappa(self, r_hat: np.ndarray) -> np.ndarray:
        """Shapes: (K,) -> (K,); .5 for agents without a realised utility yet."""
        trust = np.minimum(self.kappa_max, np.exp(-self.alpha * np.abs(r_hat - self.utility_ema)))
        return np.where(np.isnan(self.utility_ema), INITIAL_KAPPA, trust)

    def observe(self, utility: np.ndarray) -> None:
        """Fold one step's utilities into R-bar. Shapes: (K,)."""
        fresh = np.isnan(self.utility_ema)
        self.utility_ema = np.where(
            fresh, utility, (1 - UTILITY_EMA) * self.utility_ema + UTILITY_EMA * utility
        )
