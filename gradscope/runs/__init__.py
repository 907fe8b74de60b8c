"""Running many configurations: value lists and ranges (`ranges`), grids and TOML
experiment files (`grid`), running a grid through the cache (`execute`) on an executor
(`executor`: in process, a local pool, a Dask cluster), what a large grid will cost
(`estimate`), the report writers as users call them, handed the mean-field theory
(`reports`), and the command line of the claims scripts (`claims`).

May import: `gradscope.report`, `gradscope.cache`, `gradscope.analysis` and everything
below them; never `cli`.
"""
