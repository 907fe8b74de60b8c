"""Activations: name -> phi, phi', sup|phi'|.

Each entry gives the function, its derivative (as a function of the pre-activation),
and, from the registry (`config.registry.ACTIVATION_SPECS`, so that tables never import
torch), the supremum of |phi'| (the `gamma` of the Pascanu et al. bound) and whether it is
smooth (C^1 everywhere, which the `sum of exponents = mean log|det J|` identity needs).
Derivatives at the kinks of relu-like functions take the right-hand value where
PyTorch's autograd does (relu'(0) = 0, hardtanh'(+-1) = 0).

May import: `gradscope.config`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ..config.registry import ACTIVATION_SPECS, LEAKY_SLOPE

Tensor = torch.Tensor

_SQRT_2PI = math.sqrt(2 * math.pi)


@dataclass(frozen=True)
class Activation:
    name: str
    phi: Callable[[Tensor], Tensor]
    dphi: Callable[[Tensor], Tensor]
    gamma: float  # sup |phi'|
    smooth: bool
    description: str


def _dsigmoid(x: Tensor) -> Tensor:
    s = torch.sigmoid(x)
    return s * (1 - s)


def _dtanh(x: Tensor) -> Tensor:
    t = torch.tanh(x)
    return 1 - t * t


def _dgelu(x: Tensor) -> Tensor:
    cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    pdf = torch.exp(-0.5 * x * x) / _SQRT_2PI
    return cdf + x * pdf


def _dsilu(x: Tensor) -> Tensor:
    s = torch.sigmoid(x)
    return s * (1 + x * (1 - s))


#: name -> (phi, phi'); the constants (gamma, smoothness, description) are the registry's
_FUNCTIONS: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "sigmoid": (torch.sigmoid, _dsigmoid),
    "tanh": (torch.tanh, _dtanh),
    "relu": (torch.relu, lambda x: (x > 0).to(x.dtype)),
    "identity": (lambda x: x, torch.ones_like),
    "leaky_relu": (lambda x: F.leaky_relu(x, LEAKY_SLOPE),
                   lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, LEAKY_SLOPE))),
    "elu": (F.elu, lambda x: torch.where(x > 0, torch.ones_like(x), torch.exp(torch.clamp(x, max=0)))),
    "gelu": (F.gelu, _dgelu),
    "silu": (F.silu, _dsilu),
    "softplus": (F.softplus, torch.sigmoid),
    "softsign": (F.softsign, lambda x: 1 / (1 + x.abs()) ** 2),
    "hardtanh": (F.hardtanh, lambda x: ((x > -1) & (x < 1)).to(x.dtype)),
}

ACTIVATIONS: dict[str, Activation] = {
    name: Activation(name, *_FUNCTIONS[name], spec.gamma, spec.smooth, spec.description)
    for name, spec in ACTIVATION_SPECS.items()
}


def get_activation(name: str) -> Activation:
    """The activation called `name`; an unknown name raises `ValueError` listing the choices."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}"
        ) from None
