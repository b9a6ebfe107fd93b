"""Small trees the rule examples share, under a generic example contract (a recipes family):
a canonical base and a leaf that obeys every rule."""
LEAF_PATH = "configs/recipes/prod/leaf.yaml"
BASE_PATH = "configs/recipes/base.yaml"

BASE = """\
training:
  per_device_eval_batch_size: 4
sampler:
  draw_batch_size: 4
"""

LEAF = """\
extends: ../base.yaml
model:
  model: ckpt/merged
training:
  run_name: leaf
  output_dir: output/leaf
  logging_dir: tb/leaf
  learning_rate: 2.0e-5
  vit_lr: 2.0e-5
  aligner_lr: 5.0e-5
  effective_batch_size: 64
  eval_strategy: steps
  eval_steps: 80
  save_strategy: steps
  save_steps: 200
recipe:
  schedule:
    mix_ratio: 0.5
  refine_steps: 2
"""

TREE = {BASE_PATH: BASE}

# The contract every example runs under: a project with this setup.cfg and schema file, as a
# repository adopting stage2-lint would have them (the package itself knows no contract).
EXAMPLE_SETTINGS = """\
[stage2_lint]
require_contract = true
[stage2_lint.contract.example]
scope = configs/**/*.yaml
canonical = configs/recipes/prod/*.yaml configs/recipes/smoke/*.yaml
required_parent = ../base.yaml
required_keys = model.model training.run_name training.output_dir training.logging_dir training.learning_rate
    training.vit_lr training.aligner_lr training.effective_batch_size training.eval_strategy training.eval_steps
    training.save_strategy training.save_steps recipe.schedule.mix_ratio recipe.refine_steps
retired_parents = configs/recipes/base_old.yaml configs/recipes/prod/base.yaml
schema = schemas/example.schema.json
removed = recipe.legacy.sampler_batch_size -> sampler.draw_batch_size
moved = custom.extra.sampler -> sampler
not_sized_from = sampler.draw_batch_size -> training.per_device_eval_batch_size
"""


def _section(**properties) -> dict:
    return {"type": ["object", "null"], "properties": properties, "additionalProperties": False}


_TEXT = {"type": ["string", "null"]}
_RATE = {"type": "number", "minimum": 0}
_COUNT = {"type": ["integer", "null"], "minimum": 1}
_STRATEGY = {"type": "string", "enum": ["no", "steps", "epoch"]}
EXAMPLE_SCHEMA = {
    "type": "object",
    "properties": {
        "extends": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "model": _section(model=_TEXT),
        "training": _section(run_name=_TEXT, output_dir=_TEXT, logging_dir=_TEXT, learning_rate=_RATE,
                             vit_lr=_RATE, aligner_lr=_RATE, effective_batch_size=_COUNT,
                             per_device_eval_batch_size=_COUNT, eval_strategy=_STRATEGY, eval_steps=_COUNT,
                             save_strategy={"type": "string", "enum": ["no", "steps", "epoch", "best"]},
                             save_steps=_COUNT, max_steps={"type": "integer"}),
        "recipe": _section(schedule=_section(mix_ratio={"type": "number", "minimum": 0, "maximum": 1}),
                           refine_steps=_COUNT, legacy=_section()),
        "sampler": _section(draw_batch_size={"type": "integer", "minimum": 1}, x={"type": "integer"}),
        "custom": _section(extra={"type": ["object", "null"], "x-residual": True}),
    },
    "additionalProperties": False,
}


def example_project() -> dict:
    """The files an example's project holds besides the example itself."""
    import json

    return {"setup.cfg": EXAMPLE_SETTINGS, "schemas/example.schema.json": json.dumps(EXAMPLE_SCHEMA)}
