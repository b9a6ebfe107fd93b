"""The pass/fail matrix in docs/migration.md is produced here, not typed by hand.
Regenerate it with: STAGE2_UPDATE_DOCS=1 .venv/bin/python -m pytest tests/test_migration_matrix.py"""
import os
import re

from stage2_lint.guard import ConfigContractError, enforce
from stage2_tree import BASE, LEAF

from conftest import REPO, write_tree, repo_settings

DOC = REPO / "docs" / "migration.md"
BEGIN, END = "<!-- matrix:begin -->", "<!-- matrix:end -->"
CANONICAL = ["prod/a_only.yaml", "prod/b_only.yaml", "prod/ab_mixed.yaml",
             "smoke/a_only.yaml", "smoke/b_only.yaml", "smoke/ab_mixed.yaml"]
LEGACY_KEYS = {  # legacy key path -> YAML placing a value there in an otherwise valid leaf
    "custom.extra.rollout_matching.decode_batch_size": "custom:\n  extra:\n    rollout_matching:\n      decode_batch_size: 4\n",
    "custom.extra.rollout_matching.rollout_backend": "custom:\n  extra:\n    rollout_matching:\n      rollout_backend: vllm\n",
    "custom.extra.rollout_matching.vllm.mode": "custom:\n  extra:\n    rollout_matching:\n      vllm:\n        mode: server\n",
    "custom.extra.rollout_matching.vllm.server.servers": (
        "custom:\n  extra:\n    rollout_matching:\n      vllm:\n        server:\n          servers:\n"
        "            - base_url: http://127.0.0.1:8000\n"),
}


def _matrix(tmp_path) -> str:
    rows = ["| profile or legacy key | result | message |", "| --- | --- | --- |"]
    settings = repo_settings(str(REPO))
    for leaf in CANONICAL:
        enforce(str(REPO / "configs/stage2_ab" / leaf), settings)  # raises on any error
        rows.append(f"| `configs/stage2_ab/{leaf}` | loads | |")
    for dotted, snippet in LEGACY_KEYS.items():
        write_tree(tmp_path, {"configs/stage2_ab/base.yaml": BASE, "configs/stage2_ab/prod/leaf.yaml": LEAF + snippet})
        try:
            enforce("configs/stage2_ab/prod/leaf.yaml", repo_settings(str(tmp_path)))
            rows.append(f"| `{dotted}` | loads (unexpected) | |")
        except ConfigContractError as error:
            [line] = [v.format() for v in error.violations]
            rows.append(f"| `{dotted}` | fails fast | `{line}` |")
    return "\n".join(rows) + "\n"


def test_matrix_in_docs_is_current(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    matrix = _matrix(tmp_path)
    for dotted in LEGACY_KEYS:
        assert f"move it to {dotted.replace('custom.extra.', '')}`" in matrix
    text = DOC.read_text()
    block = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, re.S)
    if os.environ.get("STAGE2_UPDATE_DOCS"):
        DOC.write_text(text.replace(block.group(0), f"{BEGIN}\n{matrix}{END}"))
        return
    assert block.group(1) == matrix, "docs/migration.md matrix is stale; rerun with STAGE2_UPDATE_DOCS=1"
