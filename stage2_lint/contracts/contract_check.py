"""What a contract says of one tree of keys: the keys it removed, and its schema's findings.

The tree is one file's own keys (the rules) or a whole resolved profile (the training
loader): both ask here, so a key is judged and worded the same way at commit time and at
training start. Findings carry key paths, not places; each caller locates them in what it
holds (a file's marks, a resolved profile's provenance).
"""
from __future__ import annotations


from stage2_lint.core.escape import dotted
from stage2_lint.core.records import Finding, Kind
from stage2_lint.contracts.settings import Contract, Settings


def contract_findings(tree: dict, contract: Contract | None, settings: Settings) -> list[Finding]:
    """Removed keys first (REMOVED_KEY, with what to use instead), then the schema's findings
    (UNKNOWN_KEY, VALUE_TYPE named by their key). A removed key the schema does not know is
    reported once, as removed."""
    removals = settings.removals_for(contract)
    found = [Finding(Kind.REMOVED_KEY, keys, removal_message(old, instead), removal_fix(old, instead))
             for old, instead in removals for keys in [tuple(old.split("."))] if _is_set(tree, keys)]
    if contract is None or contract.schema is None:
        return found
    from stage2_lint.contracts import schema  # on first use: only files with a schema need it

    removed = {finding.keys for finding in found}
    for finding in schema.walk(tree, schema.load(contract.schema, settings.project_dir)):
        if finding.kind is Kind.VALUE_TYPE:
            found.append(finding._replace(message=f"{dotted(finding.keys)}: {finding.message}"))
        elif tuple(finding.keys) not in removed:
            found.append(finding)
    return found


def removal_message(old: str, instead: str) -> str:
    if instead.startswith("nothing"):
        reason = instead[len("nothing"):].lstrip(" :-")
        return f"{old} was removed{f' ({reason})' if reason else ''}; delete it"
    return f"{old} was removed; use {instead}"


def removal_fix(old: str, instead: str) -> str:
    return f"delete {old}" if instead.startswith("nothing") else f"replace {old} with {instead.split()[0]}"


def _is_set(tree, keys: tuple[str, ...]) -> bool:
    node = tree
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True
