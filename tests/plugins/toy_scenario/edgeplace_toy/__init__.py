"""A toy edgeplace scenario plug-in: two agents place jobs on four nodes, every step at once."""
