"""The numerics layer: trajectories and everything computed along them, in log space.

`unroll` (the forward pass), `transport` (every lag of the Jacobian product, backwards:
`sweep` and `steps` for one chunk, `fastsweep`, `lagfast`, `stepgain` and `lanczos` for
fast mode's estimates and their self-check), `lyapunov` (the QR spectrum, forwards, with
`tangent`: step Jacobians on a frame, and `spectrum_metrics`: its summary figures),
`logspace` (their shared arithmetic), `metrics` (rates, horizons, regimes from the
curves), `theory` (Pascanu bound, mean field, annealed estimate), `threads` (how many
torch threads a piece of work gets).

May import: `gradscope.model`, `gradscope.config`. Never click, rich or matplotlib.
"""
