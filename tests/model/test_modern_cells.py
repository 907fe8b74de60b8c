"""The modern cells' derivatives against autograd (float64, 1e-10): the state and input
Jacobians by `torch.func.jacrev` where test_cells.py does not reach (S6 without an input
projection, sLSTM's first step from the zero state and both branches of its max),
`input_gram` against the materialised input Jacobian, the weight-gradient norms against
autograd over the weights each cell names, and S6's readout `r . (C_T h_T)`."""

from __future__ import annotations

import pytest
import torch
from helpers import jacrev_step

from gradscope.config import Config
from gradscope.model.draws import trial_streams
from gradscope.model.initialization import build

F64 = torch.float64
MODERN = ("lru", "mingru", "minlstm", "s6", "slstm")


def drawn(cell: str, hidden: int = 6, input_size: int | None = 4, trials: int = 2, **kw):
    config = Config(cell=cell, hidden=hidden, input_size=input_size, trials=trials, steps=2, seed=1, **kw).resolved()
    return build(config, trial_streams(config.seed, trials))[0]


def state(c, seed: int = 0, lead: tuple[int, ...] = ()) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    s = torch.randn(*lead, c.trials, c.state_dim, generator=gen, dtype=F64)
    if c.kind == "slstm":  # n > 0; m of either sign (both branches of the max)
        n = c.hidden
        s[..., 2 * n : 3 * n] = s[..., 2 * n : 3 * n].abs() + 0.3
        s[..., 3 * n :] *= 3
    return s


def inputs(c, seed: int = 1, lead: tuple[int, ...] = ()) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*lead, c.trials, c.input_size, generator=gen, dtype=F64)


def test_s6_without_an_input_projection_matches_jacrev():
    c = drawn("s6", hidden=6, input_size=None, state_size=3)
    assert "weight_in" not in c.p and c.input_size == 6
    s, x = state(c), inputs(c)
    lin = c.linearize(s, x)
    assert torch.allclose(c.jacobian(lin), jacrev_step(c, s, x, "s"), atol=1e-10, rtol=0)
    assert torch.allclose(c.input_jacobian(lin), jacrev_step(c, s, x, "x"), atol=1e-10, rtol=0)


def test_slstm_both_branches_and_the_first_step_match_jacrev():
    c = drawn("slstm", hidden=8, heads=2)
    s, x = state(c, seed=4), inputs(c)
    u = c._update(s, x)
    assert u["forget"].any() and (~u["forget"]).any()  # both branches taken
    lin = c.linearize(s, x)
    assert torch.allclose(c.jacobian(lin), jacrev_step(c, s, x, "s"), atol=1e-10, rtol=0)
    assert torch.allclose(c.input_jacobian(lin), jacrev_step(c, s, x, "x"), atol=1e-10, rtol=0)
    first = c.initial_state(s)  # n = m = 0: xLSTM's first step, m' = i~, f' and i' clamped at 1
    assert (first[:, 2 * c.hidden :] == 0).all()
    u = c._update(first, x)
    assert u["first"].all() and u["clamped"].any() and (~u["clamped"]).any()
    lin = c.linearize(first, x)
    j = jacrev_step(c, first, x, "s")
    assert torch.allclose(c.jacobian(lin)[..., : 2 * c.hidden], j[..., : 2 * c.hidden], atol=1e-10, rtol=0)


@pytest.mark.parametrize("cell", ["lru", "mingru", "minlstm", "s6"])
@pytest.mark.parametrize("input_size", [4, 6])
def test_input_gram_and_its_twin(cell, input_size):
    c = drawn(cell, input_size=input_size, **({"state_size": 3} if cell == "s6" else {}))
    s, x = state(c, lead=(5,)), inputs(c, lead=(5,))
    lin = c.linearize(s, x)
    w = torch.rand(5, c.trials, c.state_dim, generator=torch.Generator().manual_seed(2), dtype=F64)
    b = c.input_jacobian(lin)
    ref = b.mT @ (w.unsqueeze(-1) * b)
    assert torch.allclose(c.input_gram(lin, w), ref, atol=1e-12 * ref.abs().max(), rtol=0)
    scaled = w.sqrt().unsqueeze(-1) * b  # the D x D twin: the same non-zero eigenvalues
    twin = scaled @ scaled.mT
    assert torch.allclose(c.input_outer(lin, w), twin, atol=1e-12 * twin.abs().max(), rtol=0)


