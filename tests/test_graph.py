"""stage2-lint graph and the markdown summary: nodes and edges are the resolver's, Graphviz
renders the DOT, Mermaid labels follow the grammar's escaping rules, broken trees are drawn
(not crashed on), and the summary stays small with links to real lines."""
import json
import os
import re
import shutil
import subprocess
from urllib.parse import unquote

import pytest

from stage2_lint.tree.resolver import Resolver
from stage2_lint.contracts.settings import find_settings

from conftest import REPO, requires_shared, run_cli_process, write_tree

FIXTURE = REPO / "tests" / "fixtures" / "legacy"
BROKEN = {"configs/stage2_ab/base.yaml": "training: {seed: 1}\n",
          "configs/stage2_ab/prod/cycle_a.yaml": "extends: cycle_b.yaml\n",
          "configs/stage2_ab/prod/cycle_b.yaml": "extends: cycle_a.yaml\n",
          "configs/stage2_ab/prod/missing.yaml": "extends: [../base.yaml, ../gone.yaml]\n",
          "configs/stage2_ab/prod/outside.yaml": "extends: ../../../../elsewhere.yaml\n"}
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed (.ci/run installs it)")


def _graph(cwd, fmt, *args):
    result = run_cli_process(["graph", "--format", fmt, *args], cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_nodes_and_edges_are_the_resolvers():
    data = json.loads(_graph(REPO, "json"))
    paths = {node["id"]: node["path"] for node in data["nodes"]}
    resolver = Resolver(find_settings(str(REPO)))
    expected = set()
    for node in data["nodes"]:
        for position, ref in enumerate(resolver.extends.parents(str(REPO / node["path"]))[0], start=1):
            expected.add((node["path"], os.path.relpath(ref.path, REPO), position))
    drawn = {(paths[edge["child"]], paths[edge["parent"]], edge["order"]) for edge in data["edges"]}
    assert drawn == expected
    kinds = {node["path"]: node["kind"] for node in data["nodes"]}
    assert kinds["configs/stage2_ab/base.yaml"] == kinds["configs/stage1/base.yaml"] == "required"
    assert kinds["configs/base.yaml"] == "file"
    leaves = ("prod/a_only", "prod/ab_mixed", "prod/b_only", "smoke/a_only", "smoke/ab_mixed", "smoke/b_only")
    assert {path for path, kind in kinds.items() if kind == "canonical"} == {
        *(f"configs/stage2_ab/{name}.yaml" for name in leaves),
        "configs/stage1/prod/coco_desc_first.yaml", "configs/stage1/smoke/coco_desc_first.yaml"}
    leaf = next(node for node in data["nodes"] if node["path"] == "configs/stage2_ab/prod/ab_mixed.yaml")
    assert (leaf["label"], leaf["errors"], leaf["warnings"]) == ("stage2_ab/prod/ab_mixed.yaml", 0, 0)


def test_the_legacy_tree_shows_chains_dual_parents_and_retired_parents(legacy):
    data = json.loads(_graph(legacy, "json", "configs/stage2_ab"))
    kinds = {node["label"]: node["kind"] for node in data["nodes"]}
    assert kinds["stage2_ab/base_rollout_matching_sft.yaml"] == kinds["stage2_ab/base_smoke_runtime.yaml"] == "retired"
    errors = {node["label"]: node["errors"] for node in data["nodes"]}
    assert kinds["stage2_ab/smoke/ab_mixed.yaml"] == "canonical" and errors["stage2_ab/smoke/ab_mixed.yaml"] == 16
    ids = {node["label"]: node["id"] for node in data["nodes"]}
    dual = sorted((edge["order"], edge["parent"]) for edge in data["edges"]
                  if edge["child"] == ids["stage2_ab/smoke/ab_mixed.yaml"])
    assert dual == [(1, ids["stage2_ab/prod/ab_mixed.yaml"]), (2, ids["stage2_ab/base_smoke_runtime.yaml"])]


def test_a_broken_tree_is_drawn_with_marked_nodes(tmp_path):
    write_tree(tmp_path, BROKEN)
    data = json.loads(_graph(tmp_path, "json", "configs/stage2_ab/prod"))
    kinds = {node["label"]: node["kind"] for node in data["nodes"]}
    assert kinds["stage2_ab/prod/cycle_a.yaml"] == kinds["stage2_ab/prod/cycle_b.yaml"] == "cycle"
    assert kinds["stage2_ab/gone.yaml"] == "missing"
    assert [kind for label, kind in kinds.items() if "elsewhere" in label] == ["outside"]
    assert sum(1 for edge in data["edges"] if edge["broken"]) == 2


@needs_dot
@pytest.mark.parametrize("tree", ["canonical", "legacy", "broken"])
def test_graphviz_renders_the_dot_output(tmp_path, tree, legacy):
    if tree == "broken":
        write_tree(tmp_path, BROKEN)
        cwd, args = tmp_path, ["configs/stage2_ab/prod"]
    else:
        cwd, args = (REPO, []) if tree == "canonical" else (legacy, ["configs/stage2_ab"])
    dot_text = _graph(cwd, "dot", *args)
    nodes = json.loads(_graph(cwd, "json", *args))["nodes"]
    rendered = subprocess.run(["dot", "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=60)
    assert rendered.returncode == 0, rendered.stderr
    legend = {node["kind"] for node in nodes} | ({"errors"} if any(node["errors"] for node in nodes) else set())
    assert rendered.stdout.count('class="node"') == len(nodes) + len(legend)


ODD_NAMES = ['with space.yaml', 'quote".yaml', "apostrophe'.yaml", "[brackets].yaml", "(parens){braces}.yaml",
             "hash#pipe|.yaml", "émoji-ü-😀.yaml", "lt<gt>.yaml", "back`tick.yaml", "semi;colon.yaml"]
# A quoted Mermaid label holds no double quote, and a '#' only starts an entity code.
MERMAID_NODE = re.compile(r'^    (n\d+|legend_\w+)\["((?:[^"#]|#\w+;)*)"\]:::\w+$')


def test_mermaid_labels_escape_what_the_grammar_gives_meaning_to(tmp_path):
    files = {f"configs/stage2_ab/prod/{name}": "extends: ../base.yaml\n" for name in ODD_NAMES}
    write_tree(tmp_path, {"configs/stage2_ab/base.yaml": "a: 1\n", **files})
    text = _graph(tmp_path, "mermaid", "configs/stage2_ab/prod")
    lines = text.splitlines()
    assert lines[0] == "flowchart BT"
    nodes = [line for line in lines if line.startswith("    n") and "[" in line]
    assert len(nodes) == len(ODD_NAMES) + 1
    for line in nodes:
        assert MERMAID_NODE.match(line), line
        assert not re.search(r"[<>`|{}\\]", MERMAID_NODE.match(line).group(2).replace("<br/>", "")), line
    for line in lines[1:]:
        assert re.match(r"^  (n\d+ -(->|\.->)(\|\"\d+\"\|)? n\d+|  n\d+\[.*|subgraph legend\[\"legend\"\]|  legend_.*|end|"
                        r"subgraph dir\d+\[\"(?:[^\"#]|#\w+;)*\"\]|style \w+ [\w:#,.\- ]+|"
                        r"classDef \w+ [\w:#,.\- ]+|class n\d+(,n\d+)* errors)$", line), line
    assert "émoji-ü-😀.yaml" in text and "hash#35;pipe#124;.yaml" in text and "quote#quot;.yaml" in text


def _links(markdown_text):
    return re.findall(r"\]\(([^)#]+)#L(\d+)\)", markdown_text)


def test_markdown_summary_for_the_legacy_tree_is_small_and_links_to_real_lines(legacy):
    result = run_cli_process(["--format", "markdown", "configs/stage2_ab"], cwd=legacy)
    assert result.returncode == 1
    text = result.stdout
    assert len(text.encode()) < 64 * 1024
    assert "| S2L013 | dual-parent | 1 |" in text and "```mermaid\nflowchart BT" in text
    links = _links(text)
    assert len(links) == 57
    for path, line in links:
        lines = (legacy / unquote(path)).read_text().splitlines()
        assert 1 <= int(line) <= max(1, len(lines)), (path, line)


@requires_shared
def test_markdown_summary_for_the_real_legacy_tree_stays_under_64_kb(legacy_corpus):
    result = run_cli_process(["--format", "markdown", "configs/stage2_ab"], cwd=legacy_corpus)
    assert len(result.stdout.encode()) < 64 * 1024
    for path, line in _links(result.stdout):
        assert int(line) <= len((legacy_corpus / unquote(path)).read_text().splitlines()) or line == "1"


def test_a_huge_tree_collapses_to_counts_per_directory(tmp_path):
    files = {f"configs/stage2_ab/d{index % 4}/f{index}.yaml": "a: 1\na: 2\n" for index in range(300)}
    write_tree(tmp_path, files)
    result = run_cli_process(["--format", "markdown", "configs"], cwd=tmp_path)
    text = result.stdout
    assert len(text.encode()) < 64 * 1024
    assert "300 files: too many to draw here" in text and "| `stage2_ab/d3` | 75 | 150 | 0 |" in text
    more = int(re.search(r"\| \.\.\. \| \| (\d+) more; run `stage2-lint` for all \|", text).group(1))
    assert len(_links(text)) + more == 600 and len(_links(text)) <= 200


def test_a_big_tree_is_grouped_by_directory_and_runs_left_to_right(tmp_path):
    files = {f"configs/stage2_ab/{side}/leaf{index:02d}.yaml": "extends: ../base.yaml\n"
             for side in ("prod", "smoke") for index in range(18)}
    write_tree(tmp_path, {"configs/stage2_ab/base.yaml": "a: 1\n", **files})
    dot = _graph(tmp_path, "dot", "configs/stage2_ab")
    assert "rankdir=LR;" in dot
    clusters = re.findall(r'subgraph cluster_dir\d+ \{\n    label="([^"]*)"', dot)
    assert clusters == ["stage2_ab", "stage2_ab/prod", "stage2_ab/smoke"]
    mermaid = _graph(tmp_path, "mermaid", "configs/stage2_ab")
    assert mermaid.startswith("flowchart LR\n") and '  subgraph dir1["stage2_ab/prod"]' in mermaid
    assert "  style legend fill:#f9fafb,stroke:#d1d5db,color:#111827" in mermaid
    if shutil.which("dot"):  # Graphviz itself: the picture is taller than wide, not one 36-leaf row
        svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True).stdout
        width, height = (float(value) for value in re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"',
                                                             svg).groups())
        assert height > width


def test_a_reached_parent_with_an_error_is_drawn_with_it_even_when_not_listed(tmp_path):
    write_tree(tmp_path, {"configs/stage2_ab/base.yaml": "a: 1\na: 2\n",
                          "configs/stage2_ab/prod/leaf.yaml": "extends: ../base.yaml\n"})
    data = json.loads(_graph(tmp_path, "json", "configs/stage2_ab/prod/leaf.yaml"))
    base = next(node for node in data["nodes"] if node["path"].endswith("stage2_ab/base.yaml"))
    assert base["errors"] == 2  # S2L002 and S2L060, as `stage2-lint configs/stage2_ab/base.yaml` says


@pytest.mark.parametrize("cached", [False, True], ids=["no-cache", "warm-cache"])
def test_the_markdown_summary_reads_each_file_once(tree, cli, monkeypatch, cached):
    """The summary's graph is drawn from the documents the run parsed: a 14-file tree costs
    14 reads of profiles, not 28 (the format reads no file), with or without a warm cache."""
    from stage2_lint.core import reading

    leaves = {f"configs/stage2_ab/{side}/l{index}.yaml": "extends: ../base.yaml\ntraining: {seed: 1}\n"
              for side in ("prod", "smoke") for index in range(6)}
    root = tree({"configs/stage2_ab/base.yaml": "training: {seed: 0}\n",
                 "configs/stage2_ab/extra.yaml": "a: 1\n", **leaves})
    if cached:
        cli("--format", "markdown", "configs")  # fills the cache
    reads = []
    read_bounded = reading.read_bounded

    def counted(path, limit, what="file"):
        if what == "config":
            reads.append(os.path.relpath(path, root))
        return read_bounded(path, limit, what)

    monkeypatch.setattr(reading, "read_bounded", counted)
    code, out, _ = cli("--format", "markdown", "-j", "1", *(() if cached else ("--no-cache",)), "configs")
    drawn = out.split("```mermaid", 1)[1]
    assert len(set(re.findall(r"^ +(n\d+)\[", drawn, flags=re.M))) == 14  # every file is in the picture
    assert len(reads) == 14 and len(set(reads)) == 14, sorted(reads)
