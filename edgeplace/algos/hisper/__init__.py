"""HISPER / HASAC and HAPPO (spec: papers/hisper.md, sections f and g): multi-agent RLlib Algorithms
trained from time-aligned joint transitions of simultaneous-agent envs (dnn-inference and any other,
through their joint view), with autoregressive or factorised actor heads, hybrid-reward twin critics
(HISPER/HASAC) or a centralised V(s) (HAPPO)."""
