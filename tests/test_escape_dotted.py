"""``dotted``'s fast path for short printable names gives what escaping each name gives."""
from hypothesis import example, given, settings, strategies as st

from stage2_lint.core.escape import QUOTE_LIMIT, clip, dotted, printable


def _reference(keys) -> str:
    return ".".join(printable(clip(str(key))) for key in keys)


NAMES = st.one_of(st.text(max_size=8), st.text(alphabet="ab.\n\x1b\x7f\u2028", max_size=4),
                  st.text(min_size=QUOTE_LIMIT - 2, max_size=QUOTE_LIMIT + 2), st.integers(), st.booleans())


@settings(max_examples=300, derandomize=True)
@given(st.lists(NAMES, max_size=5))
@example(["a" * QUOTE_LIMIT])  # exactly at the limit: kept whole
@example(["a" * (QUOTE_LIMIT + 1)])  # one over: clipped
@example(["a" * 60, "b" * 60])  # each short, together over the limit: the general path, same text
@example(["model", "\x1b[31m"])
@example(["training", 3])
def test_dotted_is_each_name_clipped_and_escaped(keys):
    assert dotted(keys) == dotted(iter(keys)) == _reference(keys)
