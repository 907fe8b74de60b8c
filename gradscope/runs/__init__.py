"""Running many configurations: value lists and ranges (`ranges`), grids and TOML
experiment files (`grid`), the executor that runs a grid through the cache (`execute`),
and the command line of the claims scripts (`claims`).

May import: `gradscope.report`, `gradscope.cache`, `gradscope.analysis` and everything
below them; never `cli`.
"""
