"""The one cell contract, for every cell the registry names and for the user's networks
(stacked layers, `FuncCell`): every product equals the same product with the
materialised Jacobian, on vectors and frames, in float64 and float32; what a cell
declares (`fast_products`, `row_scaled`, `structure`) is true of it; `log_abs_det` is
`log|det J|`; the registry's parameter count is the cell's own; and the Frobenius norm
of a Jacobian whose entries square to below float64's range is not zero."""

from __future__ import annotations

import pytest
import torch
from helpers import trajectory

from gradscope.config import CELL_SPECS, Config, cell_spec
from gradscope.model.cells import CELL_CLASSES
from gradscope.model.contract import CellBase, Structure
from gradscope.model.draws import trial_streams
from gradscope.model.initialization import build
from gradscope.model.networks.funccell import FuncCell
from gradscope.model.networks.stacked import StackedCell

F64 = torch.float64


def drawn(cell: str, dtype: str = "float64", trials: int = 3, hidden: int = 6, input_size: int = 4):
    bias = None if "bias_std" in cell_spec(cell).fixed else 0.5  # the modern cells draw their own
    config = Config(cell=cell, hidden=hidden, input_size=input_size, trials=trials, steps=2, bias_std=bias,
                    dtype=dtype).resolved()
    return build(config, trial_streams(config.seed, trials))[0]


def chunk(c, steps: int = 5, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    dtype = next(iter(c.parameters().values())).dtype if hasattr(c, "parameters") else F64
    s = 0.8 * torch.randn(steps, c.trials, c.state_dim, generator=gen, dtype=F64)
    x = torch.randn(steps, c.trials, c.input_size, generator=gen, dtype=F64).to(dtype)
    if getattr(c, "kind", "") == "slstm":  # n > 0 and a large stabiliser m: the forget branch, J regular
        n = c.hidden
        s[..., 2 * n : 3 * n] = s[..., 2 * n : 3 * n].abs() + 0.5
        s[..., 3 * n :] += 10.0
    return s.to(dtype), x


def stacked():
    layers = [drawn("lstm", hidden=5, input_size=4), drawn("gru", hidden=6, input_size=5)]
    return StackedCell(layers)


def func_cell():
    gen = torch.Generator().manual_seed(1)
    w, u = torch.randn(6, 6, generator=gen, dtype=F64) / 3, torch.randn(6, 4, generator=gen, dtype=F64) / 2
    return FuncCell(lambda s, x: torch.tanh(w @ s + u @ x), state_size=6, input_size=4, trials=3)


CASES = [*CELL_SPECS, "stacked", "funccell"]


def make(case: str, dtype: str = "float64"):
    if case == "stacked":
        return stacked()
    if case == "funccell":
        return func_cell()
    return drawn(case, dtype)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 3e-5)])
def test_every_product_equals_the_materialised_jacobians(case, dtype, tol):
    if dtype == "float32" and case in ("stacked", "funccell"):
        pytest.skip("built in float64 only")
    c = make(case, dtype)
    assert isinstance(c, CellBase)
    s, x = chunk(c)
    lin = c.linearize(s, x)
    jac, bjac = c.jacobian(lin).double(), c.input_jacobian(lin).double()
    d, i = c.state_dim, c.input_size
    gen = torch.Generator().manual_seed(2)
    like = s.dtype

    def r(*shape):
        return torch.randn(*shape, generator=gen, dtype=F64)

    checks = []
    for k in (1, 3):  # one column (a vector) and a frame
        v, vi, u = r(5, 3, d, k), r(5, 3, i, k), r(5, 3, k, d)
        checks += [(c.matmul(lin, v.to(like)), jac @ v), (c.rmatmul(lin, u.to(like)), u @ jac),
                   (c.input_matmul(lin, vi.to(like)), bjac @ vi), (c.input_rmatmul(lin, u.to(like)), u @ bjac),
                   (c.gram(lin, u.to(like)), u @ jac @ jac.mT)]
    step = {k: t[2] for k, t in lin.items()} if isinstance(lin, dict) and case not in ("stacked",) else None
    if step is not None:  # the rows of one step's matrix (the running product), into `out`
        q = r(3, 9, d)
        out = torch.empty(3, 9, d, dtype=like)
        got = c.rmatmul(step, q.to(like), out=out)
        checks.append((got, q @ jac[2]))
        checks.append((out, q @ jac[2]))
    checks.append((c.frobenius(lin), torch.linalg.matrix_norm(jac)))
    checks.append((c.jacobian_stack(lin), jac))
    for n, (ours, ref) in enumerate(checks):
        assert ours.shape == ref.shape, n
        assert (ours.double() - ref).abs().max() <= tol * ref.abs().max(), n


