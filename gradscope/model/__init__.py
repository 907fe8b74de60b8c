"""The model layer: what a recurrent network is, before anything is measured.

`activations` (phi, phi', sup|phi'|), `cells` (one step of each cell, batched over
trials, with analytic Jacobians; `products`: the same Jacobians' products with vectors and
matrices, never formed; `research_cells`: IndRNN, MinimalRNN, antisymmetric,
coRNN; `batched`: their shared per-trial matrix products), `initialization` (seeded
draws of weights, initial states and readouts), `inputs` (input drives, chunk by chunk,
and checked files). The user's own networks: `checkpoints` (state dicts read safely,
the recurrent module found and described), `stacked` (layers as one cell), `funccell`
(any step function or module, by torch.func), `custom` (`package.module:Name`),
`networks` (a checkpoint or custom cell, built for a run).

May import: `gradscope.config` only.
"""
