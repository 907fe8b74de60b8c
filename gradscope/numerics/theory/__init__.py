"""Theory to draw beside the measurement: Pascanu bound, mean field, annealed estimate.

- Pascanu et al. (2013): `||J_t||_2 <= gamma sigma_max(W_hh)` for a vanilla RNN, with
  `gamma = sup|phi'|`, so `log ||P(T, T-k)|| <= k log(gamma sigma_max)`. The largest
  singular value, not the spectral radius: the spectral-radius reading fails for
  non-normal W.
- Mean field (`theory.mean_field`): the predicted RMS slope `0.5 ln chi` of a random
  vanilla RNN, and the gain at which chi = 1; along the axes of a sweep (cached curves,
  roots and the chi = 1 line of a phase plane): `theory.critical`.
- Annealed estimate (any cell): `0.5 ln mean_t ||J_t||_F^2 / D` from the measured step
  Jacobians; the gap to the measured (quenched) rate shows how much the order of the
  products matters.

May import: `gradscope.numerics.theory.mean_field`, `gradscope.model`, `gradscope.config`,
`gradscope.numerics.metrics`.
"""

from __future__ import annotations

import numpy as np
import torch

from ...config import CELL_SPECS, MEAN_FIELD, PASCANU, Config
from ...model.activations import get_activation
from ..metrics import median
from .mean_field import bias_variance, input_variance, mean_field, recurrent_variance


def pascanu_rate(weight_hh: torch.Tensor, gamma: float) -> np.ndarray:
    """Per-trial `log(gamma sigma_max(W_hh))` for `weight_hh` `(B, N, N)`."""
    w = weight_hh.to(torch.float64)
    finite = torch.isfinite(w).all(dim=(-2, -1))
    smax = np.full(w.shape[0], np.inf)  # weights that overflowed (float32, a huge gain): no bound
    if bool(finite.any()):  # LAPACK on inf entries prints an error of its own to stdout
        smax[finite.cpu().numpy()] = torch.linalg.svdvals(w[finite])[:, 0].cpu().numpy()
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


def theory_figures(config: Config, cell, drive, notes: list[str]) -> dict:
    """The theory beside a run's measurements: gamma, sigma_max(W_hh), the Pascanu bound
    (vanilla RNN, IndRNN) and mean field (vanilla RNN, drawn weights; `drive` the run's
    input drive); a sentence in `notes` where mean field does not apply or puts q* at 0."""
    spec = CELL_SPECS.get(config.cell)
    has_act = spec is not None and bool(spec.act)  # a custom cell's or a linear recurrence's: none
    gamma = get_activation(config.act).gamma if has_act else None
    whh = cell.recurrent_matrix()  # one built-in cell's (None: a stack of layers, a custom cell)
    s = {"gamma": gamma, "sigma_max_whh": None}
    if whh is not None:
        s["sigma_max_whh"] = float(median(np.exp(pascanu_rate(whh, 1.0))))
    s["pascanu_rate"] = s["mean_field_rate"] = s["mean_field_chi"] = s["mean_field_q"] = None
    theory = CELL_SPECS[config.cell].theory if config.cell in CELL_SPECS else ()
    if PASCANU in theory and whh is not None:  # ||J_t||_2 <= gamma sigma_max(W_hh)
        s["pascanu_rate"] = float(median(pascanu_rate(whh, gamma)))
    if MEAN_FIELD in theory and not config.fixed_weights:
        sigma_w2 = recurrent_variance(config)
        if sigma_w2 is None:
            notes.append("mean-field theory assumes random W_hh: not applied to identity init")
        else:
            sigma_u2 = input_variance(config, drive.mean_square())
            mf = mean_field(config.act, sigma_w2, sigma_u2, bias_variance(config))
            s["mean_field_rate"], s["mean_field_chi"], s["mean_field_q"] = mf["rate"], mf["chi"], mf["q"]
            if mf["q"] == 0:
                notes.append(
                    f"mean field: q* = 0 exactly (no input or bias drives the network and "
                    f"sigma_w^2 phi'(0)^2 <= 1), so the fixed point is the origin and chi = "
                    f"sigma_w^2 phi'(0)^2 = {mf['chi']:.6g}"
                )
    return s
