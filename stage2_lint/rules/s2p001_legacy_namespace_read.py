"""S2P001: Python code that reads the retired ``custom.extra.rollout_matching`` namespace."""
import ast
import re

from stage2_lint.rule import Example, Rule

_DOTTED = re.compile(r"^(custom\.)?extra\.rollout_matching(\.\w+)*$")


def _accessed_name(node):
    """The key or attribute a node reads: x["k"], x.get("k"), getattr(x, "k"), x.k."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return node.slice.value, node.value
    if isinstance(node, ast.Attribute):
        return node.attr, node.value
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[-1 if _is_getattr(node) else 0], ast.Constant):
        if _is_getattr(node) and len(node.args) >= 2:
            return node.args[1].value, node.args[0]
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "pop", "setdefault"):
            return node.args[0].value, node.func.value
    return None, None


def _is_getattr(node) -> bool:
    return isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr")


def _reads_extra(node) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "extra"
    name, _ = _accessed_name(node)
    return name == "extra"


def check(ctx):
    for node in ast.walk(ctx.tree):
        name, receiver = _accessed_name(node)
        if name == "rollout_matching" and receiver is not None and _reads_extra(receiver):
            yield RULE.violation(ctx, (node.lineno, node.col_offset + 1),
                                 "reads the retired custom.extra.rollout_matching namespace; read the normalized "
                                 "rollout config (top-level rollout_matching) instead")
        elif _is_lookup_string(node, ctx.parents):
            yield RULE.violation(ctx, (node.lineno, node.col_offset + 1),
                                 f"looks up {node.value!r}, the retired rollout namespace; use "
                                 f"{re.sub(r'^(custom[.])?extra[.]', '', node.value)!r}")


def _is_lookup_string(node, parents) -> bool:
    """A dotted legacy path used as a lookup key (call argument or subscript), not prose."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and _DOTTED.match(node.value)):
        return False
    return isinstance(parents.get(node), (ast.Call, ast.Subscript))


RULE = Rule(
    code="S2P001",
    name="legacy-namespace-read",
    summary="Python code reads `custom.extra.rollout_matching`.",
    rationale="A second reader of the retired namespace is a second truth: a profile fixed to "
              "the new namespace would silently lose the knob in that code path.",
    fix="Take rollout knobs from the normalized rollout config (rollout_matching_cfg).",
    check=check,
    kind="python",
    passing=(Example("cfg = config['rollout_matching']\nbatch = cfg.get('decode_batch_size', 1)\n",
                     path="src/example.py"),),
    failing=(Example("x = cfg['custom']['extra']['rollout_matching']\n", path="src/example.py", marks=("1:5",),
                     fixed="x = cfg['rollout_matching']\n"),
             Example("x = extra.get('rollout_matching')\n", path="src/example.py", marks=("1:5",),
                     fixed="x = config.get('rollout_matching')\n"),
             Example("x = getattr(getattr(custom, 'extra'), 'rollout_matching')\n", path="src/example.py",
                     marks=("1:5",), fixed="x = getattr(trainer, 'rollout_matching_cfg')\n"),
             Example("x = select(cfg, 'custom.extra.rollout_matching.decode_batch_size')\n", path="src/example.py",
                     marks=("1:17",), fixed="x = select(cfg, 'rollout_matching.decode_batch_size')\n")),
)
