"""CROMADQN-like baseline of the metaverse-dag scenario (papers/llm-mappo.md, f): independent double DQN
with parameters shared by the ECs and branching dueling heads (one branch per placement slot or DAG
edge), on RLlib's DQN (new API stack) with its own loss."""
