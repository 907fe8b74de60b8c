"""The model layer: what a recurrent network is, before anything is measured.

`activations` (phi, phi', sup|phi'|), `cells` (one step of each cell, batched over
trials, with analytic Jacobians; `research_cells`: IndRNN, MinimalRNN, antisymmetric,
coRNN; `batched`: their shared per-trial matrix products), `initialization` (seeded draws of weights, initial
states and readouts), `inputs` (input drives, chunk by chunk).

May import: `gradscope.config` only.
"""
