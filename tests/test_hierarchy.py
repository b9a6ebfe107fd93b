"""extends resolution: merge semantics, provenance, and the shape of chain failures."""
import os

from hypothesis import given, strategies as st

from stage2_lint.tree.resolver import Resolver
from stage2_lint.core.records import Kind
from stage2_lint.checking.rules import as_violations

from conftest import requires_shared, repo_settings


def _resolver(tmp_path):
    return Resolver(repo_settings(str(tmp_path)))


def test_deep_merge_child_wins_lists_replaced_whole(tree):
    root = tree({
        "configs/base.yaml": "a: {x: 1, y: [1, 2, 3], z: {p: 1}}\nkeep: true\n",
        "configs/leaf.yaml": "extends: base.yaml\na: {x: 2, y: [9], z: {q: 2}}\n",
    })
    resolved = _resolver(root).merge.resolve("configs/leaf.yaml")
    assert resolved.config == {"a": {"x": 2, "y": [9], "z": {"p": 1, "q": 2}}, "keep": True}
    assert resolved.files == ("configs/base.yaml", "configs/leaf.yaml")


def test_later_parent_wins_over_earlier_then_child(tree):
    root = tree({
        "configs/p1.yaml": "a: 1\nb: 1\nc: 1\n",
        "configs/p2.yaml": "b: 2\nc: 2\n",
        "configs/leaf.yaml": "extends: [p1.yaml, p2.yaml]\nc: 3\n",
    })
    assert _resolver(root).merge.resolve("configs/leaf.yaml").config == {"a": 1, "b": 2, "c": 3}


def test_provenance_keeps_the_override_chain_winner_last(tree):
    root = tree({
        "configs/base.yaml": "training:\n  eval_steps: 20\n  seed: 17\n",
        "configs/mid.yaml": "extends: base.yaml\ntraining:\n  eval_steps: 80\n",
        "configs/leaf.yaml": "extends: mid.yaml\n\ntraining:\n  eval_steps: 100\n",
    })
    resolved = _resolver(root).merge.resolve("configs/leaf.yaml")
    chain = resolved.provenance[("training", "eval_steps")]
    assert [(o.path, o.line, o.value) for o in chain] == [
        ("configs/base.yaml", 2, 20), ("configs/mid.yaml", 3, 80), ("configs/leaf.yaml", 4, 100)]
    assert resolved.origin(("training", "seed")).where() == "configs/base.yaml:3"


def test_scalar_replacing_a_mapping_drops_provenance_below(tree):
    root = tree({"configs/base.yaml": "a: {b: 1}\n", "configs/leaf.yaml": "extends: base.yaml\na: 5\n"})
    resolved = _resolver(root).merge.resolve("configs/leaf.yaml")
    assert resolved.config == {"a": 5}
    assert ("a", "b") not in resolved.provenance


def test_a_later_parent_wins_with_what_it_shares_with_an_earlier_one(tree):
    """A diamond: mid already holds base's keys, and base, listed after it, merges them in again
    and wins. The winner provenance names is the file whose value the config holds."""
    root = tree({"configs/base.yaml": "a: 1\n",
                 "configs/mid.yaml": "extends: base.yaml\na: 2\n",
                 "configs/leaf.yaml": "extends: [mid.yaml, base.yaml]\n"})
    resolved = _resolver(root).merge.resolve("configs/leaf.yaml")
    assert resolved.config == {"a": 1}
    assert (resolved.origin(("a",)).where(), resolved.origin(("a",)).value) == ("configs/base.yaml:1", 1)


def test_a_later_parents_value_drops_an_earlier_parents_keys_below_it(tree):
    root = tree({"configs/p1.yaml": "a: {b: 1}\n", "configs/p2.yaml": "a: 5\n",
                 "configs/leaf.yaml": "extends: [p1.yaml, p2.yaml]\n"})
    resolved = _resolver(root).merge.resolve("configs/leaf.yaml")
    assert resolved.config == {"a": 5}
    assert ("a", "b") not in resolved.provenance


