"""A stacked Mamba model (mambapy's `Mamba`, several layers) as a custom cell: `--cell examples.mamba_stack:MambaStack`.

    pip install mambapy==1.2.0
    gradscope decay --cell examples.mamba_stack:MambaStack --cell-arg n_layers=2 --cell-arg d_model=8

One step is mambapy's own `Mamba.step` (RMSNorm, in_proj, the causal convolution, SiLU,
the selective scan, the gate and out_proj of every layer, with the residual stream
between them), so gradscope analyses the model exactly as it runs, through torch.func
(`FuncCell`): no analytic Jacobian, no diagonal structure (the layers couple the SSM
states through the convolution, the gate and the next layer's Delta), the general path.
The state is every layer's SSM state `h` (d_inner x d_state), the top layer's first (the
readout acts on it), then every layer's convolution buffer (d_inner x (d_conv - 1)).
Note that mambapy computes A in float32 (`A_log.float()`) even in a float64 run.
"""

from __future__ import annotations

import torch


class MambaStack(torch.nn.Module):
    """`Mamba(MambaConfig(d_model, n_layers, d_state, d_conv))` called one step at a time."""

    def __init__(self, d_model: int = 8, n_layers: int = 2, d_state: int = 4, d_conv: int = 4) -> None:
        super().__init__()
        from mambapy.mamba import Mamba, MambaConfig

        self.mamba = Mamba(MambaConfig(d_model=d_model, n_layers=n_layers, d_state=d_state, d_conv=d_conv))
        self.layers, self.inner, self.d_state, self.d_conv = n_layers, 2 * d_model, d_state, d_conv
        self.state_size = (self.inner * d_state,) * n_layers + (self.inner * (d_conv - 1),) * n_layers
        self.input_size = d_model

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        n = self.layers
        hs, convs = state[:n][::-1], state[n:][::-1]  # input side first, as mambapy's caches
        caches = [(h.reshape(1, self.inner, self.d_state), c.reshape(1, self.inner, self.d_conv - 1))
                  for h, c in zip(hs, convs)]
        _, caches = self.mamba.step(x.reshape(1, -1), caches)
        new_h = [h.reshape(-1) for h, _ in caches][::-1]  # the top layer first
        new_conv = [c.reshape(-1) for _, c in caches][::-1]
        return tuple(new_h + new_conv)
