"""Every file of one run, read once: the documents the extends graph, the merge and the rules
see, keyed by canonical path so two spellings of one file are one document.

A file that leads outside its config root (a symlink, or a file in a symlinked directory) is
never read: it becomes an empty document that carries the reason.
"""
from __future__ import annotations

import os

from stage2_lint.core import paths, witness
from stage2_lint.core.records import Kind, Problem
from stage2_lint.documents.document import Document, load_document
from stage2_lint.tree.layout import Layout


class DocumentStore:
    """The documents of one run (and, while the result cache records, which files were read)."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.limits = layout.settings.limits
        self._documents: dict[str, Document] = {}
        self.recording = None  # a cache.Inputs while one file is linted for the result cache

    def key(self, path: str) -> str:
        """The store's key of a path: its canonical form (the layout's, computed once per spelling)."""
        return self.layout.of(path).canonical

    def memo_key(self, path: str) -> tuple[str, bool]:
        """The key of an answer that names files (a parent, a chain, an origin): the store's
        key and whether ``path`` is absolute. Such an answer spells files as its asker does
        (absolute to an absolute asker, relative to the others), so each style keeps its own."""
        return self.key(path), path[:1] == os.sep

    def preload(self, path: str, doc: Document) -> None:
        """Use ``doc`` as the content of ``path``: bytes a writer already read, or a candidate
        checked in memory before it is written (flatten resolves it where it will live). A
        path that leads outside the config root is refused here as when read from disk."""
        self._documents[self.key(path)] = self._refused(path) or doc

    def get(self, path: str) -> Document:
        key = self.key(path)
        if self.recording is not None:
            self.recording.files[key] = None
        doc = self._documents.get(key)
        if doc is None:
            witness.saw(key)
            doc = self._documents[key] = self._refused(path) or load_document(path, self.limits)
        return doc

    def _refused(self, path: str) -> Document | None:
        """An empty document carrying the reason, for a path that must not be read at all:
        a symlink (or a file in a symlinked directory) that leads outside its config root."""
        place = self.layout.of(path)
        key, root = place.canonical, place.config_root
        real = os.path.realpath(key) if os.path.islink(key) else key
        if paths.inside(real, root):
            return None
        doc = Document(path)
        doc.problems.append(Problem(Kind.EXTENDS_UNRESOLVABLE, 1, 1, (
            f"this profile resolves to {os.path.relpath(real)}, outside the config root {os.path.relpath(root)}; "
            f"stage2-lint does not read it")))
        return doc
