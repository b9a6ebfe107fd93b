"""Showing what a run found: the report formats, pictures of the extends graph, and the audit
commands' views of a resolved profile (where each value comes from, what two profiles differ in)."""
