"""``Merge.origin`` follows one key path through a chain instead of merging every key. It must
answer what the whole merge answers: held to ``resolve(path).origin(keys)`` and, for the value
and for whether the key is set at all, to the reference merge of conftest (yaml.safe_load and
a few lines of dict merging)."""
import itertools
import os
import tempfile

import yaml
from hypothesis import example, given, settings, strategies as st

from stage2_lint.documents.keypath import MISSING, get
from stage2_lint.tree.merge import SECTION
from stage2_lint.tree.resolver import Resolver

from conftest import reference_resolve, repo_settings

NAMES = ("a", "b", "c")
KEY_PATHS = [keys for depth in (1, 2, 3) for keys in itertools.product(NAMES, repeat=depth)]
KEY_PATHS.append(("extends",))

values = st.recursive(st.one_of(st.none(), st.integers(0, 3), st.lists(st.integers(0, 3), max_size=2)),
                      lambda inner: st.dictionaries(st.sampled_from(NAMES), inner, max_size=3), max_leaves=8)
contents = st.dictionaries(st.sampled_from(NAMES), values, max_size=3)


@st.composite
def chains(draw):
    """Up to six files; each may extend earlier ones, in any order and with repeats (diamonds
    and a parent listed twice included)."""
    count = draw(st.integers(1, 6))
    files = []
    for index in range(count):
        own = draw(contents)
        parents = draw(st.lists(st.integers(0, index - 1), max_size=3)) if index else []
        if parents:
            own = {"extends": [f"f{parent}.yaml" for parent in parents], **own}
        files.append(own)
    return files


def _origins(resolver, path, exhaustive):
    return {keys: (resolver.merge.resolve(path).origin(keys) if exhaustive else resolver.merge.origin(path, keys))
            for keys in KEY_PATHS}


@settings(max_examples=200, deadline=None, derandomize=not os.environ.get("STAGE2_LINT_EXPLORE"))
@given(chains())
# A later parent's value above an earlier parent's mapping hides the mapping's keys:
@example([{"a": None}, {"a": {"a": None}}, {"extends": ["f1.yaml", "f0.yaml"]}])
# ...unless a newer file's mapping replaced that value (f1's c: null, under f3's c: {}), which
# lets an older file's keys (f0's c.a) back in through another parent:
@example([{"c": {"a": None}}, {"c": None}, {"extends": ["f1.yaml"], "c": {}},
          {"extends": ["f0.yaml", "f2.yaml"]}])
def test_one_key_path_answers_what_the_whole_merge_answers(files):
    with tempfile.TemporaryDirectory() as project:
        configs = os.path.join(project, "configs")
        os.mkdir(configs)
        for index, own in enumerate(files):
            with open(os.path.join(configs, f"f{index}.yaml"), "w", encoding="utf-8") as handle:
                yaml.safe_dump(own, handle, sort_keys=False)
        cwd = os.getcwd()
        os.chdir(project)
        try:
            project_settings = repo_settings(project)
            for index in range(len(files)):
                path = f"configs/f{index}.yaml"
                walked = _origins(Resolver(project_settings), path, exhaustive=False)
                merged = _origins(Resolver(project_settings), path, exhaustive=True)
                assert walked == merged, path
                reference = reference_resolve(path)
                for keys, origin in walked.items():
                    value = get(reference, keys)
                    assert (origin is None) == (value is MISSING), (path, keys)
                    if origin is not None:
                        assert origin.value == (SECTION if isinstance(value, dict) else value), (path, keys)
        finally:
            os.chdir(cwd)


def test_a_broken_chain_has_no_origin(tree):
    root = tree({"configs/leaf.yaml": "extends: missing.yaml\na: 1\n"})
    merge = Resolver(repo_settings(str(root))).merge
    assert not merge.resolvable("configs/leaf.yaml")
    assert merge.origin("configs/leaf.yaml", ("a",)) is None


def test_a_diamond_is_asked_once_per_file(tree, monkeypatch):
    """Each file of a lattice of diamonds answers once: the walk is linear in the chain, not
    exponential in its depth."""
    files = {"configs/d0.yaml": "a: {b: 1}\n"}
    for level in range(1, 20):
        files[f"configs/l{level}.yaml"] = f"extends: d{level - 1}.yaml\n"
        files[f"configs/r{level}.yaml"] = f"extends: d{level - 1}.yaml\n"
        files[f"configs/d{level}.yaml"] = f"extends: [l{level}.yaml, r{level}.yaml]\n"
    root = tree(files)
    merge = Resolver(repo_settings(str(root))).merge
    from stage2_lint.tree import merge as merge_module
    asked = []
    real = merge_module._own_answer
    monkeypatch.setattr(merge_module, "_own_answer",
                        lambda tree, keys, path: asked.append(path) or real(tree, keys, path))
    origin = merge.origin("configs/d19.yaml", ("a", "b"))
    assert origin.where() == "configs/d0.yaml:1" and origin.value == 1
    assert len(asked) == len(set(asked))
    asked.clear()
    assert merge.origin("configs/d19.yaml", ("a", "z")) is None  # set nowhere: every file asked
    assert sorted(asked) == sorted(files)


def test_an_origin_names_its_file_in_the_spelling_its_chain_was_asked_by(tmp_path, monkeypatch):
    """Asked by a relative and by an absolute path in one run, in either order, each answer names
    the files in its own spelling (the memo used to keep the first asker's); a parent named once
    relatively and once absolutely is still merged once."""
    from conftest import write_tree

    write_tree(tmp_path, {"configs/base.yaml": "a: 1\n",
                          "configs/leaf.yaml": f"extends: [base.yaml, {tmp_path}/configs/base.yaml]\nb: 2\n"},
               contract=False)
    monkeypatch.chdir(tmp_path)
    relative, absolute = "configs/leaf.yaml", str(tmp_path / "configs/leaf.yaml")
    for first, second in ((relative, absolute), (absolute, relative)):
        resolver = Resolver(repo_settings(tmp_path))
        answers = {path: (resolver.merge.origin(path, ("b",)).path, resolver.merge.resolve(path))
                   for path in (first, second)}
        for path, (leaf, resolved) in answers.items():
            assert leaf == path and resolved.origin(("b",)).path == path
            assert resolved.config == {"a": 1, "b": 2}
        # base.yaml is merged once, in the spelling its chain first reached it by
        assert answers[relative][1].files == ("configs/base.yaml", relative)
        assert answers[relative][1].origin(("a",)).path == "configs/base.yaml"
        assert answers[absolute][1].files == (str(tmp_path / "configs/base.yaml"), absolute)
        assert answers[absolute][1].origin(("a",)).path == str(tmp_path / "configs/base.yaml")
