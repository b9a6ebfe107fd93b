"""What a run pays for on first use only: a module (``LazyModule``) and a compiled regular
expression (``LazyPattern``). Every commit's hook pays each import and each compile at
start-up, and a clean run never needs some of them."""
import re
import sys


class LazyModule:
    """Stands for the module ``name`` and imports it when a name is first read from it.

    The source rules (S2P*) need ``ast``, but a YAML run, which is what every commit's hook
    does, never reaches them. Importing ``ast`` costs that run about 2.5 ms of start-up."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        # Runs only for a name not found yet: copy the module's names in, so later reads are
        # plain attribute reads.
        __import__(self._name)  # not importlib.import_module: importing importlib costs 0.5 ms
        module = sys.modules[self._name]
        self.__dict__.update(vars(module))
        return getattr(module, attribute)


class LazyPattern:
    """Stands for ``re.compile(source)`` and compiles it when a method is first called.

    A character class over the surrogates and other wide ranges takes 0.2 to 0.5 ms to
    compile; the escaping of strangers' text needs one only for text that is not plain
    ASCII, which a clean run of ASCII files never meets."""

    def __init__(self, source: str):
        self.pattern = source

    def __getattr__(self, attribute: str):
        # Runs once per method (search, sub, match, ...): later calls find it bound here.
        compiled = re.compile(self.pattern)
        for name in ("search", "match", "fullmatch", "sub", "finditer", "findall", "split"):
            setattr(self, name, getattr(compiled, name))
        return getattr(compiled, attribute)
