"""``edgeplace reproduce PAPER``: each reference paper's protocol, at a quick or the paper budget."""
