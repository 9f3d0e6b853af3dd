"""The hierarchical DRL baseline of the lm-inference scenario (spec e, "Hierarchical DRL"): MAPPO
routing over independent DQN deployers, trained in alternating phases with stock RLlib."""

from edgeplace.algos.lm_inference.drl.policy import DrlPolicy, load_drl_policy
from edgeplace.algos.lm_inference.drl.settings import DrlSettings
from edgeplace.algos.lm_inference.drl.train import DrlRun, train_drl

__all__ = ["DrlPolicy", "DrlRun", "DrlSettings", "load_drl_policy", "train_drl"]
