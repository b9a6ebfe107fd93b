"""S2P001: Python code that reads a key prefix a contract moved (``moved = old -> new``), such
as a retired ``custom.extra.sampler`` now at top-level ``sampler``."""
import re
from functools import lru_cache

from stage2_lint.checking.rule import Example, Rule, Target
from stage2_lint.core.lazy import LazyModule

ast = LazyModule("ast")  # a YAML run never reaches this rule: it does not pay for ast


def _accessed_name(node):
    """The key or attribute a node reads: x["k"], x.get("k"), getattr(x, "k"), x.k."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return node.slice.value, node.value
    if isinstance(node, ast.Attribute):
        return node.attr, node.value
    if not isinstance(node, ast.Call) or not node.args:
        return None, None
    if _is_getattr(node):  # getattr(x, "k"[, default]): the name is the second argument, whatever follows
        if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            return node.args[1].value, node.args[0]
        return None, None
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "pop", "setdefault") \
            and isinstance(node.args[0], ast.Constant):
        return node.args[0].value, node.func.value
    return None, None


def _is_getattr(node) -> bool:
    return isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr")


def _reads(node, name: str) -> bool:
    """Does ``node`` stand for the key ``name`` (a variable so named, or a read of it)?"""
    if isinstance(node, ast.Name):
        return node.id == name
    return _accessed_name(node)[0] == name


@lru_cache(maxsize=None)
def _dotted(old: tuple) -> "re.Pattern":
    """A dotted lookup path under the moved prefix, written from any of its last components on."""
    tails = [r"\.".join(map(re.escape, old[start:])) for start in range(max(0, len(old) - 2) + 1)]
    return re.compile(rf"^(?:{'|'.join(tails)})(?:\.\w+)*$")


def check(ctx):
    for move in ctx.moves:
        old, new = ".".join(move.old), ".".join(move.new)
        for node in ast.walk(ctx.tree):
            name, receiver = _accessed_name(node)
            if len(move.old) >= 2 and name == move.old[-1] and receiver is not None \
                    and _reads(receiver, move.old[-2]):
                yield RULE.violation(ctx, (node.lineno, node.col_offset + 1),
                                     f"reads the retired {old} namespace; read {new} (the normalized config) instead")
            elif _is_lookup_string(node, ctx.parents, move.old):
                rest = node.value.split(move.old[-1], 1)[1]
                yield RULE.violation(ctx, (node.lineno, node.col_offset + 1),
                                     f"looks up {node.value!r}, under the retired {old} namespace; use {new + rest!r}")


def _is_lookup_string(node, parents, old: tuple) -> bool:
    """A dotted path under the moved prefix used as a lookup key (call argument or subscript), not prose."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and _dotted(old).match(node.value)):
        return False
    return isinstance(parents.get(node), (ast.Call, ast.Subscript))


RULE = Rule(
    code="S2P001",
    name="moved-key-read",
    summary="Python code reads a key prefix the contract moved (e.g. `custom.extra.sampler`).",
    rationale="A second reader of the retired namespace is a second truth: a profile fixed to "
              "the new namespace would silently lose the knob in that code path.",
    fix="Read the keys from their new prefix, in the normalized config the loader hands over.",
    settings=('moved',),
    check=check,
    target=Target.SOURCE,
    passing=(Example("cfg = config['sampler']\nbatch = cfg.get('draw_batch_size', 1)\n",
                     path="src/example.py"),),
    failing=(Example("x = cfg['custom']['extra']['sampler']\n", path="src/example.py", marks=("1:5",),
                     fixed="x = cfg['sampler']\n"),
             Example("x = extra.get('sampler')\n", path="src/example.py", marks=("1:5",),
                     fixed="x = config.get('sampler')\n"),
             Example("x = getattr(getattr(custom, 'extra'), 'sampler')\n", path="src/example.py",
                     marks=("1:5",), fixed="x = getattr(trainer, 'sampler_cfg')\n"),
             Example("x = select(cfg, 'custom.extra.sampler.draw_batch_size')\n", path="src/example.py",
                     marks=("1:17",), fixed="x = select(cfg, 'sampler.draw_batch_size')\n")),
)