@pytest.mark.parametrize("cell", ["lru", "mingru", "minlstm", "s6"])
@pytest.mark.parametrize("input_size", [4, 6])
def test_input_rows_and_their_norms_are_those_of_the_input_jacobian(cell, input_size):
    c = drawn(cell, input_size=input_size, **({"state_size": 3} if cell == "s6" else {}))
    s, x = state(c, lead=(4,)), inputs(c, lead=(4,))
    lin = c.linearize(s, x)
    b = c.input_jacobian(lin)
    assert torch.allclose(c.input_row_norms(lin), (b * b).sum(-1), rtol=1e-12, atol=1e-15)
    index = torch.randint(0, c.state_dim, (4, c.trials, 5), generator=torch.Generator().manual_seed(7))
    ref = b.gather(-2, index.unsqueeze(-1).expand(4, c.trials, 5, c.input_size))
    assert torch.allclose(c.input_rows(lin, index), ref, rtol=1e-12, atol=1e-15)


def _weights_of(c) -> dict[str, torch.Tensor]:
    """The weights each cell's weight-gradient curve is over (LRU: lambda as (Re, Im))."""
    if c.kind == "lru":
        a, b = c.eigenvalues()
        return {"a": a, "b": b}
    names = {"mingru": ("weight_z", "weight_h"), "minlstm": ("weight_f", "weight_i", "weight_h"),
             "s6": ("A",), "slstm": ("weight_hh",)}[c.kind]
    return {n: (c.a() if n == "A" else c.p[n]) for n in names}


def _step_with(c, weights: dict[str, torch.Tensor], s: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """One step with the weights of `_weights_of` replaced (differentiable)."""
    if c.kind == "lru":
        n = c.hidden
        re, im = s[..., :n], s[..., n:]
        u_re, u_im = c._drive(x)
        a, b = weights["a"], weights["b"]
        return torch.cat([a * re - b * im + u_re, b * re + a * im + u_im], -1)
    saved = dict(c.p)
    try:
        for k, v in weights.items():
            if k == "A":
                c.p["A_log"] = torch.log(-v)
            else:
                c.p[k] = v
        if c.kind == "s6":
            c.setup()
        return c.step(s, x)
    finally:
        c.p = saved
        if c.kind == "s6":
            c.setup()


@pytest.mark.parametrize("cell", MODERN)
def test_weight_gradient_norms_equal_autograd(cell):
    c = drawn(cell, hidden=8, **({"heads": 2} if cell == "slstm" else {}))
    s, x = state(c, lead=(3,)), inputs(c, lead=(3,))
    g = torch.randn(3, c.trials, c.state_dim, generator=torch.Generator().manual_seed(5), dtype=F64)
    ours = c.weight_grad_norms(c.linearize(s, x), g, s)
    for t in range(3):
        weights = {k: v.detach().clone().requires_grad_(True) for k, v in _weights_of(c).items()}
        loss = (g[t] * _step_with(c, weights, s[t], x[t])).sum()
        grads = torch.autograd.grad(loss, list(weights.values()))
        ref = torch.cat([gr.reshape(c.trials, -1) for gr in grads], -1).norm(dim=-1)
        assert torch.allclose(ours[t], ref, rtol=1e-12, atol=0), (cell, t)


def test_s6_readout_is_what_the_output_sees():
    c = drawn("s6", input_size=4, state_size=3)
    s, x = state(c).requires_grad_(True), inputs(c)
    r = torch.randn(c.trials, c.hidden, generator=torch.Generator().manual_seed(3), dtype=F64)
    xc = c.channel_input(x)
    big_c = torch.einsum("bsn,bn->bs", c.w_c, xc)  # C_T = W_C x_T
    y = (s.unflatten(-1, (c.hidden, c.states)) * big_c.unsqueeze(-2)).sum(-1) + c.p["D"] * xc
    grad = torch.autograd.grad((r * y).sum(), s)[0]
    assert torch.allclose(c.readout_cotangent(r, s.detach(), x), grad, atol=1e-14, rtol=0)


def test_the_initial_state_of_slstm_starts_n_and_m_at_zero():
    c = drawn("slstm", hidden=8, heads=4)
    s0 = torch.ones(2, c.state_dim, dtype=F64)
    s = c.initial_state(s0)
    assert (s[:, : 2 * c.hidden] == 1).all() and (s[:, 2 * c.hidden :] == 0).all()
    assert (s0 == 1).all()  # the drawn states are left as they were
