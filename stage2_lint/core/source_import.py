"""Loading the typed config class a contract's ``schema_source`` names, without the
application around it.

A repository's config module usually sits in a package whose ``__init__`` imports the
loader, the training framework and torch: importing it the normal way needs the whole
training stack (gigabytes) just to export or check a schema. So:

- the module is executed from its own file, and the packages above it are bare namespaces
  (their ``__init__.py`` is not run); its imports of siblings still work;
- the modules named in the contract's ``schema_stand_ins`` (``torch``, ``swift``, ...) are
  stand-ins for the duration: any attribute, call, subscript or subclass of them works, so a
  module that only *mentions* the framework imports without it. A field annotated with a
  stand-in type is then an export error naming ``module:Class.field``, never a silent pass;
- only a module file inside the project is executed: settings never make this tool run code
  from elsewhere.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
import types
from contextlib import contextmanager
from collections.abc import Iterable, Iterator


class SourceError(ValueError):
    """The ``module:Class`` cannot be loaded (exit code 2); the message says why."""


def load_class(spec: str, project_dir: str, setting: str = "schema_source") -> type:
    """The object ``spec`` (``module:Class``) names, its module run from its file inside
    ``project_dir``. For ``section_classes`` (the training framework's argument class), a
    module that is not the repository's is imported as installed, unless it is a stand-in."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise SourceError(f"{setting} {spec!r} must have the form module:Class")
    project = os.path.realpath(project_dir)
    path = module_file(module_name, project)
    if path is None and setting == "schema_source":
        raise SourceError(f"{setting} {spec!r}: no module {module_name} inside {project} "
                          f"(stage2-lint imports only the repository's own code)")
    try:
        target = _module(module_name, path, project) if path else importlib.import_module(module_name)
        for name in attribute.split("."):
            target = getattr(target, name)
    except SourceError:
        raise
    except Exception as error:  # whatever the module's own code raised while it ran
        raise SourceError(f"{setting} {spec!r}: importing {module_name} failed: "
                          f"{type(error).__name__}: {error} (a module it needs can be stood in for with "
                          f"schema_stand_ins)") from None
    if is_stand_in(target):
        raise SourceError(f"{setting} {spec!r} names a stand-in from schema_stand_ins; install {module_name} "
                          f"where the schema is exported, or bind a class of the repository's own")
    return target


def module_file(module_name: str, project: str) -> str | None:
    """The file of ``module_name`` below ``project`` (a module or a package), else None."""
    base = os.path.join(project, *module_name.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate) and os.path.realpath(candidate).startswith(project + os.sep):
            return candidate
    return None


def _module(module_name: str, path: str, project: str) -> types.ModuleType:
    loaded = sys.modules.get(module_name)
    if loaded is not None:  # already imported (the training code itself, a test)
        if not os.path.realpath(getattr(loaded, "__file__", "") or "").startswith(project + os.sep):
            raise SourceError(f"{module_name} was imported from outside {project}")
        return loaded
    _bare_packages(module_name, project)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def _bare_packages(module_name: str, project: str) -> None:
    """Register each package above ``module_name`` as a namespace of its directory, without
    running its ``__init__.py`` (unless it is already imported)."""
    parts = module_name.split(".")[:-1]
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [os.path.join(project, *parts[:depth])]
            sys.modules[name] = package


# -- stand-ins ----------------------------------------------------------------------------

class _StandInType(type):
    """The type of a stand-in: every attribute is another stand-in, and calling or
    subscripting one gives a stand-in back. A class *derived* from a stand-in is an ordinary
    class (its instances are made normally)."""

    def __getattr__(cls, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return stand_in(f"{cls.__qualname__}.{name}")

    def __getitem__(cls, item):
        return cls

    def __iter__(cls):  # without it, `x in stand_in` would subscript 0, 1, 2, ... forever
        raise TypeError(f"{cls.__qualname__} is a stand-in")

    def __call__(cls, *args, **kwargs):
        if cls.__dict__.get("_stand_in"):
            if len(args) == 1 and callable(args[0]) and not kwargs:
                return args[0]  # used as a decorator: keep what it decorates
            return cls
        return super().__call__(*args, **kwargs)

    def __or__(cls, other):
        return cls

    __ror__ = __or__


def is_stand_in(value) -> bool:
    return isinstance(value, _StandInType) and bool(value.__dict__.get("_stand_in"))


def stand_in(name: str) -> type:
    return _StandInType(name, (), {"_stand_in": True, "__qualname__": name, "__module__": name.split(".")[0]})


class _StandInModule(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return stand_in(f"{self.__name__}.{name}")


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, names: Iterable[str]):
        self.names = tuple(names)

    def _covers(self, fullname: str) -> bool:
        return any(fullname == name or fullname.startswith(name + ".") for name in self.names)

    def find_spec(self, fullname, path=None, target=None):
        if self._covers(fullname) and fullname not in sys.modules:
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StandInModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module) -> None:
        pass


@contextmanager
def standing_in(names: Iterable[str]) -> Iterator[None]:
    """Within the block, importing any of ``names`` (or a submodule) gives a stand-in,
    unless the real module is already imported. Afterwards the stand-ins are forgotten."""
    names = tuple(names)
    if not names:
        yield
        return
    finder = _StandInFinder(names)
    before = set(sys.modules)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in set(sys.modules) - before:
            if isinstance(sys.modules[name], _StandInModule):
                del sys.modules[name]
