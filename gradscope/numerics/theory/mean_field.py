"""Mean-field theory of a random vanilla RNN (Poole et al. 2016; Chen, Pennington &
Schoenholz 2018): for `W_hh` entries of variance `sigma_w^2 / N`, input drive `sigma_u^2`
and bias `sigma_b^2`, the pre-activation variance settles at the fixed point `q*` of
`q = sigma_w^2 E_z[phi(sqrt(q) z)^2] + sigma_u^2 + sigma_b^2`, and the squared RMS gain
shrinks by `chi = sigma_w^2 E_z[phi'(sqrt(q*) z)^2]` per step: predicted RMS slope
`0.5 ln chi`. Also the variances a configuration's initialisation gives
(`mean_field_inputs`) and the gain at which chi = 1 (`critical_gain`).

May import: `gradscope.model.activations`, `gradscope.model.inputs`, `gradscope.config`.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ...config import Config
from ...model.activations import get_activation
from ...model.inputs import config_mean_square

# E_z[f(sqrt(q) z)], z ~ N(0, 1): midpoint rule on [-10, 10] with 4,000 cells. It is
# spectrally accurate for smooth f, resolves the narrow peak of phi'(sqrt(q) z)^2 up to
# q ~ 2500 (121-node Gauss-Hermite does not: at q = 400 it misses chi by 100x), and has
# no node at the kink z = 0 of relu-like functions, where the cells are symmetric.
_CELLS = 4_000
_Z = torch.linspace(-10.0, 10.0, _CELLS + 1, dtype=torch.float64)
_Z = 0.5 * (_Z[1:] + _Z[:-1])
_W = torch.exp(-0.5 * _Z * _Z) * (20.0 / _CELLS) / math.sqrt(2 * math.pi)


def gaussian_mean(f, q: float) -> float:
    """`E_z[f(sqrt(q) z)]` for z ~ N(0, 1) (midpoint quadrature, see above)."""
    return float(torch.dot(_W, f(math.sqrt(max(q, 0.0)) * _Z)))


def mean_field(
    act: str, sigma_w2: float, sigma_u2: float = 0.0, sigma_b2: float = 0.0
) -> dict[str, float]:
    """Fixed point `q*`, `chi` and the predicted RMS slope `0.5 ln chi` of a random RNN.

    `q*` is the fixed point of `V(q) = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_u^2 + sigma_b^2`
    that the iteration `q <- V(q)` reaches from `q = 1`, found by bracketing and bisection
    (the iteration itself crawls near the edge of chaos: at sigma_w^2 = 1 with tanh it is
    still at q = 1e-4 after 5,000 steps). It is 0 exactly when nothing drives the network
    (`V(0) = 0`) and the map contracts towards 0, and `chi` is then the limit
    `sigma_w^2 E[phi'(0 z)^2]` (so `mean_field("tanh", 1.0)` gives chi = 1 to rounding).

    Returns:
        `{"q": q*, "chi": chi, "rate": 0.5 ln chi, "xi": -1/ln chi}` (`q` is `inf` when
        the variance map has no finite fixed point, as for an exploding relu network).
    """
    a = get_activation(act)
    drive = sigma_u2 + sigma_b2

    def excess(q: float) -> float:  # V(q) - q, with the sign of V(q)/q - 1 for q > 0
        return sigma_w2 * gaussian_mean(lambda x: a.phi(x) ** 2, q) + drive - q

    q = _fixed_point(excess, drive == 0 and float(a.phi(torch.zeros(1, dtype=torch.float64))) == 0.0)
    # q = 0: the limit q -> 0+ (relu's one-sided phi'(0) = 0 is not it); q -> inf:
    # relu-like slopes do not depend on q
    probe = 1e-30 if q == 0 else min(q, 1e6)
    chi = sigma_w2 * gaussian_mean(lambda x: a.dphi(x) ** 2, probe)
    rate = 0.5 * math.log(chi) if chi > 0 else -math.inf
    xi = -1.0 / math.log(chi) if chi > 0 and chi != 1 else math.inf
    return {"q": q, "chi": chi, "rate": rate, "xi": xi}


def _fixed_point(excess, zero_is_fixed: bool) -> float:
    """The fixed point the iteration reaches from q = 1: `excess(q) = V(q) - q` changes
    sign there. Scan by decades from 1 (down when V(1) < 1, up when V(1) > 1), then bisect
    on log q to full precision. Going down with `zero_is_fixed` and no sign change above
    1e-12, the answer is 0 (below that the quadrature's rounding decides the sign)."""
    g1 = excess(1.0)
    if abs(g1) <= 1e-14:
        return 1.0
    down = g1 < 0
    inner = 1.0
    for k in range(1, 201):
        q = 10.0 ** (-k if down else k)
        g = excess(q)
        if not math.isfinite(g):
            return math.inf
        if (g >= 0) if down else (g <= 0):
            break
        inner = q
        if down and q <= 1e-12 and zero_is_fixed:
            return 0.0
    else:
        return 0.0 if down else math.inf
    lo, hi = (q, inner) if down else (inner, q)  # excess(lo) >= 0 >= excess(hi)
    if excess(lo) == 0:
        return lo
    while hi > lo * (1 + 1e-14):
        mid = math.sqrt(lo * hi)
        if not lo < mid < hi:
            break
        if excess(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def critical_gain(
    act: str, init: str, sigma_u2: float = 0.0, sigma_b2: float = 0.0, hi: float = 20.0
) -> float | None:
    """The gain g at which mean field puts a vanilla RNN at the edge of chaos (chi = 1).

    `sigma_w^2` is `g^2 / 3` for `default` init and `g^2` for `normal`, `orthogonal` and
    `xavier`. Returns None when chi stays on one side of 1 over `0 < g <= hi` (or for
    `identity` init, which is not random). Bisection to 1e-10; with `mean_field`'s exact
    q*, an undriven tanh network gives g = 1 (normal init) and sqrt(3) (default), not a
    value biased by a fixed-point iteration that stopped short.
    """
    scale = {"default": 1.0 / 3.0, "normal": 1.0, "orthogonal": 1.0, "xavier": 1.0}.get(init)
    if scale is None:
        return None

    def excess(g: float) -> float:
        return mean_field(act, scale * g * g, sigma_u2, sigma_b2)["chi"] - 1.0

    lo, up = 1e-3, hi
    if excess(lo) >= 0 or excess(up) <= 0:
        return None
    for _ in range(80):
        mid = 0.5 * (lo + up)
        if excess(mid) > 0:
            up = mid
        else:
            lo = mid
        if up - lo < 1e-10:
            break
    return 0.5 * (lo + up)


# -- the variances of a configuration's initialisation ----------------------------------
def bias_variance(config: Config) -> float:
    """Nominal variance of one entry of `b_ih + b_hh` (mean-field `sigma_b^2`; vanilla RNN)."""
    if config.bias_std is not None:
        return config.bias_std**2
    if config.init == "default":
        return 2.0 / (3.0 * config.hidden)
    return 0.0


def input_variance(config: Config, mean_square: float) -> float:
    """Nominal `sigma_u^2 = var(W_ih x)` for inputs of mean square `mean_square`: I entries
    of variance 1/(3N) (PyTorch's U(-1/sqrt(N), 1/sqrt(N)))."""
    return config.n_input * mean_square / (3.0 * config.hidden)


def recurrent_variance(config: Config) -> float | None:
    """Nominal `sigma_w^2` (N times the entry variance of W_hh); None where not random."""
    g2 = config.gain**2
    return {"default": g2 / 3.0, "normal": g2, "orthogonal": g2, "xavier": g2}.get(config.init)


def mean_field_inputs(config: Any) -> tuple[float, float, float] | None:
    """`(sigma_w^2, sigma_u^2, sigma_b^2)` of a configuration whose cell mean field applies
    to (the registry's `theory`), from its generated drive; None for other cells,
    identity init or an input file (whose drive only a run knows)."""
    from ...config import CELL_SPECS, MEAN_FIELD

    spec = CELL_SPECS.get(config.cell)
    if spec is None or MEAN_FIELD not in spec.theory:
        return None
    sigma_w2 = recurrent_variance(config)
    ms = config_mean_square(config.input, config.input_std, config.input_value)
    if sigma_w2 is None or ms is None:
        return None
    return sigma_w2, input_variance(config, ms), bias_variance(config)
