"""Checking files: what a rule is and sees (``rule``), the rules and their registry (``rules/``),
the engine that runs them over paths, and the result cache."""
