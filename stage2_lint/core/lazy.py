"""What a run pays for on first use only: a module (``LazyModule``) and a compiled regular
expression (``LazyPattern``, and ``defer_compiling`` for one that another package compiles as
it is imported). Every commit's hook pays each import and each compile at start-up, and a
clean run never needs some of them."""
import re
import sys

_compile = re.compile  # re's own, whatever ``defer_compiling`` later puts in its place


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
        compiled = _compile(self.pattern)
        for name in ("search", "match", "fullmatch", "sub", "finditer", "findall", "split"):
            setattr(self, name, getattr(compiled, name))
        return getattr(compiled, attribute)


# PyYAML's pure-Python reader compiles this class over all of Unicode as it is imported: 4.5 to
# 6 ms, a third of ``import yaml``. The C parser, which is what a run parses with, never uses it.
YAML_READER_NON_PRINTABLE = "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"


def defer_compiling(*sources: str) -> None:
    """From now on in this process, ``re.compile(source)`` (no flags) for each of ``sources``
    gives a ``LazyPattern``, compiled if it is ever used; every other compile is re's own.
    Only for a process that is the tool's alone (``cli.console_main``): a library must not
    change ``re`` under the program that imports it."""
    if getattr(re.compile, "deferred", None) is not None:
        re.compile.deferred.update(sources)
        return

    def compile(pattern, flags=0):
        if not flags and isinstance(pattern, str) and pattern in compile.deferred:
            return LazyPattern(pattern)
        return _compile(pattern, flags)

    compile.deferred = set(sources)
    compile.__doc__ = _compile.__doc__
    re.compile = compile
