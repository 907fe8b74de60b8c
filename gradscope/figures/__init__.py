"""The presentation of one run: paper figures (matplotlib) and terminal tables (rich),
drawn from `Result`s only.

`style` (venue widths, fonts, palette, atomic reproducible saving), `curves` (thinning
and quantiles of log-norm curves), `decay` (the decay figure and its panels), `spectrum`
(the spectrum figure and its panels), `tables` (the summary table, the one-sentence
reading, the cells table), `spectrum_tables` (the same for a spectrum run).

May import: `gradscope.results`, `gradscope.config`, `gradscope.model`,
`gradscope.numerics` (theory curves). matplotlib and rich only inside functions.
"""
