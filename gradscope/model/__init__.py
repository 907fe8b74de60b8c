"""The model layer: what a recurrent network is, before anything is measured.

`contract` (the one cell contract: the step, its linearisation, Jacobians and their
products in one convention, the weight gradient, `log|det J|`, declared structure and
fast products), `cells` (one module per built-in cell, found through the cell registry
of `gradscope.config`), `batched` (per-trial linear algebra, safe norms and
determinants), `activations` (phi, phi'), `draws` (seeded per-trial streams and what they
draw), `initialization` (the networks of a configuration), `inputs` (input drives, chunk
by chunk, and checked files), and `networks` (the user's own: checkpoints read safely,
stacked layers, `FuncCell` for any step function or module, `package.module:Name`).

May import: `gradscope.config` only.
"""
