"""Every table and sentence, built from `Result`s (rich renderables and plain strings):
`numbers` (numbers as a student reads them), `decay_table` (the table and the sentence of
`gradscope decay`), `spectrum_table` (of `gradscope spectrum`), `cells_table` (of
`gradscope cells`, from the registry), `report_table` (a report's summary table as data,
rendered by Markdown, HTML, LaTeX and `terminal`), `reading` (a report's generated
reading), `findings` (a sweep's findings, beside the mean-field lookups handed in).

May import: `gradscope.results`, `gradscope.config`, `gradscope.provenance`,
`gradscope.figures.slices` (a sweep's layout, as data). rich inside functions only;
never `model` or `numerics`.
"""
