"""The settings' word and key-list parsers read as the regular expressions they replaced
(``[\\s,]+`` between words, ``\\s*\\|\\s*`` around alternatives, ``[^.|\\s]+(\\.[^.|\\s]+)*``
for a dotted key): those expressions are the oracle, on any text, Unicode whitespace included."""
from __future__ import annotations

import os
import re

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from stage2_lint.contracts.settings import SettingsError, _key_sets, _words


def _words_by_regex(raw: str) -> tuple[str, ...]:
    return tuple(item for item in re.split(r"[\s,]+", raw.strip()) if item)


def _key_sets_by_regex(raw: str):
    keys = _words_by_regex(re.sub(r"\s*\|\s*", "|", raw))
    bad = [key for key in keys if not all(re.fullmatch(r"[^.|\s]+(\.[^.|\s]+)*", part) for part in key.split("|"))]
    return None if bad else keys


def _key_sets_or_none(raw):
    try:
        return _key_sets(raw, "where")
    except SettingsError:
        return None


_CHARACTERS = list("ab.|, \t\n_0é") + ["\x0b", "\x1c", "\x85", "\xa0", "\u2028", "\u3000"]
_TEXT = st.text(alphabet=st.sampled_from(_CHARACTERS), max_size=24)


@hypothesis_settings(max_examples=1500, deadline=None, derandomize=not os.environ.get("STAGE2_LINT_EXPLORE"))
@given(_TEXT)
def test_words_and_key_lists_read_as_their_regular_expressions(raw):
    assert _words(raw, "where") == _words_by_regex(raw)
    assert _key_sets_or_none(raw) == _key_sets_by_regex(raw)


@pytest.mark.parametrize("raw, keys", [
    ("model.model training.run_name", ("model.model", "training.run_name")),
    ("a.b | c.d,\n  e", ("a.b|c.d", "e")),
    ("a..b", None), ("a. b", None), ("|a", None), ("a|", None), (".a", None),
])
def test_the_usual_key_lists(raw, keys):
    assert _key_sets_or_none(raw) == keys == _key_sets_by_regex(raw)
