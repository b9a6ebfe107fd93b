"""What a repository declares: its settings and named contracts, its JSON Schema files (read and
evaluated), what a contract says of a tree of keys, and exporting typed config classes to a schema."""
