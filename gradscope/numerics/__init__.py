"""The numerics layer: trajectories and everything computed along them, in log space.

`unroll` (the forward pass); `transport/` (every lag of the Jacobian product,
backwards: `chunk` (what a chunk carries and records), `exact` and `fast` (the two
modes), `lags` (fast mode's per-lag estimates and their refinement), `step_gain`
(per-step gains), `lanczos`); `spectrum/` (the Lyapunov spectrum, forwards: `qr`,
`tangent`, `summary`); `theory/` (the Pascanu bound, the annealed estimate, and
`mean_field` and `critical`: every mean-field and chi = 1 computation); `logspace`
(shared arithmetic), `metrics` (rates, horizons, regimes from the curves), `threads`
(how many torch threads a piece of work gets).

May import: `gradscope.model`, `gradscope.config`. Never click, rich or matplotlib.
"""
