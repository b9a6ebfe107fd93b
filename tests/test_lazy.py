"""``core.lazy``: what a run pays for on first use only must behave as what it stands for."""
import re
import subprocess
import sys

from stage2_lint.core import escape
from stage2_lint.core.lazy import LazyModule, LazyPattern
from stage2_lint.documents import document


def test_a_lazy_pattern_answers_as_the_compiled_pattern():
    source = r"(\d+)-(\w+)"
    lazy, compiled = LazyPattern(source), re.compile(source)
    text = "12-ab 34-cd"
    assert lazy.search(text).groups() == compiled.search(text).groups()
    assert lazy.sub(r"\2", text) == compiled.sub(r"\2", text)
    assert lazy.findall(text) == compiled.findall(text) and lazy.pattern == compiled.pattern
    assert lazy.match("x") is None and lazy.fullmatch("1-a").group(2) == "a"


def test_a_lazy_module_is_imported_on_first_read_only():
    script = ("import sys\nfrom stage2_lint.core.lazy import LazyModule\nm = LazyModule('wave')\n"
              "before = 'wave' in sys.modules\nm.Error\nprint(before, 'wave' in sys.modules, m.open is m.open)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "True", "True"], result.stderr
    assert LazyModule("json").dumps([1]) == "[1]"


def test_the_ascii_check_of_a_document_refuses_exactly_the_full_checks_ascii_characters():
    """ASCII text is checked with a smaller pattern; on every ASCII character it must agree with
    the whole class, the oracle (its non-ASCII door: ``test_hostile``)."""
    for code in range(128):
        char = chr(code)
        assert bool(document._FORBIDDEN_ASCII.search(char)) == bool(document._FORBIDDEN.search(char)), hex(code)


def test_text_escaping_through_the_lazy_pattern_still_escapes_each_kind_of_character():
    assert escape.printable("a\u202eb\x1bc\ud800") == "a\\u202eb\\x1bc\\ud800"
    assert escape.printable("plain") == "plain" and escape.printable("caf\u00e9") == "caf\u00e9"


# The characters the YAML reader refuses, as PyYAML's pure reader writes them (its
# ``NON_PRINTABLE``, written out here so that the test does not read the code under test).
_YAML_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]")


def test_the_byte_check_of_a_file_refuses_exactly_the_characters_yaml_refuses():
    """A file read from disk is checked on its UTF-8 bytes; over every code point UTF-8 can
    hold, it must find exactly the characters the YAML reader refuses, each whole."""
    every = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)
    data = every.encode("utf-8")
    found = sorted((match.start(), match.group().decode("utf-8")) for pattern in (
        document._FORBIDDEN_ASCII_BYTES, document._FORBIDDEN_WIDE_UTF8) for match in pattern.finditer(data))
    assert [char for _, char in found] == _YAML_NON_PRINTABLE.findall(every)


def test_a_file_and_its_text_are_refused_at_the_same_place_with_the_same_words():
    for text in ("a: caf\u00e9\nb: \u00e9\u00e9\x1b\n", "a: \u4e2d\u6587\nb: x\u0086y\n", "k: \U0001f600 \ufffe\n",
                 "a: 1\nb: x\x00y\n", "\u00e9: 1\n\u00e9\u00e9: \uffff\n", "a: \u0085\u00a0\x1b \u0086\n",
                 "a: \u00b0\u0086 \x1b\n", "a: \uffbf\uffbe \uffff\n"):
        for data in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8")):
            from_file = document.load_bytes(data, "x.yaml").problems
            assert from_file == document.load_text(text, "x.yaml").problems and len(from_file) == 1, text
