"""The presentation of one run: paper figures (matplotlib) and terminal tables (rich),
drawn from `Result`s only.

`style` (venue widths, fonts, palette, atomic reproducible saving), `logaxis` (log10
values labelled as powers of ten), `layout` (where every text and legend of a drawn
figure lies, and what does not fit), `grid` (figures of several panels, sized by
measurement), `curves` (thinning and quantiles of log-norm curves), `summary` (a
summary read the same way everywhere: measured, censored or exploding horizons),
`panels` and `decay` (the decay figure), `spectrum` (the spectrum figure and its
panels), `tables` (the summary table, the one-sentence reading, the cells table),
`spectrum_tables` (the same for a spectrum run).

May import: `gradscope.results`, `gradscope.config`, `gradscope.model`,
`gradscope.numerics` (theory curves). matplotlib and rich only inside functions.
"""
