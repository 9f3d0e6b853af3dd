"""VAMAPPO (value-adaptive multi-agent PPO) as an RLlib-native algorithm (spec: papers/vamappo.md)."""
