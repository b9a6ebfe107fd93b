"""Where each file stands and what it extends: the layout (contract, role, required parent and
config root of each file, computed once), the document store (each file read once), the extends
graph (parents, cycles, the order of a merge), the merge with provenance, the resolver that
builds them for one run, and the extends graph of a set of files as data."""
