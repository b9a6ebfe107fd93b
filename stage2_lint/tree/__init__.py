"""Where each file stands and what it extends: the layout (contract, role, required parent and
config root of each file, computed once), the extends hierarchy (parents, cycles, deep merge with
provenance), and the extends graph of a set of files as data."""
