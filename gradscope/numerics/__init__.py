"""The numerics layer: trajectories and everything computed along them, in log space.

`unroll` (the forward pass), `transport` (every lag of the Jacobian product, backwards),
`lyapunov` (the QR spectrum, forwards, with `tangent`: step Jacobians on a frame, and
`spectrum_metrics`: its summary figures), `logspace` (their shared arithmetic), `metrics`
(rates, horizons, regimes from the curves), `theory` (Pascanu bound, mean field,
annealed estimate).

May import: `gradscope.model`, `gradscope.config`. Never click, rich or matplotlib.
"""
