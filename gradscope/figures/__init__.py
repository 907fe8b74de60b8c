"""Every matplotlib figure, drawn from `Result`s (and, for theory lines, from the
lookups the caller hands in): never computing a number of its own.

The house style: `style` (venue widths, fonts, the palette, atomic reproducible saving),
`logaxis` (log10 values labelled as powers of ten), `layout` (where every text and legend
of a drawn figure lies, and what does not fit), `multipanel` (figures of several panels,
sized by measurement), `curves` (thinning and quantiles of log-norm curves).

One run: `decay_figure` with its `decay_panels` (gain against every lag, the first lags,
per-step gain, input sensitivity), `spectrum_figure` (the Lyapunov spectrum and its
convergence). A report: `comparison` (overlay, small multiples, and the registry of a
comparison report's figures), `horizon`, `along` (growth rate and horizon along one
swept field), `encoding` (one colour per cell, one line style per activation, across a
report). A sweep: `slices` (its axes, slices and medians, as data), `phase` (heatmaps and
profiles with the mean-field lines).

May import: `gradscope.results`, `gradscope.config` (and each other). matplotlib inside
functions only; never `model` or `numerics`.
"""
