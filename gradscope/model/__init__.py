"""The model layer: what a recurrent network is, before anything is measured.

`activations` (phi, phi', sup|phi'|), `cells` (one step of each cell, batched over
trials, with analytic Jacobians), `products` (the same Jacobians' products with vectors
and matrices, never formed), `initialization` (seeded draws of weights, initial
states and readouts), `inputs` (input drives, chunk by chunk).

May import: `gradscope.config` only.
"""
