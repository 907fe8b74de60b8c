"""Theory to draw beside the measurement: Pascanu bound, mean field, annealed estimate.

- Pascanu et al. (2013): `||J_t||_2 <= gamma sigma_max(W_hh)` for a vanilla RNN, with
  `gamma = sup|phi'|`, so `log ||P(T, T-k)|| <= k log(gamma sigma_max)`. The largest
  singular value, not the spectral radius: the spectral-radius reading fails for
  non-normal W.
- Mean field (Poole et al. 2016; Chen, Pennington & Schoenholz 2018): for W_hh entries of
  variance `sigma_w^2 / N`, input drive `sigma_u^2` and bias `sigma_b^2`, the
  pre-activation variance settles at the fixed point `q*` of
  `q = sigma_w^2 E_z[phi(sqrt(q) z)^2] + sigma_u^2 + sigma_b^2`, and the squared RMS gain
  shrinks by `chi = sigma_w^2 E_z[phi'(sqrt(q*) z)^2]` per step: predicted RMS slope
  `0.5 ln chi`.
- Annealed estimate (any cell): `0.5 ln mean_t ||J_t||_F^2 / D` from the measured step
  Jacobians; the gap to the measured (quenched) rate shows how much the order of the
  products matters.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .activations import get_activation

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(121)
_WEIGHTS = _WEIGHTS / math.sqrt(2 * math.pi)  # E_z[f(z)] = sum w f(x), z ~ N(0, 1)


def gaussian_mean(f, q: float) -> float:
    """`E_z[f(sqrt(q) z)]` for z ~ N(0, 1) by Gauss-Hermite quadrature (121 nodes)."""
    x = torch.as_tensor(math.sqrt(max(q, 0.0)) * _NODES, dtype=torch.float64)
    return float(np.dot(_WEIGHTS, f(x).numpy()))


def mean_field(
    act: str, sigma_w2: float, sigma_u2: float = 0.0, sigma_b2: float = 0.0, iters: int = 2000
) -> dict[str, float]:
    """Fixed point `q*`, `chi` and the predicted RMS slope `0.5 ln chi` of a random RNN.

    Returns:
        `{"q": q*, "chi": chi, "rate": 0.5 ln chi, "xi": -1/ln chi}` (`q` is `inf` when
        the variance map has no finite fixed point, as for an exploding relu network).
    """
    a = get_activation(act)
    q = 1.0
    for _ in range(iters):
        new = sigma_w2 * gaussian_mean(lambda x: a.phi(x) ** 2, q) + sigma_u2 + sigma_b2
        if not math.isfinite(new) or new > 1e200:
            q = math.inf
            break
        if abs(new - q) <= 1e-14 * max(1.0, q):
            q = new
            break
        q = new
    probe = q if math.isfinite(q) else 1e6  # slope of relu-like phi' does not depend on q
    chi = sigma_w2 * gaussian_mean(lambda x: a.dphi(x) ** 2, probe)
    rate = 0.5 * math.log(chi) if chi > 0 else -math.inf
    xi = -1.0 / math.log(chi) if chi > 0 and chi != 1 else math.inf
    return {"q": q, "chi": chi, "rate": rate, "xi": xi}


def pascanu_rate(weight_hh: torch.Tensor, gamma: float) -> np.ndarray:
    """Per-trial `log(gamma sigma_max(W_hh))` for `weight_hh` `(B, N, N)`."""
    smax = torch.linalg.svdvals(weight_hh.to(torch.float64))[:, 0].cpu().numpy()
    with np.errstate(divide="ignore"):
        return np.log(gamma * smax)


def annealed_rate(log_step_rms: np.ndarray) -> np.ndarray:
    """Per-trial `0.5 ln mean_t ||J_t||_F^2 / D` from `log ||J_t||_F / sqrt(D)` `(B, T)`."""
    out = np.full(log_step_rms.shape[0], np.nan)
    for b, row in enumerate(log_step_rms):
        row = row[~np.isnan(row)]
        if row.size:
            m = np.max(2 * row)
            if np.isfinite(m):
                out[b] = 0.5 * (m + np.log(np.mean(np.exp(2 * row - m))))
            else:
                out[b] = m
    return out
