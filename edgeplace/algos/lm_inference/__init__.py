"""The ``learned`` backend of the lm-inference scenario: RLlib's PPO with five masked-MLP modules
(planner, scheduler, and one deployer module per hardware profile), each module discounting with its
own gamma."""
