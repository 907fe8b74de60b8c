"""The user's networks as checkpoints of real PyTorch modules, analysed as they are: one
layer, a stack, one layer of a stack driven by the layers below, `*Cell` modules.

The truth is the module's own forward (`nn.RNN/LSTM/GRU` and their `*Cell`), stepped
one input at a time and differentiated by `torch.autograd` in float64: its step
Jacobians, their products, a QR loop on them, and BPTT gradients of `r . h_T`. Nothing
in here re-implements a cell. (Custom cells: test_funccell.py; checkpoints refused on
the command line: tests/cli/test_decay_networks.py.)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import MODULE_HIDDEN, MODULE_INPUTS, make_module
from torch.autograd.functional import jacobian
from torch.func import functional_call

from gradscope import Config, analyze, simulate

I, N, B = MODULE_INPUTS, MODULE_HIDDEN, 2  # inputs, hidden, trials
T, TRANSIENT = 16, 4


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[str, np.ndarray]:
    """One input file `(steps, B, I)`: each trial its own sequence."""
    xs = np.random.default_rng(3).standard_normal((T + TRANSIENT, B, I))
    path = tmp_path_factory.mktemp("inputs") / "x.npy"
    np.save(path, xs)
    return str(path), xs


def _flat(state, kind: str) -> torch.Tensor:
    return torch.cat([state[0].reshape(-1), state[1].reshape(-1)]) if kind == "lstm" else state.reshape(-1)


def _unflat(s: torch.Tensor, kind: str, layers: int):
    if kind == "lstm":
        return s[: layers * N].view(layers, 1, N), s[layers * N :].view(layers, 1, N)
    return s.view(layers, 1, N)


def gradscope_order(kind: str, layers: int) -> list[int]:
    """Torch's flattened state `[h_0..h_{L-1}, (c_0..c_{L-1})]` in gradscope's stacked
    order `[s_{L-1}; ...; s_0]`, `s_l = [h_l; c_l]` (DESIGN: h first, top layer first)."""
    order = []
    for layer in reversed(range(layers)):
        order += list(range(layer * N, (layer + 1) * N))
        if kind == "lstm":
            order += list(range((layers + layer) * N, (layers + layer + 1) * N))
    return order


def module_jacobians(module, kind: str, xs: np.ndarray, layer: int | None = None) -> list[torch.Tensor]:
    """Step Jacobians of the analysed window, from the module's own forward (zero initial
    state), in gradscope's state order; `layer`: that layer's own block only."""
    layers = module.num_layers
    s = torch.zeros(layers * N * (2 if kind == "lstm" else 1), dtype=torch.float64)
    order = gradscope_order(kind, layers)
    keep = order if layer is None else [i for i in order if i % (layers * N) // N == layer]
    jacs = []
    for x in torch.as_tensor(xs):
        def f(s):
            return _flat(module(x.view(1, 1, I), _unflat(s, kind, layers))[1], kind)

        jacs.append(jacobian(f, s)[keep][:, keep])
        s = f(s).detach()
    return jacs[TRANSIENT:]


def log_spectral_curve(jacs: list[torch.Tensor]) -> np.ndarray:
    """`log ||J_T ... J_{T-k+1}||_2` for k = 0..T, products formed naively (short T)."""
    p = torch.eye(jacs[0].shape[0], dtype=torch.float64)
    out = [0.0]
    for j in reversed(jacs):
        p = p @ j
        out.append(float(torch.log(torch.linalg.svdvals(p)[0])))
    return np.array(out)


def qr_exponents(jacs: list[torch.Tensor], discard: int, q: torch.Tensor) -> np.ndarray:
    """Benettin's QR loop on the Jacobians from the orthonormal frame `q`, every exponent,
    the first `discard` steps dropped."""
    total = torch.zeros(q.shape[0], dtype=torch.float64)
    for t, j in enumerate(jacs, 1):
        q, r = torch.linalg.qr(j @ q)
        if t > discard:
            total += torch.log(torch.diagonal(r).abs())
    return np.sort(total.numpy() / (len(jacs) - discard))[::-1]


CASES = [(kind, act, layers, bias) for kind, act in (("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"),
                                                     ("gru", "tanh"))
         for layers in (1, 2) for bias in (True, False)]


@pytest.mark.parametrize("kind, act, layers, bias", CASES)
def test_checkpoint_curves_equal_the_modules_own_jacobians(kind, act, layers, bias, inputs, tmp_path):
    module = make_module(kind, act, layers, bias)
    path = tmp_path / ("m.safetensors" if kind == "gru" and layers == 2 else "m.pt")
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(module.state_dict(), path)
    else:
        torch.save(module.state_dict(), path)
    dim = layers * N * (2 if kind == "lstm" else 1)
    result = analyze(Config(checkpoint=str(path), act=act, input=inputs[0], steps=T, transient=TRANSIENT,
                            trials=B, spectral="exact", exponents=dim))
    assert (result.config.cell, result.config.hidden, result.config.input_size) == (kind, N, I)
    assert result.provenance["checkpoint"]["layers"] == layers
    assert result.provenance["checkpoint"]["bias"] is bias
    # gradscope's initial frame: random, seeded by the config's seed (0), orthonormalised
    gen = torch.Generator().manual_seed(0)
    frames = torch.linalg.qr(torch.randn(B, dim, dim, generator=gen, dtype=torch.float64))[0]
    for b in range(B):
        jacs = module_jacobians(module, kind, inputs[1][:, b])
        np.testing.assert_allclose(result.curves["log_spectral"][b], log_spectral_curve(jacs), rtol=0, atol=1e-8)
        got, want = result.curves["lyapunov_spectrum"][b], qr_exponents(jacs, T // 10, frames[b])
        # directions that dead relu units switch off are exactly -inf: as many finite
        # exponents as the rank of the product of the Jacobians, taken step by step (each
        # step's range relative to that step's own scale, so that only exact zeros count;
        # the plain loop reads the lost directions as rounding noise)
        basis = frames[b]
        for j in jacs:
            u, sv, _ = torch.linalg.svd(j @ basis, full_matrices=False)
            basis = u[:, : int((sv > 1e-10 * torch.linalg.matrix_norm(j, 2)).sum())]
        assert np.isfinite(got).sum() == basis.shape[1]
        lost = np.isneginf(got)
        np.testing.assert_allclose(got[~lost], want[~lost], rtol=0, atol=1e-8)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_one_layer_driven_by_the_layers_below(kind, inputs, tmp_path):
    module = make_module(kind, layers=3, seed=1)
    torch.save({"model": {"rnn": module.state_dict()}, "epoch": 7}, tmp_path / "ckpt.pt")  # nested
    result = analyze(Config(checkpoint=str(tmp_path / "ckpt.pt"), module="model.rnn", layer=1, input=inputs[0],
                            steps=T, transient=TRANSIENT, trials=B, spectral="exact"))
    assert result.provenance["checkpoint"]["module"] == "model.rnn"
    for b in range(B):
        jacs = module_jacobians(module, kind, inputs[1][:, b], layer=1)
        np.testing.assert_allclose(result.curves["log_spectral"][b], log_spectral_curve(jacs), rtol=0, atol=1e-8)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_stacked_loss_and_weight_gradients_equal_bptt(kind, inputs, tmp_path):
    """`dL/ds_{T-k}` and the per-step `dL/dW_hh` (every layer) for `L = r . h_T`, against
    autograd through the module, with one copy of each `weight_hh` per step."""
    module = make_module(kind, layers=2, seed=2)
    torch.save(module.state_dict(), tmp_path / "m.pt")
    config = Config(checkpoint=str(tmp_path / "m.pt"), input=inputs[0], steps=T, transient=TRANSIENT, trials=B)
    result = analyze(config)
    readout = simulate(config)[2]  # the same seeded readouts
    names = ["weight_hh_l0", "weight_hh_l1"]
    params = dict(module.named_parameters())
    for b in range(B):
        state = _unflat(torch.zeros(2 * N * (2 if kind == "lstm" else 1), dtype=torch.float64), kind, 2)
        copies, states = [], [state]
        for t, x in enumerate(torch.as_tensor(inputs[1][:, b])):
            p = dict(params)
            if t >= TRANSIENT:
                copies.append({n: params[n].detach().clone().requires_grad_(True) for n in names})
                p.update(copies[-1])
            state = functional_call(module, p, (x.view(1, 1, I), state))[1]
            states.append(state)
        window = states[TRANSIENT:]  # s_0 .. s_T of the analysed window
        top_h = (state[0] if kind == "lstm" else state)[-1, 0]
        loss = readout[b] @ top_h
        tensors = [v for c in copies for v in c.values()]
        flat_states = [s for w in window for s in (w if kind == "lstm" else (w,))]
        grads = torch.autograd.grad(loss, tensors + flat_states, allow_unused=True)
        wgrads, sgrads = grads[: len(tensors)], grads[len(tensors):]
        per_state = 2 if kind == "lstm" else 1
        for k in range(T + 1):  # dL/ds_{T-k}: the state after window step T-k
            g = [x for x in sgrads[(T - k) * per_state : (T - k + 1) * per_state] if x is not None]
            expected = torch.sqrt(sum((x**2).sum() for x in g))
            assert abs(result.curves["log_loss_grad"][b, k] - float(torch.log(expected))) < 1e-8
        for k in range(T):  # the weights of window step T-k
            g = wgrads[(T - k - 1) * 2 : (T - k) * 2]
            expected = torch.sqrt(sum((x**2).sum() for x in g))
            assert abs(result.curves["log_weight_grad"][b, k] - float(torch.log(expected))) < 1e-8


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_cell_module_checkpoints(kind, inputs, tmp_path):
    """`nn.RNNCell`, `nn.LSTMCell`, `nn.GRUCell` state dicts: the cell's own forward."""
    torch.manual_seed(4)
    cell = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[kind](I, N).double()
    torch.save(cell.state_dict(), tmp_path / "cell.pt")
    result = analyze(Config(checkpoint=str(tmp_path / "cell.pt"), input=inputs[0], steps=T, transient=TRANSIENT,
                            trials=B, spectral="exact"))
    assert result.provenance["checkpoint"]["module_type"] == f"nn.{kind.upper()}Cell"
    s = torch.zeros(N * (2 if kind == "lstm" else 1), dtype=torch.float64)
    jacs = []
    for x in torch.as_tensor(inputs[1][:, 0]):
        def f(s):
            out = cell(x.view(1, I), (s[:N].view(1, N), s[N:].view(1, N)) if kind == "lstm" else s.view(1, N))
            return torch.cat([out[0].reshape(-1), out[1].reshape(-1)]) if kind == "lstm" else out.reshape(-1)

        jacs.append(jacobian(f, s))
        s = f(s).detach()
    np.testing.assert_allclose(result.curves["log_spectral"][0], log_spectral_curve(jacs[TRANSIENT:]),
                               rtol=0, atol=1e-8)


