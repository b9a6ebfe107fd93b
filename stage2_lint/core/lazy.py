"""A module imported on first use of one of its names."""
from importlib import import_module


class LazyModule:
    """Stands for the module ``name`` and imports it when a name is first read from it.

    The source rules (S2P*) need ``ast``, but a YAML run, which is what every commit's hook
    does, never reaches them. Importing ``ast`` costs that run about 2.5 ms of start-up."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        # Runs only for a name not found yet: copy the module's names in, so later reads are
        # plain attribute reads.
        module = import_module(self._name)
        self.__dict__.update(vars(module))
        return getattr(module, attribute)
