"""The one cell contract: what the numerics need of a cell, declared rather than probed.

A cell is one step `s_t = F(s_{t-1}, x_t)` batched over B trials. Every tensor carries
the trial axis B just before its own axes; leading axes (a chunk of steps) pass through,
so a whole chunk is linearised in one call. `linearize(s, x)` computes what a step's
derivatives share (`lin`, whatever the cell needs); everything else reads it:

- `jacobian(lin)`: `J = ds_t/ds_{t-1}`, `(..., B, D, D)`; `input_jacobian(lin)`:
  `ds_t/dx_t`, `(..., B, D, I)`.
- Products, one convention for vectors and frames alike: columns from the left,
  `matmul(lin, v) = J v` for `v` `(..., B, D, K)`, and rows from the right,
  `rmatmul(lin, u) = u J` for `u` `(..., B, K, D)`; a vector is one column (K = 1) or one
  row. `input_matmul` and `input_rmatmul` are the same for `ds_t/dx_t`; `gram(lin, u)`
  is `u J J^T` (rows); `frobenius(lin)` is `||J||_F` `(..., B)` in float64.
- `weight_grad_norms(lin, g, s_prev)`: `||dL/dW_hh|_t||_F` `(..., B)` for the cotangent
  `g = dL/ds_t`, the one weight-gradient method.
- `log_abs_det(lin)`: `log|det J|` `(..., B)` in float64.
- `row_scaled(lin)`: `(rows, M)` with `J_t = diag(rows_t) M` for every step (a vanilla
  RNN: `phi'(a_t)` and `W_hh`), or None: lets the numerics skip forming `J`.
- `recurrent_matrix()`: the matrix whose largest singular value is `sigma_max(W_hh)`.
- `diagonal_blocks()` (a `BLOCK_DIAGONAL` cell): the state coordinates of each diagonal
  block of J (sLSTM: each head's `h, c, n, m`).
- `log_abs_diagonal(lin)` (a `DIAGONAL` cell): `(..., B, D)` float64 with every product
  of step Jacobians acting on coordinate j (or on a pair of coordinates as a
  rotation-scaling: LRU's `(Re h_j, Im h_j)`, both carrying the same value) with gain
  `exp(sum_t log|d_t[j]|)`; `log_abs_diagonal_at(s, x)` the same straight from a chunk's
  states and inputs (what the spectrum needs, without the rest of `linearize`);
  `input_gram(lin, w)`: `B_t^T diag(w) B_t` `(..., B, I, I)` for the input Jacobian `B_t`
  and weights `w` `(..., B, D)`, `input_outer(lin, w)` (its D x D twin),
  `input_row_norms(lin)` and `input_rows(lin, index)`: what the input sensitivity of a
  diagonal product needs.
  A diagonal cell's `weight_grad_norms` depends on the cotangent only through its moduli
  (per coordinate, or per pair), so the numerics may hand it `|r| exp(L)`.
- `readout_cotangent(r, s_T, x_T)`: `dL/ds_T` `(B, D)` for the loss `L = r . y_T`
  (default: `y_T = h_T`); `initial_state(s0)`: the initial states as the cell starts
  them (default: as drawn).

And declarations, never probed with `hasattr`: `structure` (`Structure.DENSE`,
`BLOCK_DIAGONAL`, `DIAGONAL`: what the numerics may exploit), `fast_products` (the
products above that cost less than forming `J`; for the others the numerics form the
chunk's Jacobians and multiply those) and `stacks_jacobians`.
`CellBase` gives every product from `jacobian`, so a cell needs only its step, its
linearisation and its two Jacobians; the built-in cells override the products.

May import: `gradscope.model.batched`.
"""

from __future__ import annotations

import enum
from typing import Any

import torch

from .batched import log_abs_det, stable_norm

Tensor = torch.Tensor


class Structure(str, enum.Enum):
    """The shape of a step Jacobian (the registry's `structure`)."""

    DENSE = "dense"
    BLOCK_DIAGONAL = "block-diagonal"
    DIAGONAL = "diagonal"


def check_parameters(kind: str, names: tuple[str, ...], given: Any, optional: tuple[str, ...] = ()) -> None:
    """A ValueError naming every missing and unknown parameter unless `given` (names) holds
    each of `names` (those in `optional` may be absent) and nothing else."""
    missing = [n for n in names if n not in given and n not in optional]
    unknown = sorted(set(given) - set(names))
    if missing or unknown:
        raise ValueError(f"{kind} takes the parameters {', '.join(names)}; "
                         f"missing: {', '.join(missing) or '-'}, unknown: {', '.join(unknown) or '-'}")


