"""Training-config loading: the runtime side of the Stage-2 AB contract."""