def test_cache_key_follows_the_file_and_not_what_is_inferred(tmp_path):
    """A retrained checkpoint at the same path is another run; resolving the network (cell,
    sizes filled in) keeps the key, so the run cache finds it again."""
    from gradscope import resolve_model

    path = tmp_path / "m.pt"
    torch.save(make_module("lstm", seed=0).state_dict(), path)
    config = Config(checkpoint=str(path), steps=20)
    resolved, record = resolve_model(config)
    assert (resolved.cell, resolved.hidden, resolved.input_size, record["state_dim"]) == ("lstm", N, I, 2 * N)
    assert resolved.key() == config.key()
    before = config.key()
    torch.save(make_module("lstm", seed=1).state_dict(), path)
    assert config.key() != before
    assert Config().key() == Config(input_loop=False, checkpoint=None).key()  # new options at defaults: old keys


def test_exponents_all_means_the_networks_own_state(tmp_path):
    """`--exponents all` of a 2-layer LSTM: every exponent of its 2 x 2N state, not N."""
    torch.save(make_module("lstm", layers=2).state_dict(), tmp_path / "lstm2.pt")
    result = analyze(Config(checkpoint=str(tmp_path / "lstm2.pt"), exponents="all", steps=40, transient=5,
                            trials=2), threads=1)
    assert result.config.exponents == 2 * 2 * N
    assert np.shape(result.curves["lyapunov_spectrum"]) == (2, 2 * 2 * N)