class CellBase:
    """The contract, with every product computed from the materialised Jacobian."""

    kind = ""  # the registry's name ("" for a user's network)
    #: a state-dict key (its last dotted parts) that marks this cell's weights in a
    #: checkpoint of someone else's module ("" none: `from_checkpoint` reads them)
    checkpoint_key = ""
    structure = Structure.DENSE
    #: the contract's products that cost less than forming J: "matmul", "rmatmul", "input"
    #: (both input products), "gram", "frobenius"; the numerics form the Jacobians for the rest
    fast_products: frozenset[str] = frozenset()
    stacks_jacobians = False  # `jacobian_stack` of a few steps costs less than a call per step
    trials: int  # B
    hidden: int  # N: the width of h, on which the readout and W_hh act
    input_size: int  # I
    state_dim: int  # D

    # -- the step and its two Jacobians: every cell has these --------------------------
    def step(self, s: Tensor, x: Tensor) -> Tensor:
        """`s_t = F(s_{t-1}, x_t)`: states `(..., B, D)`, inputs `(..., B, I)`."""
        raise NotImplementedError

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        """What the derivatives of the step at `(s_{t-1}, x_t)` share."""
        raise NotImplementedError

    def jacobian(self, lin: Any) -> Tensor:
        """`ds_t/ds_{t-1}`, `(..., B, D, D)`."""
        raise NotImplementedError

    def input_jacobian(self, lin: Any) -> Tensor:
        """`ds_t/dx_t`, `(..., B, D, I)`."""
        raise NotImplementedError

    def hidden_part(self, s: Tensor) -> Tensor:
        """The `h` part of a state, `(..., B, N)`: what the readout sees."""
        return s[..., : self.hidden]

    # -- products (columns from the left, rows from the right) ---------------------------
    def matmul(self, lin: Any, v: Tensor) -> Tensor:
        """`J v` for columns `v` `(..., B, D, K)`."""
        return self.jacobian(lin) @ v

    def rmatmul(self, lin: Any, u: Tensor, out: Tensor | None = None) -> Tensor:
        """`u J` for rows `u` `(..., B, K, D)` (into `out` when given)."""
        return torch.matmul(u, self.jacobian(lin), out=out)

    def input_matmul(self, lin: Any, v: Tensor) -> Tensor:
        """`(ds_t/dx_t) v` for columns `v` `(..., B, I, K)`."""
        return self.input_jacobian(lin) @ v

    def input_rmatmul(self, lin: Any, u: Tensor) -> Tensor:
        """`u (ds_t/dx_t)` for rows `u` `(..., B, K, D)`, `(..., B, K, I)`."""
        return u @ self.input_jacobian(lin)

    def gram(self, lin: Any, u: Tensor) -> Tensor:
        """`u J J^T` for rows `u` `(..., B, K, D)` (the operator whose top eigenvalue is `||J||_2^2`)."""
        return self.matmul(lin, self.rmatmul(lin, u).mT).mT

    def jacobian_stack(self, lin: Any) -> Tensor:
        """The Jacobians of every step of `lin`, as `jacobian` (a cell that
        `stacks_jacobians` forms them in place, a few steps at once)."""
        return self.jacobian(lin)

    def frobenius(self, lin: Any) -> Tensor:
        """`||J||_F` `(..., B)`, float64, neither underflowing nor overflowing."""
        return stable_norm(self.jacobian(lin), (-2, -1))

    # -- the weight gradient, the determinant, the recurrent matrix -------------------------
    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        """`delta` `(..., B, G*N)` with `dL/dW_hh|_t = delta h_{t-1}^T` for `g = dL/ds_t`,
        where the step's gradient is one outer product (the built-in cells)."""
        raise NotImplementedError(f"{type(self).__name__} has no single outer product: "
                                  "it defines weight_grad_norms")

    def weight_grad_norms(self, lin: Any, g: Tensor, s_prev: Tensor) -> Tensor:
        """`||dL/dW_hh|_t||_F` `(..., B)` (float64) for `g = dL/ds_t` `(..., B, D)` and the
        states before the steps, `s_prev` `(..., B, D)`: `|delta| |h_{t-1}|`."""
        return stable_norm(self.weight_grad_rows(lin, g), -1) * stable_norm(self.hidden_part(s_prev), -1)

    def log_abs_det(self, lin: Any) -> Tensor:
        """`log|det J|` `(..., B)`, float64 (by QR: see `batched.log_abs_det`)."""
        return log_abs_det(self.jacobian(lin))

    def row_scaled(self, lin: Any) -> tuple[Tensor, Tensor] | None:
        """`(rows, M)` with `J_t = diag(rows[t]) M` (`rows` `(..., B, D)`, `M` `(B, D, D)`
        shared by every step), or None where J has no such form."""
        return None

    def recurrent_matrix(self) -> Tensor | None:
        """`(B, R, N)`: the matrix whose largest singular value is reported as
        `sigma_max(W_hh)` (None for a network of several layers or a custom cell)."""
        return None

    def diagonal_blocks(self) -> Tensor | None:
        """For a `BLOCK_DIAGONAL` cell: `(H, K)` int64, the state coordinates of each of the
        H diagonal blocks of every step Jacobian (no coordinate of one block acts on
        another's), so that every product of step Jacobians is block-diagonal too and its
        spectral norm is the largest of its blocks'. None for any other cell."""
        return None

    # -- diagonal cells, the readout, the initial state ------------------------------------
    def log_abs_diagonal(self, lin: Any) -> Tensor:
        """`log|d_t|` `(..., B, D)` in float64 for a `DIAGONAL` cell: `J_t = diag(d_t)` up to
        signs (or rotations within pairs of coordinates whose entries are equal)."""
        if self.structure != Structure.DIAGONAL:
            raise NotImplementedError(f"{type(self).__name__} is not diagonal")
        d = torch.diagonal(self.jacobian(lin), dim1=-2, dim2=-1)
        return d.to(torch.float64).abs().log()

    def log_abs_diagonal_at(self, s: Tensor, x: Tensor) -> Tensor:
        """`log_abs_diagonal` of the steps at states `s` and inputs `x` `(..., B, D)`, `(..., B, I)`."""
        return self.log_abs_diagonal(self.linearize(s, x))

    def input_gram(self, lin: Any, w: Tensor) -> Tensor:
        """`B_t^T diag(w) B_t` `(..., B, I, I)` in float64, for the input Jacobian `B_t` and
        non-negative weights `w` `(..., B, D)` (float64)."""
        b = self.input_jacobian(lin).to(torch.float64)
        return b.mT @ (w.unsqueeze(-1) * b)

    def input_outer(self, lin: Any, w: Tensor) -> Tensor:
        """`diag(w)^(1/2) B_t B_t^T diag(w)^(1/2)` `(..., B, D, D)` in float64: the same
        non-zero eigenvalues as `input_gram`, the smaller problem where D < I."""
        b = self.input_jacobian(lin).to(torch.float64) * w.sqrt().unsqueeze(-1)
        return b @ b.mT

    def input_row_norms(self, lin: Any) -> Tensor:
        """`||row_j of B_t||^2` `(..., B, D)` in float64."""
        return (self.input_jacobian(lin).to(torch.float64) ** 2).sum(-1)

    def input_rows(self, lin: Any, index: Tensor) -> Tensor:
        """The rows `index` `(..., B, K)` of `B_t`, `(..., B, K, I)` in float64."""
        b = self.input_jacobian(lin).to(torch.float64)
        return b.gather(-2, index.unsqueeze(-1).expand(*index.shape, b.shape[-1]))

    def readout_cotangent(self, readout: Tensor, s: Tensor, x: Tensor) -> Tensor:
        """`dL/ds_T` `(B, D)` for `L = r . y_T`: `r` `(B, N)` on `h` (the first N coordinates)
        and zero elsewhere (`s`, `x`: the last state and input, for a readout that depends
        on them)."""
        r = torch.zeros((readout.shape[0], self.state_dim), dtype=s.dtype, device=s.device)
        r[:, : readout.shape[1]] = readout
        return r

    def initial_state(self, s0: Tensor) -> Tensor:
        """The initial states `(B, D)` as the cell starts from them (default: as drawn)."""
        return s0

    @classmethod
    def from_checkpoint(cls, tensors: dict[str, Tensor]) -> dict[str, Tensor]:
        """This cell's parameters (one network, no trial axis) from a module's tensors
        named relative to it (`{"x_proj.weight": ..., "A_log": ...}`); `ValueError` naming
        what is missing or misshapen. For cells with a `checkpoint_key`."""
        raise NotImplementedError(f"{cls.__name__} reads no checkpoint")
