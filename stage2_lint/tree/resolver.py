"""One run's view of the tree: the layout of its files, the documents read, their extends
graph and their merge, built together so every part shares one read of each file.

Ask the part that knows: ``layout.of(path)`` where a file stands, ``documents.get(path)`` its
parsed content, ``extends.parents(path)`` / ``extends.problems(path)`` its chain, and
``merge.resolve(path)`` the merged config with provenance.
"""
from __future__ import annotations

from stage2_lint.contracts.settings import Settings
from stage2_lint.tree.hierarchy import ExtendsGraph
from stage2_lint.tree import layout
from stage2_lint.tree.layout import Layout
from stage2_lint.tree.merge import Merge
from stage2_lint.tree.store import DocumentStore


class Resolver:
    """The layout, document store, extends graph and merge of one run, for one settings."""

    def __init__(self, settings: Settings):
        layout.forget()  # a new run asks the disk afresh where directories lead
        self.settings = settings
        self.layout = Layout(settings)
        self.documents = DocumentStore(self.layout)
        self.extends = ExtendsGraph(self.documents)
        self.merge = Merge(self.extends)
