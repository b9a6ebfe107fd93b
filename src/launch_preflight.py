"""Launcher preflight: ``python -m src.launch_preflight CONFIG`` prints one line of JSON,
``{"rollout_backend": str, "vllm_mode": str|null, "server_base_urls": [str, ...], ...}`` plus
the rollout server's settings (see ``src.config.rollout.preflight``), from the same loader
and normalizer the trainer uses. Exit 1 (message on stderr) when the profile breaks the
contract or the launcher could not manage its rollout server."""
from __future__ import annotations

import json
import os
import sys
from typing import List, Optional

from stage2_lint.core.escape import printable_lines
from stage2_lint.guard import ConfigContractError
from stage2_lint.contracts.settings import settings_for
from stage2_lint.tree.layout import config_root

from src.config.loader import ConfigLoader
from src.config.rollout import launch_problems, normalize_rollout, preflight


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m src.launch_preflight CONFIG", file=sys.stderr)
        return 2
    try:  # settings errors (SettingsError is a ValueError) are refused like profile errors
        settings = settings_for(argv[0])  # read once: the loader and the repository root share it
        config = ConfigLoader(settings).load_profile(argv[0]).config
        repo_root = os.path.dirname(config_root(settings, argv[0]))
        plan = preflight(normalize_rollout(config), config, repo_root)
    except (ConfigContractError, ValueError, OSError) as error:
        print(printable_lines(f"preflight: {error}"), file=sys.stderr)
        return 1
    problems = launch_problems(plan)
    if problems:
        print(printable_lines(f"preflight: {argv[0]}: " + "\n".join(problems)), file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(plan) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
