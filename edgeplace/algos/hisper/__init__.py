"""HISPER / HASAC and HAPPO (spec: papers/hisper.md, sections f and g): multi-agent RLlib Algorithms
trained from time-aligned joint transitions of the dnn-inference scenario, with autoregressive or
factorised actor heads, hybrid-reward twin critics (HISPER/HASAC) or a centralised V(s) (HAPPO)."""
