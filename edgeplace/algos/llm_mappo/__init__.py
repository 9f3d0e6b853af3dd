"""LLM-MAPPO (papers/llm-mappo.md, e): PPO with a GRU edge agent, trust-weighted log-prior logits and a
decaying KL term to the planner's prior; MAPPO is the same learner with the planner off."""
