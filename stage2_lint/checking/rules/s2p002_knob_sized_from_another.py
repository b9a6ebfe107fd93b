"""S2P002: Python code that sizes a knob from another key, where the contract says the knob is
its own (``not_sized_from = knob -> other.key``). In the example contract, the sampler's draw
batch must not follow ``training.per_device_eval_batch_size``: changing eval batching would
silently change what the sampler does."""

from stage2_lint.checking.rule import Example, Rule, Target
from stage2_lint.core.lazy import LazyModule

ast = LazyModule("ast")  # a YAML run never reaches this rule: it does not pay for ast


def _reads(node, key: str) -> bool:
    """Does the expression read ``key`` (an attribute, a string subscript or a variable so named)?"""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute) and inner.attr == key:
            return True
        if isinstance(inner, ast.Constant) and inner.value == key:
            return True
        if isinstance(inner, ast.Name) and inner.id == key:
            return True
    return False


def _names_knob(node, word: str) -> bool:
    """Does an assignment target name the knob (hold its first word)?"""
    for inner in ast.walk(node):
        name = (inner.id if isinstance(inner, ast.Name) else inner.attr if isinstance(inner, ast.Attribute)
                else inner.value if isinstance(inner, ast.Constant) and isinstance(inner.value, str) else "")
        if word in name.lower():
            return True
    return False


def check(ctx):
    for knob, other in ctx.contract.not_sized_from:
        word, key = knob.rpartition(".")[2].split("_")[0].lower(), other.rpartition(".")[2]
        for node in ast.walk(ctx.tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if _reads(node.value, key) and any(_names_knob(target, word) for target in targets):
                    yield _violation(ctx, node.value, knob, other)
            elif isinstance(node, ast.keyword) and node.arg and word in node.arg.lower() and _reads(node.value, key):
                yield _violation(ctx, node.value, knob, other)


def _violation(ctx, node, knob: str, other: str):
    return RULE.violation(ctx, (node.lineno, node.col_offset + 1),
                          f"sized from {other}; the contract makes {knob} the one knob for this, read it instead",
                          fix=f"Read {knob} from the normalized config.")


RULE = Rule(
    code="S2P002",
    name="knob-sized-from-another",
    summary="Python code sizes a knob from another key the contract keeps apart (`not_sized_from`).",
    rationale="One knob, one meaning: if an eval batch size also sized the sampler, changing eval "
              "batching would silently change what the sampler does.",
    fix="Read the knob the contract names from the normalized config.",
    settings=('not_sized_from',),
    check=check,
    target=Target.SOURCE,
    passing=(Example("draw_batch_size = sampler_cfg['draw_batch_size']\n"
                     "eval_loader = make(batch_size=args.per_device_eval_batch_size)\n", path="src/example.py"),),
    failing=(Example("draw_batch_size = args.per_device_eval_batch_size\n", path="src/example.py", marks=("1:19",),
                     fixed="draw_batch_size = sampler_cfg['draw_batch_size']\n"),
             Example("client.generate(prompts, draw_batch=cfg['per_device_eval_batch_size'])\n",
                     path="src/example.py", marks=("1:37",),
                     fixed="client.generate(prompts, draw_batch=sampler_cfg['draw_batch_size'])\n")),
)