@pytest.mark.parametrize("case", CASES)
def test_log_abs_det_and_declarations_are_true(case):
    c = make(case)
    s, x = chunk(c)
    lin = c.linearize(s, x)
    jac = c.jacobian(lin)
    ref = torch.stack([torch.linalg.slogdet(m)[1] for m in jac.reshape(-1, *jac.shape[-2:])]).reshape(jac.shape[:-2])
    assert torch.allclose(c.log_abs_det(lin), ref, atol=1e-10, rtol=0)
    assert c.fast_products <= {"matmul", "rmatmul", "input", "gram", "frobenius"}
    scaled = c.row_scaled(lin)
    if scaled is not None:  # J_t = diag(rows_t) M
        rows, m = scaled
        assert torch.allclose(rows.unsqueeze(-1) * m, jac, atol=1e-14)
    if c.structure == Structure.DIAGONAL:  # every product acts on coordinates (or LRU's pairs) by exp(sum log|d|)
        ld = c.log_abs_diagonal(lin)
        assert ld.dtype == torch.float64 and ld.shape == jac.shape[:-1]
        prod = torch.eye(c.state_dim, dtype=F64).expand_as(jac[0])
        for t in range(jac.shape[0]):
            prod = jac[t].double() @ prod
            want = torch.diag_embed(torch.exp(2 * ld[: t + 1].sum(0)))
            assert torch.allclose(prod.mT @ prod, want, rtol=1e-12, atol=1e-14)
            assert torch.allclose(prod @ prod.mT, want, rtol=1e-12, atol=1e-14)
        if case != "lru":  # the pairs of LRU are rotations: its J is diagonal up to them
            off = jac - torch.diag_embed(torch.diagonal(jac, dim1=-2, dim2=-1))
            assert off.abs().max() == 0
    if case in CELL_SPECS:
        assert c.structure.value == cell_spec(case).structure
        assert c.kind == case and type(c) is CELL_CLASSES[case]


@pytest.mark.parametrize("cell", list(CELL_SPECS))
def test_the_registry_counts_the_parameters_and_lays_out_the_state(cell):
    c = drawn(cell, trials=2, hidden=5, input_size=3)
    assert sum(v[0].numel() for v in c.parameters().values()) == cell_spec(cell).count_params(5, 3)
    assert c.state_dim == cell_spec(cell).state_dim(5) == Config(cell=cell, hidden=5).state_dim


def test_weight_grad_norms_is_the_norm_of_the_outer_product():
    c = drawn("gru")
    s, x = chunk(c)
    lin = c.linearize(s, x)
    g = torch.randn(5, 3, c.state_dim, dtype=F64)
    delta = c.weight_grad_rows(lin, g)
    outer = delta.unsqueeze(-1) * c.hidden_part(s).unsqueeze(-2)
    assert torch.allclose(c.weight_grad_norms(lin, g, s), torch.linalg.matrix_norm(outer), rtol=1e-13)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_frobenius_norm_of_a_tiny_jacobian_is_not_zero(cell):
    # entries ~1e-160: their squares underflow float64, the norm does not
    config, c, traj, _ = trajectory(cell=cell, act="identity", hidden=6, steps=4, trials=1,
                                    init="orthogonal", gain=1e-160, input="zeros", transient=0)
    lin = c.linearize(traj.states[:-1], traj.inputs)
    ours = c.frobenius(lin)
    jac = c.jacobian(lin)
    scale = jac.abs().amax((-2, -1), keepdim=True)
    ref = torch.linalg.matrix_norm(jac / scale) * scale[..., 0, 0]
    assert (ref > 0).all() and torch.allclose(ours, ref, rtol=1e-12, atol=0)