def test_cycle_message_shows_the_whole_chain(tree):
    root = tree({"configs/a.yaml": "extends: b.yaml\n", "configs/b.yaml": "extends: c.yaml\n",
                 "configs/c.yaml": "extends: a.yaml\n"})
    problems = as_violations("configs/a.yaml", _resolver(root).extends.lineage_problems("configs/a.yaml"))
    assert [v.format() for v in problems] == [
        "configs/a.yaml:1:10: S2L011 extends cycle: configs/a.yaml -> configs/b.yaml -> configs/c.yaml -> "
        "configs/a.yaml"]


def test_each_file_is_loaded_once(tree, monkeypatch):
    from stage2_lint.tree import store

    root = tree({"configs/base.yaml": "a: 1\n", **{f"configs/l{i}.yaml": "extends: base.yaml\n" for i in range(5)}})
    loads = []
    real = store.load_document
    monkeypatch.setattr(store, "load_document", lambda path, limits: loads.append(path) or real(path, limits))
    resolver = _resolver(root)
    for i in range(5):
        resolver.merge.resolve(f"configs/l{i}.yaml")
    assert sorted(loads) == ["configs/base.yaml"] + [f"configs/l{i}.yaml" for i in range(5)]


def test_root_defaults_to_outermost_configs_dir(tree):
    root = tree({"configs/sub/configs/x.yaml": "extends: ../../top.yaml\n", "configs/top.yaml": "a: 1\n"})
    assert _resolver(root).extends.lineage_problems("configs/sub/configs/x.yaml") == []


def test_configured_root_is_enforced(tree):
    root = tree({"configs/a/x.yaml": "extends: ../b/y.yaml\n", "configs/b/y.yaml": "a: 1\n"})
    resolver = Resolver(repo_settings(str(root))._replace(root="configs/a"))
    [problem] = resolver.extends.lineage_problems("configs/a/x.yaml")
    assert problem.kind is Kind.EXTENDS_UNRESOLVABLE and "outside the config root configs/a" in problem.message


@requires_shared
def test_pure_python_parser_fallback_builds_the_same_trees(monkeypatch):
    """Without libyaml the pure parser is used; it must give the same values, marks and problems."""
    import yaml

    from stage2_lint.documents import document
    from conftest import REAL

    paths = sorted(REAL.rglob("*.yaml"))[:60] + [REAL.parent / "README.md"]
    fast = {p: document.load_document(str(p)) for p in paths}
    monkeypatch.setattr(document, "_Loader", yaml.SafeLoader)
    for path in paths:
        slow = document.load_document(str(path))
        assert slow.root == fast[path].root, path
        found = [(v.line, v.col, v.kind) for v in slow.problems]
        assert found == [(v.line, v.col, v.kind) for v in fast[path].problems], path
        if slow.root is not None:
            assert slow.root.key_marks == fast[path].root.key_marks


def _configs_walked_up(directory: str, top: str):
    """The oracle: the outermost directory named ``configs`` walking up from ``directory``
    to ``top`` (or ``/``), one directory at a time, nothing remembered."""
    found, probe = None, directory
    while True:
        if os.path.basename(probe) == "configs":
            found = probe
        if probe == top or os.path.dirname(probe) == probe:
            return found
        probe = os.path.dirname(probe)


_SEGMENTS = st.lists(st.sampled_from(["configs", "a", "b", "configs.d"]), max_size=6)


@given(st.lists(st.tuples(_SEGMENTS, st.integers(0, 7)), min_size=1, max_size=25))
def test_the_remembered_configs_directories_are_what_walking_up_finds_in_any_order(asked):
    """Directories and their tops (an ancestor, the directory itself, or none: up to ``/``),
    asked in any order with one memo, against a walk that remembers nothing."""
    from stage2_lint.tree import layout

    layout.forget()
    for segments, cut in asked:
        directory = "/" + "/".join(segments) if segments else "/"
        parts = directory.rstrip("/").split("/")
        top = "/".join(parts[:cut + 1]) or "/" if cut < len(parts) else "/nowhere/else"
        assert layout._configs_up_to(directory, top) == _configs_walked_up(directory, top), (directory, top)
    layout.forget()
