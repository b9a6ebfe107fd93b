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
