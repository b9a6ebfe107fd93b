"""A 200-file profile tree for the hierarchy pictures (docs/hierarchy-200.*): one contract
with a required base, canonical prod/ and smoke/ leaves, variants off the surface, a retired
parent, and a few leaves that break the contract, the way a grown repository looks."""

SETTINGS = """\
[stage2_lint.contract.fleet]
scope = configs/**/*.yaml
canonical = configs/fleet/prod/*.yaml configs/fleet/smoke/*.yaml
required_parent = ../base.yaml
retired_parents = configs/fleet/old_base.yaml
"""
TASKS = ("caption", "detect", "ground", "count", "ocr", "vqa", "track", "segment")


def files(total: int = 200) -> dict:
    """``total`` profiles (and the settings file): ``path -> text``."""
    tree = {"setup.cfg": SETTINGS, "configs/fleet/base.yaml": "model: {name: base}\noptim: {lr: 0.001}\n",
            "configs/fleet/old_base.yaml": "model: {name: old}\n"}
    for task in TASKS:
        tree[f"configs/fleet/variants/{task}.yaml"] = f"extends: ../base.yaml\ntask: {{name: {task}}}\n"
    leaves = total - len(tree) + 1  # the settings file is no profile
    for number in range(leaves):
        task = TASKS[number % len(TASKS)]
        surface = "prod" if number % 3 else "smoke"
        parent = "../base.yaml"
        if number % 19 == 5:
            parent = f"../variants/{task}.yaml"  # a chain: S2L012
        elif number % 61 == 7:
            parent = "../old_base.yaml"  # a retired parent: S2L050
        tree[f"configs/fleet/{surface}/{task}_{number:03d}.yaml"] = \
            f"extends: {parent}\nrun: {{name: {task}_{number:03d}}}\n"
    return tree
