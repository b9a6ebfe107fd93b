"""S2P002: rollout code that sizes decode batches from ``per_device_eval_batch_size``."""
import ast

from stage2_lint.rule import Example, Rule

KNOB = "per_device_eval_batch_size"


def _mentions_knob(node) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute) and inner.attr == KNOB:
            return True
        if isinstance(inner, ast.Constant) and inner.value == KNOB:
            return True
        if isinstance(inner, ast.Name) and inner.id == KNOB:
            return True
    return False


def _decode_target(node) -> bool:
    """Does an assignment target or keyword name a decode batch?"""
    for inner in ast.walk(node):
        name = (inner.id if isinstance(inner, ast.Name) else inner.attr if isinstance(inner, ast.Attribute)
                else inner.value if isinstance(inner, ast.Constant) and isinstance(inner.value, str) else "")
        if "decode" in name.lower():
            return True
    return False


def check(ctx):
    for node in ast.walk(ctx.tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if _mentions_knob(node.value) and any(_decode_target(t) for t in targets):
                yield _violation(ctx, node.value)
        elif isinstance(node, ast.keyword) and node.arg and "decode" in node.arg.lower() and _mentions_knob(node.value):
            yield _violation(ctx, node.value)


def _violation(ctx, node):
    return RULE.violation(ctx, (node.lineno, node.col_offset + 1),
                          "decode batch sized from training.per_device_eval_batch_size; rollout decode and "
                          "rollout-eval microbatching come from rollout_matching.decode_batch_size alone")


RULE = Rule(
    code="S2P002",
    name="eval-batch-drives-decode",
    summary="Rollout code sizes decode batches from `per_device_eval_batch_size`.",
    rationale="One decode knob: if the eval dataloader batch also sized rollout decoding, "
              "changing eval batching would silently change what the rollout servers see.",
    fix="Read decode_batch_size from the normalized rollout config.",
    check=check,
    kind="python",
    passing=(Example("decode_batch_size = rollout_cfg['decode_batch_size']\n"
                     "eval_loader = make(batch_size=args.per_device_eval_batch_size)\n", path="src/example.py"),),
    failing=(Example("decode_batch_size = args.per_device_eval_batch_size\n", path="src/example.py", marks=("1:21",),
                     fixed="decode_batch_size = rollout_cfg['decode_batch_size']\n"),
             Example("client.generate(prompts, decode_batch=cfg['per_device_eval_batch_size'])\n",
                     path="src/example.py", marks=("1:39",),
                     fixed="client.generate(prompts, decode_batch=rollout_cfg['decode_batch_size'])\n")),
)
