"""Documents of many runs and the folders that hold them: `document` (a report as
blocks) and its renderers (`markdown`, `html`, `latex`), `files` (summary rows as CSV
and JSON, curves in long format), `folder` (output folders written whole), `write` (a
comparison report), `sweep_report` (a sweep's), `check_json` (the `check.json` that keeps
a committed report from going stale) and `replot` (redraw without recomputing).

May import: `gradscope.figures`, `gradscope.text` and everything below them, never
`model`, `numerics`, `runs` or `cli`.
"""
