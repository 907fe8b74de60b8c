"""Activations: the derivative at a kink follows autograd's convention."""

import pytest
import torch


@pytest.mark.parametrize("act", ["relu", "hardtanh", "leaky_relu", "elu"])
def test_kink_derivatives_match_autograd_convention(act):
    from gradscope.model.activations import get_activation

    a = get_activation(act)
    x = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True)
    a.phi(x).sum().backward()
    assert torch.equal(a.dphi(x.detach()), x.grad)
