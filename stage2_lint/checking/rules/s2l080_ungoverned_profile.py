"""S2L080: a profile that no contract governs, where the repository requires one."""
from stage2_lint.checking.rule import Example, Rule
from stage2_lint.tree import layout


def check(ctx):
    settings = ctx.settings
    if ctx.contract is not None or not settings.contracts:
        return
    if not settings.runtime and not (settings.require_contract and layout.in_config_tree(settings, ctx.path)):
        return
    scopes = ", ".join(glob for contract in ctx.settings.contracts for glob in contract.scope) or "none declared"
    yield RULE.violation(ctx, (1, 1), f"no contract governs this profile (contract scopes: {scopes}), "
                                      f"so only the generic rules checked it")


RULE = Rule(
    code="S2L080",
    name="ungoverned-profile",
    summary="A profile in a config tree that no contract's scope covers, where `require_contract` is set "
            "(and any profile the runtime guard is handed).",
    rationale="A file outside every scope gets the generic rules only: a broken leaf copied to a new "
              "directory, a `.yml` spelling or a renamed family would pass as clean. Where the "
              "repository requires a contract, such a file is an error, and the runtime guard "
              "refuses it whenever the repository declares contracts.",
    fix="Move the profile into a contract's scope, or widen the scope (stage2-lint --show-settings).",
    settings=('scope', 'require_contract'),
    check=check,
    passing=(Example("training:\n  eval_steps: 80\n", path="configs/profile.yaml"),),
    failing=(Example("training:\n  eval_steps: 80\n", path="configs/profile.yml", marks=("1:1",),
                     fixed="training:\n  eval_steps: 80\n", fixed_path="configs/profile.yaml"),),
)
