"""The foundation every layer stands on: the records passed between layers (problems, findings,
violations, reports, limits), one canonical spelling of every path, the one bounded reader of a
stranger's file, escaping for output, the glob matcher, ECMA-262 patterns, atomic refusing
writes, line edits and loading a module from its file. Imports nothing else of stage2-lint."""
