"""Where a file stands: computed once per file, asked by every part that needs to know.

For each path: its canonical form (``paths``), the contract that governs it, its role on that
contract's surface, the parent it must extend and its config root. The rules, flatten, the
graph, the guard and the preflight ask here instead of working it out again; ``settings``
only reads settings.
"""
from __future__ import annotations

import os
from typing import Dict, NamedTuple, Optional

from stage2_lint.core import paths
from stage2_lint.contracts.settings import Contract, Settings

# Roles a file can have. A canonical leaf is on the surface and not retired; a retired parent
# is named by ``retired_parents``; a governed file is in a scope and neither; an ungoverned
# file is in no scope (generic rules only).
LEAF, RETIRED, GOVERNED, UNGOVERNED = "canonical-leaf", "retired-parent", "governed", "ungoverned"


class Place(NamedTuple):
    path: str  # as the caller spelled it
    canonical: str
    contract: Optional[Contract]
    role: str
    on_surface: bool  # matched by the contract's canonical globs (a retired parent can be)
    required_parent: Optional[str]  # canonical path of the parent a surface file must extend
    config_root: str

    @property
    def is_leaf(self) -> bool:
        return self.role == LEAF


class Layout:
    """The places of one run's files (cached: a tree asks about its shared parents often)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._places: Dict[str, Place] = {}

    def of(self, path: str) -> Place:
        place = self._places.get(path)
        if place is None:
            place = self._places[path] = self._place(path)
        return place

    def _place(self, path: str) -> Place:
        settings = self.settings
        canonical = paths.canonical(path)
        contract = settings.contract_for(canonical)
        on_surface = contract is not None and settings.matches(canonical, contract.canonical)
        retired = contract is not None and settings.matches(canonical, contract.retired_parents)
        role = UNGOVERNED if contract is None else RETIRED if retired else LEAF if on_surface else GOVERNED
        required = None
        if on_surface and contract.required_parent:
            required = paths.canonical(os.path.join(os.path.dirname(canonical), contract.required_parent))
        return Place(path, canonical, contract, role, on_surface, required, settings.config_root(canonical))

    def required_parent_of(self, path: str, contract: Optional[Contract] = None) -> Optional[str]:
        """The canonical parent a file at ``path`` must extend (``contract`` for a file that
        does not exist yet, such as flatten's output)."""
        place = self.of(path)
        if place.required_parent or contract is None or not contract.required_parent:
            return place.required_parent
        return paths.canonical(os.path.join(os.path.dirname(place.canonical), contract.required_parent))
