"""Multi-layer networks: layers of built-in cells stacked as `nn.RNN/LSTM/GRU(num_layers=L)`
stacks them, analysed over the whole stacked state (what BPTT through them sees), and
the drive of one layer (`--layer L`): the outputs of the layers below it.

Layer l is driven by `h` of layer l-1 at the same step. The stacked state is
`[s_{L-1}; ...; s_1; s_0]`, the top layer first (each `s_l` is `h_l`, or `[h_l; c_l]`),
so that the readout `r . h` acts on the output the network passes on. The step Jacobian
is block lower-triangular in layer order: block (l, m) is `B_l H (block (l-1, m))` for
m < l and `J_l` for m = l, with `J_l`, `B_l` layer l's own state and input Jacobians and
`H` the rows of `h` (see `StackedCell.jacobian`).

May import: `gradscope.model.contract`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ..contract import CellBase

Tensor = torch.Tensor


class StackedCell(CellBase):
    """Layers `cells[0]` (input side) .. `cells[-1]` (top) as one cell on the stacked state.

    Implements the cell contract (`gradscope.model.contract`); the weight gradient
    (over every layer's `weight_hh`) is a sum of one outer product per layer rather
    than one, computed in `weight_grad_norms`.
    """

    def __init__(self, cells: Sequence[Any]) -> None:
        if not cells:
            raise ValueError("StackedCell needs at least one layer")
        self.layers = list(cells)
        self.trials = cells[0].trials
        self.input_size = cells[0].input_size
        self.hidden = cells[-1].hidden
        self.dims = [c.state_dim for c in cells]
        self.state_dim = sum(self.dims)
        self.offsets, pos = [0] * len(cells), 0
        for layer in reversed(range(len(cells))):  # the top layer first
            self.offsets[layer] = pos
            pos += self.dims[layer]

    def part(self, s: Tensor, layer: int) -> Tensor:
        """Layer `layer`'s state in the stacked state `s` `(..., B, D)`."""
        return s[..., self.offsets[layer] : self.offsets[layer] + self.dims[layer]]

    def join(self, parts: Sequence[Tensor]) -> Tensor:
        """The stacked state from the layers' states (given input side first)."""
        return torch.cat(list(parts)[::-1], dim=-1)

    def hidden_part(self, s: Tensor) -> Tensor:
        """`h` of the top layer."""
        return s[..., : self.hidden]

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        out, inp = [], x
        for layer, cell in enumerate(self.layers):
            new = cell.step(self.part(s, layer), inp)
            out.append(new)
            inp = cell.hidden_part(new)
        return self.join(out)

    def linearize(self, s: Tensor, x: Tensor) -> dict[str, list]:
        """Each layer's linearisation at its own state and input (the `h` of the layer
        below at the same step)."""
        lins, h_prev, inp = [], [], x
        for layer, cell in enumerate(self.layers):
            own = self.part(s, layer)
            lins.append(cell.linearize(own, inp))
            h_prev.append(cell.hidden_part(own))
            if layer + 1 < len(self.layers):
                inp = cell.hidden_part(cell.step(own, inp))
        return {"lins": lins, "h_prev": h_prev}

    def _input_jacobians(self, lin: dict[str, list]) -> list[Tensor | None]:
        """`B_l = ds_l/d(input of l)` for l >= 1 (None for layer 0)."""
        return [None] + [c.input_jacobian(lin["lins"][i]) for i, c in enumerate(self.layers) if i > 0]

    def jacobian(self, lin: dict[str, list]) -> Tensor:
        lins, b = lin["lins"], self._input_jacobians(lin)
        rows: list[Tensor] = []
        for layer, cell in enumerate(self.layers):
            own = cell.jacobian(lins[layer])  # (..., B, D_l, D_l)
            if layer == 0:
                row = own.new_zeros((*own.shape[:-1], self.state_dim))
            else:  # through the h of the layer below, at the same step
                below_h = rows[-1][..., : self.layers[layer - 1].hidden, :]
                row = b[layer] @ below_h
            lo = self.offsets[layer]
            row[..., lo : lo + self.dims[layer]] += own
            rows.append(row)
        return torch.cat(rows[::-1], dim=-2)

    def input_jacobian(self, lin: dict[str, list]) -> Tensor:
        lins, b = lin["lins"], self._input_jacobians(lin)
        rows = [self.layers[0].input_jacobian(lins[0])]
        for layer in range(1, len(self.layers)):
            rows.append(b[layer] @ rows[-1][..., : self.layers[layer - 1].hidden, :])
        return torch.cat(rows[::-1], dim=-2)

    def weight_grad_norms(self, lin: dict[str, list], g: Tensor, s_prev: Tensor | None = None) -> Tensor:
        """`||dL/d(weight_hh of every layer)|_t||_F` `(..., B)` (float64) for `g = dL/ds_t`.

        Within the step, the top layer's cotangent flows into the layers below through
        their `h` (`B_{l+1}^T`), so each layer's `delta_l` sees the whole step; the
        norm is `sqrt(sum_l |delta_l|^2 |h_{l,t-1}|^2)`.
        """
        lins, b = lin["lins"], self._input_jacobians(lin)
        total = torch.zeros(g.shape[:-1], dtype=torch.float64, device=g.device)
        carry = None
        for layer in reversed(range(len(self.layers))):
            cell = self.layers[layer]
            gl = self.part(g, layer)
            if carry is not None:
                gl = torch.cat([gl[..., : cell.hidden] + carry, gl[..., cell.hidden :]], dim=-1)
            delta = cell.weight_grad_rows(lins[layer], gl)
            f64 = torch.float64
            norm = (torch.linalg.vector_norm(delta, dim=-1, dtype=f64)
                    * torch.linalg.vector_norm(lin["h_prev"][layer], dim=-1, dtype=f64))
            total += norm**2
            if layer > 0:
                carry = (gl.unsqueeze(-2) @ b[layer]).squeeze(-2)
        return total.sqrt()


class LayerDrive:
    """The inputs of one layer: `h` of the layer below, from running the layers below on
    the network's own drive (chunk by chunk, like any drive)."""

    def __init__(self, drive: Any, below: Any, s0: Tensor) -> None:
        self.drive, self.below, self.s = drive, below, s0

    def next(self, count: int) -> np.ndarray:
        x = torch.as_tensor(self.drive.next(count), dtype=self.s.dtype, device=self.s.device)
        out = []
        for j in range(count):
            self.s = self.below.step(self.s, x[j])
            out.append(self.below.hidden_part(self.s))
        return torch.stack(out).to("cpu", torch.float64).numpy()

    def mean_square(self) -> None:
        """Unknown before the run (mean-field theory does not apply to a trained layer)."""
        return None
