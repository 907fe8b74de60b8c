"""The modern cells against others' code, with copied weights, in float64: the same states
to 1e-12 over 100 steps from the zero state.

- s6: mambapy 1.2.0's `MambaBlock.selective_scan_seq` (called directly: the block's own
  `ssm` computes A in float32), Delta, B, C from the block's own `x_proj` and `dt_proj`;
  the states read back one at a time through a one-hot C.
- mingru, minlstm: mingru-pytorch 0.2.1's `minGRU` and `minLSTM`, one step per call
  (its sequential mode), weights `to_hidden_and_gate` / `to_hidden_and_f_i_gate`.
- lru: LRU-pytorch 0.1.3's `LRU` (made with float64 as the default dtype: its complex
  parameters stay complex64 under `.double()`), read out as `[Re h; Im h]` through
  `C = [I; -i I]`, `D = 0`; and a from-paper reference (the appendix's recurrence).
- slstm: xlstm 2.0.6's vanilla `sLSTMCell` (its internal `_recurrent_kernel_` and `_bias_`
  are ours), driven by `W x_t`, one step per call with the state passed on.

These packages are in the `test` extra; the tests never skip for want of them."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gradscope.config import Config
from gradscope.model.draws import trial_streams
from gradscope.model.initialization import build

F64 = torch.float64
STEPS = 100


def drawn(cell: str, hidden: int, input_size: int | None = None, **kw):
    config = Config(cell=cell, hidden=hidden, input_size=input_size, trials=1, steps=2, seed=3, **kw).resolved()
    c, _, _ = build(config, trial_streams(config.seed, 1))
    return c


def states_of(c, x: torch.Tensor) -> torch.Tensor:
    """Our states s_1..s_T `(T, D)` from the zero state, for inputs `(T, I)` (one trial)."""
    s = c.initial_state(torch.zeros(1, c.state_dim, dtype=F64))
    out = []
    for t in range(x.shape[0]):
        s = c.step(s, x[t : t + 1])
        out.append(s[0])
    return torch.stack(out)


def inputs(size: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(STEPS, size, generator=torch.Generator().manual_seed(seed), dtype=F64)


def test_s6_equals_mambapy_selective_scan():
    from mambapy.mamba import MambaBlock, MambaConfig

    n, s = 8, 4
    c = drawn("s6", n, state_size=s)
    x = inputs(n)
    ours = states_of(c, x).reshape(STEPS, n, s)
    block = MambaBlock(MambaConfig(d_model=n // 2, n_layers=1, d_state=s, dt_rank=c.rank, pscan=False)).double()
    with torch.no_grad():
        block.x_proj.weight.copy_(c.p["x_proj"][0])
        block.dt_proj.weight.copy_(c.p["dt_proj"][0])
        block.dt_proj.bias.copy_(c.p["dt_bias"][0])
        block.A_log.copy_(c.p["A_log"][0])
        xb = x[None]  # (1, L, ED)
        delta, b, _ = torch.split(block.x_proj(xb), [c.rank, s, s], dim=-1)  # as MambaBlock.ssm splits it
        delta = F.softplus((block.dt_proj.weight @ delta.transpose(1, 2)).transpose(1, 2) + block.dt_proj.bias)
        a = -torch.exp(block.A_log)  # in float64 (the block's own ssm takes A_log.float())
        zero = torch.zeros(n, dtype=F64)
        ref = torch.stack([block.selective_scan_seq(xb, delta, a, b, torch.eye(s, dtype=F64)[k].expand(1, STEPS, s),
                                                    zero)[0] for k in range(s)], -1)  # (L, ED, N): h[t, c, k]
    assert ref.dtype == F64
    assert (ours - ref).abs().max() <= 1e-12 * max(1.0, ref.abs().max())


def test_mingru_and_minlstm_equal_mingru_pytorch_sequential_mode():
    from minGRU_pytorch import minGRU
    from minGRU_pytorch.minLSTM import minLSTM

    n = 6
    x = inputs(n, seed=1)
    for kind, module, key, names in (
        ("mingru", minGRU(n).double(), "to_hidden_and_gate", ("weight_h", "weight_z")),
        ("minlstm", minLSTM(n).double(), "to_hidden_and_f_i_gate", ("weight_h", "weight_f", "weight_i")),
    ):
        c = drawn(kind, n)
        with torch.no_grad():
            getattr(module, key).weight.copy_(torch.cat([c.p[k][0] for k in names]))
            h, ref = None, []
            for t in range(STEPS):
                _, h = module(x[None, t : t + 1], h, return_next_prev_hidden=True)
                ref.append(h[0, 0])
        ref = torch.stack(ref)
        assert (states_of(c, x) - ref).abs().max() <= 1e-12, kind


def lru_from_paper(c, x: torch.Tensor) -> torch.Tensor:
    """The paper's recurrence in complex128: `h = Lambda h + (B_norm @ u)`,
    `B_norm = (B_re + i B_im) exp(gamma_log)`, `Lambda = exp(-exp(nu_log) + i exp(theta_log))`."""
    p = {k: v[0] for k, v in c.p.items()}
    lam = torch.exp(-torch.exp(p["nu_log"]) + 1j * torch.exp(p["theta_log"]))
    b = (p["B_re"] + 1j * p["B_im"]) * torch.exp(p["gamma_log"])[:, None]
    h = torch.zeros(c.hidden, dtype=torch.complex128)
    out = []
    for t in range(x.shape[0]):
        h = lam * h + b @ x[t].to(torch.complex128)
        out.append(torch.cat([h.real, h.imag]))
    return torch.stack(out)


def test_lru_equals_the_paper_and_lru_pytorch():
    from LRU_pytorch import LRU

    n, i = 6, 4
    c = drawn("lru", n, i, r_min=0.4, r_max=0.95, max_phase=3.14)
    x = inputs(i, seed=2)
    ours = states_of(c, x)
    assert (ours - lru_from_paper(c, x)).abs().max() <= 1e-12
    previous = torch.get_default_dtype()
    torch.set_default_dtype(F64)  # LRU-pytorch's complex parameters follow the default dtype only
    try:
        module = LRU(i, 2 * n, n)
        with torch.no_grad():
            for name in ("nu_log", "theta_log", "gamma_log"):
                getattr(module, name).copy_(c.p[name][0])
            module.B.copy_(c.p["B_re"][0] + 1j * c.p["B_im"][0])
            module.C.copy_(torch.cat([torch.eye(n), -1j * torch.eye(n)]).to(module.C.dtype))
            module.D.zero_()
            ref = module(x)
    finally:
        torch.set_default_dtype(previous)
    assert ref.dtype == F64
    assert (ours - ref).abs().max() <= 1e-12


def test_slstm_equals_the_xlstm_vanilla_cell():
    from xlstm.blocks.slstm.cell import sLSTMCell, sLSTMCellConfig

    n, heads, i = 8, 2, 5
    c = drawn("slstm", n, i, heads=heads)
    x = inputs(i, seed=3)
    ours = states_of(c, x)
    cell = sLSTMCell(sLSTMCellConfig(hidden_size=n, num_heads=heads, backend="vanilla")).double()
    cell.load_state_dict({"_recurrent_kernel_": c.p["weight_hh"][0], "_bias_": c.p["bias_ih"][0]})
    wx = x @ c.p["weight_ih"][0].T  # (L, 4N): gate-major, then head, then unit, as the cell takes it
    state = torch.zeros(4, 1, n, dtype=F64)
    ref = []
    with torch.no_grad():
        for t in range(STEPS):
            _, state = cell(wx[None, t : t + 1], state=state)
            ref.append(state[:, 0].reshape(-1))  # [y; c; n; m]
    ref = torch.stack(ref)
    assert (ours - ref).abs().max() <= 1e-12 * max(1.0, ref.abs().max())
