"""This repository's own Stage-2 AB contract in miniature: a canonical base and a leaf that
obeys every rule (the package's rule examples use a generic contract of their own)."""
LEAF_PATH = "configs/stage2_ab/prod/leaf.yaml"
BASE_PATH = "configs/stage2_ab/base.yaml"

BASE = """\
training:
  per_device_eval_batch_size: 4
rollout_matching:
  decode_batch_size: 4
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
stage2_ab:
  schedule:
    b_ratio: 0.5
  n_softctx_iter: 2
"""
