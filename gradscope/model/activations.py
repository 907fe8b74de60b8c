"""Activation registry: name -> phi, phi', sup|phi'|.

Each entry gives the function, its derivative (as a function of the pre-activation),
the supremum of |phi'| (the `gamma` of the Pascanu et al. bound) and whether it is
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

Tensor = torch.Tensor

LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU default
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


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("sigmoid", torch.sigmoid, _dsigmoid, 0.25, True, "1/(1+e^-x); slope at most 1/4"),
        Activation("tanh", torch.tanh, _dtanh, 1.0, True, "hyperbolic tangent"),
        Activation("relu", torch.relu, lambda x: (x > 0).to(x.dtype), 1.0, False, "max(0, x)"),
        Activation("identity", lambda x: x, torch.ones_like, 1.0, True, "linear cell"),
        Activation(
            "leaky_relu",
            lambda x: F.leaky_relu(x, LEAKY_SLOPE),
            lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, LEAKY_SLOPE)),
            1.0,
            False,
            f"max(x, {LEAKY_SLOPE} x)",
        ),
        Activation(
            "elu",
            F.elu,
            lambda x: torch.where(x > 0, torch.ones_like(x), torch.exp(torch.clamp(x, max=0))),
            1.0,
            True,
            "x if x > 0 else e^x - 1",
        ),
        Activation("gelu", F.gelu, _dgelu, 1.1289041451825208, True, "x Phi(x) (exact erf form)"),
        Activation("silu", F.silu, _dsilu, 1.0998393201285284, True, "x sigmoid(x)"),
        Activation("softplus", F.softplus, torch.sigmoid, 1.0, True, "log(1 + e^x)"),
        Activation(
            "softsign", F.softsign, lambda x: 1 / (1 + x.abs()) ** 2, 1.0, True, "x / (1 + |x|)"
        ),
        Activation(
            "hardtanh",
            F.hardtanh,
            lambda x: ((x > -1) & (x < 1)).to(x.dtype),
            1.0,
            False,
            "clamp(x, -1, 1)",
        ),
    ]
}


from ..config import ACTIVATION_NAMES  # noqa: E402

assert tuple(ACTIVATIONS) == ACTIVATION_NAMES, "keep config.ACTIVATION_NAMES in step"


def get_activation(name: str) -> Activation:
    """The activation called `name`; an unknown name raises `ValueError` listing the choices."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}"
        ) from None
