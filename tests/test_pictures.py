"""The hierarchy pictures of a 200-file tree (tests/picture_tree.py), committed under docs/:
their sources are today's graph output, Graphviz and the Mermaid CLI render them, and the
images stay readable (no side past a few thousand pixels, every file drawn, the files with
errors outlined). ``python tests/test_pictures.py`` writes them anew."""
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

import picture_tree
from conftest import REPO, run_cli_process, write_tree

DOCS = REPO / "docs"
MAX_SIDE = 5000  # pixels: a picture a reader can pan, not a strip 14,000 pixels long
MERMAID_CLI = shutil.which("mmdc") or os.environ.get("STAGE2_LINT_MMDC")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed (.ci/run installs it)")
needs_mermaid = pytest.mark.skipif(not (MERMAID_CLI and CHROMIUM),
                                   reason="the Mermaid CLI and Chromium are not installed (.ci/run installs them)")


def _tree(root: Path) -> None:
    write_tree(root, picture_tree.files(), contract=False)
    (root / ".git").mkdir(exist_ok=True)


def _graph(root: Path, fmt: str) -> str:
    result = run_cli_process(["graph", "--format", fmt], cwd=root)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _png_size(path: Path):
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def _svg_size(text: str):
    width, height = re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', text).groups()
    return float(width), float(height)


def render_dot(source: str, target: Path) -> None:
    subprocess.run(["dot", "-Tpng", "-o", str(target)], input=source, text=True, check=True, timeout=300)


def render_mermaid(source: str, target: Path, work: Path) -> None:
    (work / "puppeteer.json").write_text(json.dumps({"executablePath": CHROMIUM, "args": ["--no-sandbox"]}))
    (work / "graph.mmd").write_text(source)
    subprocess.run([MERMAID_CLI, "--quiet", "-p", str(work / "puppeteer.json"), "-i", str(work / "graph.mmd"),
                    "-o", str(target)], check=True, capture_output=True, timeout=300)


def test_the_committed_sources_are_todays_graph_output(tmp_path):
    _tree(tmp_path)
    assert (DOCS / "hierarchy-200.dot").read_text() == _graph(tmp_path, "dot")
    assert (DOCS / "hierarchy-200.mmd").read_text() == _graph(tmp_path, "mermaid")


def test_the_graph_draws_every_file_and_bundles_siblings(tmp_path):
    _tree(tmp_path)
    data = json.loads(_graph(tmp_path, "json"))
    assert len(data["nodes"]) == 200
    dot = _graph(tmp_path, "dot")
    labels = re.findall(r'\[label="([^"\\]+)\\n', dot)
    assert sorted(labels) == sorted(os.path.basename(node["label"]) for node in data["nodes"])
    assert re.findall(r'label="(\d+ files extending [^"]+)"', dot) == [
        "117 files extending base.yaml", "60 files extending base.yaml"]
    with_errors = {node["id"] for node in data["nodes"] if node["errors"]}
    outlined = set(re.findall(r"(n\d+) \[label=[^\n]*penwidth=2.5\];", dot))
    assert with_errors and outlined == with_errors


@needs_dot
def test_graphviz_renders_a_readable_png(tmp_path):
    _tree(tmp_path)
    render_dot(_graph(tmp_path, "dot"), tmp_path / "tree.png")
    width, height = _png_size(tmp_path / "tree.png")
    assert max(width, height) <= MAX_SIDE and min(width, height) >= 600, (width, height)
    assert _png_size(DOCS / "hierarchy-200.png") == (width, height)


@needs_mermaid
def test_the_mermaid_cli_renders_a_readable_svg(tmp_path):
    _tree(tmp_path)
    render_mermaid(_graph(tmp_path, "mermaid"), tmp_path / "tree.svg", tmp_path)
    svg = (tmp_path / "tree.svg").read_text()
    width, height = _svg_size(svg)
    assert max(width, height) <= MAX_SIDE, (width, height)
    data = json.loads(_graph(tmp_path, "json"))
    assert all(os.path.basename(node["label"]) in svg for node in data["nodes"])
    assert (DOCS / "hierarchy-200.svg").is_file() and _svg_size((DOCS / "hierarchy-200.svg").read_text())


def main() -> None:
    """Write docs/hierarchy-200.{dot,mmd,png,svg} from today's graph output."""
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        _tree(root)
        dot, mermaid = _graph(root, "dot"), _graph(root, "mermaid")
        (DOCS / "hierarchy-200.dot").write_text(dot)
        (DOCS / "hierarchy-200.mmd").write_text(mermaid)
        render_dot(dot, DOCS / "hierarchy-200.png")
        render_mermaid(mermaid, DOCS / "hierarchy-200.svg", root)


if __name__ == "__main__":
    main()
