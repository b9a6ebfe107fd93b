"""One YAML profile as a positioned tree: safe loading (hostile input becomes a problem), key
paths over trees, and the ``# stage2-lint: disable=`` comments a file carries."""
