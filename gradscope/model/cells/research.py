"""What the four cells from the research literature share (IndRNN, MinimalRNN, the
antisymmetric RNN, coRNN; one module each): parameters by name, activations, sizes.

Parameter names follow PyTorch's style, with a leading trial axis: `weight_ih` is the
input weight of each (IndRNN, antisymmetric: `W_ih`, `V`; MinimalRNN: `W_x`; coRNN: `V`),
`weight_hh` the recurrent weight (IndRNN: the vector u, `(B, N)`; MinimalRNN: `W_h`;
antisymmetric: `W`; coRNN: `W`, acting on y), `weight_eh` MinimalRNN's `W_e`, `weight_zh`
coRNN's `W_z`, and `bias_ih` the one bias b of each.

Each has `matmul` on frames without forming J (what the Lyapunov spectrum uses), its own
`log_abs_det` where its structure gives one, and `recurrent_matrix()`; what `W_hh`
means for its weight-gradient curve is said in its module.

May import: `gradscope.model.contract`, `gradscope.model.activations`, `gradscope.model.draws`,
`gradscope.config`.
"""

from __future__ import annotations

import numpy as np
import torch

from ...config import Config, cell_spec
from ..activations import Activation, get_activation
from ..contract import CellBase, check_parameters
from ..draws import pytorch_uniform, recurrent_block

Tensor = torch.Tensor


class ResearchCell(CellBase):
    """Parameters by name (checked), activations, sizes, `recurrent_matrix`."""

    names: tuple[str, ...] = ()  # parameter names, PyTorch style
    fast_products = frozenset({"matmul"})

    def __init__(self, act: str = "tanh", gate_act: str = "sigmoid", **params: Tensor) -> None:
        check_parameters(self.kind, self.names, params)
        self.p = dict(params)
        self.act: Activation = get_activation(act)
        self.gate_act: Activation = get_activation(gate_act)
        self.trials, self.hidden, self.input_size = params["weight_ih"].shape
        self.state_dim = cell_spec(self.kind).state_dim(self.hidden)

    @classmethod
    def draw_weights(cls, config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """One network's parameters (float64): `weight_ih` PyTorch's uniform, the recurrent
        weight by `--init` (`recurrent_weight`), every other matrix PyTorch's uniform, one
        bias (PyTorch's for default init, N(0, bias_std^2), or zeros)."""
        n, i = config.hidden, config.n_input
        out = {"weight_ih": pytorch_uniform(rng, n, (n, i)), "weight_hh": cls.recurrent_weight(config, rng)}
        for name in cls.names:
            if name not in ("weight_ih", "weight_hh", "bias_ih"):
                out[name] = pytorch_uniform(rng, n, (n, n))
        if config.bias_std is not None:
            out["bias_ih"] = rng.normal(0.0, config.bias_std, n)
        elif config.init == "default":
            out["bias_ih"] = pytorch_uniform(rng, n, (n,))
        else:
            out["bias_ih"] = np.zeros(n)
        return out

    @classmethod
    def recurrent_weight(cls, config: Config, rng: np.random.Generator) -> np.ndarray:
        """`weight_hh` by `--init`: an N x N block (IndRNN: its vector u)."""
        return recurrent_block(rng, config.hidden, config.init, config.gain)

    def parameters(self) -> dict[str, Tensor]:
        return dict(self.p)

    def recurrent_matrix(self) -> Tensor:
        return self.p["weight_hh"]
