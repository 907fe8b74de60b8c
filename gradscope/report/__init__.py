"""Comparison reports of many runs: the document (`document`, `columns`, `reading`), its
renderers (`markdown`, `html`, `latex`, `tables` for CSV/JSON, `terminal` for rich), its
figures (`figures`, `horizon`, `sweep`, told apart by `encoding` and named by `naming`),
writing and reading a report folder (`write`, `folder`: output folders written whole),
the `check.json` of committed reports (`checks`) and `replot`.

May import: `gradscope.figures` and everything below it; never `runs` or `cli`.
"""
