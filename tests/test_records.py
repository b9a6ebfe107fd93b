"""``core.records.record`` against its oracle, ``typing.NamedTuple``: a record made from an
annotated class behaves as the NamedTuple of the same body, in every way the package and its
workers (pickle) use one."""
from __future__ import annotations

import pickle
import typing

import pytest

from stage2_lint.core.records import Violation, record


# One class body, made by both: fields with and without defaults, a class constant, a method, a
# property, and an annotation only a postponed evaluation can hold on 3.9.
BODY = """
    \"\"\"A thing with a name.\"\"\"

    name: str
    size: int
    note: str | None = None
    tags: tuple[str, ...] = ()
    UNIT = "bytes"

    def describe(self) -> str:
        return f"{self.name}={self.size}"

    @property
    def doubled(self) -> int:
        return 2 * self.size
"""
_made: dict = {"__name__": __name__, "record": record, "typing": typing}
exec(f"from __future__ import annotations\n@record\nclass Thing:{BODY}\nclass Oracle(typing.NamedTuple):{BODY}",
     _made)
Thing, Oracle = _made["Thing"], _made["Oracle"]  # module names: pickle finds a class by them


@pytest.mark.parametrize("args, kwargs", [(("a", 1), {}), (("a", 1, "n", ("x",)), {}),
                                          (("a",), {"size": 2, "tags": ("y",)})])
def test_a_record_is_what_typing_namedtuple_makes_of_the_same_body(args, kwargs):
    made, oracle = Thing(*args, **kwargs), Oracle(*args, **kwargs)
    assert tuple(made) == tuple(oracle) and made == oracle and hash(made) == hash(oracle)
    assert repr(made) == repr(oracle).replace("Oracle", "Thing", 1)
    assert Thing._fields == Oracle._fields and Thing._field_defaults == Oracle._field_defaults
    assert made._asdict() == oracle._asdict()
    assert made._replace(size=9) == oracle._replace(size=9)
    assert (made.describe(), made.doubled, made.UNIT) == (oracle.describe(), oracle.doubled, oracle.UNIT)
    assert isinstance(made, tuple) and not hasattr(made, "__dict__")
    with pytest.raises(AttributeError):
        made.name = "b"
    with pytest.raises(TypeError):
        Thing()
    assert Thing.__doc__ == "A thing with a name." and Thing.__annotations__["note"] == "str | None"


def test_a_record_crosses_a_process_boundary_as_itself():
    """Workers send their violations to the parent pickled."""
    thing = Thing("a", 1, tags=("x",))
    assert pickle.loads(pickle.dumps(thing)) == thing and type(pickle.loads(pickle.dumps(thing))) is Thing
    violation = Violation("configs/a.yaml", 2, 3, "S2L002", "duplicate key", key_path="a")
    assert pickle.loads(pickle.dumps(violation)) == violation


def test_a_field_without_a_default_after_one_with_a_default_is_refused_as_namedtuple_refuses_it():
    body = "    a: int = 0\n    b: int\n"
    with pytest.raises(TypeError):
        exec(f"class Bad(typing.NamedTuple):\n{body}", {"typing": typing})
    with pytest.raises(TypeError, match="Bad: a field without a default follows one with a default"):
        exec(f"@record\nclass Bad:\n{body}", {"record": record})
