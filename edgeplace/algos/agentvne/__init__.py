"""AgentVNE (papers/agentvne.md): node rankings used as teacher labels and by the baselines."""
